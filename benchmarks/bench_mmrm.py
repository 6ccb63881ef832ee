"""MMRM fit times: trialkit against R's nlme::gls on the same data, in the same run.

Two data sets bundled with the R package ``mmrm`` (Apache-2.0): ``fev_data`` (200 subjects, 4
visits, 537 responses; unstructured covariance, 10 parameters), bundled with trialkit, and
``bcva_data`` (1,000 subjects, 10 visits, 8,605 responses; 55 covariance parameters), read from
``--bcva`` when given. Each round times one ``tk.mmrm`` fit per data set in this process (imports
already paid), then ``Rscript benchmarks/mmrm_gls.R`` fitting the same model with ``nlme::gls``
(``corSymm`` + ``varIdent``, REML) — R's own timing of its fits, so R's start-up is not counted.
Printed: median seconds per fit, and the ratio trialkit / gls (the issue asks for fev_data <= 50 ms
and bcva_data <= 2 s per fit, both ahead of gls). The two programs' −2 REML log-likelihoods are
printed too, to show that they fitted the same model.

    python benchmarks/bench_mmrm.py [--rounds 7] [--bcva path/to/bcva_data.csv]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import pandas as pd

import trialkit as tk

HERE = Path(__file__).resolve().parent
MODELS = {
    "fev": dict(
        response="FEV1", subject="USUBJID", visit="AVISIT", arm="ARMCD", control="PBO", covariates=["RACE", "SEX"]
    ),
    "bcva": dict(
        response="BCVA_CHG",
        subject="USUBJID",
        visit="AVISIT",
        arm="ARMCD",
        control="CTL",
        covariates=["RACE"],
        baseline="BCVA_BL",
    ),
}


def time_trialkit(frame: pd.DataFrame, model: str, repeats: int) -> tuple[list[float], float]:
    """Seconds per fit, and −2 REML log L."""
    times, fit = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        fit = tk.mmrm(frame, **MODELS[model])  # type: ignore[arg-type]
        times.append(time.perf_counter() - start)
    assert fit is not None
    return times, -2 * fit.log_likelihood


def time_gls(path: Path, model: str, repeats: int) -> tuple[list[float], float]:
    """Seconds per nlme::gls fit (R's clock), and its −2 REML log L."""
    out = subprocess.run(
        ["Rscript", str(HERE / "mmrm_gls.R"), str(path), model, str(repeats)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["seconds"], result["minus2_reml_loglik"]


def main() -> None:
    """Run the rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--bcva", type=Path, help="bcva_data.csv (tests/reference/mmrm/bcva_data/)")
    args = parser.parse_args()
    data = {"fev": Path(str(tk.datasets.longitudinal("fev_data")))}
    if args.bcva:
        data["bcva"] = args.bcva
    have_r = shutil.which("Rscript") is not None
    print(f"{'data':<6} {'trialkit':>10} {'nlme::gls':>10} {'ratio':>7}  -2 REML log L (trialkit / gls)")
    for model, path in data.items():
        frame = pd.read_csv(path)
        tk.mmrm(frame, **MODELS[model])  # type: ignore[arg-type]  # warm: imports, caches
        ours: list[float] = []
        theirs: list[float] = []
        ll_ours = ll_r = float("nan")
        per_round = 5 if model == "fev" else 1
        for i in range(args.rounds):
            t, ll_ours = time_trialkit(frame, model, per_round)
            ours += t
            if have_r and (model == "fev" or i == 0):  # gls takes minutes on bcva_data: one fit
                t, ll_r = time_gls(path, model, per_round)
                theirs += t
        mine = statistics.median(ours)
        if theirs:
            r = statistics.median(theirs)
            print(f"{model:<6} {mine:>9.4f}s {r:>9.4f}s {mine / r:>7.3f}  {ll_ours:.6f} / {ll_r:.6f}")
        else:
            print(f"{model:<6} {mine:>9.4f}s {'(no R)':>10} {'':>7}  {ll_ours:.6f}")


if __name__ == "__main__":
    main()
