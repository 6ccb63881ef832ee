"""trialkit's MMRM against R (nlme::gls, emmeans, clubSandwich, lme4 + pbkrtest) on three data sets.

The fixtures are in tests/reference/mmrm/<data set>/, each beside the R program that wrote it;
their README states how they were computed. Tolerances (why):

- −2 log L: 1e-6 absolute; gls was driven to a gradient below 1e-6 and checked by a second optimiser;
- covariance: 1e-5 on the correlation scale (|Δσ_ij| / sqrt(σ_ii σ_jj)), the optimum's precision;
- estimates and standard errors: 1e-5 relative (or 1e-5 of the standard error for an estimate near 0);
- Satterthwaite df: 1e-3 relative; R's are from numerical derivatives (numDeriv) of the REML
  likelihood and of (X'V⁻¹X)⁻¹, trialkit's analytic;
- empirical standard errors: 1e-5 relative (clubSandwich CR0 at the same optimum).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import trialkit as tk

HERE = Path(__file__).parents[2] / "reference" / "mmrm"

#: how each data set is modelled (the R programs fit the same model)
MODELS: dict[str, dict[str, Any]] = {
    "fev_data": dict(
        response="FEV1", subject="USUBJID", visit="AVISIT", arm="ARMCD", control="PBO", covariates=["RACE", "SEX"]
    ),
    "log_scale": dict(
        response="LOG_CRP",
        subject="USUBJID",
        visit="AVISIT",
        arm="ARMCD",
        control="PBO",
        covariates=["SEVERITY"],
        baseline="LOG_CRP_BL",
    ),
    "three_arm": dict(
        response="SCORE",
        subject="USUBJID",
        visit="AVISIT",
        arm="ARMCD",
        control="PBO",
        covariates=["AGE", "SEX"],
        baseline="SCORE_BL",
    ),
    "bcva_data": dict(
        response="BCVA_CHG",
        subject="USUBJID",
        visit="AVISIT",
        arm="ARMCD",
        control="CTL",
        covariates=["RACE"],
        baseline="BCVA_BL",
    ),
}
FITS = sorted(p for p in HERE.glob("*/*_*.json") if p.parent.name in MODELS and p.stem.endswith(("_reml", "_ml")))
FAST = [p for p in FITS if p.parent.name != "bcva_data"]
KR = sorted(HERE.glob("*/cs_kr.json"))


def term_name(effect: str, levels: dict[str, str]) -> str:
    """Return trialkit's name of an R coefficient given as its effect and factor levels."""
    if effect == "Intercept":
        return "Intercept"
    return ":".join(f"{f}={levels[f]}" if f in levels else f for f in effect.replace(":", "*").split("*"))


def frame_of(dataset: str) -> pd.DataFrame:
    if dataset == "fev_data":
        return pd.read_csv(tk.datasets.longitudinal("fev_data"))
    frame = pd.read_csv(HERE / dataset / f"{dataset}.csv")
    if dataset == "log_scale":  # analysed on the natural-log scale, as the R program does
        frame = frame.assign(LOG_CRP=np.log(frame["CRP"]), LOG_CRP_BL=np.log(frame["CRP_BL"]))
    return frame


def fit_like(reference: dict[str, Any], **extra: Any) -> tk.MMRMFit:
    dataset = reference["dataset"]
    model = MODELS[dataset]
    refs = {k: v for k, v in reference["reference_levels"].items() if k in model.get("covariates", [])}
    return tk.mmrm(
        frame_of(dataset),
        **model,
        covariance=reference["covariance"],
        reml=reference["reml"],
        reference=refs,
        visit_order=reference["visits"],
        **extra,
    )


