"""Shared builders: one small trial, written as real files in any layout and format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tomli_w

ENDPOINTS = ("isi", "sleep_time")
VISITS = ("baseline", "week8")


#: the `[data]` table of the small trial as one long file (tests/conftest.py `to_long`)
LONG_DATA = {
    "format": "long",
    "subject": "subject_id",
    "path": "trial.csv",
    "visit": "visit",
    "endpoint": "endpoint",
    "value": "value",
}


def base_spec(**sections: dict[str, Any]) -> dict[str, Any]:
    """Return a valid spec dict for the small trial; each keyword replaces/extends one section."""
    spec: dict[str, Any] = {
        "study": {"id": "small", "title": "Small trial"},
        "arms": {"column": "arm", "control": "placebo", "levels": ["placebo", "active"]},
        "visits": {"baseline": "baseline", "order": list(VISITS), "primary": "week8"},
        "endpoints": [
            {
                "id": "isi",
                "label": "ISI",
                "unit": "points",
                "range": [0, 28],
                "integer": True,
                "better": "lower",
                "primary": True,
                "responder": {"change": -6},
            },
            {"id": "sleep_time", "label": "Sleep time", "unit": "min", "range": [0, 1440]},
        ],
        "analysis": {"covariates": ["age", "sex"], "categorical": ["sex"]},
        "data": {"format": "wide", "subject": "subject_id", "path": "trial.csv", "pattern": "{endpoint}_{visit}"},
    }
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(spec.get(name), dict):
            spec[name] = {**spec[name], **value}
        else:
            spec[name] = value
    return spec


def small_wide(n_per_arm: int = 5, seed: int = 1) -> pd.DataFrame:
    """Wide frame: subject_id, arm, age, sex, isi_baseline, isi_week8, sleep_time_*.

    Values are exactly representable in short decimal text, so every format round-trips them.
    """
    rng = np.random.default_rng(seed)
    n = 2 * n_per_arm
    frame = pd.DataFrame(
        {
            "subject_id": [f"S{i:03d}" for i in range(1, n + 1)],
            "arm": ["active"] * n_per_arm + ["placebo"] * n_per_arm,
            "age": rng.integers(60, 76, n).astype(float),
            "sex": rng.choice(["M", "F"], n),
            "isi_baseline": rng.integers(12, 24, n).astype(float),
            "isi_week8": rng.integers(4, 22, n).astype(float),
            "sleep_time_baseline": np.round(rng.normal(330, 30, n), 2),
            "sleep_time_week8": np.round(rng.normal(350, 30, n), 2),
        }
    )
    frame.loc[2, ["isi_week8", "sleep_time_week8"]] = np.nan  # one dropout in the active arm
    return frame


def to_long(wide: pd.DataFrame) -> pd.DataFrame:
    """Long frame: subject_id, arm, age, sex, visit, endpoint, value."""
    rows = []
    for _, r in wide.iterrows():
        for e in ENDPOINTS:
            for v in VISITS:
                rows.append(
                    {
                        "subject_id": r["subject_id"],
                        "arm": r["arm"],
                        "age": r["age"],
                        "sex": r["sex"],
                        "visit": v,
                        "endpoint": e,
                        "value": r[f"{e}_{v}"],
                    }
                )
    return pd.DataFrame(rows)


def write_frame(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` with the writer a user's software would use for ``path``'s suffix."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False, engine="openpyxl")
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".sav":
        import pyreadstat

        pyreadstat.write_sav(frame, str(path))
    elif suffix == ".xpt":
        import pyreadstat

        pyreadstat.write_xport(frame, str(path), file_format_version=8)
    else:  # pragma: no cover - test misuse
        raise ValueError(suffix)
    return path


def write_spec(folder: Path, spec: dict[str, Any], name: str = "study.toml") -> Path:
    path = folder / name
    path.write_text(tomli_w.dumps(spec), encoding="utf-8")
    return path


@pytest.fixture
def small_trial_dir(tmp_path: Path) -> Path:
    """Write a valid wide CSV trial with its spec into ``tmp_path``; return the spec path."""
    write_frame(small_wide(), tmp_path / "trial.csv")
    return write_spec(tmp_path, base_spec())


def formats_fixture_spec(
    data: dict[str, Any], arms: dict[str, Any], covariates: tuple[str, str] = ("age", "sex")
) -> dict[str, Any]:
    """Return the spec of the R-haven fixture trial in tests/fixtures/formats (its README says how it was made)."""
    spec = base_spec(visits={"baseline": "baseline", "order": ["baseline", "week4", "week8"], "primary": "week8"})
    spec["arms"], spec["data"] = arms, data
    spec["analysis"] = {"covariates": list(covariates), "categorical": [covariates[1]]}
    spec["endpoints"] = [
        {"id": "isi", "code": "ISI", "range": [0, 28], "integer": True, "better": "lower", "primary": True},
        {"id": "sleep_time", "code": "SLEEPTM", "unit": "min", "range": [0, 1440]},
        {"id": "melatonin", "code": "MELATON", "unit": "pg/mL", "scale": "log"},
    ]
    return spec
