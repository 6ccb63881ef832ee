"""Whole-process ``trialkit analyze SPEC --out DIR`` against ``Rscript`` doing the same analyses.

For two small trials, the bundled one (``tk.datasets.study_spec("abbasi2012")``: 2 arms, 46
subjects, 10 endpoints, 1 follow-up visit) and a three-arm trial simulated here with ``trialkit
simulate`` from benchmarks/three_arm_design.toml (120 subjects, 3 endpoints, 2 follow-up visits),
each round runs, one after the other,

* ``trialkit analyze SPEC --out DIR`` (a new process: interpreter start, imports, load, every
  analysis, the output files), and
* ``Rscript benchmarks/analyze_like_trialkit.R PLAN DIR`` (a new process: R start, emmeans,
  reading the same CSV files, the same analyses with lm + emmeans, t.test, wilcox.test,
  prop.test, fisher.test, p.adjust, the same outputs),

and prints the medians and their ratio (trialkit / R; issue 8 asks for <= 1). The plan R reads
(arms, visits, endpoints, covariates: what the study spec says) is written before any timing.
After timing, the ANCOVA estimates of the two programs are compared, to show that they did the
same analyses.

    python benchmarks/bench_cli.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
R_SCRIPT = HERE / "analyze_like_trialkit.R"
DESIGN = HERE / "three_arm_design.toml"


def _trialkit_command() -> list[str]:
    script = Path(sys.executable).parent / "trialkit"
    return [str(script)] if script.exists() else [sys.executable, "-m", "trialkit.cli"]


def write_plan(spec_path: Path, folder: Path) -> Path:
    """Write what R needs to know from the study spec (settings.csv, endpoints.csv); return the folder."""
    import trialkit as tk

    spec = tk.read_spec(spec_path)
    covariates = spec.analysis.covariates
    numeric = [c for c in covariates if c not in spec.analysis.categorical]
    files = [(arm, path) for arm, path in spec.data.sources if arm is not None]
    if spec.data.pattern != "{endpoint}_{visit}" or not files:
        raise SystemExit(f"{spec_path}: the R script reads wide per-arm files with columns {{endpoint}}_{{visit}}")
    arms = [spec.arms.control, *[a for a in spec.arms.levels if a != spec.arms.control]]
    settings = {
        "control": spec.arms.control,
        "arms": ";".join(arms),
        "baseline": spec.visits.baseline,
        "visits": ";".join(spec.visits.post_baseline),
        "primary_visit": spec.visits.primary,
        "alpha": repr(spec.study.alpha),
        "numeric": ";".join(numeric),
        "categorical": ";".join(spec.analysis.categorical),
        "files": ";".join(f"{arm}={path}" for arm, path in files),
    }
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "settings.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["key", "value"])
        writer.writerows(settings.items())
    with (folder / "endpoints.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "scale", "responder", "integer", "primary"])
        for e in spec.endpoints:
            responder = "" if e.responder_change is None else repr(e.responder_change)
            writer.writerow([e.id, e.scale, responder, str(e.integer).upper(), str(e.primary).upper()])
    return folder


def simulate_three_arm(folder: Path) -> Path:
    """Simulate the second trial with the trialkit command line; return its study.toml."""
    subprocess.run(
        [*_trialkit_command(), "simulate", str(DESIGN), "--seed", "11", "--out", str(folder)],
        check=True,
        capture_output=True,
    )
    return folder / "study.toml"


def _run(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: trialkit ran and reports failures; still a full run
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return elapsed


def _same_ancova(trialkit_out: Path, r_out: Path) -> float:
    """Return the largest relative difference between the two programs' ANCOVA and t estimates (a sanity check)."""
    ours = pd.read_csv(trialkit_out / "results.csv")
    theirs = pd.read_csv(r_out / "results.csv")
    key = ["endpoint", "visit", "analysis", "contrast"]
    pick = ["ancova", "ancova_lsmean", "welch_change", "student_change", "paired_within"]
    merged = ours.loc[ours["analysis"].isin(pick)].merge(theirs, on=key, suffixes=("", "_r"))
    if len(merged) != int(ours["analysis"].isin(pick).sum()):
        raise SystemExit("trialkit and R disagree on which ANCOVA / t-test rows exist")
    scale = merged["estimate_r"].abs().clip(lower=1e-8)  # an estimate of 0 (a change of 0) has no relative error
    return float(((merged["estimate"] - merged["estimate_r"]).abs() / scale).max())


def main() -> None:
    """Time both programs on both trials, alternating, and print medians and ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if shutil.which("Rscript") is None:
        raise SystemExit("Rscript not found: this benchmark compares against R")
    import trialkit as tk

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        trials = {
            "abbasi2012 (bundled)": Path(str(tk.datasets.study_spec("abbasi2012"))),
            "three_arm (simulated)": simulate_three_arm(tmp / "three_arm"),
        }
        ratios = []
        for label, spec in trials.items():
            plan = write_plan(spec, tmp / f"plan_{len(ratios)}")
            ours_out, r_out = tmp / f"tk_{len(ratios)}", tmp / f"r_{len(ratios)}"
            # --force: every timed run writes into the folder of the run before it
            ours_cmd = [*_trialkit_command(), "analyze", str(spec), "--out", str(ours_out), "--force"]
            r_cmd = ["Rscript", str(R_SCRIPT), str(plan), str(r_out)]
            _run(ours_cmd), _run(r_cmd)  # warm the file cache
            ours, theirs = [], []
            for _ in range(args.repeat):
                ours.append(_run(ours_cmd))
                theirs.append(_run(r_cmd))
            o, r = statistics.median(ours), statistics.median(theirs)
            ratios.append(o / r)
            print(
                f"{label}: trialkit analyze {o:.2f} s, Rscript {r:.2f} s, ratio {o / r:.2f} "
                f"(medians of {args.repeat} alternating runs; ANCOVA/t estimates agree to "
                f"{_same_ancova(ours_out, r_out):.1e})"
            )
        print(f"ratio trialkit / R: {', '.join(f'{x:.2f}' for x in ratios)}  (target <= 1)")


if __name__ == "__main__":
    main()
