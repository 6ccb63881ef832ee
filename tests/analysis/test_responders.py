"""Responder analyses: Wilson and Newcombe intervals, Fisher's exact p, RD/RR/OR/NNT, MCID sweep."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact
from statsmodels.stats.proportion import proportion_confint

import trialkit as tk
from trialkit import AnalysisError
from trialkit._errors import TrialkitError
from trialkit.analysis import (
    SWEEP_COLUMNS,
    Analysis,
    Estimate,
    ResponderResult,
    default_thresholds,
    fisher_exact_p,
    mcid_sweep,
    newcombe_difference_interval,
    responder_estimates,
    responder_rates,
    wilson_interval,
)

REFERENCE = Path(__file__).parents[1] / "reference" / "analyses"
REFERENCE_CASES = ("abbasi2012", "three_arm", "missing")


def _changes(responders: int, n: int, threshold: float = -6.0) -> np.ndarray:
    """N changes of which exactly ``responders`` reach a negative ``threshold`` (one on it)."""
    resp = np.full(responders, threshold - 2.0)
    if responders:
        resp[0] = threshold  # on the threshold: responds (change <= threshold)
    non = np.full(n - responders, threshold + 1.0)
    return np.concatenate([resp, non])


# --------------------------------------------------------------------------------------------
# Wilson


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.01])
def test_wilson_interval_matches_statsmodels(alpha) -> None:
    for n in (1, 2, 7, 20, 113):
        for x in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            low, high = wilson_interval(x, n, alpha)
            exp_low, exp_high = proportion_confint(x, n, alpha=alpha, method="wilson")
            assert low == pytest.approx(exp_low, abs=1e-12)
            assert high == pytest.approx(exp_high, abs=1e-12)


@pytest.mark.parametrize(
    ("x", "n", "alpha", "expected"),
    [
        # R 4.2.2: prop.test(x, n, correct = FALSE, conf.level = 1 - alpha)$conf.int, digits = 17
        (7, 20, 0.05, (0.18119182410108206, 0.56714572331476365)),
        (0, 12, 0.05, (0.0, 0.24249400665524079)),
        (12, 12, 0.05, (0.75750599334475921, 1.0)),
        (3, 17, 0.10, (0.072814466547064485, 0.368966978069025786)),
    ],
)
def test_wilson_interval_matches_r_prop_test(x, n, alpha, expected) -> None:
    got = wilson_interval(x, n, alpha)
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)


def test_wilson_interval_is_exactly_0_and_1_at_the_extremes() -> None:
    assert wilson_interval(0, 9, 0.05)[0] == 0.0
    assert wilson_interval(9, 9, 0.05)[1] == 1.0


@pytest.mark.parametrize(("x", "n", "name"), [(1, 0, "n"), (-1, 5, "x"), (6, 5, "x"), (2.0, 5, "x")])
def test_wilson_interval_rejects_impossible_counts(x, n, name) -> None:
    with pytest.raises(TrialkitError, match=f"^`{name}` must be an integer") as err:
        wilson_interval(x, n, 0.05)
    assert not isinstance(err.value, AnalysisError)  # a bad argument, not data that cannot support the analysis


@pytest.mark.parametrize("alpha", [0, 1, 1.5, -0.1, float("nan"), True])
def test_bad_alpha_is_rejected(alpha) -> None:
    with pytest.raises(TrialkitError, match="alpha"):
        wilson_interval(3, 10, alpha)


# --------------------------------------------------------------------------------------------
# Newcombe method 10


@pytest.mark.parametrize(
    ("x1", "n1", "x0", "n0", "low", "high"),
    [
        # Newcombe (1998) Stat Med 17:873, worked examples (a)-(h), method 10, to 4 decimals.
        # (a), (b) as also asserted by the R package propint's tests of "the results reported in
        # Newcombe1998". (c) 6/7 vs 2/7 is 0.0582 to 0.8062 by the method-10 formula (R, by hand and
        # here); a quoted 0.0342 to 0.8022 matches neither method 10 nor 11 and is not used.
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (0, 10, 0, 10, -0.2775, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
        (10, 10, 0, 10, 0.6075, 1.0000),
    ],
)
def test_newcombe_interval_reproduces_the_papers_examples(x1, n1, x0, n0, low, high) -> None:
    got_low, got_high = newcombe_difference_interval(x1, n1, x0, n0, 0.05)
    assert round(got_low, 4) == low
    assert round(got_high, 4) == high


def test_newcombe_interval_matches_its_formula_in_r() -> None:
    # R 4.2.2, Wilson limits from prop.test(correct = FALSE), 12/20 vs 6/20
    low, high = newcombe_difference_interval(12, 20, 6, 20, 0.05)
    np.testing.assert_allclose([low, high], [-0.0057720572494767142, 0.5381351602860637851], rtol=1e-13)


def test_newcombe_interval_reverses_with_the_arms() -> None:
    low, high = newcombe_difference_interval(9, 10, 3, 10, 0.05)
    rlow, rhigh = newcombe_difference_interval(3, 10, 9, 10, 0.05)
    assert (low, high) == pytest.approx((-rhigh, -rlow), abs=1e-15)


# --------------------------------------------------------------------------------------------
# Fisher


def _exact_two_sided(a: int, b: int, c: int, d: int) -> float:
    """Sum of hypergeometric probabilities no larger than the observed one, in exact fractions."""
    m, n, k = a + c, b + d, a + b
    total = math.comb(m + n, k)
    prob = {x: Fraction(math.comb(m, x) * math.comb(n, k - x), total) for x in range(max(0, k - n), min(k, m) + 1)}
    return float(sum(p for p in prob.values() if p <= prob[a]))


def test_fisher_p_equals_hand_computed_hypergeometric_sums() -> None:
    rng = np.random.default_rng(7)
    tables = [
        (3, 1, 1, 3),
        (12, 8, 6, 14),
        (0, 10, 0, 20),
        (5, 5, 5, 5),
        (0, 20, 5, 15),
        (1, 0, 0, 1),
        (4, 0, 0, 4),
        (2, 7, 9, 3),
    ]
    tables += [tuple(int(v) for v in rng.integers(0, 25, 4)) for _ in range(60)]
    for a, b, c, d in tables:
        if a + b == 0 or c + d == 0:
            continue
        assert fisher_exact_p(a, b, c, d) == pytest.approx(_exact_two_sided(a, b, c, d), rel=1e-12), (a, b, c, d)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        # R 4.2.2: fisher.test(matrix(table, 2, byrow = TRUE))$p.value, digits = 17
        ((12, 8, 6, 14), 0.110969537027476),
        ((3, 1, 1, 3), 0.48571428571428582),
        ((7, 27, 1, 33), 0.054400130495065667),
        ((10, 10, 10, 10), 0.99999999999999989),
        ((0, 20, 5, 15), 0.047124047124047129),
        ((250, 250, 230, 270), 0.22910315455721775),
    ],
)
def test_fisher_p_matches_r_fisher_test(table, expected) -> None:
    assert fisher_exact_p(*table) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("cells", [(1, 2, 3, -1), (1.5, 2, 3, 4), (float("nan"), 1, 1, 1), ("x", 1, 1, 1)])
def test_fisher_p_rejects_cells_that_are_not_counts(cells) -> None:
    with pytest.raises(TrialkitError, match="must be an integer >= 0"):
        fisher_exact_p(*cells)


def test_fisher_p_counts_numerically_tied_tables_as_r_does() -> None:
    """Balanced tables have exactly mirrored probabilities; rounding must not drop the mirror."""
    for n in (4, 10, 37, 200):
        for a in range(0, n + 1, max(1, n // 7)):
            expected = _exact_two_sided(a, n - a, n - a, a)
            assert fisher_exact_p(a, n - a, n - a, a) == pytest.approx(expected, rel=1e-10)
            assert fisher_exact_p(a, n - a, n - a, a) == pytest.approx(
                fisher_exact([[a, n - a], [n - a, a]]).pvalue, rel=1e-10
            )


# --------------------------------------------------------------------------------------------
# responder_estimates


def _by_analysis(result: ResponderResult) -> dict[Analysis, Estimate]:
    return {e.analysis: e for e in result.estimates}


def test_responder_estimates_follow_the_documented_formulas() -> None:
    result = responder_estimates(_changes(12, 20), _changes(6, 20), -6.0, arm="active", control="placebo", alpha=0.05)
    assert result.failures == ()
    rows = _by_analysis(result)
    assert [e.analysis for e in result.estimates] == [
        Analysis.RESPONDER_RD,
        Analysis.RESPONDER_RR,
        Analysis.RESPONDER_OR,
        Analysis.RESPONDER_NNT,
    ]
    for e in result.estimates:
        assert e.contrast == "active - placebo"
        assert (e.n_treatment, e.n_control) == (20, 20)
        assert math.isnan(e.df) and math.isnan(e.statistic)
    # R 4.2.2 by the formulas in responder_estimates' docstring (and fisher.test), digits = 17
    rd, rr, or_, nnt = (
        rows[a] for a in (Analysis.RESPONDER_RD, Analysis.RESPONDER_RR, Analysis.RESPONDER_OR, Analysis.RESPONDER_NNT)
    )
    np.testing.assert_allclose(
        [rd.estimate, rd.ci_low, rd.ci_high], [0.3, -0.0057720572494767142, 0.5381351602860637851], rtol=1e-13
    )
    assert math.isnan(rd.std_error) and math.isnan(nnt.std_error)
    assert rr.std_error == pytest.approx(math.sqrt(1 / 12 - 1 / 20 + 1 / 6 - 1 / 20))  # log scale
    assert or_.std_error == pytest.approx(math.sqrt(1 / 12 + 1 / 8 + 1 / 6 + 1 / 14))
    np.testing.assert_allclose(
        [rr.estimate, rr.ci_low, rr.ci_high], [2.0, 0.9361836574114526, 4.2726659115797840], rtol=1e-13
    )
    np.testing.assert_allclose(
        [or_.estimate, or_.ci_low, or_.ci_high], [3.5, 0.94478957047164192, 12.96585015633138660], rtol=1e-13
    )
    # the RD interval spans 0: NNT limits are NNT-to-harm (negative) and NNT-to-benefit
    np.testing.assert_allclose(
        [nnt.estimate, nnt.ci_low, nnt.ci_high],
        [3.3333333333333335, -173.2484548885336153, 1.8582692115274841],
        rtol=1e-12,
    )
    assert math.isnan(nnt.p_value)
    for e in (rd, rr, or_):
        assert e.p_value == pytest.approx(0.110969537027476, rel=1e-12)  # R fisher.test


def test_nnt_limits_are_ordered_when_the_difference_is_clear() -> None:
    result = responder_estimates(_changes(18, 20), _changes(4, 20), -6.0, arm="a", control="c", alpha=0.05)
    rows = _by_analysis(result)
    rd, nnt = rows[Analysis.RESPONDER_RD], rows[Analysis.RESPONDER_NNT]
    assert rd.ci_low > 0
    assert nnt.ci_low == pytest.approx(1 / rd.ci_high)
    assert nnt.ci_high == pytest.approx(1 / rd.ci_low)
    assert nnt.ci_low < nnt.estimate < nnt.ci_high


def test_threshold_direction_and_boundary() -> None:
    treatment = np.array([-6.0, -7.0, -5.0, 0.0])
    control = np.array([6.0, 7.0, 5.0, 0.0])
    # negative threshold: change <= -6 responds (the boundary included)
    neg = _by_analysis(responder_estimates(treatment, control, -6, arm="a", control="c", alpha=0.05))
    assert neg[Analysis.RESPONDER_RD].estimate == pytest.approx(0.5)
    # positive threshold: change >= 6 responds
    pos = _by_analysis(responder_estimates(treatment, control, 6, arm="a", control="c", alpha=0.05))
    assert pos[Analysis.RESPONDER_RD].estimate == pytest.approx(-0.5)


def test_no_responder_in_the_treatment_arm_leaves_rr_and_or_undefined() -> None:
    result = responder_estimates(_changes(0, 10), _changes(4, 10), -6.0, arm="a", control="c", alpha=0.05)
    failed = dict(result.failures)
    assert set(failed) == {Analysis.RESPONDER_RR, Analysis.RESPONDER_OR}
    assert "no responder" in failed[Analysis.RESPONDER_RR]
    assert "zero cell" in failed[Analysis.RESPONDER_OR]
    rows = _by_analysis(result)
    assert set(rows) == {Analysis.RESPONDER_RD, Analysis.RESPONDER_NNT}
    assert rows[Analysis.RESPONDER_RD].estimate == pytest.approx(-0.4)
    assert rows[Analysis.RESPONDER_RD].p_value == pytest.approx(_exact_two_sided(0, 10, 4, 6))


def test_all_treatment_subjects_responding_leaves_only_the_or_undefined() -> None:
    result = responder_estimates(_changes(10, 10), _changes(4, 10), -6.0, arm="a", control="c", alpha=0.05)
    assert [a for a, _ in result.failures] == [Analysis.RESPONDER_OR]
    rr = _by_analysis(result)[Analysis.RESPONDER_RR]
    assert rr.estimate == pytest.approx(2.5)
    assert rr.ci_low == pytest.approx(2.5 * math.exp(-1.959963984540054 * math.sqrt(1 / 4 - 1 / 10)))


def test_equal_proportions_leave_the_nnt_undefined() -> None:
    result = responder_estimates(_changes(5, 10), _changes(5, 10), -6.0, arm="a", control="c", alpha=0.05)
    assert [a for a, _ in result.failures] == [Analysis.RESPONDER_NNT]
    rows = _by_analysis(result)
    assert rows[Analysis.RESPONDER_RR].estimate == 1.0
    assert rows[Analysis.RESPONDER_OR].estimate == 1.0


def test_missing_changes_are_an_error_naming_their_position() -> None:
    with pytest.raises(
        TrialkitError, match=r"`change_treatment` must hold finite numbers .*got nan at position 1"
    ) as err:
        responder_estimates(np.array([-7.0, np.nan]), _changes(2, 5), -6, arm="a", control="c", alpha=0.05)
    assert not isinstance(err.value, AnalysisError)


def test_an_empty_arm_is_an_analysis_error_naming_the_argument() -> None:
    with pytest.raises(AnalysisError, match="at least 1 value") as err:
        responder_estimates(_changes(2, 5), np.array([]), -6, arm="a", control="c", alpha=0.05)
    assert err.value.term == "change_control"


@pytest.mark.parametrize("threshold", [0, 0.0, float("nan"), float("inf")])
def test_a_zero_or_non_finite_threshold_is_rejected(threshold) -> None:
    with pytest.raises(TrialkitError, match="threshold"):
        responder_estimates(_changes(2, 5), _changes(2, 5), threshold, arm="a", control="c", alpha=0.05)


def test_inputs_are_not_mutated() -> None:
    t, c = _changes(3, 6), _changes(1, 6)
    t0, c0 = t.copy(), c.copy()
    responder_estimates(t, c, -6, arm="a", control="c", alpha=0.05)
    np.testing.assert_array_equal(t, t0)
    np.testing.assert_array_equal(c, c0)


# --------------------------------------------------------------------------------------------
# responder_rates


def test_responder_rate_is_a_proportion_with_a_wilson_interval() -> None:
    e = responder_rates(_changes(7, 20), -6.0, arm="active", alpha=0.05)
    assert e.analysis is Analysis.RESPONDER_RATE
    assert e.contrast == "active"
    assert e.estimate == pytest.approx(0.35)
    np.testing.assert_allclose([e.ci_low, e.ci_high], [0.18119182410108206, 0.56714572331476365], rtol=1e-14)
    assert e.n_treatment == 20 and e.n_control is None
    assert math.isnan(e.p_value)


def test_responder_rate_rejects_missing_changes() -> None:
    with pytest.raises(TrialkitError, match="position 0"):
        responder_rates(np.array([np.nan, -8.0]), -6.0, arm="a", alpha=0.05)


# --------------------------------------------------------------------------------------------
# MCID sweep


def test_mcid_sweep_repeats_the_contrasts_at_every_threshold() -> None:
    rng = np.random.default_rng(3)
    t = rng.integers(-12, 3, 30).astype(float)
    c = rng.integers(-8, 5, 30).astype(float)
    thresholds = default_thresholds(-6, integer=True)
    sweep = mcid_sweep(t, c, thresholds, arm="a", control="c", alpha=0.05)
    assert tuple(sweep.columns) == SWEEP_COLUMNS
    for th in thresholds:
        part = sweep[sweep["threshold"] == th].set_index("analysis")
        expected = responder_estimates(t, c, th, arm="a", control="c", alpha=0.05)
        for e in expected.estimates:
            if e.analysis is Analysis.RESPONDER_NNT:
                continue
            row = part.loc[e.analysis.value]
            assert (row["estimate"], row["ci_low"], row["ci_high"], row["p_value"]) == (
                e.estimate,
                e.ci_low,
                e.ci_high,
                e.p_value,
            )
            assert row["responders_treatment"] == int((t <= th).sum())
            assert row["responders_control"] == int((c <= th).sum())
            assert (row["n_treatment"], row["n_control"]) == (30, 30)


def test_mcid_sweep_leaves_out_undefined_rows() -> None:
    t = np.array([-10.0, -9.0, -3.0, -1.0])
    c = np.array([-4.0, -2.0, 0.0, 1.0])
    sweep = mcid_sweep(t, c, [-3.0, -9.0], arm="a", control="c", alpha=0.05)
    # at -9 no control subject responds: RR and OR undefined, RD kept
    assert sweep.loc[sweep["threshold"] == -9.0, "analysis"].tolist() == ["responder_rd"]
    assert sweep.loc[sweep["threshold"] == -3.0, "analysis"].tolist() == [
        "responder_rd",
        "responder_rr",
        "responder_or",
    ]
    assert sweep["n_treatment"].dtype == "int64"


def test_mcid_sweep_with_no_threshold_is_an_empty_frame() -> None:
    sweep = mcid_sweep(_changes(2, 4), _changes(1, 4), [], arm="a", control="c", alpha=0.05)
    assert sweep.empty and tuple(sweep.columns) == SWEEP_COLUMNS


@pytest.mark.parametrize(
    ("threshold", "integer", "expected"),
    [
        (-6, True, (-3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0)),
        (-5, True, (-3.0, -4.0, -5.0, -6.0, -7.0)),
        (1, True, (1.0,)),
        (2, True, (1.0, 2.0, 3.0)),
        (30, True, (15.0, 23.0, 30.0, 38.0, 45.0)),
        (10.0, False, (5.0, 7.5, 10.0, 12.5, 15.0)),
        (-0.4, False, (-0.2, -0.30000000000000004, -0.4, -0.5, -0.6000000000000001)),
    ],
)
def test_default_thresholds_grid(threshold, integer, expected) -> None:
    assert default_thresholds(threshold, integer=integer) == pytest.approx(expected)


def test_default_thresholds_keep_the_mcid_itself() -> None:
    assert -5.5 in default_thresholds(-5.5, integer=True)
    assert -6.0 in default_thresholds(-6.0)


# --------------------------------------------------------------------------------------------
# shared R reference cases (tests/reference/analyses/<case>/, make_reference.R)


def _reference_rows(case: str) -> tuple[tk.Trial, pd.DataFrame]:
    folder = REFERENCE / case
    if not (folder / "expected.csv").exists():
        pytest.fail(f"{folder} has no R reference yet")
    expected = pd.read_csv(folder / "expected.csv")
    expected = expected[expected["analysis"].str.startswith("responder_")].copy()
    # make_reference.R labels the ratio rows "<arm> / <control>"; trialkit uses one contrast key,
    # "<arm> - <control>", for every between-arm row (docs/analyses.md, first paragraph)
    expected["contrast"] = expected["contrast"].str.replace(" / ", " - ", regex=False)
    return tk.load(folder / "study.toml"), expected


def _our_rows(trial: tk.Trial) -> pd.DataFrame:
    alpha, control = trial.spec.study.alpha, trial.control
    changes = trial.changes()
    rows = []
    for ep in trial.spec.endpoints:
        if ep.responder_change is None:
            continue
        for visit in trial.spec.visits.post_baseline:
            part = changes[(changes["endpoint"] == ep.id) & (changes["visit"] == visit)]
            by_arm = {a: part.loc[part["arm"] == a, "change"].dropna().to_numpy() for a in trial.arms}
            for a in trial.arms:
                rows.append(responder_rates(by_arm[a], ep.responder_change, arm=a, alpha=alpha).row(ep.id, visit))
                if a == control:
                    continue
                result = responder_estimates(
                    by_arm[a], by_arm[control], ep.responder_change, arm=a, control=control, alpha=alpha
                )
                rows += [e.row(ep.id, visit) for e in result.estimates]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("case", REFERENCE_CASES)
def test_responder_rows_match_r(case) -> None:
    """Relative error <= 1e-12 (Fisher p: 1e-10, R's dhyper and scipy's logpmf differ in the last bits)."""
    trial, expected = _reference_rows(case)
    assert not expected.empty
    got = _our_rows(trial)
    key = ["endpoint", "visit", "analysis", "contrast"]
    merged = expected.merge(got, on=key, suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(expected) == len(got)  # the same rows are defined (and left out)
    for c in ("n_treatment", "n_control"):
        assert (merged[c].fillna(-1).astype(int) == merged[f"{c}_r"].fillna(-1).astype(int)).all(), c
    for c in ("estimate", "std_error", "ci_low", "ci_high"):
        np.testing.assert_allclose(merged[c], merged[f"{c}_r"], rtol=1e-12, atol=1e-15, err_msg=c)
    np.testing.assert_allclose(merged["p_value"], merged["p_value_r"], rtol=1e-10, atol=0)
