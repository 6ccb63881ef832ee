"""``trialkit power``: power by simulation from a design file, or analytic power and sample size.

With a DESIGN the command simulates (:func:`trialkit.power.simulate`) and writes ``power.csv``,
``power_curve.svg`` and ``MANIFEST.json`` (:mod:`trialkit._cli._power_simulation`); without one it
computes from a formula (:func:`trialkit.power.power`, :func:`~trialkit.power.sample_size`,
:func:`~trialkit.power.effect`): given two of ``--n``, ``--power`` and the effect, it prints the
third (:mod:`trialkit._cli._power_formula`). Options of the other mode are refused, never ignored.
These modules import nothing heavy at the top: each mode imports what it uses.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from trialkit._cli._power_options import add_arguments

if TYPE_CHECKING:
    from trialkit._cli._console import Printer

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace, printer: Printer) -> Callable[[], None]:
    """Run ``trialkit power``: simulate with a DESIGN, compute from a formula without; return the printout."""
    if args.design is None:
        from trialkit._cli._power_formula import compute_formula

        return compute_formula(args, printer)
    from trialkit._cli._power_simulation import progress_display, simulate_design

    with progress_display(show=not args.quiet) as display:
        return simulate_design(args, printer, display)
