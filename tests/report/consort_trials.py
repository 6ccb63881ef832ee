"""Trials for the CONSORT diagram's tests: recorded reasons for discontinuing, four arms with long labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from conftest import write_frame, write_spec
from longitudinal_trial import three_arm_spec, three_arm_wide

import trialkit as tk

SCRIPT, TD = "<script>alert(1)</script>", "</td>"
#: each arm's reasons, by subject position within the arm (the rest did not discontinue)
REASONS = {0: "adverse event", 1: "withdrew consent", 2: "adverse event", 3: f"moved away {SCRIPT} & {TD}"}
#: a 60-character arm label
LONG = "Magnesium oxide 500 mg elemental magnesium daily, with meals"


def with_reasons(wide: pd.DataFrame) -> pd.DataFrame:
    """Return ``wide`` with a ``discontinuation_reason`` column: a few reasons per arm, the rest empty.

    The subjects given a reason are the first four of each arm, whatever their values: some have
    every value (discontinued, still followed up), some dropped out; dropouts further down the arm
    have no reason (missing without a recorded reason).
    """
    out = wide.copy()
    position = out.groupby("arm", sort=False).cumcount()
    out["discontinuation_reason"] = position.map(REASONS).fillna("")
    return out


def reasons_trial(folder: Path, *, column: str | None = None) -> tk.Trial:
    """Load the three-arm longitudinal trial with recorded reasons (under ``column`` when given, named in the spec)."""
    wide = with_reasons(three_arm_wide())
    spec = three_arm_spec()
    if column is not None:
        wide = wide.rename(columns={"discontinuation_reason": column})
        spec["data"] = {**spec["data"], "discontinuation_reason": column}
    folder.mkdir(parents=True, exist_ok=True)
    write_frame(wide, folder / "trial.csv")
    return tk.load(write_spec(folder, spec))


def four_arm_trial(folder: Path, *, reasons: bool = True) -> tk.Trial:
    """Load a four-arm trial whose arms have 60-character labels (one hostile), with or without reasons."""
    rng = np.random.default_rng(11)
    arms = ("placebo", "low", "mid", "high")
    rows = []
    for k, arm in enumerate(arms):
        for i in range(10):
            base = float(rng.integers(10, 25))
            rows.append(
                {
                    "subject_id": f"{arm}{i:02d}",
                    "arm": arm,
                    "age": float(rng.integers(50, 80)),
                    "sex": str(rng.choice(["F", "M"])),
                    "score_baseline": base,
                    "score_week8": np.nan if i in (7, 8) and k % 2 == 0 else float(base - k - rng.integers(0, 5)),
                }
            )
    wide = pd.DataFrame(rows)
    if reasons:
        position = wide.groupby("arm", sort=False).cumcount()
        wide["discontinuation_reason"] = position.map({7: "adverse event", 0: "lost to follow-up"}).fillna("")
    folder.mkdir(parents=True, exist_ok=True)
    write_frame(wide, folder / "trial.csv")
    labels = {a: (LONG if a != "high" else f"{SCRIPT} {LONG}")[:60] for a in arms}
    labels["placebo"] = "Placebo tablets identical in appearance, taken with meals 2x"
    spec = {
        "study": {"id": "four", "title": "Four arms"},
        "arms": {"column": "arm", "control": "placebo", "levels": list(arms), "labels": labels},
        "visits": {"baseline": "baseline", "order": ["baseline", "week8"], "primary": "week8"},
        "endpoints": [
            {"id": "score", "label": "Symptom score", "unit": "points", "better": "lower", "primary": True},
        ],
        "analysis": {"covariates": ["age", "sex"], "categorical": ["sex"]},
        "data": {"format": "wide", "subject": "subject_id", "path": "trial.csv", "pattern": "{endpoint}_{visit}"},
    }
    return tk.load(write_spec(folder, spec))
