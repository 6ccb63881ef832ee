"""``trialkit power --test ...``: analytic power, sample size or detectable effect from :mod:`trialkit.power`."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from trialkit._cli._power_options import (
    PARAMETERS,
    SIMULATION_OPTIONS,
    given_options,
    read_integer,
    read_number,
    read_sizes,
)
from trialkit._errors import TrialkitError

if TYPE_CHECKING:
    from trialkit._cli._console import Printer
    from trialkit.power import SampleSize

__all__ = ["compute_formula"]


def _test_parameters(args: argparse.Namespace, test: str, problems: list[str]) -> dict[str, Any]:
    """Return the given parameters of ``test`` as keyword arguments, each read by its kind."""
    from trialkit.power import TESTS

    takes = TESTS[test].parameters
    params: dict[str, Any] = {}
    for p in PARAMETERS.values():
        text = getattr(args, p.name)
        if text is None:
            continue
        if p.name not in takes:
            options = ", ".join(PARAMETERS[name].option for name in takes)
            problems.append(f"{p.option} is not a parameter of --test {test} (its options: {options}); got {text!r}.")
        elif p.kind == "flag":
            params[p.name] = True
        elif p.kind == "number":
            params[p.name] = read_number(text, p.option, problems)
        elif p.kind == "integer":
            params[p.name] = read_integer(text, p.option, 1, problems)
        else:
            params[p.name] = text
    return params


def _sample_size_rows(size: SampleSize) -> list[list[str]]:
    arms = ", ".join(str(n) for n in size.n_per_arm)
    analysed = ", ".join(str(n) for n in size.n_analysed)
    return [
        ["n per arm to enrol (control first)", arms],
        ["total to enrol", str(size.total)],
        ["n per arm analysed", analysed],
        ["power achieved (analysed)", f"{size.power:.4f}"],
        ["dropout", f"{size.dropout:g}"],
    ]


def compute_formula(args: argparse.Namespace, printer: Printer) -> Callable[[], None]:
    """Compute the power, the sample size or the detectable effect; return the function that prints it.

    Raises TrialkitError naming every misplaced option and bad value at once, and passes on the
    errors of :mod:`trialkit.power` (a value out of its range) as they are.
    """
    import trialkit.power as tkp
    from trialkit._cli._console import Column

    problems: list[str] = []
    misplaced = given_options(args, SIMULATION_OPTIONS) + (["--force"] if args.force else [])
    if misplaced:
        problems.append(
            f"{', '.join(misplaced)} {'belongs' if len(misplaced) == 1 else 'belong'} to a simulation "
            "(trialkit power DESIGN.toml ...); without a DESIGN the command computes from a formula."
        )
    if args.test is None:
        problems.append(
            f"--test is required without a DESIGN: one of {', '.join(tkp.TESTS)} (or give a design file to "
            "simulate: trialkit power DESIGN.toml --n 20,30,40 --out DIR)."
        )
        raise TrialkitError(" ".join(problems))
    if args.test not in tkp.TESTS:
        problems.append(f"--test must be one of {', '.join(tkp.TESTS)}; got {args.test!r}.")
        raise TrialkitError(" ".join(problems))
    params = _test_parameters(args, args.test, problems)
    common: dict[str, Any] = {}
    if args.alpha is not None:
        common["alpha"] = read_number(args.alpha, "--alpha", problems)
    if args.sided is not None:
        common["sided"] = read_integer(args.sided, "--sided", 1, problems)
    n: int | tuple[int, ...] | None = None
    if args.n is not None:
        sizes = read_sizes(args.n, problems)
        if sizes is not None:
            n = sizes[0] if len(sizes) == 1 else tuple(sizes)
    target = read_number(args.power, "--power", problems) if args.power is not None else None
    dropout = read_number(args.dropout, "--dropout", problems) if args.dropout is not None else None
    has_effect = args.effect is not None or args.odds_ratio is not None
    given = [args.n is not None, args.power is not None, has_effect]
    if sum(given) != 2:
        problems.append(
            "give two of --n, --power and the effect (--effect, or --odds-ratio for proportions): --n and the "
            "effect give the power, --power and the effect the sample size, --n and --power the detectable effect; "
            f"got {_listed(given)}."
        )
    elif args.dropout is not None and not (target is not None and has_effect):
        problems.append("--dropout applies to the sample size alone (--power with the effect); got it with --n.")
    if problems:
        raise TrialkitError(" ".join(problems))
    test = args.test
    if target is None and n is not None:
        value = tkp.power(test, n, **common, **params)
        title = f"Power, test {test}"
        rows = [["n per arm", args.n], ["power", f"{value:.4f}"]]
    elif target is not None and n is not None:
        value = tkp.effect(test, n, power=target, **common, **params)
        title = f"Detectable effect, test {test}"
        rows = [["n per arm", args.n], ["power", f"{target:g}"], ["effect", f"{value:.6g}"]]
    else:
        assert target is not None  # two of the three were given: --power and the effect
        lost = 0.0 if dropout is None else dropout
        size = tkp.sample_size(test, power=target, dropout=lost, **common, **params)
        title = f"Sample size, test {test}, power {target:g}"
        rows = _sample_size_rows(size)

    def show() -> None:
        printer.table(title, [Column("quantity"), Column("value", numeric=True)], rows)

    return show


def _listed(given: Sequence[bool]) -> str:
    names = [name for name, g in zip(("--n", "--power", "the effect"), given, strict=True) if g]
    return ", ".join(names) if names else "none of them"
