"""Command line: a thin layer over the public API.

Exit codes: 0 ok, 1 an analysis failed, 2 bad input (spec, data, options), 130 Ctrl-C, 143 SIGTERM.
The module imports nothing heavy (pandas and the rest are imported by the commands, inside
:func:`main`), so that Ctrl-C ends in one line from the first moments of a run. Results go to stdout
(plain text in a pipe), errors and the progress display to stderr (the display only to a terminal).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from trialkit._cli._folders import check_file, check_folder
from trialkit._cli._paths import Input, check_apart, design_inputs, spec_inputs
from trialkit._errors import PROBLEM_COLUMNS, TrialkitError, ValidationError, describe

if TYPE_CHECKING:
    import pandas as pd

    from trialkit import Trial
    from trialkit._cli._console import Printer

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
#: the exit code after Ctrl-C, as a shell reports a process ended by SIGINT
EXIT_INTERRUPTED = 130
#: the exit code after SIGTERM (``kill``), as a shell reports a process ended by it
EXIT_TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that a run ends as after Ctrl-C: temporary files removed."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Make SIGTERM raise :class:`Terminated` while the block runs (main thread only), then put the handler back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


#: a function that shows the name of the stage now running (see trialkit._cli._console.stages)
Stage = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    """What a command ends with: its exit code, and the printout, shown once the progress display is erased."""

    exit_code: int
    show: Callable[[], None]


LOADING = "Loading and checking data"

#: the files each command writes into its ``--out`` folder (checked before any work; see _check_outputs)
OUT_FILES = {
    "summary": ("counts.csv", "missing.csv", "summary.csv"),
    "analyze": (),  # Results.to_files: trialkit.analysis.RESULT_FILES, looked up when the command runs
    "reproduce": ("reproduction.csv", "abstract_audit.csv", "power.csv", "mde.csv", "reproduction.txt"),
    "report": ("report.html", "report.pdf", "results.xlsx"),
    "power": ("power.csv", "power_curve.svg", "MANIFEST.json"),  # with a DESIGN; the formula mode writes nothing
}


def _out_files(args: argparse.Namespace) -> tuple[str, ...]:
    """Return the names of the files the command writes into its folder (``--out`` or the report folder)."""
    if args.command == "analyze":
        from trialkit.analysis import RESULT_FILES

        return tuple(RESULT_FILES)
    if args.command == "simulate":
        from trialkit import read_design
        from trialkit._provenance import MANIFEST
        from trialkit._simulate import SPEC_FILE

        try:  # a design that cannot be read is reported by the command, before anything is written
            arms = tuple(f"{arm.id}.csv" for arm in read_design(args.design).arms)
        except TrialkitError:
            arms = ()
        return (*arms, SPEC_FILE, MANIFEST)
    files = OUT_FILES.get(args.command, ())
    if args.command == "report" and not args.xlsx:
        files = tuple(f for f in files if f != "results.xlsx")
    return files


def _inputs(args: argparse.Namespace) -> list[Input]:
    """Return the files the command reads (see trialkit._cli._paths): never to be written by it."""
    if args.command in ("simulate", "power"):
        return design_inputs(args.design) if args.design is not None else []
    found: list[Input] = []
    spec = getattr(args, "spec", None)
    published = getattr(args, "published", None)
    if published:
        from trialkit.reproduce.published import find_published

        try:
            found.append(Input("the published-results file", find_published(published)))
        except TrialkitError:  # a name that is no bundled file: the command says so
            pass
    if args.command == "reproduce":
        from trialkit.reproduce import bundled_study

        try:
            spec = args.data or bundled_study(args.published)
        except TrialkitError:
            spec = args.data
    if spec:
        found += spec_inputs(spec)
    return found


def _check_apart(args: argparse.Namespace, folder: Path | None, option: str) -> None:
    """Refuse a run whose outputs (``--problems``, the files of its folder) meet its inputs or each other."""
    outputs: list[tuple[str, Path]] = []
    problems = getattr(args, "problems", None)
    if problems:
        outputs.append(("--problems", Path(problems)))
    if folder is not None:
        outputs += [(option, folder / name) for name in _out_files(args)]
    if outputs:
        check_apart(_inputs(args), outputs)


def _check_outputs(args: argparse.Namespace) -> None:
    """Check every output path of the command (``--out``, ``--problems``) before any work is done."""
    problems = getattr(args, "problems", None)
    if problems:
        check_file(Path(problems), "--problems")
    out = getattr(args, "out", None)
    if out:
        check_folder(Path(out), "--out", _out_files(args), force=args.force)
    # without --out, report's default folder is checked again with its files once it is known
    _check_apart(args, Path(out) if out else None, "--out")


def _frame_text(frame: pd.DataFrame) -> str:
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.max_rows", 400):
        return frame.to_string(index=False, float_format=lambda v: f"{v:.4g}")


def _print_frame(printer: Printer, frame: pd.DataFrame, title: str) -> None:
    printer.line(f"\n{title}")
    printer.line(_frame_text(frame))


def _load(spec: str | Path) -> Trial:
    """Load and check a trial; say on stderr each value read other than as written (never silent, even with -q)."""
    from trialkit import load

    trial = load(spec)
    for warning in trial.warnings:
        print(f"warning {describe(warning)}", file=sys.stderr)
    return trial


def _cmd_validate(args: argparse.Namespace, printer: Printer, stage: Stage) -> Outcome:
    from trialkit._cli._plan import endpoint_plan
    from trialkit._summary import subject_counts

    stage(LOADING)
    trial = _load(args.spec)
    counts = subject_counts(trial)

    def show() -> None:
        n = trial.subjects.groupby("arm", observed=True).size()
        arms = ", ".join(f"{a} {k}" for a, k in n.items())
        printer.line(
            f"{args.spec}: valid — {len(trial.subjects)} subjects ({arms}), "
            f"{len(trial.spec.endpoints)} endpoints, visits {', '.join(trial.spec.visits.order)}."
        )
        _print_frame(printer, counts, "Subjects per arm and visit (complete = every endpoint observed)")
        printer.line()
        printer.line("\n".join(endpoint_plan(trial.spec)))

    return Outcome(EXIT_OK, show)


def _cmd_summary(args: argparse.Namespace, printer: Printer, stage: Stage) -> Outcome:
    from trialkit._export import csv_bytes, write_files
    from trialkit._summary import describe_endpoints, subject_counts

    stage(LOADING)
    trial = _load(args.spec)
    stage("Summaries")
    counts = subject_counts(trial)
    missing = trial.missing_counts()
    described = describe_endpoints(trial)
    tables = {"counts.csv": counts, "missing.csv": missing, "summary.csv": described}
    if args.out:
        stage("Writing files")
    written = write_files(args.out, {name: csv_bytes(f) for name, f in tables.items()}) if args.out else []

    def show() -> None:
        printer.line(f"Study {trial.spec.study.id}: {trial.spec.study.title}")
        _print_frame(printer, counts, "Subjects per arm and visit")
        _print_frame(printer, missing.loc[missing["n_missing"] > 0], "Missing values per arm, visit and endpoint")
        _print_frame(printer, described, "Endpoint summaries (value and change from baseline)")
        if written:
            printer.line("\nwrote " + ", ".join(str(p) for p in written))

    return Outcome(EXIT_OK, show)


def _cmd_analyze(args: argparse.Namespace, printer: Printer, stage: Stage) -> Outcome:
    from trialkit import analyze
    from trialkit._cli._analyze_view import failed_rows, print_results

    stage(LOADING)
    trial = _load(args.spec)
    res = analyze(trial, progress=stage)
    stage("Writing files")
    written = res.to_files(args.out) if args.out else []  # before printing: a closed pipe loses no file
    exit_code = EXIT_FAILED if not failed_rows(res).empty else EXIT_OK
    return Outcome(exit_code, lambda: print_results(printer, trial, res, written))


def _cmd_reproduce(args: argparse.Namespace, printer: Printer, stage: Stage) -> Outcome:
    from trialkit._export import csv_bytes, write_files
    from trialkit.reproduce import bundled_study, reproduce

    data = args.data or bundled_study(args.published)
    trial = None
    if data:
        stage(LOADING)
        trial = _load(data)
    stage("Reproducing the published results")
    rep = reproduce(args.published, trial)
    text = rep.text
    written: list[Path] = []
    if args.out:  # before printing: a closed pipe loses no file
        stage("Writing files")
        tables = {
            "reproduction.csv": rep.table,
            "abstract_audit.csv": rep.audit.table,
            "power.csv": rep.audit.power,
            "mde.csv": rep.audit.mde,
        }
        contents = {name: csv_bytes(frame) for name, frame in tables.items()}
        contents["reproduction.txt"] = (text + "\n").encode("utf-8")
        written = write_files(args.out, contents)

    def show() -> None:
        printer.line(text)
        if written:
            printer.line("\nwrote " + ", ".join(str(p) for p in written))

    return Outcome(EXIT_OK, show)


def _check_report_folder(out: Path, args: argparse.Namespace) -> None:
    """Check the default report folder as ``--out`` is checked (see _check_outputs)."""
    check_folder(out, "the report folder", _out_files(args), force=args.force)
    _check_apart(args, out, "the report folder")


def _report_folder(args: argparse.Namespace) -> Path | None:
    """Return the report folder: ``--out`` (checked already), or ``reports/<study id>``, checked now.

    The study id comes from the spec alone, so that the folder is checked before the data are
    loaded. None when the spec cannot be read: ``load`` then reports its problems together with
    the data's.
    """
    if args.out:
        return Path(args.out)
    from trialkit import read_spec

    try:
        study = read_spec(args.spec).study.id
    except TrialkitError:
        return None
    out = Path("reports") / study
    _check_report_folder(out, args)
    return out


def _cmd_report(args: argparse.Namespace, printer: Printer, stage: Stage) -> Outcome:
    folder = _report_folder(args)  # refused before the analysis and report layers are imported

    from trialkit import analyze, report
    from trialkit._cli._analyze_view import failed_rows
    from trialkit.reproduce.published import find_published

    published_file = find_published(args.published) if args.published else None
    stage(LOADING)
    trial = _load(args.spec)
    out = folder if folder is not None else Path("reports") / trial.spec.study.id
    if folder is None:  # a spec that only load could read: its folder is known now, before the analysis
        _check_report_folder(out, args)
    res = analyze(trial, progress=stage)
    reproduction = None
    if published_file is not None:
        stage("Reproducing the published results")
        from trialkit.reproduce import reproduce

        reproduction = reproduce(published_file, trial, results=res)
    # paths as Path: the report writes them relative to the spec's folder, where the command is to be run
    published: list[str | Path] = []
    if published_file is not None:
        published = ["--published", published_file if str(published_file) == args.published else args.published]
    command: list[str | Path] = [
        "trialkit",
        "report",
        Path(args.spec),
        "--out",
        out,
        *(["--xlsx"] if args.xlsx else []),
        *published,
    ]
    html, pdf = report(trial, res, out, reproduction=reproduction, command=command, xlsx=args.xlsx, progress=stage)
    written = [html, pdf] + ([out / "results.xlsx"] if args.xlsx else [])
    failed = failed_rows(res)

    def show() -> None:
        printer.line(f"Study {trial.spec.study.id}: wrote " + ", ".join(str(p) for p in written))
        if not failed.empty:  # a warning, shown with --quiet too
            print(f"{len(failed)} analyses could not run; the report lists them.", file=sys.stderr)

    return Outcome(EXIT_FAILED if not failed.empty else EXIT_OK, show)


def _cmd_simulate(args: argparse.Namespace, printer: Printer, stage: Stage) -> Outcome:
    from trialkit import read_design, simulate

    stage("Simulating")
    sim = simulate(read_design(args.design), seed=args.seed)
    command = ["trialkit", "simulate", str(args.design), "--seed", str(args.seed), "--out", str(args.out)]
    stage("Writing files")
    written = sim.to_files(args.out, design_path=args.design, command=command)
    return Outcome(EXIT_OK, lambda: printer.line("wrote " + ", ".join(str(p) for p in written)))


def _cmd_power(args: argparse.Namespace, printer: Printer, stage: Stage) -> Outcome:
    from trialkit._cli._power import run

    return Outcome(EXIT_OK, run(args, printer))  # the command draws its own progress display (see _run)


def _options(parser: argparse.ArgumentParser, *, out: str | None = None, required: bool = False) -> None:
    """Add the options every command shares: ``--quiet`` and, for a command that writes a folder, ``--force``."""
    if out is not None:
        parser.add_argument("--out", metavar="DIR", required=required, help=out)
        parser.add_argument(
            "--force",
            action="store_true",
            help="write into --out even when it is not empty (the command's own files are replaced; others are left)",
        )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing but errors (no results, no progress); same exit code"
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the parser of the ``trialkit`` command line: one subcommand per job."""
    parser = argparse.ArgumentParser(
        prog="trialkit",
        description="Check, analyse and report randomised clinical trials from a study spec (TOML) and its data.",
        epilog="`trialkit COMMAND -h` explains a command. Exit codes: 0 ok, 1 an analysis failed, 2 bad input.",
    )
    from trialkit import __version__

    parser.add_argument("-V", "--version", action="version", version=f"trialkit {__version__}")
    # no command prints the help (exit 0) rather than an error: `trialkit` alone is how people ask
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("validate", help="check a study spec and its data; list every problem")
    p.add_argument("spec", help="study spec (TOML)")
    p.add_argument("--problems", metavar="CSV", help="also write the problem table to this CSV")
    _options(p)
    p.set_defaults(func=_cmd_validate)
    p = sub.add_parser("summary", help="counts, missingness and endpoint summaries per arm and visit")
    p.add_argument("spec", help="study spec (TOML)")
    _options(p, out="write counts.csv, missing.csv and summary.csv into this folder (new or empty)")
    p.add_argument("--problems", metavar="CSV", help="write the problem table here on bad input")
    p.set_defaults(func=_cmd_summary)
    p = sub.add_parser("analyze", help="efficacy analyses of every endpoint by its type: continuous, binary, count")
    p.add_argument("spec", help="study spec (TOML)")
    _options(p, out="write results.csv, results.json, table1.csv, ... into this folder (new or empty)")
    p.add_argument("--problems", metavar="CSV", help="write the problem table here on bad input")
    p.set_defaults(func=_cmd_analyze)
    p = sub.add_parser("report", help="HTML and PDF report: flow, Table 1, results, figures, methods, provenance")
    p.add_argument("spec", help="study spec (TOML)")
    _options(p, out="write report.html and report.pdf into this folder (new or empty; default reports/<study id>)")
    p.add_argument("--xlsx", action="store_true", help="also write results.xlsx (formula-like text neutralised)")
    p.add_argument("--problems", metavar="CSV", help="write the problem table here on bad input")
    p.add_argument(
        "--published", metavar="NAME|TOML", help="add a reproduction section against this published-results file"
    )
    p.set_defaults(func=_cmd_report)
    p = sub.add_parser("reproduce", help="audit a published trial and re-analyse it: one verdict per outcome")
    p.add_argument("published", metavar="NAME|TOML", help="bundled name (e.g. abbasi2012) or a published-results file")
    p.add_argument(
        "--data",
        metavar="SPEC",
        help="study spec of individual-level data to re-analyse "
        "(default for a bundled name: data/synthetic/NAME/study.toml)",
    )
    _options(p, out="write reproduction.csv, reproduction.txt and the audit tables into this folder (new or empty)")
    p.set_defaults(func=_cmd_reproduce)
    p = sub.add_parser("simulate", help="generate a synthetic parallel-group trial from a design")
    p.add_argument("design", help="design file (TOML)")
    p.add_argument("--seed", type=int, required=True, help="seed of the random draws (same seed, same files)")
    _options(
        p, out="write one CSV per arm, study.toml and MANIFEST.json into this folder (new or empty)", required=True
    )
    p.set_defaults(func=_cmd_simulate)
    p = sub.add_parser(
        "power",
        help="power by simulation from a design file, or analytic power, sample size and detectable effect",
        description="With DESIGN: simulate the power of its analyses at each --n and write power.csv, "
        "power_curve.svg and MANIFEST.json into --out. Without: compute from a formula (--test) the power "
        "(--n and the effect), the sample size (--power and the effect) or the detectable effect (--n and --power).",
    )
    from trialkit._cli._power import add_arguments

    add_arguments(p)
    _options(p, out="simulation: write power.csv, power_curve.svg and MANIFEST.json into this folder (new or empty)")
    # its progress bar is drawn without a thread of its own (local workers are forked): no stage spinner
    p.set_defaults(func=_cmd_power, own_display=True)
    return parser


