"""Conditional normal moments of the missing values under MAR, J2R and CR against an independent R program.

Fixture: tests/reference/missing/conditional/ (conditional.R, conditional.Rout, the inputs data.csv,
B.csv, Sigma.csv and the results expected_mean.csv, expected_cov.csv; see the README there). 12
subjects in 3 arms (codes 0, 1, 2), 4 visits, monotone dropout, intermittent gaps and subjects with
nothing observed; X = (intercept, arm 1, arm 2, baseline, age); reference arm 0 (control) and 1.

Tolerance: 1e-12 relative, with an absolute floor of 1e-12 times the largest value of the quantity
(means ~20, covariances ~8). Both sides evaluate μ_m + Σ_mo Σ_oo⁻¹ (y_o − μ_o) and Σ_mm − Σ_mo Σ_oo⁻¹ Σ_om
by LU solves of at most 4 x 4 matrices whose condition number is below 20 (12.1) (the R program also checks
them by a second route, through the precision matrix), so they differ by rounding only (~1e-15).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from trialkit.analysis._missing._impute import conditional_moments

HERE = Path(__file__).parents[2] / "reference" / "missing" / "conditional"
TOL = 1e-12
VISITS = 4
ARM_COLUMNS = (1, 2)  # the dummies of arms 1 and 2 in X
Floats = npt.NDArray[np.float64]


def _read(name: str) -> list[dict[str, str]]:
    with open(HERE / name, newline="") as f:
        return list(csv.DictReader(f))


def _number(text: str) -> float:
    return float(text) if text else np.nan


def _visits(row: dict[str, str], prefix: str) -> list[float]:
    return [_number(row[f"{prefix}{t}"]) for t in range(1, VISITS + 1)]


DATA = _read("data.csv")
ARM = np.array([int(r["arm"]) for r in DATA])
X = np.array([[1.0, a == 1, a == 2, float(r["baseline"]), float(r["age"])] for a, r in zip(ARM, DATA, strict=True)])
Y = np.array([_visits(r, "y") for r in DATA])
B = np.array([_visits(r, "visit") for r in _read("B.csv")])
SIGMA = np.array([_visits(r, "visit") for r in _read("Sigma.csv")])
CASES = sorted({(r["method"], int(r["reference"])) for r in _read("expected_mean.csv")})


def _expected(method: str, reference: int) -> tuple[Floats, Floats]:
    subjects = [int(r["subject"]) for r in DATA]
    means = {
        int(r["subject"]): _visits(r, "visit")
        for r in _read("expected_mean.csv")
        if (r["method"], int(r["reference"])) == (method, reference)
    }
    cov = np.zeros((len(subjects), VISITS, VISITS))
    for r in _read("expected_cov.csv"):
        if (r["method"], int(r["reference"])) == (method, reference):
            cov[subjects.index(int(r["subject"])), int(r["row"]) - 1] = _visits(r, "visit")
    return np.array([means[s] for s in subjects]), cov


def test_fixture_has_every_pattern() -> None:
    observed = ~np.isnan(Y)
    last = np.where(observed.any(axis=1), VISITS - 1 - np.argmax(observed[:, ::-1], axis=1), -1)
    gaps = np.array([(~observed[i, : last[i] + 1]).any() for i in range(len(Y))])
    assert observed.all(axis=1).any() and (~observed).all(axis=1).sum() >= 2
    assert gaps.sum() >= 4 and ((last < VISITS - 1) & (last >= 0) & ~gaps).sum() >= 3
    assert np.linalg.cond(SIGMA) < 20
    assert CASES == [(m, r) for m in ("cr", "j2r", "mar") for r in (0, 1)]


@pytest.mark.parametrize(("method", "reference"), CASES)
def test_conditional_moments_agree_with_r(method: str, reference: int) -> None:
    x, y = X.copy(), Y.copy()
    mean, cov = conditional_moments(
        x, y, B, SIGMA, method=f"mi_{method}", arm=ARM, reference=reference, arm_columns=ARM_COLUMNS
    )
    expected_mean, expected_cov = _expected(method, reference)
    assert mean.shape == (len(Y), VISITS) and cov.shape == (len(Y), VISITS, VISITS)
    np.testing.assert_allclose(mean, expected_mean, rtol=TOL, atol=TOL * np.abs(expected_mean).max())
    np.testing.assert_allclose(cov, expected_cov, rtol=TOL, atol=TOL * np.abs(SIGMA).max())
    # observed values are returned as they are, with no variance; the inputs are left alone
    observed = ~np.isnan(Y)
    assert np.array_equal(mean[observed], Y[observed])
    assert not cov[np.broadcast_to(observed[:, :, None], cov.shape)].any()
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(y, Y)
