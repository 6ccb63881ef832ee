"""Command line: a thin layer over the public API.

Exit codes: 0 ok, 1 an analysis failed, 2 bad input (spec, data, options).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import pandas as pd

from trialkit._errors import TrialkitError, ValidationError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _print_frame(frame: pd.DataFrame, title: str) -> None:
    print(f"\n{title}")
    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.max_rows", 400):
        print(frame.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def _cmd_validate(args: argparse.Namespace) -> int:
    from trialkit import load
    from trialkit.summary import subject_counts

    trial = load(args.spec)
    n = trial.subjects.groupby("arm", observed=True).size()
    arms = ", ".join(f"{a} {k}" for a, k in n.items())
    print(f"{args.spec}: valid — {len(trial.subjects)} subjects ({arms}), "
          f"{len(trial.spec.endpoints)} endpoints, visits {', '.join(trial.spec.visits.order)}.")
    _print_frame(subject_counts(trial), "Subjects per arm and visit (complete = every endpoint observed)")
    return EXIT_OK


def _cmd_summary(args: argparse.Namespace) -> int:
    from trialkit import load
    from trialkit._export import write_csvs
    from trialkit.summary import describe_endpoints, subject_counts

    trial = load(args.spec)
    counts = subject_counts(trial)
    missing = trial.missing_counts()
    described = describe_endpoints(trial)
    print(f"Study {trial.spec.study.id}: {trial.spec.study.title}")
    _print_frame(counts, "Subjects per arm and visit")
    _print_frame(missing.loc[missing["n_missing"] > 0], "Missing values per arm, visit and endpoint")
    _print_frame(described, "Endpoint summaries (value and change from baseline)")
    if args.out:
        written = write_csvs(Path(args.out), {"counts.csv": counts, "missing.csv": missing,
                                              "summary.csv": described})
        print("\nwrote " + ", ".join(str(p) for p in written))
    return EXIT_OK


def _format_p(p: float) -> str:
    return "NA" if pd.isna(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def _cmd_analyze(args: argparse.Namespace) -> int:
    from trialkit import load
    from trialkit._export import frame_records, write_csvs, write_json
    from trialkit.analysis import analyze

    trial = load(args.spec)
    res = analyze(trial)
    spec = trial.spec
    level = f"{100 * (1 - res.alpha):g}%"
    t = res.table
    primary = spec.primary_endpoint
    rows = t.loc[(t["analysis"] == "ancova") & (t["endpoint"] == primary.id) & (t["visit"] == spec.visits.primary)]
    kind = "ratio of geometric means" if primary.scale == "log" else "difference in LS means"
    print(f"Study {spec.study.id}: primary endpoint {primary.label} at {spec.visits.primary} (ANCOVA)")
    for r in rows.itertuples(index=False):
        print(f"  {r.contrast}: {kind} {r.estimate:.3g} {primary.unit} ({level} CI {r.ci_low:.3g} to "
              f"{r.ci_high:.3g}; t = {r.statistic:.2f}, df = {r.df:.0f}, p = {_format_p(r.p_value)}); "
              f"n = {r.n_treatment} vs {r.n_control}")
    main_rows = t.loc[(t["analysis"] == "ancova") & (t["visit"] == spec.visits.primary),
                      ["endpoint", "contrast", "estimate", "ci_low", "ci_high", "p_value", "p_adjusted",
                       "n_treatment", "n_control"]]
    _print_frame(main_rows, f"ANCOVA at {spec.visits.primary}, all endpoints "
                            f"(p_adjusted: {res.provenance['multiplicity']} over secondary endpoints)")
    if not res.failures.empty:
        _print_frame(res.failures, "Analyses that could not run")
    if args.out:
        out = Path(args.out)
        tables = {"results.csv": t, "table1.csv": res.table1, "smd.csv": res.smd,
                  "responder_sweep.csv": res.responder_sweep, "counts.csv": res.counts,
                  "failures.csv": res.failures}
        written = write_csvs(out, tables)
        written.append(write_json(out / "results.json", {
            "provenance": dict(res.provenance), "alpha": res.alpha,
            "results": frame_records(t), "failures": frame_records(res.failures)}))
        print("\nwrote " + ", ".join(str(p) for p in written))
    return EXIT_FAILED if not res.failures.empty else EXIT_OK


def _cmd_simulate(args: argparse.Namespace) -> int:
    from trialkit._write import write_simulation
    from trialkit.simulate import read_design, simulate

    design = read_design(args.design)
    sim = simulate(design, seed=args.seed)
    command = "trialkit simulate " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else None
    written = write_simulation(sim, Path(args.out), design_path=Path(args.design), seed=args.seed,
                               command=command)
    print("wrote " + ", ".join(str(p) for p in written))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trialkit", description=__doc__.splitlines()[0])
    from trialkit import __version__

    parser.add_argument("--version", action="version", version=f"trialkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="check a study spec and its data; list every problem")
    p.add_argument("spec", help="study spec (TOML)")
    p.add_argument("--problems", metavar="CSV", help="also write the problem table to this CSV")
    p.set_defaults(func=_cmd_validate)
    p = sub.add_parser("summary", help="counts, missingness and endpoint summaries per arm and visit")
    p.add_argument("spec", help="study spec (TOML)")
    p.add_argument("--out", metavar="DIR", help="write counts.csv, missing.csv and summary.csv here")
    p.add_argument("--problems", metavar="CSV", help="write the problem table here on bad input")
    p.set_defaults(func=_cmd_summary)
    p = sub.add_parser("analyze", help="efficacy analyses: ANCOVA, change tests, effect sizes, responders")
    p.add_argument("spec", help="study spec (TOML)")
    p.add_argument("--out", metavar="DIR", help="write results.csv, results.json, table1.csv, ... here")
    p.add_argument("--problems", metavar="CSV", help="write the problem table here on bad input")
    p.set_defaults(func=_cmd_analyze)
    p = sub.add_parser("simulate", help="generate a synthetic parallel-group trial from a design")
    p.add_argument("design", help="design file (TOML)")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", metavar="DIR", required=True)
    p.set_defaults(func=_cmd_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trialkit`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValidationError as exc:
        print(exc.summary(limit=50), file=sys.stderr)
        problems = getattr(args, "problems", None)
        if problems:
            from trialkit._export import write_csvs

            target = Path(problems)
            write_csvs(target.parent, {target.name: exc.table})
            print(f"all {len(exc.problems)} problems written to {target}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except TrialkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