def _write_problems(target: Path, table: pd.DataFrame) -> None:
    """Write the problem table (``PROBLEM_COLUMNS``) to ``target``, whole or not at all."""
    from trialkit._export import csv_bytes, write_files

    write_files(target.parent, {target.name: csv_bytes(table)})


def _remove_stale(path: Path) -> None:
    """Remove the problem table of an earlier run at ``path`` (checked to be a file, and no input, by now)."""
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise TrialkitError(f"--problems {str(path)!r} holds an earlier table that cannot be removed: {exc}.") from exc


def _run(args: argparse.Namespace, printer: Printer) -> int:
    """Run the command: check its outputs, do the work under the progress display, then print."""
    problems = getattr(args, "problems", None)
    try:
        _check_outputs(args)
        if problems:  # this run's table or none: never an earlier run's, whatever stops this one
            _remove_stale(Path(problems))
        from trialkit._cli._console import stages

        with stages(show=not args.quiet and not getattr(args, "own_display", False)) as stage:
            outcome: Outcome = args.func(args, printer, stage)
        outcome.show()  # the display is erased by now: the results do not mix with it
        if problems:
            # the input was valid: an empty problem table, never a stale one from an earlier run
            import pandas as pd

            _write_problems(Path(problems), pd.DataFrame(columns=list(PROBLEM_COLUMNS)))
        return outcome.exit_code
    except ValidationError as exc:
        print(exc.summary(limit=50), file=sys.stderr)
        if problems:
            n = len(exc.problems)
            try:
                _write_problems(Path(problems), exc.table)
            except TrialkitError as error:  # a full disk, say: the problems are on stderr all the same
                print(f"error: {error}", file=sys.stderr)
                return EXIT_BAD_INPUT
            print(f"{'all ' if n > 1 else ''}{n} problem{'s' if n != 1 else ''} written to {problems}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except TrialkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _flush_stdout() -> None:
    """Flush stdout; when its reader has gone, send the rest to the null device instead of a traceback at exit."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        from trialkit._cli._console import silence_stdout

        silence_stdout()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trialkit`` console script; returns the exit code."""
    try:
        with _sigterm_raises():
            parser = build_parser()
            args = parser.parse_args(argv)  # -h and -V print and exit here: flushed below all the same
            if args.command is None:
                parser.print_help()
                return EXIT_OK
            from trialkit._cli._console import Printer

            return _run(args, Printer(quiet=args.quiet))
    except Terminated:
        print("terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:
        # the reader of the printout went away (`trialkit analyze ... | head`) outside the printer;
        # files are written before anything is printed, so nothing is lost
        from trialkit._cli._console import silence_stdout

        silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        _flush_stdout()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
