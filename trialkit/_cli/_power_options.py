"""The options of ``trialkit power`` and how their values are read: every problem collected, then reported at once.

Values are read from the text of the command line here (not by argparse) so that each message
names the option and the value as typed. :data:`PARAMETERS` maps every parameter of the analytic
tests (:data:`trialkit.power.TESTS`) to its option and kind: one table, no evaluation of text.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "ANALYTIC_OPTIONS",
    "PARAMETERS",
    "SIMULATION_OPTIONS",
    "Parameter",
    "add_arguments",
    "given_options",
    "read_integer",
    "read_names",
    "read_number",
    "read_sizes",
]


@dataclass(frozen=True)
class Parameter:
    """One parameter of an analytic test as an option: its kind (``number``, ``integer``, ``text``, ``flag``)."""

    name: str
    kind: str
    help: str

    @property
    def option(self) -> str:
        """Return the option: ``--`` and the name with ``-`` for ``_`` (``p_control`` -> ``--p-control``)."""
        return "--" + self.name.replace("_", "-")


#: every parameter of the families in :data:`trialkit.power.TESTS`, as an option (see docs/power.md)
PARAMETERS: Mapping[str, Parameter] = {
    p.name: p
    for p in (
        Parameter("effect", "number", "effect: mean difference (t, ancova), risk difference, or rate ratio"),
        Parameter("sd", "number", "outcome SD (t, ancova; default 1: --effect is then Cohen's d)"),
        Parameter("rho", "number", "baseline-outcome correlation (ancova)"),
        Parameter("allocation", "number", "n_arm / n_control (default 1)"),
        Parameter("arms", "integer", "arms compared with control (t, ancova; default 1)"),
        Parameter("multiplicity", "text", "bonferroni or dunnett, for more than one arm (t, ancova)"),
        Parameter("p_control", "number", "event probability in control (proportions)"),
        Parameter("odds_ratio", "number", "odds ratio instead of --effect (proportions)"),
        Parameter("method", "text", "normal, arcsine or exact (Fisher) (proportions; default normal)"),
        Parameter("strict", "flag", "add the chance of rejecting in the wrong direction (proportions, normal)"),
        Parameter("rate_control", "number", "event rate in control per unit of exposure (negative_binomial)"),
        Parameter("dispersion", "number", "negative binomial dispersion, 0 for Poisson (negative_binomial)"),
        Parameter("exposure", "number", "exposure time per subject (negative_binomial; default 1)"),
        Parameter(
            "variance_method", "integer", "Zhu and Lakkis variance method 1, 2 or 3 (negative_binomial; default 3)"
        ),
    )
}

#: options of a simulation alone (attribute, option); --n, --alpha and -q belong to both modes
SIMULATION_OPTIONS = (
    ("trials", "--trials"),
    ("seed", "--seed"),
    ("analyses", "--analyses"),
    ("endpoints", "--endpoints"),
    ("workers", "--workers"),
    ("dask", "--dask"),
    ("out", "--out"),
)
#: options of the analytic mode alone, besides the tests' parameters
ANALYTIC_OPTIONS = (("test", "--test"), ("power", "--power"), ("sided", "--sided"), ("dropout", "--dropout"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``trialkit power`` (``--out``, ``--force`` and ``-q`` are added by the caller)."""
    parser.add_argument(
        "design", nargs="?", help="design file (TOML): simulate; without it, compute from a formula (--test)"
    )
    parser.add_argument(
        "--n",
        metavar="N[,N...]",
        help="simulation: control-arm sizes to simulate (20,30,40); formula: the size per arm "
        "(or one per arm, control first)",
    )
    parser.add_argument(
        "--alpha",
        metavar="A",
        help="significance level (simulation: two-sided, default the design's study.alpha; formula: default 0.05)",
    )
    sim = parser.add_argument_group("simulation (with DESIGN)")
    sim.add_argument("--trials", metavar="T", help="replicate trials per size (default 10000)")
    sim.add_argument("--seed", metavar="S", help="seed of the replicates (default 1; same seed, same power.csv)")
    sim.add_argument("--analyses", metavar="A[,A...]", help="analyses to run (default: one per endpoint type)")
    sim.add_argument("--endpoints", metavar="E[,E...]", help="endpoint ids to simulate (default: all)")
    sim.add_argument("--workers", metavar="W", help="local processes (default: one per usable core)")
    sim.add_argument("--dask", metavar="ADDRESS", help="run on the Dask scheduler at ADDRESS (tcp://HOST:PORT)")
    formula = parser.add_argument_group("formula (without DESIGN): give two of --n, --power and the effect")
    formula.add_argument("--test", metavar="TEST", help="t, ancova, proportions or negative_binomial")
    formula.add_argument("--power", metavar="P", help="target power: solve for the size (or for the effect with --n)")
    formula.add_argument("--sided", metavar="1|2", help="1 or 2 (default 2)")
    formula.add_argument("--dropout", metavar="D", help="share of enrolled not analysed, for the sample size")
    for p in PARAMETERS.values():
        if p.kind == "flag":
            formula.add_argument(p.option, dest=p.name, action="store_true", default=None, help=p.help)
        else:
            formula.add_argument(p.option, dest=p.name, metavar=p.kind.upper(), help=p.help)


def read_integer(text: str, option: str, minimum: int, problems: list[str]) -> int | None:
    try:
        value = int(text.strip())
    except ValueError:
        value = None
    if value is None or value < minimum:
        problems.append(f"{option} must be an integer >= {minimum}; got {text!r}.")
        return None
    return value


def read_number(text: str, option: str, problems: list[str]) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        value = None
    if value is None or value != value or value in (float("inf"), float("-inf")):
        problems.append(f"{option} must be a finite number; got {text!r}.")
        return None
    return value


def read_names(text: str, option: str, problems: list[str]) -> list[str] | None:
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        problems.append(f"{option} must be a comma-separated list of names; got {text!r}.")
        return None
    return names


def read_sizes(text: str, problems: list[str]) -> list[int] | None:
    parts = text.split(",")
    sizes = [read_integer(part, "--n", 2, []) for part in parts]
    if not all(isinstance(n, int) for n in sizes):
        bad = [part.strip() for part, n in zip(parts, sizes, strict=True) if n is None]
        problems.append(
            f"--n must be a comma-separated list of integers >= 2 (subjects per arm); got {text!r} ({bad[0]!r})."
        )
        return None
    return [n for n in sizes if n is not None]


def given_options(args: argparse.Namespace, options: Sequence[tuple[str, str]]) -> list[str]:
    return [option for name, option in options if getattr(args, name) is not None]
