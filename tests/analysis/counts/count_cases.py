"""The reference data sets of tests/reference/counts/ as the frames the count models take."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "counts"


@dataclass(frozen=True)
class Case:
    """One reference case: the frame (columns arm, y, exposure and covariates) and its model terms."""

    frame: pd.DataFrame
    arms: tuple[str, ...]
    numeric: tuple[str, ...]
    categorical: dict[str, tuple[str, ...]] | None


def _epil(outcome: str, weeks: float) -> Case:
    epil = pd.read_csv(REFERENCE / "epil.csv")
    y = epil[["y1", "y2", "y3", "y4"]].sum(axis=1) if outcome == "total" else epil["y4"]
    frame = pd.DataFrame(
        {
            "arm": epil["arm"],
            "y": y,
            "exposure": weeks,
            "log_base": np.log(epil["base"] / 8.0),  # baseline seizures per week (8-week count), log
            "age": epil["age"].astype(float),
        }
    )
    return Case(frame, ("placebo", "progabide"), ("log_base", "age"), None)


def _synthetic() -> Case:
    frame = pd.read_csv(REFERENCE / "synthetic.csv")
    regions = ("north", "east", "south", "west", "centre")
    return Case(frame, ("placebo", "low", "high"), ("lbase", "age"), {"region": regions})


CASES = {"epil_total": _epil("total", 8.0), "epil_period4": _epil("period4", 2.0), "synthetic": _synthetic()}
