"""Multiple imputation: exact without missing data, agrees with the MMRM, methods ordered, tipping grid, bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import trialkit as tk
from trialkit.analysis import ancova, multiple_imputation, pool
from trialkit.analysis._missing._impute import complete, joint_mean
from trialkit.analysis._missing._posterior import inverse_wishart

ARMS = ["placebo", "active"]
VISITS = ["week2", "week4", "week6", "week8"]


def trial(seed: int = 3, n: int = 200, effect: float = -3.0, dropout: bool = True) -> pd.DataFrame:
    """Return a wide 2-arm trial: the benefit grows linearly to ``effect`` at week 8; monotone dropout, one gap."""
    rng = np.random.default_rng(seed)
    arm = np.repeat(ARMS, n // 2)
    age = rng.normal(65, 8, n)
    base = rng.normal(20, 4, n)
    t = len(VISITS)
    cov = 16 * 0.7 ** np.abs(np.subtract.outer(np.arange(t), np.arange(t)))
    trend = effect * np.arange(1, t + 1) / t
    y = 0.7 * base[:, None] + 6 + 0.05 * (age[:, None] - 65) + trend * (arm == "active")[:, None]
    y = y + rng.multivariate_normal(np.zeros(t), cov, n)
    if dropout:
        # MAR dropout: more likely after a poor (high) value, more often on placebo
        for i in range(n):
            for j in range(1, t):
                p = 0.06 + 0.05 * (y[i, j - 1] > 22) + 0.04 * (arm[i] == "placebo")
                if rng.random() < p:
                    y[i, j:] = np.nan
                    break
        y[3, 1] = np.nan  # an intermittent gap
    frame = pd.DataFrame({"arm": arm, "baseline": base, "age": age})
    for j, v in enumerate(VISITS):
        frame[v] = y[:, j]
    return frame


def _ancova_at(frame: pd.DataFrame, visit: str, **kw: object) -> tk.analysis.Estimate:
    cc = frame.dropna(subset=[visit]).rename(columns={visit: "y"})
    return ancova(cc, arms=ARMS, numeric=["age"], **kw).differences[0]  # type: ignore[arg-type]


@pytest.mark.parametrize("log", [False, True])
def test_without_missing_data_every_method_is_the_complete_data_ancova(log: bool) -> None:
    frame = trial(dropout=False)
    if log:
        frame[["baseline", *VISITS]] = np.exp(frame[["baseline", *VISITS]] / 10)
    fit = multiple_imputation(
        frame, arms=ARMS, visits=VISITS, numeric=["age"], imputations=5, seed=1, log_scale=log, methods=MI_ALL
    )
    ref = _ancova_at(frame, "week8", log_scale=log)
    assert [e.analysis.value for e in fit.estimates] == ["mi_mar", "mi_j2r", "mi_cr"]
    for e in fit.estimates:
        for field in ("estimate", "std_error", "ci_low", "ci_high", "df", "statistic", "p_value"):
            assert getattr(e, field) == pytest.approx(getattr(ref, field), rel=1e-10), field
        assert (e.n_treatment, e.n_control) == (100, 100)


MI_ALL = ["mi_mar", "mi_j2r", "mi_cr"]


def test_missing_only_before_the_primary_visit_changes_nothing_at_it() -> None:
    frame = trial(dropout=False)
    frame.loc[::5, "week4"] = np.nan
    fit = multiple_imputation(frame, arms=ARMS, visits=VISITS, numeric=["age"], imputations=4, seed=2, methods=MI_ALL)
    ref = _ancova_at(frame, "week8")
    for e in fit.estimates:
        assert e.estimate == pytest.approx(ref.estimate, rel=1e-10)
        assert e.p_value == pytest.approx(ref.p_value, rel=1e-10)


def test_same_seed_same_bits_other_seed_other_draws() -> None:
    frame = trial()
    kw = {"arms": ARMS, "visits": VISITS, "numeric": ["age"], "imputations": 10, "burn_in": 20}
    a = multiple_imputation(frame, seed=11, **kw)  # type: ignore[arg-type]
    b = multiple_imputation(frame, seed=11, **kw)  # type: ignore[arg-type]
    c = multiple_imputation(frame, seed=12, **kw)  # type: ignore[arg-type]
    assert a.estimates == b.estimates
    assert np.array_equal(a.tipping[0].p_value, b.tipping[0].p_value)
    assert a.estimates[0].estimate != c.estimates[0].estimate
    assert frame.equals(trial())  # the input is not modified


def test_mar_agrees_with_the_mmrm_within_monte_carlo_error() -> None:
    """MI under MAR with this model and the MMRM (unstructured, baseline x visit) estimate one quantity.

    Bound: 4 Monte Carlo SEs of the pooled estimate (√(B/M)) plus 5 % of its SE for what the
    two estimators legitimately differ by (posterior means vs REML, finite n).
    """
    frame = trial(seed=5, n=300)
    m = 200
    fit = multiple_imputation(
        frame, arms=ARMS, visits=VISITS, numeric=["age"], imputations=m, seed=3, methods=["mi_mar"]
    )
    (mar,) = fit.estimates
    long = frame.melt(id_vars=["arm", "baseline", "age"], value_vars=VISITS, var_name="visit", ignore_index=False)
    long = long.reset_index(names="subject").dropna(subset=["value"])
    mm = tk.mmrm(
        long,
        response="value",
        subject="subject",
        visit="visit",
        arm="arm",
        control="placebo",
        covariates=["age"],
        baseline="baseline",
        baseline_by_visit=True,
        visit_order=VISITS,
    )
    row = mm.contrasts[(mm.contrasts["visit"] == "week8")].iloc[0]
    between = mar.std_error**2 / m  # an upper bound of B/M, since T ≥ (1 + 1/M) B
    bound = 4 * math.sqrt(between) + 0.05 * mar.std_error
    assert abs(mar.estimate - float(row["estimate"])) < bound
    assert mar.std_error == pytest.approx(float(row["std_error"]), rel=0.1)


def test_jump_to_reference_lies_between_mar_and_the_null() -> None:
    frame = trial(seed=8, n=300, effect=-4.0)
    fit = multiple_imputation(frame, arms=ARMS, visits=VISITS, numeric=["age"], imputations=100, seed=4, methods=MI_ALL)
    mar, j2r, cr = (e.estimate for e in fit.estimates)
    assert mar < j2r < 0  # the benefit is negative (lower is better here)
    assert mar < cr < 0
    # CR keeps what a subject gained before stopping, through its correlation with later visits: closer to MAR
    assert j2r > cr


def test_tipping_grid_is_linear_in_delta_and_marks_where_significance_is_lost() -> None:
    frame = trial(seed=8, n=300, effect=-4.0)
    fit = multiple_imputation(
        frame, arms=ARMS, visits=VISITS, numeric=["age"], imputations=50, seed=4, methods=["mi_mar", "tipping_point"]
    )
    (mar,) = fit.estimates
    (tp,) = fit.tipping
    assert tp.delta[0] == 0.0 and tp.estimate[0] == pytest.approx(mar.estimate, rel=1e-12)
    assert tp.p_value[0] == pytest.approx(mar.p_value, rel=1e-10)
    assert np.all(np.diff(tp.delta) > 0)  # towards the null: the benefit is negative, so δ > 0
    assert np.allclose(np.diff(tp.estimate), tp.slope * np.diff(tp.delta), rtol=1e-9)
    # slope: the share of the active arm imputed at week 8 (as the ANCOVA weighs it), within (0, 1)
    assert 0 < tp.slope < 1
    first = int(np.argmax(tp.p_value >= 0.05))
    assert tp.tipping_delta == tp.delta[first] and first > 0 and (tp.p_value[:first] < 0.05).all()
    assert first == tp.delta.size - 3  # the default grid runs two steps past the tipping point
    assert 8 <= first <= 14  # in about 10 round steps


def test_tipping_grid_equals_refitting_the_shifted_data() -> None:
    """The closed form in δ against shifting the completed data and fitting each data set again."""
    frame = trial(seed=9, n=120)
    deltas = [0.0, 1.5, 4.0]
    fit = multiple_imputation(
        frame, arms=ARMS, visits=VISITS, imputations=6, seed=6, burn_in=5, methods=["tipping_point"], deltas=deltas
    )
    (tp,) = fit.tipping
    # the same draws, by hand: rerun the sampler with the same seed on the same standardised data
    from trialkit.analysis._missing._mi import _standardised
    from trialkit.analysis._missing._posterior import posterior_draws

    x = np.column_stack([np.ones(len(frame)), frame["arm"].eq("active"), frame["baseline"]])
    x_std, y_std, scale = _standardised(x, frame[VISITS].to_numpy(), 2, 1)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(6)))
    arm = frame["arm"].eq("active").to_numpy(np.int64)
    b, sigma = posterior_draws(x_std, y_std, draws=6, burn_in=5, rng=rng, visits=tuple(VISITS))
    z = rng.standard_normal((6, *y_std.shape))
    mu = joint_mean(x_std, y_std, b, method="mi_mar", arm=arm, reference=0, arm_columns=[1])
    # back on the data's scale: the completed values, and the design as the ANCOVA sees it
    done = complete(y_std, mu, sigma, z)[:, :, -1] * scale
    y = frame[VISITS].to_numpy()
    shift = (np.isnan(y[:, -1]) & frame["arm"].eq("active").to_numpy()).astype(float)
    for k, d in enumerate(deltas):
        est, var = [], []
        for m in range(6):
            coef, rss, *_ = np.linalg.lstsq(x, done[m] + d * shift, rcond=None)
            est.append(coef[1])
            var.append(float(rss[0]) / (len(x) - 3) * np.linalg.inv(x.T @ x)[1, 1])
        ref = pool(est, var, df_complete=len(x) - 3)
        assert tp.estimate[k] == pytest.approx(ref.estimate, rel=1e-10)
        assert tp.std_error[k] == pytest.approx(ref.std_error, rel=1e-10)
        assert tp.p_value[k] == pytest.approx(ref.p_value, rel=1e-8)


def test_inverse_wishart_draws_have_the_right_mean() -> None:
    """E[Σ] = S / (ν − T − 1); bound: 5 Monte Carlo SEs per entry."""
    s = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    nu, n = 30.0, 40_000
    draws = inverse_wishart(np.broadcast_to(s, (n, 3, 3)), nu, np.random.default_rng(1))
    mean, se = draws.mean(axis=0), draws.std(axis=0) / math.sqrt(n)
    assert np.all(np.abs(mean - s / (nu - 4)) < 5 * se)


def test_pool_of_equal_estimates_is_the_complete_data_result() -> None:
    p = pool([2.0, 2.0, 2.0], [0.25, 0.25, 0.25], df_complete=30)
    assert (p.estimate, p.std_error, p.df, p.between) == (2.0, 0.5, 30.0, 0.0)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"methods": ["mi_mar", "lvcf"]},
            "`methods` must hold only 'mi_mar', 'mi_j2r', 'mi_cr', 'tipping_point'; got 'lvcf'",
        ),
        ({"imputations": 1}, "`imputations` must be an integer >= 2; got 1."),
        ({"imputations": 2.5}, "`imputations` must be an integer >= 2; got 2.5."),
        ({"reference": "sham"}, "`reference` must be text naming one of the arms 'placebo', 'active'; got 'sham'."),
        ({"deltas": [0, "one"]}, "`deltas` must be"),
        (
            {"deltas": [0, math.inf]},
            "`deltas` must hold finite numbers (remove missing values first); got inf at position 1.",
        ),
        ({"deltas": []}, "`deltas` must hold at least 1 value; got 0."),
        ({"seed": -1}, "`seed` must be an integer >= 0; got -1."),
        ({"burn_in": 0}, "`burn_in` must be an integer >= 1; got 0."),
        ({"primary": "week9"}, "`primary` must be text naming one of the visits"),
        ({"visits": ["week2", "week10"]}, "`frame` must have the distinct columns"),
    ],
)
def test_bad_arguments_are_named(kw: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"arms": ARMS, "visits": VISITS, "imputations": 3, "burn_in": 2, **kw}
    with pytest.raises(tk.TrialkitError) as err:
        multiple_imputation(trial(n=40), **args)  # type: ignore[arg-type]
    assert message in str(err.value)


def test_bad_data_are_named() -> None:
    frame = trial(n=40)
    frame.loc[4, "baseline"] = np.nan
    with pytest.raises(tk.TrialkitError, match=r"`frame\['baseline'\]` must hold finite numbers .* at position 4"):
        multiple_imputation(frame, arms=ARMS, visits=VISITS, imputations=3)
    frame = trial(n=40)
    frame.loc[0, "arm"] = "sham"
    with pytest.raises(tk.TrialkitError, match="must hold only 'placebo', 'active'; got \\['sham'\\]"):
        multiple_imputation(frame, arms=ARMS, visits=VISITS, imputations=3)
    frame = trial(n=40)
    frame.loc[frame["arm"] == "active", "week2"] = np.nan
    frame.loc[frame["arm"] == "active", "week4"] = np.nan
    frame.loc[frame["arm"] == "active", "week6"] = np.nan
    frame.loc[frame["arm"] == "active", "week8"] = np.nan
    with pytest.raises(tk.AnalysisError, match="no subject of arm 'active' is observed at visit 'week2'"):
        multiple_imputation(frame, arms=ARMS, visits=VISITS, imputations=3)
    frame = trial(n=40)
    frame.loc[2, "week2"] = -1.0
    with pytest.raises(tk.AnalysisError, match="log-scale analysis needs positive values of 'y'"):
        multiple_imputation(frame, arms=ARMS, visits=VISITS, imputations=3, log_scale=True)


def test_the_i_step_statistics_have_the_distribution_of_those_of_the_completed_data() -> None:
    """The sampler draws X'Y and Y'Y of the imputed data without imputing each value: same distribution.

    Means against the exact expectations from the conditional moments (bound: 5 Monte Carlo SEs per
    entry); variances against those of imputing every value with ``complete`` (ratio within 1 ± 0.1,
    about 5 Monte Carlo SEs of a variance ratio at 20,000 draws each).
    """
    from trialkit.analysis._missing._impute import conditional_moments, fitted
    from trialkit.analysis._missing._posterior import _Statistics

    frame = trial(seed=2, n=60)
    frame.loc[[5, 9], "week4"] = np.nan  # intermittent gaps: patterns whose missing visits are not a run
    frame.loc[11, VISITS] = np.nan  # a subject with nothing after baseline
    x = np.column_stack([np.ones(len(frame)), frame["arm"].eq("active"), frame["baseline"] / 10])
    y = frame[VISITS].to_numpy() / 10
    rng = np.random.default_rng(4)
    b = rng.normal(size=(3, 4))
    root = rng.normal(size=(4, 4))
    sigma = root @ root.T + np.eye(4)
    m = 20_000
    bb, ss = np.broadcast_to(b, (m, 3, 4)).copy(), np.broadcast_to(sigma, (m, 4, 4)).copy()
    xty, yty = _Statistics(x, y).draw(bb, ss, np.random.default_rng(9))

    arm = frame["arm"].eq("active").to_numpy(np.int64)
    mean, cov = conditional_moments(x, y, b, sigma, method="mi_mar", arm=arm, reference=0, arm_columns=[1])
    expected_xty = x.T @ mean
    expected_yty = mean.T @ mean + cov.sum(axis=0)
    for got, want in ((xty, expected_xty), (yty, expected_yty)):
        se = got.std(axis=0) / math.sqrt(m)
        assert np.all(np.abs(got.mean(axis=0) - want) <= 5 * se + 1e-9 * np.abs(want))

    done = complete(y, fitted(x, bb), ss, np.random.default_rng(10))
    full_xty = x.T @ done
    full_yty = np.swapaxes(done, -1, -2) @ done
    for got, full in ((xty, full_xty), (yty, full_yty)):
        varying = full.var(axis=0) > 1e-12
        ratio = got.var(axis=0)[varying] / full.var(axis=0)[varying]
        assert np.all(np.abs(ratio - 1) < 0.1), ratio


@pytest.mark.parametrize(("offset", "factor"), [(1e6, 1.0), (1e7, 1.0), (0.0, 1e150), (0.0, 1e-150), (5e4, 1e-3)])
def test_the_unit_and_offset_of_the_data_do_not_change_the_answer(offset: float, factor: float) -> None:
    """Values far from 1 give the same estimates, scaled (the model is fitted on standardised values)."""
    frame = trial(seed=12, n=120)
    shifted = frame.copy()
    shifted[["baseline", *VISITS]] = (frame[["baseline", *VISITS]] + offset) * factor
    kw = {"arms": ARMS, "visits": VISITS, "numeric": ["age"], "imputations": 10, "burn_in": 20, "seed": 3}
    a = multiple_imputation(frame, **kw, deltas=[0.0, 2.0])  # type: ignore[arg-type]
    b = multiple_imputation(shifted, **kw, deltas=[0.0, 2.0 * factor])  # type: ignore[arg-type]
    for x, y in zip(a.estimates, b.estimates, strict=True):
        assert y.estimate == pytest.approx(x.estimate * factor, rel=1e-6)
        assert y.std_error == pytest.approx(x.std_error * factor, rel=1e-6)
        assert y.p_value == pytest.approx(x.p_value, rel=1e-6)
    assert b.tipping[0].p_value == pytest.approx(a.tipping[0].p_value, rel=1e-6)


def test_a_model_the_data_cannot_identify_is_an_analysis_error() -> None:
    frame = trial(n=80)
    frame["week4"] = frame["week2"]  # two identical visits: a singular covariance
    with pytest.raises(tk.AnalysisError, match="covariance across visits is singular"):
        multiple_imputation(frame, arms=ARMS, visits=VISITS, imputations=3, burn_in=5)
    frame = trial(n=80, dropout=False)
    frame.loc[::2, "week4"] = np.nan
    frame.loc[1::2, "week6"] = np.nan  # never observed together
    with pytest.raises(tk.AnalysisError, match="no subject is observed at both 'week4' and 'week6'"):
        multiple_imputation(frame, arms=ARMS, visits=VISITS, imputations=3, burn_in=5)
    frame = trial(n=80)
    frame["sex"] = np.where(frame["week8"].isna(), "F", "M")  # a level only among those missing week 8
    with pytest.raises(tk.AnalysisError, match=r"term 'sex\[M\]' is collinear .* among the subjects observed at visit"):
        multiple_imputation(frame, arms=ARMS, visits=VISITS, categorical={"sex": ["F", "M"]}, imputations=3)


def test_pool_without_any_variance_is_an_analysis_error() -> None:
    with pytest.raises(tk.AnalysisError, match="no variance"):
        pool([0.0, 0.0], [0.0, 0.0], df_complete=10)