@pytest.mark.parametrize("path", FAST, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fit_matches_r(path: Path) -> None:
    ref = json.loads(path.read_text())
    fit = fit_like(ref)
    assert -2 * fit.log_likelihood == pytest.approx(-2 * ref["log_likelihood_sas_convention"], abs=1e-6)
    r_cov = np.array(ref["covariance_matrix"])
    scale = np.sqrt(np.outer(np.diag(r_cov), np.diag(r_cov)))
    assert np.max(np.abs(fit.covariance.to_numpy() - r_cov) / scale) < 1e-5
    ours = fit.fixed_effects.set_index("term")
    for row in ref["fixed_effects"]:
        got = ours.loc[term_name(row["effect"], row["levels"])]
        assert got["estimate"] == pytest.approx(row["estimate"], rel=1e-5, abs=1e-5 * row["std_error"])
        assert got["std_error"] == pytest.approx(row["std_error"], rel=1e-5)
        if ref["reml"] and row.get("df_satterthwaite") is not None:
            assert got["df"] == pytest.approx(row["df_satterthwaite"], rel=1e-3)
    lsm = fit.lsmeans.set_index(["arm", "visit"])
    for row in ref["lsmeans"]:
        got = lsm.loc[(row["arm"], row["visit"])]
        assert got["estimate"] == pytest.approx(row["estimate"], rel=1e-5)
        assert got["std_error"] == pytest.approx(row["std_error"], rel=1e-5)
        if ref["reml"]:
            assert got["df"] == pytest.approx(row["df"], rel=1e-3)
    con = fit.contrasts.set_index(["arm", "visit"])
    for row in ref["contrasts"]:
        got = con.loc[(row["arm"], row["visit"])]
        assert got["estimate"] == pytest.approx(row["estimate"], rel=1e-5, abs=1e-5 * row["std_error"])
        assert got["std_error"] == pytest.approx(row["std_error"], rel=1e-5)
        if ref["reml"]:
            assert got["df"] == pytest.approx(row["df"], rel=1e-3)
            assert got["p_value"] == pytest.approx(row["p_value"], rel=1e-3)


@pytest.mark.parametrize("path", [p for p in FAST if p.stem == "us_reml"], ids=lambda p: p.parent.name)
def test_empirical_standard_errors_match_clubsandwich(path: Path) -> None:
    ref = json.loads(path.read_text())
    fit = fit_like(ref, empirical=True, df_method="residual")
    ours = fit.fixed_effects.set_index("term")
    for row in ref["fixed_effects"]:
        got = ours.loc[term_name(row["effect"], row["levels"])]
        assert got["std_error"] == pytest.approx(row["std_error_empirical"], rel=1e-5)


@pytest.mark.parametrize("path", KR, ids=lambda p: p.parent.name)
def test_kenward_roger_matches_pbkrtest_and_satterthwaite_matches_lmertest(path: Path) -> None:
    """Compound symmetry with a positive covariance is lme4's random-intercept model.

    trialkit's W (covariance of the variance parameters) is the inverse observed information, as
    SAS's and R mmrm's; pbkrtest's is the inverse expected information. With the expected
    information trialkit reproduces pbkrtest to 1e-7; with its own they differ by O(1/n):
    standard errors by up to 1e-4 and df by up to 2e-2 relative (fev_data 182.1 against 179.3).
    Satterthwaite df use the observed information in both programs: lmerTest's agree to 1e-6.
    """
    from trialkit.analysis._mmrm import _inference

    ref = json.loads(path.read_text())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_inference, "INFORMATION", "expected")
        as_pbkrtest = fit_like(ref, df_method="kenward_roger").fixed_effects.set_index("term")
    kr = fit_like(ref, df_method="kenward_roger")
    sw = fit_like(ref)
    assert -2 * kr.log_likelihood == pytest.approx(-2 * ref["log_likelihood_sas_convention"], abs=1e-6)
    ours_kr, ours_sw = kr.fixed_effects.set_index("term"), sw.fixed_effects.set_index("term")
    for row in ref["fixed_effects"]:
        term = term_name(row["effect"], row["levels"])
        assert as_pbkrtest.loc[term, "std_error"] == pytest.approx(row["std_error_pbkrtest"], rel=1e-7)
        assert as_pbkrtest.loc[term, "df"] == pytest.approx(row["df_pbkrtest"], rel=1e-7)
        assert ours_kr.loc[term, "std_error"] == pytest.approx(row["std_error_pbkrtest"], rel=1e-4)
        assert ours_kr.loc[term, "df"] == pytest.approx(row["df_pbkrtest"], rel=2e-2)
        assert ours_sw.loc[term, "std_error"] == pytest.approx(row["std_error_unadjusted"], rel=1e-5)
        assert ours_sw.loc[term, "df"] == pytest.approx(row["df_satterthwaite_lmertest"], rel=1e-6)
    con = kr.contrasts.set_index(["arm", "visit"])
    for row in ref["contrasts"]:
        assert con.loc[(row["arm"], row["visit"]), "std_error"] == pytest.approx(row["std_error"], rel=1e-4)


def test_bcva_data_converges_with_55_covariance_parameters() -> None:
    ref = json.loads((HERE / "bcva_data" / "us_reml.json").read_text())
    fit = fit_like(ref)
    assert len(fit.covariance_parameters) == 55
    assert fit.converged and fit.gradient_norm < 1e-4
    assert -2 * fit.log_likelihood == pytest.approx(-2 * ref["log_likelihood_sas_convention"], abs=1e-4)
    ours = fit.fixed_effects.set_index("term")
    for row in ref["fixed_effects"]:
        got = ours.loc[term_name(row["effect"], row["levels"])]
        assert got["estimate"] == pytest.approx(row["estimate"], rel=1e-4, abs=1e-4 * row["std_error"])
        assert got["std_error"] == pytest.approx(row["std_error"], rel=1e-4)
