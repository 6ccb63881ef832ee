"""How the report reads count endpoints: each subject's count and time at risk at a visit, and the rate's unit."""

from __future__ import annotations

import pandas as pd

from trialkit._spec import Endpoint
from trialkit._trial import Trial

__all__ = ["counts_at", "rate_unit", "subject_rates"]


def rate_unit(ep: Endpoint) -> str:
    """Return what a rate of ``ep`` is counted per: ``per week`` (``exposure_unit = "weeks"``), a unit or a visit."""
    if ep.exposure_unit:
        return f"per {ep.exposure_unit.removesuffix('s')}"
    return "per visit" if not ep.exposure and ep.exposure_column is None else "per unit of exposure"


def counts_at(trial: Trial, ep: Endpoint, visit: str) -> pd.DataFrame:
    """Return each subject's ``arm``, count ``value`` of ``ep`` at ``visit`` and time at risk ``exposure`` there.

    The time at risk is the subject's ``exposure_column`` (after baseline), else the visit's ``exposure``,
    else 1. Subjects without the value have NaN.
    """
    d = trial.data
    part = d.loc[((d["endpoint"] == ep.id) & (d["visit"] == visit)).to_numpy(), ["subject", "value"]]
    values = part.set_index(part["subject"].astype(str))["value"].astype("float64")
    subjects = trial.subjects
    ids = subjects["subject"].astype(str)
    out = pd.DataFrame({"arm": subjects["arm"].astype(str).to_numpy()}, index=ids.to_numpy())
    out["value"] = values.reindex(out.index).to_numpy()
    column = ep.exposure_column_at(visit, trial.spec.visits.baseline)
    if column is not None:
        out["exposure"] = pd.to_numeric(subjects[column], errors="coerce").to_numpy(dtype="float64")
    else:
        out["exposure"] = ep.exposure_length(visit)
    return out


def subject_rates(trial: Trial, ep: Endpoint, visit: str) -> pd.Series:
    """Return each subject's count of ``ep`` at ``visit`` over its time at risk there (NaN when missing)."""
    at = counts_at(trial, ep, visit)
    return at["value"] / at["exposure"]
