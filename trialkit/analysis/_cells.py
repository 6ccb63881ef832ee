"""A trial as arrays: every subject's values on one grid, and the cells ``analyze`` goes through.

A cell is one endpoint at one post-baseline visit in one population, with the baseline and
follow-up value of every subject (NaN where missing or outside the population), aligned with
``trial.subjects``; what the cells share (arm and covariates per subject) is computed once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._errors import TrialkitError
from trialkit._spec import Endpoint, Population
from trialkit._trial import Trial
from trialkit.analysis._positions import positions

__all__ = ["Cell", "Floats", "Ints", "Subjects", "cells", "subject_arrays", "value_grid"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Subjects:
    """What every cell shares: arm and covariates per subject (the order of ``trial.subjects``)."""

    arm: Ints  # position in ``arms``
    arms: tuple[str, ...]  # control first
    numeric: dict[str, Floats]
    factors: dict[str, Ints]  # position in ``levels[name]``; -1 when missing
    levels: dict[str, tuple[str, ...]]
    has_covariates: npt.NDArray[np.bool_]
    in_arm: tuple[npt.NDArray[np.bool_], ...]  # per arm, which subjects are in it
    stratum: Ints | None = None  # cross-classified randomisation stratum; -1 when a stratum value is missing
    strata: tuple[str, ...] = ()  # the label of each stratum code ("centre=1, sex=F")
    exposure: dict[str, Floats] = field(default_factory=dict)  # count endpoints' exposure columns by name


@dataclass(frozen=True)
class Cell:
    """One endpoint at one visit in one population.

    Per-subject values aligned with ``trial.subjects``; subjects outside the population carry NaN.
    ``baseline`` is None when the spec has no baseline visit.
    """

    endpoint: Endpoint
    visit: str
    baseline: Floats | None
    value: Floats
    population: str


def value_grid(trial: Trial) -> Floats:
    """Return the values as a subject x endpoint x visit array, placed by category codes (any row order)."""
    d = trial.data
    n_s = len(d["subject"].cat.categories)
    endpoints = [e.id for e in trial.spec.endpoints]
    n_e, n_v = len(endpoints), len(trial.spec.visits.order)
    s = d["subject"].cat.codes.to_numpy(np.int64)
    e = pd.Categorical(d["endpoint"], categories=endpoints).codes.astype(np.int64)
    v = pd.Categorical(d["visit"], categories=list(trial.spec.visits.order)).codes.astype(np.int64)
    flat = (s * n_e + e) * n_v + v
    if (
        len(d) != n_s * n_e * n_v
        or (s < 0).any()
        or (e < 0).any()
        or (v < 0).any()
        or np.bincount(flat, minlength=n_s * n_e * n_v).max() != 1
    ):
        raise TrialkitError(
            "the trial's tidy frame is not the full subject x endpoint x visit grid "
            "(one row each, endpoints and visits of the spec)."
        )
    grid = np.empty(n_s * n_e * n_v)
    grid[flat] = d["value"].to_numpy(dtype="float64")
    return grid.reshape(n_s, n_e, n_v)


def subject_arrays(trial: Trial) -> Subjects:
    """Return the arm and covariates of every subject as arrays, in the order of ``trial.subjects``."""
    spec = trial.spec
    ids, categories = trial.subjects["subject"], trial.data["subject"].cat.categories
    if isinstance(ids.dtype, pd.CategoricalDtype) and ids.cat.categories.equals(categories):
        order = ids.cat.codes.to_numpy(dtype=np.int64)  # a loaded trial's: the same categories
    else:
        order = positions(ids, categories)
    if not np.array_equal(order, np.arange(len(categories))):
        raise TrialkitError("trial.subjects is not in the tidy frame's subject order.")
    present = np.ones(len(trial.subjects), dtype=bool)
    numeric: dict[str, Floats] = {}
    factors: dict[str, Ints] = {}
    levels: dict[str, tuple[str, ...]] = {}
    for c in spec.analysis.covariates:
        column = trial.subjects[c]
        present &= column.notna().to_numpy()
        if c in spec.analysis.categorical:
            levels[c] = tuple(sorted(set(column.dropna().astype(str))))
            factors[c] = positions(column, pd.Index(levels[c]))
        else:
            numeric[c] = pd.to_numeric(column, errors="raise").to_numpy(dtype="float64", na_value=np.nan)
    arm = positions(trial.subjects["arm"], pd.Index(trial.arms))
    in_arm = tuple(arm == k for k in range(len(trial.arms)))
    stratum, strata = _strata(spec.analysis.strata, factors, levels)
    exposure = {
        c: pd.to_numeric(trial.subjects[c], errors="raise").to_numpy(dtype="float64", na_value=np.nan)
        for c in dict.fromkeys(e.exposure_column for e in spec.endpoints if e.exposure_column)
        if c is not None
    }
    return Subjects(arm, trial.arms, numeric, factors, levels, present, in_arm, stratum, strata, exposure)


def _strata(
    names: tuple[str, ...], factors: dict[str, Ints], levels: dict[str, tuple[str, ...]]
) -> tuple[Ints | None, tuple[str, ...]]:
    """Return the cross-classified stratum of every subject (-1 when a stratum value is missing) and its labels.

    Only the combinations that occur are strata, numbered in the order of their labels.
    """
    if not names:
        return None, ()
    codes = np.column_stack([factors[c] for c in names])
    known = (codes >= 0).all(axis=1)
    combos, inverse = np.unique(codes[known], axis=0, return_inverse=True)
    stratum = np.full(len(codes), -1, dtype=np.int64)
    stratum[known] = inverse.reshape(-1)
    labels = tuple(", ".join(f"{c}={levels[c][k]}" for c, k in zip(names, row, strict=True)) for row in combos.tolist())
    return stratum, labels


def cells(trial: Trial, grid: Floats, baseline: str | None, population: Population) -> Iterator[Cell]:
    """Yield every endpoint at every post-baseline visit in ``population`` (completers: observed at every one).

    Without a baseline visit every visit is a follow-up visit and the cells carry no baseline.
    """
    spec = trial.spec
    b = None if baseline is None else spec.visits.order.index(baseline)
    post = [spec.visits.order.index(v) for v in spec.visits.post_baseline]
    for k, ep in enumerate(spec.endpoints):
        values: Floats = grid[:, k, :]
        if population is Population.COMPLETERS:
            # completers of this endpoint: observed at every post-baseline visit
            keep = np.asarray(~np.isnan(values[:, post]).any(axis=1), dtype=bool)
            values = np.where(keep[:, None], values, np.nan)
        for v, j in zip(spec.visits.post_baseline, post, strict=True):
            yield Cell(ep, v, None if b is None else values[:, b], values[:, j], population.value)
