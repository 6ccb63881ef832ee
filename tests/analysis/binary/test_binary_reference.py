"""Binary analyses against R: glm(binomial), standardisation by formula, mantelhaen.test, MH RD.

R program: tests/reference/binary/make_reference.R (its output make_reference.Rout); data:
geepack::respiratory at the last visit, and a synthetic three-arm trial with known coefficients.

Tolerance: relative 1e-9 for the glm fit, the risks, their covariances and every standardised
row (the same IRLS path as R's glm.fit gives the same iterates; reached: 1e-13 or better, except
the Ge covariance of the synthetic trial at 6e-11, where D V D' cancels); 1e-12 for the CMH and
MH risk-difference rows (closed forms; reached 3e-14).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialkit.analysis import cmh, logistic

REFERENCE = Path(__file__).parents[2] / "reference" / "binary"
RTOL = 1e-9
RTOL_CLOSED = 1e-12

CASES = {
    "respiratory": dict(
        arms=["P", "A"], numeric=["baseline", "age"], categorical={"sex": ["F", "M"], "centre": ["1", "2"]}
    ),
    "synthetic": dict(
        arms=["placebo", "low", "high"],
        numeric=["baseline", "x1", "x2"],
        categorical={"region": ["north", "south", "east", "west", "centre"]},
    ),
}
STRATUM = {"respiratory": ("centre", ["1", "2"]), "synthetic": ("region", ["north", "south", "east", "west", "centre"])}
ROW = ["estimate", "std_error", "ci_low", "ci_high", "statistic", "p_value"]


def _data(case: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / f"{case}.csv", dtype={"centre": str, "id": str})


@pytest.fixture(scope="module", params=sorted(CASES))
def fitted(request):
    case = request.param
    frame = _data(case)
    fits = {v: logistic(frame, outcome="outcome", arm="arm", variance=v, **CASES[case]) for v in ("ye", "ge")}
    return case, frame, fits


def _close(got, expected, rtol, label) -> None:
    np.testing.assert_allclose(np.asarray(got, float), np.asarray(expected, float), rtol=rtol, atol=0, err_msg=label)


def test_glm_coefficients_match_r(fitted) -> None:
    case, _, fits = fitted
    fit = fits["ye"]
    expected = pd.read_csv(REFERENCE / "expected_glm.csv").query("case == @case")
    assert list(fit.names) == expected["term"].tolist()
    _close(fit.coefficients, expected["estimate"], RTOL, "coefficients")
    se = np.sqrt(np.diag(fit.covariance))
    _close(se, expected["std_error"], RTOL, "standard errors")
    _close(fit.coefficients / se, expected["statistic"], RTOL, "z")
    model = pd.read_csv(REFERENCE / "expected_model.csv").query("case == @case").iloc[0]
    _close(fit.deviance, model["deviance"], RTOL, "deviance")
    assert fit.iterations == model["iterations"]
    # the conditional rows are the arm coefficients
    arms = CASES[case]["arms"]
    for row, arm in zip(fit.conditional, arms[1:], strict=True):
        r = expected.set_index("term").loc[f"arm[{arm}]"]
        assert row.contrast == f"{arm} - {arms[0]}"
        _close(
            [np.log(row.estimate), row.std_error, row.statistic, row.p_value],
            [r["estimate"], r["std_error"], r["statistic"], r["p_value"]],
            RTOL,
            "logistic row",
        )
        _close(
            [row.ci_low, row.ci_high],
            np.exp(r["estimate"] + np.array([-1, 1]) * 1.959963984540054 * r["std_error"]),
            RTOL,
            "CI",
        )
        assert np.isnan(row.df)


def test_standardised_risks_and_covariances_match_r(fitted) -> None:
    case, _, fits = fitted
    arms = CASES[case]["arms"]
    expected = pd.read_csv(REFERENCE / "expected_risk_covariance.csv").query("case == @case")
    for variance, matrix in (("ye", fits["ye"].risk_covariance_ye), ("ge", fits["ye"].risk_covariance_ge)):
        part = expected[expected["variance"] == variance].pivot(index="row", columns="column", values="value")
        _close(matrix, part.loc[arms, arms].to_numpy(), RTOL, f"{variance} covariance")
    risks = pd.read_csv(REFERENCE / "expected_standardised.csv").query("case == @case")
    control = risks["risk_control"].iloc[0]
    _close(fits["ye"].risks[arms[0]], control, RTOL, "control risk")
    for arm in arms[1:]:
        r = risks[risks["contrast"] == f"{arm} - {arms[0]}"]["risk_treatment"].iloc[0]
        _close(fits["ye"].risks[arm], r, RTOL, f"risk {arm}")


def test_standardised_rows_match_r(fitted) -> None:
    case, _, fits = fitted
    expected = pd.read_csv(REFERENCE / "expected_standardised.csv").query("case == @case")
    for variance, fit in fits.items():
        part = expected[expected["variance"] == variance].sort_values(["analysis", "contrast"], kind="stable")
        got = pd.DataFrame([r.__dict__ for r in fit.marginal]).assign(analysis=lambda f: f["analysis"].astype(str))
        merged = part.merge(got, on=["analysis", "contrast"], suffixes=("_r", ""), validate="1:1")
        assert len(merged) == len(got) == 3 * (len(CASES[case]["arms"]) - 1)
        for c in ROW:
            _close(merged[c], merged[f"{c}_r"], RTOL, f"{variance} {c}")
        assert merged["df"].isna().all()


def test_cmh_matches_mantelhaen_test_and_mh_risk_difference_matches_sato(fitted) -> None:
    case, frame, _ = fitted
    column, strata = STRATUM[case]
    rows = cmh(frame, outcome="outcome", arm="arm", arms=CASES[case]["arms"], stratum=column, strata=strata)
    got = pd.DataFrame([r.__dict__ for r in rows]).assign(analysis=lambda f: f["analysis"].astype(str))
    expected = pd.read_csv(REFERENCE / "expected_cmh.csv").query("case == @case")
    expected = expected.sort_values("analysis", kind="stable")  # trialkit: every cmh row, then every MH RD row
    assert got[["analysis", "contrast"]].values.tolist() == expected[["analysis", "contrast"]].values.tolist()
    for c in ROW:
        _close(got[c], expected[c], RTOL_CLOSED, c)
    np.testing.assert_array_equal(got["df"].to_numpy(float), expected["df"].to_numpy(float))
    assert got["n_treatment"].tolist() == expected["n_treatment"].tolist()
    assert got["n_control"].tolist() == expected["n_control"].tolist()


def test_cmh_drops_the_continuity_correction_when_delta_is_below_one_half() -> None:
    # the 2 x 2 x 2 array of the R script, as subjects: arm t (row 1) / c, event (column 1) / none
    tables = np.array([[[3, 4], [2, 3]], [[2, 3], [3, 4]]])  # [row, column, stratum]
    records = [
        (arm, event, str(s))
        for s in range(2)
        for i, arm in enumerate(("t", "c"))
        for j, event in enumerate((1, 0))
        for _ in range(tables[i, j, s])
    ]
    frame = pd.DataFrame(records, columns=["arm", "y", "stratum"])
    row = cmh(frame, outcome="y", arm="arm", arms=["c", "t"], stratum="stratum", strata=["0", "1"])[0]
    expected = pd.read_csv(REFERENCE / "expected_cmh_small.csv").iloc[0]
    _close(
        [row.statistic, row.p_value, row.estimate, row.ci_low, row.ci_high],
        expected[["statistic", "p_value", "estimate", "ci_low", "ci_high"]],
        RTOL_CLOSED,
        "small",
    )
