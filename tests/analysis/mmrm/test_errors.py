"""Bad input to tk.mmrm: a clear error naming the value, never a guess; the input frame is never modified."""

from __future__ import annotations

import pandas as pd
import pytest

import trialkit as tk

KW = dict(response="FEV1", subject="USUBJID", visit="AVISIT", arm="ARMCD", control="PBO")


@pytest.fixture()
def fev() -> pd.DataFrame:
    return pd.read_csv(tk.datasets.longitudinal("fev_data"))


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            {"covariance": "unstructred"},
            tk.TrialkitError,
            "`covariance` must be one of 'us', 'cs', 'csh', 'ar1', 'arh1', 'toep', 'toeph'; got 'unstructred'.",
        ),
        (
            {"df_method": "containment"},
            tk.TrialkitError,
            "`df_method` must be one of 'satterthwaite', 'kenward_roger', 'residual', 'between_within'; "
            "got 'containment'.",
        ),
        ({"alpha": 1.5}, tk.TrialkitError, "`alpha` must be a number in (0, 1); got 1.5."),
        ({"reml": "yes"}, tk.TrialkitError, "`reml` must be True or False; got 'yes'."),
        (
            {"response": "FEV"},
            tk.TrialkitError,
            "`response` names column 'FEV', which is not in the data (did you mean 'FEV1' or 'FEV1_BL'?)",
        ),
        ({"control": "placebo"}, tk.TrialkitError, "`control` = 'placebo' is not an arm in column 'ARMCD'"),
        ({"covariates": "RACE"}, tk.TrialkitError, "`covariates` must be a list of column names; got 'RACE'."),
        (
            {"covariates": ["RACE"], "categorical": ["SEX"]},
            tk.TrialkitError,
            "`categorical` names 'SEX', which is not one of the covariates.",
        ),
        ({"empirical": True}, tk.TrialkitError, "`empirical=True` goes with df_method 'residual' or 'between_within'"),
        (
            {"baseline": "FEV1_BL", "baseline_visit": "VIS1"},
            tk.TrialkitError,
            "`baseline` (a covariate column) and `baseline_visit`",
        ),
        (
            {"visit_order": ["VIS1", "VIS2", "VIS3"]},
            tk.TrialkitError,
            "column 'AVISIT' holds 'VIS4', which is not in the order given",
        ),
        (
            {"reference": {"SEX": "Other"}, "covariates": ["SEX"]},
            tk.TrialkitError,
            "reference level 'Other' of column 'SEX' is not in the analysed data",
        ),
    ],
)
def test_bad_arguments_name_the_argument_and_value(fev: pd.DataFrame, change: dict, error: type, message: str) -> None:
    before = fev.copy()
    with pytest.raises(error) as info:
        tk.mmrm(fev, **{**KW, **change})
    assert str(info.value).startswith(message), str(info.value)
    pd.testing.assert_frame_equal(fev, before)


def test_a_visit_column_with_one_level_is_refused(fev: pd.DataFrame) -> None:
    one = fev[fev["AVISIT"] == "VIS2"]
    with pytest.raises(tk.AnalysisError, match=r"visit column 'AVISIT' has one level \('VIS2'\)"):
        tk.mmrm(one, **KW)


def test_a_subject_measured_twice_at_a_visit_is_named(fev: pd.DataFrame) -> None:
    twice = pd.concat([fev, fev.iloc[[0]].assign(FEV1=40.0)], ignore_index=True)
    subject, visit = fev.iloc[0]["USUBJID"], fev.iloc[0]["AVISIT"]
    with pytest.raises(tk.AnalysisError, match=rf"subject '{subject}' has 2 rows at AVISIT '{visit}'"):
        tk.mmrm(twice, **KW)


def test_a_subject_in_two_arms_is_named(fev: pd.DataFrame) -> None:
    observed = fev[fev["FEV1"].notna()].reset_index(drop=True)
    subject = observed.loc[0, "USUBJID"]
    rows = observed.index[observed["USUBJID"] == subject]
    switched = observed.copy()
    switched.loc[rows[-1], "ARMCD"] = "TRT" if switched.loc[rows[0], "ARMCD"] == "PBO" else "PBO"
    with pytest.raises(
        tk.AnalysisError, match=rf"subject '{subject}' is in more than one arm in column 'ARMCD' \(PBO, TRT\)"
    ):
        tk.mmrm(switched, **KW)


def test_a_covariate_constant_in_the_analysed_set_is_named(fev: pd.DataFrame) -> None:
    with pytest.raises(tk.AnalysisError, match=r"covariate 'SEX' is constant \('Male'\)"):
        tk.mmrm(fev.assign(SEX="Male"), **KW, covariates=["SEX"])
    with pytest.raises(tk.AnalysisError, match=r"covariate 'WEIGHT' is constant \(70\)"):
        tk.mmrm(fev.assign(WEIGHT=70.0), **KW, covariates=["WEIGHT"])


def test_text_in_the_response_names_the_row_and_value(fev: pd.DataFrame) -> None:
    bad = fev.astype({"FEV1": object})
    bad.loc[5, "FEV1"] = "n/a"
    with pytest.raises(tk.TrialkitError, match=r"response column 'FEV1' must hold numbers; row 5 holds 'n/a'"):
        tk.mmrm(bad, **KW)


def test_an_empty_arm_visit_cell_is_named(fev: pd.DataFrame) -> None:
    empty = fev[~((fev["ARMCD"] == "TRT") & (fev["AVISIT"] == "VIS4"))]
    with pytest.raises(tk.AnalysisError, match=r"no response in ARMCD 'TRT' at AVISIT 'VIS4'"):
        tk.mmrm(empty, **KW)


def test_a_visit_with_too_few_responses_for_the_covariance_is_named(fev: pd.DataFrame) -> None:
    at_vis4 = (fev["AVISIT"] == "VIS4") & fev["FEV1"].notna()
    one_each = fev[at_vis4].groupby("ARMCD").head(1).index
    thin = fev[(fev["AVISIT"] != "VIS4") | fev.index.isin(one_each)]
    with pytest.raises(tk.AnalysisError, match=r"visit 'VIS4' has 1 response\(s\) in arm 'PBO'"):
        tk.mmrm(thin, **KW, group_by_arm=True)


def test_a_singular_design_names_the_aliased_column(fev: pd.DataFrame) -> None:
    aliased = fev.assign(WEIGHT2=2 * fev["WEIGHT"])
    with pytest.raises(tk.AnalysisError, match=r"singular: WEIGHT2 is a combination of the columns before it"):
        tk.mmrm(aliased, **KW, covariates=["WEIGHT", "WEIGHT2"])


def test_a_fit_that_does_not_converge_raises_and_says_why(fev: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    from trialkit.analysis._mmrm import _optimise

    monkeypatch.setattr(_optimise, "GRADIENT_TOLERANCE", 0.0)  # nothing can meet it
    with pytest.raises(tk.AnalysisError) as info:
        tk.mmrm(fev, **KW, covariance="cs")  # two parameters: every optimiser gives up quickly
    message = str(info.value)
    assert message.startswith("the MMRM did not converge: the gradient norm is ")
    assert "optimisers tried: Fisher scoring / Newton-Raphson, L-BFGS-B, BFGS, Nelder-Mead" in message
    assert info.value.term == "covariance"
