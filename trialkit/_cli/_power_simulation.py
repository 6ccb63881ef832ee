"""``trialkit power DESIGN``: simulate, write power.csv, power_curve.svg and MANIFEST.json, print the power.

The progress display is drawn here: a bar of tasks done on stderr (a terminal only), redrawn on
each finished task and never by a thread of its own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trialkit._cli._power_options import (
    ANALYTIC_OPTIONS,
    PARAMETERS,
    given_options,
    read_integer,
    read_names,
    read_number,
    read_sizes,
)
from trialkit._errors import TrialkitError

if TYPE_CHECKING:
    from trialkit._cli._console import Printer
    from trialkit.power import PowerSimulation

__all__ = ["Display", "power_manifest", "progress_display", "simulate_design"]


@dataclass(frozen=True)
class Display:
    """The progress display: ``stage(name)`` shows a stage, ``tasks(done, total)`` the simulation's bar."""

    stage: Callable[[str], None]
    tasks: Callable[[int, int], None] | None


def _nothing(stage: str) -> None:
    """Show nothing."""


@contextmanager
def progress_display(*, show: bool) -> Iterator[Display]:
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
    foreign = given_options(args, ANALYTIC_OPTIONS) + [p.option for p in PARAMETERS.values() if getattr(args, p.name)]
    if foreign:
        problems.append(
            f"{', '.join(foreign)} {'belongs' if len(foreign) == 1 else 'belong'} to the formula mode "
            "(trialkit power without a DESIGN); a simulation takes the design's parameters."
        )
    if args.n is None:
        problems.append("--n is required with a DESIGN: the control-arm sizes to simulate, such as --n 20,30,40.")
    if args.out is None:
        problems.append("--out is required with a DESIGN: the folder to write power.csv, power_curve.svg into.")
    sizes = read_sizes(args.n, problems) if args.n is not None else None
    trials = read_integer(args.trials, "--trials", 1, problems) if args.trials is not None else 10_000
    seed = read_integer(args.seed, "--seed", 0, problems) if args.seed is not None else 1
    alpha = read_number(args.alpha, "--alpha", problems) if args.alpha is not None else None
    analyses = read_names(args.analyses, "--analyses", problems) if args.analyses is not None else None
    endpoints = read_names(args.endpoints, "--endpoints", problems) if args.endpoints is not None else None
    workers = read_integer(args.workers, "--workers", 1, problems) if args.workers is not None else None
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
    """Print the power per endpoint, analysis (and arm, when several) by size: one column per size."""
    from trialkit._cli._console import Column
    from trialkit.power import ANALYSES

    # readers see labels; power.csv keeps the ids
    words = {
        "endpoint": {ep.id: ep.label or ep.id for ep in sim.design.endpoints},
        "analysis": {name: a.label for name, a in ANALYSES.items()},
        "arm": {arm.id: arm.label or arm.id for arm in sim.design.arms},
    }
    headings = {"endpoint": "Endpoint", "analysis": "Analysis", "arm": "Arm vs control"}
    table = sim.table
    several_arms = table["arm"].nunique() > 1
    keys = ["endpoint", "analysis", *(["arm"] if several_arms else [])]
    rows = []
    for key, group in table.groupby(keys, sort=False):
        by_n = dict(zip(group["n_per_arm"], group["power"], strict=True))
        shown = [words[k].get(str(v), str(v)) for k, v in zip(keys, key, strict=True)]
        rows.append([*shown, *(f"{by_n[n]:.3f}" if n in by_n else "" for n in sim.n_per_arm)])
    columns = [Column(headings[k]) for k in keys] + [Column(f"n = {n}", numeric=True) for n in sim.n_per_arm]
    failed = int(table["failed"].sum())
    note = (
        f"Share of {sim.trials:,} replicates rejecting at two-sided alpha {sim.alpha:g} (n: control arm); "
        f"Monte Carlo SE at most {table['mcse'].max():.3f}."
    )
    if failed:
        note += f" {failed:,} replicate analyses could not be fitted (power.csv, column failed)."
    printer.table("Power by simulation", columns, rows, note)


def _keep_other_manifest(out: Path) -> None:
    """Refuse an ``--out`` folder whose ``MANIFEST.json`` vouches for other files (generated data, say).

    ``--force`` replaces the power files of an earlier run; it must not replace the record of how
    the data beside them were made.
    """
    from trialkit._provenance import read_manifest

    manifest = read_manifest(out) if out.is_dir() else None
    others = sorted(set(manifest.files) - {"power.csv", "power_curve.svg"}) if manifest is not None else []
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise TrialkitError(
            f"{str(out / 'MANIFEST.json')!r} records other files ({shown}); writing the power results "
            "into that folder would replace it: write them into another folder."
        )


def simulate_design(args: argparse.Namespace, printer: Printer, display: Display) -> Callable[[], None]:
    """Simulate the design of ``args``, write its files all or nothing, and return the function that prints.

    Every option is checked before the design is read, and the design before any task runs (an
    unreachable Dask scheduler is found before the first task); nothing is written until every task
    has finished.
    """
    from trialkit import read_design
    from trialkit._export import json_bytes, write_files
    from trialkit._provenance import MANIFEST, command_line, sha256_file
    from trialkit._report._power_curve import power_curve_svg
    from trialkit.power import simulate

    options = _simulation_args(args)
    _keep_other_manifest(Path(args.out))
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
