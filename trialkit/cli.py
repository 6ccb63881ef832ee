"""Command line: a thin layer over the public API.

Exit codes: 0 ok, 1 an analysis failed, 2 bad input (spec, data, options).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from trialkit._errors import PROBLEM_COLUMNS, TrialkitError, ValidationError
from trialkit._format import format_ci, format_number, p_phrase
from trialkit._spec import Endpoint

if TYPE_CHECKING:
    from trialkit import Results, StudySpec, Trial
    from trialkit.reproduce import Reproduction

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


#: the files each command writes into its ``--out`` folder (checked before any work; see _check_outputs)
OUT_FILES = {
    "summary": ("counts.csv", "missing.csv", "summary.csv"),
    "analyze": (),  # Results.to_files: trialkit.analysis.RESULT_FILES, looked up when the command runs
    "reproduce": ("reproduction.csv", "abstract_audit.csv", "power.csv", "mde.csv", "reproduction.txt"),
    "report": ("report.html", "report.pdf", "results.xlsx"),
}


def _folder_problem(path: Path, files: Sequence[str] = ()) -> str | None:
    """Say what makes ``path`` unusable as a folder to write into; None when nothing does.

    The folder may be missing (it is created); then its nearest existing ancestor must be a
    writable folder. An existing folder must be writable, and none of ``files`` in it may be a folder.
    """
    if path.exists():
        if not path.is_dir():
            return "exists and is not a folder"
        if not os.access(path, os.W_OK | os.X_OK):
            return "is a folder that is not writable"
        for name in files:
            if (path / name).is_dir():
                return f"holds a folder {name!r} where the file {name} is to be written"
        return None
    if path.is_symlink():
        return "is a broken symbolic link"
    for ancestor in path.absolute().parents:
        if ancestor.is_symlink() and not ancestor.exists():
            return f"cannot be created: {str(ancestor)!r} is a broken symbolic link"
        if not ancestor.exists():
            continue
        if not ancestor.is_dir():
            return f"cannot be created: {str(ancestor)!r} is a file, not a folder"
        if not os.access(ancestor, os.W_OK | os.X_OK):
            return f"cannot be created: the folder {str(ancestor)!r} is not writable"
        return None
    return None


def _check_folder(path: Path, option: str, files: Sequence[str] = ()) -> None:
    """Refuse, before any work, a folder to write into that cannot be one (TrialkitError naming it)."""
    problem = _folder_problem(path, files)
    if problem is not None:
        raise TrialkitError(
            f"{option} {str(path)!r} {problem}; give a folder to write into (it is created when missing)."
        )


def _check_file(path: Path, option: str) -> None:
    """Refuse, before any work, a file to write that cannot be written: a folder, a device, a path under a file."""
    if path.is_dir():
        raise TrialkitError(f"{option} {str(path)!r} is a folder; give the path of a CSV file to write.")
    if path.exists() and not path.is_file():
        raise TrialkitError(f"{option} {str(path)!r} exists and is not a regular file; give the path of a CSV file.")
    problem = _folder_problem(path.parent)
    if problem is not None:
        raise TrialkitError(f"{option} {str(path)!r} cannot be written: its folder {str(path.parent)!r} {problem}.")


def _check_outputs(args: argparse.Namespace) -> None:
    """Check every output path of the command (``--out``, ``--problems``) before any work is done."""
    problems = getattr(args, "problems", None)
    if problems:
        _check_file(Path(problems), "--problems")
    out = getattr(args, "out", None)
    if out:
        files = OUT_FILES.get(args.command, ())
        if args.command == "analyze":
            from trialkit.analysis import RESULT_FILES

            files = RESULT_FILES
        if args.command == "report" and not args.xlsx:
            files = tuple(f for f in files if f != "results.xlsx")
        _check_folder(Path(out), "--out", files)


def _failed(res: Results) -> pd.DataFrame:
    """Return the failure rows of analyses that could not run: not those skipped as not applying to the trial."""
    failures: pd.DataFrame = res.failures
    return failures.loc[failures["term"] != "skipped"]


def _print_frame(frame: pd.DataFrame, title: str) -> None:
    print(f"\n{title}")
    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.max_rows", 400):
        print(frame.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def _cmd_validate(args: argparse.Namespace) -> int:
    from trialkit import load
    from trialkit._summary import subject_counts

    trial = load(args.spec)
    n = trial.subjects.groupby("arm", observed=True).size()
    arms = ", ".join(f"{a} {k}" for a, k in n.items())
    print(
        f"{args.spec}: valid — {len(trial.subjects)} subjects ({arms}), "
        f"{len(trial.spec.endpoints)} endpoints, visits {', '.join(trial.spec.visits.order)}."
    )
    _print_frame(subject_counts(trial), "Subjects per arm and visit (complete = every endpoint observed)")
    print()
    print("\n".join(_endpoint_plan(trial.spec)))
    return EXIT_OK


def _endpoint_plan(spec: StudySpec) -> list[str]:
    """Say per endpoint what its type is and, without a baseline visit, which analyses run and which are skipped."""
    lines = ["Endpoints:"]
    for e in spec.endpoints:
        details = ""
        if e.type == "binary":
            success = e.success if isinstance(e.success, str) else f"{1 if e.success is None else e.success:g}"
            details = f", success = {success!r}" if isinstance(e.success, str) else f", success = {success}"
        elif e.type == "count":
            unit = f" ({e.exposure_unit})" if e.exposure_unit else ""
            if e.exposure_column:
                details = f", time at risk{unit} from column {e.exposure_column!r}"
            elif e.exposure:
                lengths = ", ".join(f"{v} {length:g}" for v, length in e.exposure)
                details = f", time at risk{unit}: {lengths}"
        lines.append(f"  {e.id}: {e.type}{details}{' (primary)' if e.primary else ''}")
    if spec.visits.baseline is not None:
        return lines
    an = spec.analysis
    on = "arm" + (f" + {', '.join(an.covariates)}" if an.covariates else "")
    lines.append("No baseline visit (`visits.baseline`): analyses of follow-up values only.")
    for e in spec.endpoints:
        if e.type == "binary":
            runs = f"logistic regression on {on} with standardised RD/RR/OR; risk difference, risk and odds ratios"
            runs += "; CMH over the strata" if an.strata else ""
            skipped = []
        elif e.type == "count":
            runs = f"negative binomial, Poisson and quasi-Poisson regression on {on}; rates per arm; Mann-Whitney"
            skipped = ["change from baseline"]
        else:
            runs = f"ANCOVA of the follow-up values on {on}; t-tests and Mann-Whitney on the follow-up values"
            runs += "; van Elteren over the strata" if an.strata else ""
            skipped = ["change from baseline"]
        if e.responder_change is not None or e.responder_percent is not None:
            skipped.append("responders")
        if e.type != "binary" and an.mmrm is not None:
            skipped.append("MMRM with baseline")
        if an.missing_data is not None:
            skipped.append("multiple imputation")
        lines.append(f"  {e.id}: runs {runs}")
        lines.append(f"  {' ' * len(e.id)}  skipped: {', '.join(skipped) if skipped else 'none'}")
    return lines


def _cmd_summary(args: argparse.Namespace) -> int:
    from trialkit import load
    from trialkit._export import csv_bytes, write_files
    from trialkit._summary import describe_endpoints, subject_counts

    trial = load(args.spec)
    counts = subject_counts(trial)
    missing = trial.missing_counts()
    described = describe_endpoints(trial)
    tables = {"counts.csv": counts, "missing.csv": missing, "summary.csv": described}
    written = write_files(args.out, {name: csv_bytes(f) for name, f in tables.items()}) if args.out else []
    print(f"Study {trial.spec.study.id}: {trial.spec.study.title}")
    _print_frame(counts, "Subjects per arm and visit")
    _print_frame(missing.loc[missing["n_missing"] > 0], "Missing values per arm, visit and endpoint")
    _print_frame(described, "Endpoint summaries (value and change from baseline)")
    if written:
        print("\nwrote " + ", ".join(str(p) for p in written))
    return EXIT_OK


def _cmd_analyze(args: argparse.Namespace) -> int:
    from trialkit import analyze, load

    trial = load(args.spec)
    res = analyze(trial)
    written = res.to_files(args.out) if args.out else []  # before printing: a closed pipe loses no file
    spec = trial.spec
    level = f"{100 * (1 - res.alpha):g}%"
    t = res.table
    primary = spec.primary_endpoint
    kind_of = res.provenance["primary_analyses"]
    kind = kind_of[primary.id]
    at_primary = t["visit"] == spec.visits.primary
    rows = t.loc[(t["analysis"] == kind) & (t["endpoint"] == primary.id) & at_primary]
    measure, unit = _measure(primary, kind)
    scale = 100.0 if kind == "standardised_rd" else 1.0  # a risk difference in percentage points
    print(f"Study {spec.study.id}: primary endpoint {primary.label} at {spec.visits.primary} ({_MODEL_NAMES[kind]})")
    for r in rows.to_dict("records"):
        statistic = "z" if pd.isna(r["df"]) else "t"
        df = "" if pd.isna(r["df"]) else f", df = {format_number(r['df'], 0)}"
        print(
            f"  {r['contrast']}: {measure} {format_number(scale * r['estimate'])}{unit} ({level} CI "
            f"{format_ci(scale * r['ci_low'], scale * r['ci_high'], None)}; "
            f"{statistic} = {format_number(r['statistic'], 2)}{df}, {p_phrase(r['p_value'])}); "
            f"n = {r['n_treatment']} vs {r['n_control']}"
        )
    primary_rows = t["analysis"] == t["endpoint"].map(kind_of)
    main_rows = t.loc[
        primary_rows & at_primary,
        ["endpoint", "analysis", "contrast", "estimate", "ci_low", "ci_high", "p_value", "p_adjusted"]
        + ["n_treatment", "n_control"],
    ]
    adjustment = res.provenance["multiplicity"] + (" after Dunnett over arms" if res.provenance["dunnett"] else "")
    _print_frame(
        main_rows,
        f"Primary analysis of each endpoint at {spec.visits.primary} "
        f"(p_adjusted: {adjustment} over secondary endpoints)",
    )
    assumptions = ["ancova", "mmrm", "mi_mar", "mi_j2r", "mi_cr", "tipping_point"]
    sensitivity = t.loc[
        t["analysis"].isin(assumptions[2:]) & (t["endpoint"] == primary.id) & (t["visit"] == spec.visits.primary)
    ]
    if not sensitivity.empty:
        shown = t.loc[
            t["analysis"].isin(assumptions) & (t["endpoint"] == primary.id) & (t["visit"] == spec.visits.primary),
            ["analysis", "contrast", "estimate", "ci_low", "ci_high", "p_value", "n_treatment", "n_control"],
        ]
        shown = shown.assign(order=shown["analysis"].map(assumptions.index)).sort_values(["order", "contrast"])
        _print_frame(
            shown.drop(columns="order"),
            f"{primary.label} at {spec.visits.primary} under each assumption about missing values "
            "(tipping_point: the shift of the treated arm's imputed values at which p reaches alpha)",
        )
    skipped = res.failures["term"] == "skipped"
    if skipped.any():
        print("\nAnalyses that do not apply to the trial (skipped; every row in failures.csv):")
        groups: dict[tuple[str, str], list[str]] = {}
        for (message, endpoint), part in res.failures.loc[skipped].groupby(["message", "endpoint"], sort=False):
            analyses = ", ".join(dict.fromkeys(part["analysis"]))
            groups.setdefault((str(message), analyses), []).append(str(endpoint))
        for (message, analyses), endpoints in groups.items():
            print(f"  {message.removeprefix('skipped: ')}\n    {analyses}\n    for {', '.join(endpoints)}")
    failed = _failed(res)
    if not failed.empty:
        _print_frame(failed, "Analyses that could not run")
    if written:
        print("\nwrote " + ", ".join(str(p) for p in written))
    return EXIT_FAILED if not failed.empty else EXIT_OK


#: how the console names each endpoint type's primary analysis
_MODEL_NAMES = {
    "ancova": "ANCOVA",
    "mmrm": "MMRM",
    "standardised_rd": "logistic model, standardised risk difference",
    "negative_binomial": "negative binomial model",
}


def _measure(endpoint: Endpoint, kind: str) -> tuple[str, str]:
    """Return what the primary analysis of ``endpoint`` estimates, and the unit printed after it."""
    if kind == "standardised_rd":
        return "risk difference", " percentage points"
    if kind == "negative_binomial":
        return "rate ratio", ""
    if endpoint.scale == "log":
        return "ratio of geometric means", ""  # a ratio has no unit
    return "difference in LS means", f" {endpoint.unit}".rstrip()


def _published_path(name: str) -> Path:
    """Return a published-results file: a path, or the name of one bundled with trialkit."""
    from trialkit.reproduce.published import find_published

    return find_published(name)


def _reproduction(published_file: Path, trial: Trial, results: Results) -> Reproduction:
    """Reproduce a published-results file on the trial and its results (the report's section)."""
    from trialkit.reproduce import reproduce

    return reproduce(published_file, trial, results=results)


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from trialkit import load
    from trialkit._export import csv_bytes, write_files
    from trialkit.reproduce import bundled_study, reproduce

    data = args.data or bundled_study(args.published)
    rep = reproduce(args.published, load(data) if data else None)
    text = rep.text
    written: list[Path] = []
    if args.out:  # before printing: a closed pipe loses no file
        tables = {
            "reproduction.csv": rep.table,
            "abstract_audit.csv": rep.audit.table,
            "power.csv": rep.audit.power,
            "mde.csv": rep.audit.mde,
        }
        contents = {name: csv_bytes(frame) for name, frame in tables.items()}
        contents["reproduction.txt"] = (text + "\n").encode("utf-8")
        written = write_files(args.out, contents)
    print(text)
    if written:
        print("\nwrote " + ", ".join(str(p) for p in written))
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from trialkit import analyze, load, report

    trial = load(args.spec)
    out = Path(args.out) if args.out else Path("reports") / trial.spec.study.id
    if not args.out:  # the default folder is known only now: checked before the analysis
        _check_folder(out, "the report folder", OUT_FILES["report"] if args.xlsx else OUT_FILES["report"][:2])
    published_file = _published_path(args.published) if args.published else None
    res = analyze(trial)
    reproduction = None
    if published_file is not None:
        reproduction = _reproduction(published_file, trial, res)
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
    html, pdf = report(trial, res, out, reproduction=reproduction, command=command, xlsx=args.xlsx)
    written = [html, pdf] + ([out / "results.xlsx"] if args.xlsx else [])
    print(f"Study {trial.spec.study.id}: wrote " + ", ".join(str(p) for p in written))
    failed = _failed(res)
    if not failed.empty:
        print(f"{len(failed)} analyses could not run; the report lists them.", file=sys.stderr)
    return EXIT_FAILED if not failed.empty else EXIT_OK


def _cmd_simulate(args: argparse.Namespace) -> int:
    from trialkit import read_design, simulate

    sim = simulate(read_design(args.design), seed=args.seed)
    command = ["trialkit", "simulate", str(args.design), "--seed", str(args.seed), "--out", str(args.out)]
    written = sim.to_files(args.out, design_path=args.design, command=command)
    print("wrote " + ", ".join(str(p) for p in written))
    return EXIT_OK


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
    p.set_defaults(func=_cmd_validate)
    p = sub.add_parser("summary", help="counts, missingness and endpoint summaries per arm and visit")
    p.add_argument("spec", help="study spec (TOML)")
    p.add_argument("--out", metavar="DIR", help="write counts.csv, missing.csv and summary.csv here")
    p.add_argument("--problems", metavar="CSV", help="write the problem table here on bad input")
    p.set_defaults(func=_cmd_summary)
    p = sub.add_parser("analyze", help="efficacy analyses of every endpoint by its type: continuous, binary, count")
    p.add_argument("spec", help="study spec (TOML)")
    p.add_argument("--out", metavar="DIR", help="write results.csv, results.json, table1.csv, ... here")
    p.add_argument("--problems", metavar="CSV", help="write the problem table here on bad input")
    p.set_defaults(func=_cmd_analyze)
    p = sub.add_parser("report", help="HTML and PDF report: flow, Table 1, results, figures, methods, provenance")
    p.add_argument("spec", help="study spec (TOML)")
    p.add_argument("--out", metavar="DIR", help="write report.html and report.pdf here (default reports/<study id>)")
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
    p.add_argument("--out", metavar="DIR", help="write reproduction.csv, reproduction.txt and the audit tables here")
    p.set_defaults(func=_cmd_reproduce)
    p = sub.add_parser("simulate", help="generate a synthetic parallel-group trial from a design")
    p.add_argument("design", help="design file (TOML)")
    p.add_argument("--seed", type=int, required=True, help="seed of the random draws (same seed, same files)")
    p.add_argument(
        "--out", metavar="DIR", required=True, help="write one CSV per arm, study.toml and MANIFEST.json here"
    )
    p.set_defaults(func=_cmd_simulate)
    return parser


def _write_problems(target: Path, table: pd.DataFrame) -> None:
    """Write the problem table (``PROBLEM_COLUMNS``) to ``target``, whole or not at all."""
    from trialkit._export import csv_bytes, write_files

    write_files(target.parent, {target.name: csv_bytes(table)})


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trialkit`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    problems = getattr(args, "problems", None)
    try:
        _check_outputs(args)
        exit_code: int = args.func(args)
        if problems:
            # the input was valid: an empty problem table, never a stale one from an earlier run
            _write_problems(Path(problems), pd.DataFrame(columns=list(PROBLEM_COLUMNS)))
        return exit_code
    except ValidationError as exc:
        print(exc.summary(limit=50), file=sys.stderr)
        if problems:
            n = len(exc.problems)
            _write_problems(Path(problems), exc.table)
            print(f"{'all ' if n > 1 else ''}{n} problem{'s' if n != 1 else ''} written to {problems}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except TrialkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # the reader of the printout went away (`trialkit analyze ... | head`); files are written
        # before anything is printed, so nothing is lost: silence the rest of the output
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
