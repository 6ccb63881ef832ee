"""Rubin's rules against R's mice::pool (mice 3.15.0).

Fixture: tests/reference/missing/rubin/ (rubin.R, its output rubin.Rout, inputs.csv, expected.csv; see the
README there). Each case is a set of M per-imputation estimates and standard errors (M = 2 to 100,
complete-data df 10 to ∞, between-imputation variance large, tiny and zero; three cases from a real
``with(mice(nhanes), lm(chl ~ age + bmi))`` fit) with mice's pooled values and the p-value and interval
from R's pt/qt on mice's df.

Tolerance: 1e-10 relative on every field. Both sides evaluate the same closed-form expressions on the
same doubles (read from "%.17g" text), so only rounding can differ: a few units in the 16th digit for
the sums and quotients, ~1e-14 for the t-distribution tail on 4e8 df (measured 1.6e-14 at worst).
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats

from trialkit.analysis import Pooled, pool

HERE = Path(__file__).parents[2] / "reference" / "missing" / "rubin"
RTOL = 1e-10

#: Pooled field -> column of expected.csv
FIELDS = {
    "estimate": "estimate",
    "std_error": "std_error",
    "within": "within",
    "between": "between",
    "total": "total",
    "df": "df",
    "riv": "riv",
    "lambda_": "lambda",
    "fmi": "fmi",
    "statistic": "statistic",
    "p_value": "p_value",
    "ci_low": "ci_low",
    "ci_high": "ci_high",
}
#: the fields that depend on the df (the zero-between case departs from mice there, by design)
DF_FIELDS = ("df", "fmi", "p_value", "ci_low", "ci_high")


def _read(name: str) -> list[dict[str, str]]:
    with open(HERE / name, newline="") as f:
        return list(csv.DictReader(f))


def _inputs() -> dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    """Return case -> (estimates, standard errors), in imputation order."""
    rows: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for r in _read("inputs.csv"):
        rows[r["case"]].append((int(r["imputation"]), float(r["estimate"]), float(r["std_error"])))
    out = {}
    for case, values in rows.items():
        values.sort()
        out[case] = (np.array([v[1] for v in values]), np.array([v[2] for v in values]))
    return out


INPUTS = _inputs()
EXPECTED = {r["case"]: r for r in _read("expected.csv")}
MICE_CASES = [c for c in EXPECTED if "zero_between" not in c]


def _pool(case: str) -> Pooled:
    estimates, std_errors = INPUTS[case]
    row = EXPECTED[case]
    # mice squares the standard error it is given; the same product here gives the same doubles
    return pool(estimates, std_errors**2, df_complete=float(row["dfcom"]), alpha=float(row["alpha"]))


def test_fixture_covers_the_cases_asked_for() -> None:
    ms = {int(r["m"]) for r in EXPECTED.values()}
    assert {2, 5, 20, 100} <= ms
    assert any(math.isinf(float(r["dfcom"])) for r in EXPECTED.values())
    assert any(float(r["dfcom"]) == 999999 for r in EXPECTED.values())
    # mice's floor on λ acts in the df of these cases
    assert any(0 < float(r["lambda"]) < 1e-4 == float(r["lambda_used_in_df"]) for r in EXPECTED.values())


@pytest.mark.parametrize("case", MICE_CASES)
def test_pool_agrees_with_mice(case: str) -> None:
    pooled = _pool(case)
    row = EXPECTED[case]
    assert pooled.imputations == int(row["m"])
    for field, column in FIELDS.items():
        expected = float(row[column])
        assert getattr(pooled, field) == pytest.approx(expected, rel=RTOL, abs=0.0), (case, field)


def test_dfcom_infinite_is_the_large_sample_df_and_999999_nearly_so() -> None:
    # mice 3.15 takes dfcom = Inf when a fit reports no residual df (older versions used 999999)
    inf, big = _pool("m5_dfcom_inf"), _pool("m5_dfcom999999")
    m, lam = inf.imputations, inf.lambda_
    assert inf.df == pytest.approx((m - 1) / lam**2, rel=1e-14)
    assert big.df < inf.df
    assert big.df == pytest.approx(inf.df, rel=1e-4)


def test_lambda_floor_sets_the_df_but_not_the_reported_lambda() -> None:
    # mice reports λ = (1 + 1/M) B / T unfloored and floors it at 1e-4 only inside barnard.rubin
    pooled = _pool("m5_tiny_between_dfcom_inf")
    assert pooled.lambda_ < 1e-4
    assert pooled.df == pytest.approx((pooled.imputations - 1) / 1e-8, rel=1e-14)


def test_zero_between_variance_is_the_complete_data_analysis() -> None:
    """B = 0 exactly (nothing imputed): the design returns df = ν_com; mice keeps its λ floor (df 38.14 of 40)."""
    case = "m5_zero_between_dfcom40"
    pooled = _pool(case)
    row = EXPECTED[case]
    for field, column in FIELDS.items():
        if field not in DF_FIELDS:
            assert getattr(pooled, field) == pytest.approx(float(row[column]), rel=RTOL, abs=0.0), field
    assert float(row["df"]) == pytest.approx(38.1357, abs=1e-4)  # mice's
    df = float(row["dfcom"])
    assert pooled.df == df
    assert pooled.fmi == pytest.approx(2 / (df + 3), rel=RTOL)  # riv = 0
    quantile = stats.t.ppf(1 - float(row["alpha"]) / 2, df)
    assert pooled.ci_low == pytest.approx(pooled.estimate - quantile * pooled.std_error, rel=RTOL)
    assert pooled.ci_high == pytest.approx(pooled.estimate + quantile * pooled.std_error, rel=RTOL)
    assert pooled.p_value == pytest.approx(2 * stats.t.sf(abs(pooled.statistic), df), rel=RTOL)
