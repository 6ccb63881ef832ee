"""Model options of tk.mmrm: constrained baseline, separate covariances per arm, ML, the df methods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import trialkit as tk

KW = dict(response="FEV1", subject="USUBJID", visit="AVISIT", arm="ARMCD", control="PBO", covariates=["RACE", "SEX"])


@pytest.fixture(scope="module")
def fev() -> pd.DataFrame:
    return pd.read_csv(tk.datasets.longitudinal("fev_data"))


def test_a_constrained_baseline_visit_has_one_mean_and_no_contrast(fev: pd.DataFrame) -> None:
    fit = tk.mmrm(fev, **KW, baseline_visit="VIS1")
    assert list(fit.contrasts["visit"]) == ["VIS2", "VIS3", "VIS4"]
    at_baseline = fit.lsmeans[fit.lsmeans["visit"] == "VIS1"]
    assert at_baseline["estimate"].nunique() == 1
    assert not any(term.startswith("ARMCD=TRT") and ":" not in term for term in fit.terms)
    # every subject with any response enters, those seen only at VIS1 included
    assert fit.n_subjects == fev.loc[fev["FEV1"].notna(), "USUBJID"].nunique()


def test_separate_covariances_per_arm_are_reported_by_arm(fev: pd.DataFrame) -> None:
    fit = tk.mmrm(fev, **KW, covariance="cs", group_by_arm=True)
    assert fit.covariance.index.names == ["arm", "visit"]
    assert list(fit.covariance_parameters["group"].unique()) == ["PBO", "TRT"]
    pooled = tk.mmrm(fev, **KW, covariance="cs")
    assert fit.log_likelihood > pooled.log_likelihood  # two more parameters cannot fit worse


def test_ml_differs_from_reml_and_residual_df_are_n_minus_p(fev: pd.DataFrame) -> None:
    reml = tk.mmrm(fev, **KW, df_method="residual")
    ml = tk.mmrm(fev, **KW, reml=False, df_method="residual")
    assert ml.log_likelihood != pytest.approx(reml.log_likelihood)
    np.testing.assert_allclose(reml.contrasts["df"], 537 - 11)
    # ML variances are smaller (no correction for the 11 fixed effects)
    assert np.all(np.diag(ml.covariance) < np.diag(reml.covariance))


def test_between_within_df_split_subjects_and_observations(fev: pd.DataFrame) -> None:
    fit = tk.mmrm(fev, **KW, df_method="between_within")
    fe = fit.fixed_effects.set_index("term")["df"]
    n_subjects, n_obs = fit.n_subjects, fit.n_observations
    # between-subject columns: ARMCD, RACE (2), SEX; within: AVISIT (3), ARMCD x AVISIT (3)
    assert fe["ARMCD=TRT"] == n_subjects - 1 - 4
    assert fe["AVISIT=VIS2"] == n_obs - n_subjects - 6
    assert fe["Intercept"] == n_obs - n_subjects - 6


def test_kenward_roger_inflates_standard_errors_and_keeps_satterthwaite_df(fev: pd.DataFrame) -> None:
    sw = tk.mmrm(fev, **KW)
    kr = tk.mmrm(fev, **KW, df_method="kenward_roger")
    np.testing.assert_allclose(kr.contrasts["estimate"], sw.contrasts["estimate"], rtol=1e-12)
    assert np.all(kr.contrasts["std_error"] >= sw.contrasts["std_error"])
    # for one contrast Kenward-Roger's df are Satterthwaite's on the unadjusted covariance
    np.testing.assert_allclose(kr.contrasts["df"], sw.contrasts["df"], rtol=1e-10)


def test_the_same_input_gives_identical_results(fev: pd.DataFrame) -> None:
    a = tk.mmrm(fev, **KW)
    b = tk.mmrm(fev.sample(frac=1.0, random_state=3), **KW)  # row order does not matter
    # to the optimiser's precision: sums in another order end the Newton steps a rounding apart
    pd.testing.assert_frame_equal(a.contrasts, b.contrasts, rtol=1e-7)
    c = tk.mmrm(fev, **KW)
    pd.testing.assert_frame_equal(a.contrasts, c.contrasts, check_exact=True)


def test_constrained_baseline_matches_r_gls(fev: pd.DataFrame) -> None:
    """The constrained baseline (cLDA) against nlme::gls with the same design (tests/reference/mmrm/clda/fev_clda.R)."""
    import json
    from pathlib import Path

    ref = json.loads((Path(__file__).parents[2] / "reference" / "mmrm" / "clda" / "fev_clda.json").read_text())
    fit = tk.mmrm(fev, **KW, baseline_visit="VIS1")
    assert -2 * fit.log_likelihood == pytest.approx(ref["minus2_reml_loglik"], abs=1e-6)
    assert fit.n_subjects == ref["n_subjects"]
    r = {row["r_name"]: row for row in ref["coefficients"]}
    con = fit.contrasts.set_index("visit")
    for visit in ("VIS2", "VIS3", "VIS4"):
        row = r[f"TRT_{visit}"]
        assert con.loc[visit, "estimate"] == pytest.approx(row["estimate"], rel=1e-5, abs=1e-4 * row["std_error"])
        assert con.loc[visit, "std_error"] == pytest.approx(row["std_error"], rel=1e-5)


def test_separate_covariances_per_arm_factorise_into_the_arms_own_fits(fev: pd.DataFrame) -> None:
    """group_by_arm against nlme::gls fitted to each arm alone (tests/reference/mmrm/group_by_arm/).

    With no covariate shared by the arms every fixed effect belongs to one arm, so the grouped REML
    log-likelihood is the sum of the arms' own and each arm's covariance is its own fit's.
    """
    import json
    from pathlib import Path

    ref = json.loads(
        (Path(__file__).parents[2] / "reference" / "mmrm" / "group_by_arm" / "fev_by_arm.json").read_text()
    )
    fit = tk.mmrm(
        fev, response="FEV1", subject="USUBJID", visit="AVISIT", arm="ARMCD", control="PBO", group_by_arm=True
    )
    assert -2 * fit.log_likelihood == pytest.approx(ref["minus2_reml_loglik"], abs=1e-6)
    for arm in ("PBO", "TRT"):
        r = np.array(ref["covariance"][arm])
        scale = np.sqrt(np.outer(np.diag(r), np.diag(r)))
        # gls alone (no Newton polish here) stops within about 3e-5 of the optimum on this scale
        assert np.max(np.abs(fit.covariance.loc[arm].to_numpy() - r) / scale) < 5e-5
