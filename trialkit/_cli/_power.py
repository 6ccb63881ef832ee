"""``trialkit power``: power by simulation from a design file, or analytic power and sample size.

With a DESIGN the command simulates (:func:`trialkit.power.simulate`) and writes ``power.csv``,
``power_curve.svg`` and ``MANIFEST.json``; without one it computes from a formula
(:func:`trialkit.power.power`, :func:`~trialkit.power.sample_size`, :func:`~trialkit.power.effect`):
given two of ``--n``, ``--power`` and the effect, it prints the third. Options of the other mode
are refused, never ignored. This module imports nothing heavy: the commands import what they use.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trialkit._errors import TrialkitError

if TYPE_CHECKING:
    from trialkit._cli._console import Printer
    from trialkit.power import PowerSimulation, SampleSize

__all__ = ["OUT_FILES", "PARAMETERS", "add_arguments", "run"]

#: the files a simulation writes into ``--out``
OUT_FILES = ("power.csv", "power_curve.svg", "MANIFEST.json")


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
_SIMULATION_OPTIONS = (
    ("trials", "--trials"),
    ("seed", "--seed"),
    ("analyses", "--analyses"),
    ("endpoints", "--endpoints"),
    ("workers", "--workers"),
    ("dask", "--dask"),
    ("out", "--out"),
)
#: options of the analytic mode alone, besides the tests' parameters
_ANALYTIC_OPTIONS = (("test", "--test"), ("power", "--power"), ("sided", "--sided"), ("dropout", "--dropout"))


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


# -- reading option values: every problem is collected, then reported at once -------------------------


def _integer(text: str, option: str, minimum: int, problems: list[str]) -> int | None:
    try:
        value = int(text.strip())
    except ValueError:
        value = None
    if value is None or value < minimum:
        problems.append(f"{option} must be an integer >= {minimum}; got {text!r}.")
        return None
    return value


def _number(text: str, option: str, problems: list[str]) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        value = None
    if value is None or value != value or value in (float("inf"), float("-inf")):
        problems.append(f"{option} must be a finite number; got {text!r}.")
        return None
    return value


def _names(text: str, option: str, problems: list[str]) -> list[str] | None:
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        problems.append(f"{option} must be a comma-separated list of names; got {text!r}.")
        return None
    return names


def _sizes(text: str, problems: list[str]) -> list[int] | None:
    parts = text.split(",")
    sizes = [_integer(part, "--n", 2, []) for part in parts]
    if not all(isinstance(n, int) for n in sizes):
        bad = [part.strip() for part, n in zip(parts, sizes, strict=True) if n is None]
        problems.append(
            f"--n must be a comma-separated list of integers >= 2 (subjects per arm); got {text!r} ({bad[0]!r})."
        )
        return None
    return [n for n in sizes if n is not None]


def _given(args: argparse.Namespace, options: Sequence[tuple[str, str]]) -> list[str]:
    return [option for name, option in options if getattr(args, name) is not None]


# -- the progress display ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Display:
    """The progress display: ``stage(name)`` shows a stage, ``tasks(done, total)`` the simulation's bar."""

    stage: Callable[[str], None]
    tasks: Callable[[int, int], None] | None


def _nothing(stage: str) -> None:
    """Show nothing."""


