"""Logistic regression and standardisation: bad input, separation, recovery of known truth, determinism.

The numbers themselves are checked against R in test_binary_reference.py.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trialkit as tk
from trialkit.analysis import LogisticFit, MarginalVariance, logistic, logistic_arrays

REFERENCE = Path(__file__).parents[2] / "reference" / "binary"
ARMS = ["c", "t"]


def _frame(seed: int = 3, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.repeat(ARMS, n // 2)
    x = rng.normal(size=n)
    baseline = rng.integers(0, 2, n).astype(float)
    region = rng.choice(["a", "b", "c"], n)
    eta = -0.5 + 0.8 * (arm == "t") + 0.6 * x + 0.9 * baseline
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return pd.DataFrame({"arm": arm, "y": y, "baseline": baseline, "x": x, "region": region})


def _fit(frame: pd.DataFrame, **kwargs) -> LogisticFit:
    options = {"outcome": "y", "arm": "arm", "arms": ARMS, "numeric": ["baseline", "x"]} | kwargs
    return logistic(frame, **options)


# ---------------------------------------------------------------------------------------------
# bad input: a TrialkitError naming the column / argument and value


@pytest.mark.parametrize(("value", "shown"), [(2.0, "2.0 at position 5"), (0.5, "0.5 at position 5")])
def test_an_outcome_other_than_0_or_1_is_refused_naming_it(value, shown) -> None:
    frame = _frame()
    frame.loc[5, "y"] = value
    with pytest.raises(tk.TrialkitError, match=rf"`frame\['y'\]` must hold only 0 and 1 .*got {shown}") as caught:
        _fit(frame)
    assert not isinstance(caught.value, tk.AnalysisError)


def test_missing_values_are_refused_naming_the_position() -> None:
    frame = _frame()
    frame.loc[7, "x"] = np.nan
    with pytest.raises(tk.TrialkitError, match=r"`frame\['x'\]` must hold finite numbers .*got nan at position 7"):
        _fit(frame)


def test_text_outcomes_and_undeclared_arms_are_refused() -> None:
    frame = _frame()
    with pytest.raises(tk.TrialkitError, match="must hold numbers"):
        _fit(frame.assign(y=np.where(frame["y"] > 0, "good", "poor")))
    with pytest.raises(tk.TrialkitError, match=r"`frame\['arm'\]` must hold only 'c', 't'; got 'x'"):
        _fit(frame.assign(arm=np.where(frame.index == 0, "x", frame["arm"])))


def test_arrays_of_different_lengths_are_refused_naming_them() -> None:
    frame = _frame()
    arm = (frame["arm"] == "t").to_numpy().astype(np.int64)
    y = frame["y"].to_numpy()
    with pytest.raises(tk.TrialkitError, match=r"`arm` must hold one value per subject \(200\); got arm has 199"):
        logistic_arrays(arm[:-1], y, {}, {}, arms=("c", "t"), levels={}, alpha=0.05)
    with pytest.raises(tk.TrialkitError, match=r"`x` must hold one value per subject"):
        logistic_arrays(arm, y, {"x": np.zeros(3)}, {}, arms=("c", "t"), levels={}, alpha=0.05)
    with pytest.raises(tk.TrialkitError, match="`arm` must hold codes 0 to 1; got 0 to 2"):
        logistic_arrays(np.where(arm == 1, 2, 0), y, {}, {}, arms=("c", "t"), levels={}, alpha=0.05)


def test_one_arm_only_is_an_analysis_error_naming_the_arm() -> None:
    frame = _frame().assign(arm="c")
    with pytest.raises(tk.AnalysisError, match="arm 't' has 0 analysable subject") as caught:
        _fit(frame)
    assert caught.value.term == "arm"


def test_the_input_frame_is_not_modified() -> None:
    frame = _frame()
    copy = frame.copy(deep=True)
    _fit(frame, categorical={"region": ["a", "b", "c"]})
    pd.testing.assert_frame_equal(frame, copy, check_exact=True)


# ---------------------------------------------------------------------------------------------
# data the model cannot support: an AnalysisError naming the term, never a huge estimate


@pytest.mark.parametrize(("arm", "value", "which"), [("t", 0.0, "no"), ("c", 1.0, "every"), ("t", 1.0, "every")])
def test_an_arm_with_no_or_every_event_is_separation_naming_the_arm(arm, value, which) -> None:
    frame = _frame()
    frame.loc[frame["arm"] == arm, "y"] = value
    with pytest.raises(tk.AnalysisError, match=rf"arm '{arm}': {which} subject had the event.*separat") as caught:
        _fit(frame)
    assert caught.value.term == "arm"


def test_a_factor_level_with_no_event_is_separation_naming_the_covariate() -> None:
    frame = _frame()
    frame.loc[frame["region"] == "b", "y"] = 0.0
    with pytest.raises(tk.AnalysisError, match=r"level of covariate 'region' 'b': no subject") as caught:
        _fit(frame, categorical={"region": ["a", "b", "c"]})
    assert caught.value.term == "region"


def test_complete_separation_by_a_covariate_is_found_and_named() -> None:
    frame = _frame()
    frame["y"] = (frame["x"] > 0.1).astype(float)
    with pytest.raises(tk.AnalysisError, match=r"separated by .*'x'.*do not exist") as caught:
        _fit(frame)
    assert caught.value.term in {"x", "arm[t]", "baseline"}


def test_quasi_complete_separation_by_two_terms_together_is_found() -> None:
    # every cell of arm x baseline has both outcomes except (c, 0): all 0 and (t, 1): all 1,
    # no single arm or level is constant, yet arm + baseline separates those cells
    frame = pd.DataFrame(
        {
            "arm": ["c"] * 6 + ["t"] * 6,
            "y": [0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0],
            "baseline": [0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 1, 0],
        }
    )
    with pytest.raises(tk.AnalysisError, match=r"separated by 'arm\[t\]', 'baseline' \(complete or quasi-complete"):
        logistic(frame, outcome="y", arm="arm", arms=ARMS, numeric=["baseline"])


def test_quasi_complete_separation_by_a_covariate_threshold_is_found() -> None:
    # no event below x = 0.3, every subject above it an event, both outcomes at exactly 0.3
    frame = _frame()
    frame.loc[:9, "x"] = 0.3
    frame["y"] = np.where(frame["x"] > 0.3, 1.0, np.where(frame["x"] < 0.3, 0.0, frame.index % 2))
    with pytest.raises(tk.AnalysisError, match=r"separated by .*'x'"):
        _fit(frame)


def test_a_strong_effect_without_separation_is_estimated() -> None:
    frame = _frame(n=400)
    rng = np.random.default_rng(9)
    eta = -1 + 3.0 * frame["x"]
    frame["y"] = (rng.random(400) < 1 / (1 + np.exp(-eta))).astype(float)
    fit = _fit(frame)
    assert 2.0 < fit.coefficients[fit.names.index("x")] < 4.5
    assert np.isfinite([r.std_error for r in fit.marginal]).all()


def test_no_convergence_without_separation_is_named(monkeypatch) -> None:
    from trialkit.analysis._binary import _irls

    monkeypatch.setattr(_irls, "MAX_ITERATIONS", 2)
    with pytest.raises(tk.AnalysisError, match="did not converge in 2 iterations") as caught:
        _fit(_frame())
    assert caught.value.term == "(model)"


def test_missing_numeric_covariates_in_arrays_are_refused() -> None:
    frame = _frame()
    x = frame["x"].to_numpy().copy()
    x[4] = np.nan
    with pytest.raises(tk.TrialkitError, match=r"`numeric\['x'\]` must hold finite numbers .*nan at position 4"):
        logistic_arrays(
            (frame["arm"] == "t").to_numpy().astype(np.int64),
            frame["y"].to_numpy(),
            {"x": x},
            {},
            arms=("c", "t"),
            levels={},
            alpha=0.05,
        )


def test_collinear_covariates_name_the_later_term() -> None:
    frame = _frame().assign(x2=lambda f: 2 * f["x"] + 1)
    with pytest.raises(tk.AnalysisError, match="term 'x2' is collinear") as caught:
        _fit(frame, numeric=["baseline", "x", "x2"])
    assert caught.value.term == "x2"


def test_a_constant_covariate_is_named() -> None:
    with pytest.raises(tk.AnalysisError, match="covariate 'baseline' is constant") as caught:
        _fit(_frame().assign(baseline=1.0))
    assert caught.value.term == "baseline"


# ---------------------------------------------------------------------------------------------
# properties


def test_rows_follow_the_results_vocabulary() -> None:
    frame = _frame()
    fit = _fit(frame)
    assert [r.analysis.value for r in fit.conditional] == ["logistic"]
    assert [r.analysis.value for r in fit.marginal] == ["standardised_rd", "standardised_rr", "standardised_or"]
    for row in (*fit.conditional, *fit.marginal):
        assert row.contrast == "t - c"
        assert (row.n_treatment, row.n_control) == (100, 100)
        assert np.isnan(row.df) and row.ci_low < row.estimate < row.ci_high
        assert all(isinstance(getattr(row, f.name), float) for f in fields(row) if f.name in {"estimate", "ci_low"})
    rd, rr, odds = fit.marginal
    assert rd.estimate == pytest.approx(fit.risks["t"] - fit.risks["c"], rel=1e-14)
    assert rr.estimate == pytest.approx(fit.risks["t"] / fit.risks["c"], rel=1e-14)
    # ratio rows: the SE is on the log scale, the interval symmetric there
    assert np.log(rr.ci_high / rr.estimate) == pytest.approx(1.959963984540054 * rr.std_error, rel=1e-12)
    assert odds.statistic == pytest.approx(np.log(odds.estimate) / odds.std_error, rel=1e-12)


def test_variance_picks_the_covariance_of_the_rows_and_both_are_on_the_fit() -> None:
    frame = _frame()
    ye, ge = _fit(frame, variance="ye"), _fit(frame, variance=MarginalVariance.GE)
    assert ye.variance is MarginalVariance.YE and ge.variance is MarginalVariance.GE
    np.testing.assert_array_equal(ye.risk_covariance_ge, ge.risk_covariance_ge)
    v = ye.risk_covariance_ye
    assert ye.marginal[0].std_error == pytest.approx(np.sqrt(v[0, 0] + v[1, 1] - 2 * v[0, 1]), rel=1e-14)
    v = ge.risk_covariance_ge
    assert ge.marginal[0].std_error == pytest.approx(np.sqrt(v[0, 0] + v[1, 1] - 2 * v[0, 1]), rel=1e-14)
    assert ye.marginal[0].estimate == ge.marginal[0].estimate
    with pytest.raises(tk.TrialkitError, match="`variance` must be one of 'ye', 'ge'; got 'robust'"):
        _fit(frame, variance="robust")


def test_the_marginal_variance_names_are_the_spec_options() -> None:
    from trialkit._spec import MARGINAL_VARIANCES

    assert tuple(v.value for v in MarginalVariance) == MARGINAL_VARIANCES


def test_frame_and_array_entry_points_agree_bit_for_bit() -> None:
    frame = _frame()
    a = _fit(frame, categorical={"region": ["a", "b", "c"]})
    b = logistic_arrays(
        (frame["arm"] == "t").to_numpy().astype(np.int64),
        frame["y"].to_numpy(),
        {"baseline": frame["baseline"].to_numpy(), "x": frame["x"].to_numpy()},
        {"region": pd.Index(["a", "b", "c"]).get_indexer(frame["region"]).astype(np.int64)},
        arms=("c", "t"),
        levels={"region": ("a", "b", "c")},
        alpha=0.05,
    )
    assert a.conditional == b.conditional and a.marginal == b.marginal
    np.testing.assert_array_equal(a.coefficients, b.coefficients)


def test_results_are_deterministic() -> None:
    frame = _frame()
    first, second = _fit(frame), _fit(frame.copy())
    for f in fields(LogisticFit):
        x, y = getattr(first, f.name), getattr(second, f.name)
        if isinstance(x, np.ndarray):
            assert x.tobytes() == y.tobytes(), f.name
        else:
            assert x == y, f.name


def test_matches_statsmodels_glm() -> None:
    sm = pytest.importorskip("statsmodels.api")
    frame = _frame()
    fit = _fit(frame)
    X = np.column_stack([np.ones(200), frame["arm"] == "t", frame["baseline"], frame["x"]]).astype(float)
    theirs = sm.GLM(frame["y"].to_numpy(), X, family=sm.families.Binomial()).fit(tol=1e-12)
    np.testing.assert_allclose(fit.coefficients, theirs.params, rtol=1e-7)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.covariance)), theirs.bse, rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# synthetic trial with known truth (tests/reference/binary/synthetic.csv, 9,000 subjects)


def test_the_synthetic_trial_recovers_the_true_effects() -> None:
    frame = pd.read_csv(REFERENCE / "synthetic.csv")
    truth = pd.read_csv(REFERENCE / "synthetic_truth.csv").set_index("term")["value"]
    regions = ["north", "south", "east", "west", "centre"]
    fit = logistic(
        frame,
        outcome="outcome",
        arm="arm",
        arms=["placebo", "low", "high"],
        numeric=["baseline", "x1", "x2"],
        categorical={"region": regions},
    )
    true_beta = truth[["intercept", "low", "high", "baseline", "x1", "x2", "south", "east", "west", "centre"]]
    z = (fit.coefficients - true_beta.to_numpy()) / np.sqrt(np.diag(fit.covariance))
    assert np.all(np.abs(z) < 4), z
    # the standardised risks against the same standardisation with the true coefficients
    X = np.column_stack(
        [
            np.ones(len(frame)),
            frame["baseline"],
            frame["x1"],
            frame["x2"],
            *[(frame["region"] == r).to_numpy(float) for r in regions[1:]],
        ]
    )
    rest = true_beta[["intercept", "baseline", "x1", "x2", "south", "east", "west", "centre"]].to_numpy()
    true_risk = {
        arm: float(np.mean(1 / (1 + np.exp(-(X @ rest + shift)))))
        for arm, shift in (("placebo", 0.0), ("low", truth["low"]), ("high", truth["high"]))
    }
    cov = fit.risk_covariance_ye
    for j, arm in enumerate(["placebo", "low", "high"]):
        assert abs(fit.risks[arm] - true_risk[arm]) < 4 * np.sqrt(cov[j, j]), arm
    rd = {r.contrast: r for r in fit.marginal if r.analysis.value == "standardised_rd"}
    for arm in ("low", "high"):
        row = rd[f"{arm} - placebo"]
        assert abs(row.estimate - (true_risk[arm] - true_risk["placebo"])) < 4 * row.std_error
