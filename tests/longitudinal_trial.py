"""A longitudinal trial for the MMRM's tests: 3 arms, 3 post-baseline visits, dropout, a log-scale endpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from conftest import base_spec, write_frame, write_spec

import trialkit as tk

ARMS = ("placebo", "low", "high")
VISITS = ("baseline", "week4", "week8", "week12")
POST = VISITS[1:]


def three_arm_wide(seed: int = 7, n: int = 14) -> pd.DataFrame:
    """Return a wide frame of 3 arms and 3 post-baseline visits, with dropout.

    Also one intermittent gap, a missing baseline and a missing covariate; ``score`` and ``pain``
    are linear, ``conc`` log-normal.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for a_i, arm in enumerate(ARMS):
        for i in range(n):
            z = rng.multivariate_normal(np.zeros(4), 0.6 * np.ones((4, 4)) + 0.4 * np.eye(4))
            age = float(rng.integers(55, 80))
            row = {"subject_id": f"S{a_i}{i:02d}", "arm": arm, "age": age, "sex": str(rng.choice(["F", "M"]))}
            kept = int(rng.integers(1, 6))  # post-baseline visits observed before dropping out (>= 3: all)
            trend = np.arange(4)
            values = {
                "score": 20 + 4 * z - trend * (0.5 + a_i) + 0.05 * (age - 65),
                "pain": 50 + 8 * z[::-1] - trend * a_i,
                "conc": np.exp(3 + 0.3 * z + 0.1 * trend * a_i),
            }
            for e, x in values.items():
                for j, v in enumerate(VISITS):
                    row[f"{e}_{v}"] = round(float(x[j]), 3) if j == 0 or j <= kept else np.nan
            rows.append(row)
    wide = pd.DataFrame(rows)
    wide.loc[5, "score_week8"] = np.nan  # an intermittent gap
    wide.loc[20, "score_baseline"] = np.nan  # out of the MMRM of score, in those of the others
    wide.loc[30, "age"] = np.nan  # out of every model
    return wide


def three_arm_spec(**analysis) -> dict:
    return base_spec(
        study={"id": "three", "title": "Three arms"},
        arms={"column": "arm", "control": "placebo", "levels": list(ARMS)},
        visits={"baseline": "baseline", "order": list(VISITS), "primary": "week12"},
        endpoints=[
            {"id": "score", "label": "Symptom score", "unit": "points", "better": "lower", "primary": True},
            {"id": "pain", "label": "Pain", "unit": "mm", "better": "lower"},
            {"id": "conc", "label": "Concentration", "unit": "ng/mL", "scale": "log", "range": [0, 1e4]},
        ],
        analysis={"mmrm": {"covariance": "us", "df": "satterthwaite"}, **analysis},
    )


def load(folder: Path, wide: pd.DataFrame, spec: dict) -> tk.Trial:
    write_frame(wide, folder / "trial.csv")
    return tk.load(write_spec(folder, spec))