@contextmanager
def _display(*, show: bool) -> Iterator[Display]:
    """Yield the display on stderr (a terminal only), erased when the block ends.

    It is redrawn on each call and never by a thread of its own (``auto_refresh=False``): the
    local backend forks worker processes, and a fork while another thread holds a lock can hang.
    """
    if not show or not sys.stderr.isatty():
        yield Display(_nothing, None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class TasksDone(ProgressColumn):
        """Tasks done out of all, once the simulation has started (nothing while the design is read)."""

        def render(self, task: Task) -> Text:
            return Text("" if task.total is None else f"{int(task.completed)}/{int(task.total)} tasks")

    console = Console(file=sys.stderr, markup=False, emoji=False, highlight=False)
    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TasksDone(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        auto_refresh=False,
        redirect_stdout=False,
    ) as progress:
        bar = progress.add_task("", total=None, visible=False)

        def stage(name: str) -> None:
            progress.update(bar, description=name, visible=True, refresh=True)

        def tasks(done: int, total: int) -> None:
            progress.update(bar, completed=done, total=total, visible=True, refresh=True)

        yield Display(stage, tasks)


# -- simulation -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SimulationArgs:
    sizes: list[int]
    trials: int
    seed: int
    alpha: float | None
    analyses: list[str] | None
    endpoints: list[str] | None
    workers: int | None
    scheduler: str | None


def _simulation_args(args: argparse.Namespace) -> _SimulationArgs:
    """Read the simulation's options; raise one TrialkitError naming every bad value and misplaced option."""
    problems: list[str] = []
    foreign = _given(args, _ANALYTIC_OPTIONS) + [p.option for p in PARAMETERS.values() if getattr(args, p.name)]
    if foreign:
        problems.append(
            f"{', '.join(foreign)} {'belongs' if len(foreign) == 1 else 'belong'} to the formula mode "
            "(trialkit power without a DESIGN); a simulation takes the design's parameters."
        )
    if args.n is None:
        problems.append("--n is required with a DESIGN: the control-arm sizes to simulate, such as --n 20,30,40.")
    if args.out is None:
        problems.append("--out is required with a DESIGN: the folder to write power.csv, power_curve.svg into.")
    sizes = _sizes(args.n, problems) if args.n is not None else None
    trials = _integer(args.trials, "--trials", 1, problems) if args.trials is not None else 10_000
    seed = _integer(args.seed, "--seed", 0, problems) if args.seed is not None else 1
    alpha = _number(args.alpha, "--alpha", problems) if args.alpha is not None else None
    analyses = _names(args.analyses, "--analyses", problems) if args.analyses is not None else None
    endpoints = _names(args.endpoints, "--endpoints", problems) if args.endpoints is not None else None
    workers = _integer(args.workers, "--workers", 1, problems) if args.workers is not None else None
    if args.dask is not None and "://" not in args.dask:
        problems.append(
            f"--dask must be the address of a Dask scheduler, such as tcp://127.0.0.1:8786; got {args.dask!r}."
        )
    if args.dask is not None and args.workers is not None:
        problems.append("--workers counts local processes; it does not apply with --dask (the cluster's workers run).")
    if problems:
        raise TrialkitError(" ".join(problems))
    assert sizes is not None and trials is not None and seed is not None  # no problem: every value was read
    return _SimulationArgs(sizes, trials, seed, alpha, analyses, endpoints, workers, args.dask)


def _command(args: argparse.Namespace) -> list[str]:
    """Return the command line of the run, from its options (paths as given)."""
    words = ["trialkit", "power", str(args.design)]
    for name in ("n", "trials", "seed", "analyses", "endpoints", "alpha", "workers", "dask", "out"):
        value = getattr(args, name)
        if value is not None:
            words += [f"--{name}", str(value)]
    return words + (["--force"] if args.force else [])


def power_manifest(
    sim: PowerSimulation, contents: Mapping[str, bytes], *, design_path: str, design_sha256: str, command: str | None
) -> dict[str, Any]:
    """Return the ``MANIFEST.json`` of a simulation's files: what made them, and their SHA-256."""
    from trialkit._provenance import sha256_bytes, versions

    return {
        "generator": "trialkit.power",
        "study": sim.design.study_id,
        "design": {"path": design_path, "sha256": design_sha256},
        "seed": sim.seed,
        "trials": sim.trials,
        "n_per_arm": list(sim.n_per_arm),
        "endpoints": list(dict.fromkeys(sim.table["endpoint"])),
        "analyses": list(dict.fromkeys(sim.table["analysis"])),
        "alpha": sim.alpha,
        "command": command,
        "files": {name: sha256_bytes(data) for name, data in contents.items()},
        "versions": versions(("trialkit", "numpy", "pandas", "scipy"), python=True),
    }


def _simulation_table(printer: Printer, sim: PowerSimulation) -> None:
    from trialkit._cli._console import Column

    table = sim.table
    several_arms = table["arm"].nunique() > 1
    keys = ["endpoint", "analysis", *(["arm"] if several_arms else [])]
    rows = []
    for key, group in table.groupby(keys, sort=False):
        by_n = dict(zip(group["n_per_arm"], group["power"], strict=True))
        rows.append([*(str(k) for k in key), *(f"{by_n[n]:.3f}" if n in by_n else "" for n in sim.n_per_arm)])
    columns = [Column(k) for k in keys] + [Column(f"n = {n}", numeric=True) for n in sim.n_per_arm]
    failed = int(table["failed"].sum())
    note = (
        f"Share of {sim.trials:,} replicates rejecting at two-sided alpha {sim.alpha:g} (n: control arm); "
        f"Monte Carlo SE at most {table['mcse'].max():.3f}."
    )
    if failed:
        note += f" {failed:,} replicate analyses could not be fitted (power.csv, column failed)."
    printer.table("Power by simulation", columns, rows, note)


def _simulate(args: argparse.Namespace, printer: Printer, display: Display) -> Callable[[], None]:
    from trialkit import read_design
    from trialkit._export import json_bytes, write_files
    from trialkit._provenance import MANIFEST, command_line, sha256_file
    from trialkit._report._power_curve import power_curve_svg
    from trialkit.power import simulate

    options = _simulation_args(args)
    display.stage("Reading the design")
    design = read_design(args.design)
    try:
        design_sha256 = sha256_file(args.design)
    except OSError as exc:
        raise TrialkitError(f"cannot read the design file {str(args.design)!r}: {exc}.") from exc
    display.stage("Simulating" if options.scheduler is None else f"Simulating on {options.scheduler}")
    sim = simulate(
        design,
        options.sizes,
        trials=options.trials,
        seed=options.seed,
        analyses=options.analyses,
        scheduler=options.scheduler,
        endpoints=options.endpoints,
        alpha=options.alpha,
        workers=options.workers,
        progress=display.tasks,
    )
    display.stage("Writing files")
    contents = {"power.csv": sim.to_csv(), "power_curve.svg": power_curve_svg(sim).encode("utf-8")}
    manifest = power_manifest(
        sim,
        contents,
        design_path=Path(args.design).as_posix(),
        design_sha256=design_sha256,
        command=command_line(_command(args)),
    )
    written = write_files(args.out, {**contents, MANIFEST: json_bytes(manifest)})

    def show() -> None:
        _simulation_table(printer, sim)
        printer.line("\nwrote " + ", ".join(str(p) for p in written))

    return show


# -- formula --------------------------------------------------------------------------------------------


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
            params[p.name] = _number(text, p.option, problems)
        elif p.kind == "integer":
            params[p.name] = _integer(text, p.option, 1, problems)
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


def _formula(args: argparse.Namespace, printer: Printer) -> Callable[[], None]:
    import trialkit.power as tkp
    from trialkit._cli._console import Column

    problems: list[str] = []
    misplaced = _given(args, _SIMULATION_OPTIONS) + (["--force"] if args.force else [])
    if misplaced:
        problems.append(
            f"{', '.join(misplaced)} {'belongs' if len(misplaced) == 1 else 'belong'} to a simulation "
            "(trialkit power DESIGN.toml ...); without a DESIGN the command computes from a formula."
        )
    if args.test is None:
        problems.append(f"--test is required without a DESIGN: one of {', '.join(tkp.TESTS)}.")
        raise TrialkitError(" ".join(problems))
    if args.test not in tkp.TESTS:
        problems.append(f"--test must be one of {', '.join(tkp.TESTS)}; got {args.test!r}.")
        raise TrialkitError(" ".join(problems))
    params = _test_parameters(args, args.test, problems)
    common: dict[str, Any] = {}
    if args.alpha is not None:
        common["alpha"] = _number(args.alpha, "--alpha", problems)
    if args.sided is not None:
        common["sided"] = _integer(args.sided, "--sided", 1, problems)
    n: int | tuple[int, ...] | None = None
    if args.n is not None:
        sizes = _sizes(args.n, problems)
        if sizes is not None:
            n = sizes[0] if len(sizes) == 1 else tuple(sizes)
    target = _number(args.power, "--power", problems) if args.power is not None else None
    dropout = _number(args.dropout, "--dropout", problems) if args.dropout is not None else None
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


def run(args: argparse.Namespace, printer: Printer) -> Callable[[], None]:
    """Run ``trialkit power``: simulate with a DESIGN, compute from a formula without; return the printout."""
    if args.design is None:
        return _formula(args, printer)
    with _display(show=not args.quiet) as display:
        return _simulate(args, printer, display)
