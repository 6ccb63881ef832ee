"""The table-level tools on Student's 1908 sleep table against R, and malformed inputs to every tool.

R references: tests/reference/table_audit/ (R datasets::sleep).

The tools' own checks (hand arithmetic, brute-force enumeration, scipy) are in tests/reproduce/test_grim.py,
test_sd_bounds.py, test_summary_tests.py, test_p_over_r.py and test_table_verdict.py; the audit of a
published file (``audit_tables``) is tested at the end; Student's bundled file end to end in
test_reproduction.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialkit import TrialkitError
from trialkit.reproduce import Verdict
from trialkit.reproduce.audit import (
    ArmSummary,
    Comparison,
    TableFlag,
    TTestMethod,
    change_score_sd,
    check_sd,
    correlation_from_change_sd,
    grim,
    grimmer,
    implied_r,
    p_change_over_r,
    paired_t_from_summary,
    sd_bounds,
    t_from_summary,
    table_verdict,
)

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "table_audit"


@pytest.fixture(scope="module")
def sleep() -> dict[str, object]:
    data = pd.read_csv(REFERENCE / "sleep.csv")
    table = pd.read_csv(REFERENCE / "sleep_table.csv").set_index("quantity")
    expected = pd.read_csv(REFERENCE / "expected.csv").set_index("test")
    return {"data": data, "table": table, "expected": expected}


def test_t_from_summary_reproduces_r_two_sample_tests_on_the_sleep_data(sleep) -> None:
    """Relative error <= 1e-10 against R t.test (Welch and Student) on the individual data."""
    d1, d2 = sleep["data"]["drug1"].to_numpy(), sleep["data"]["drug2"].to_numpy()
    for name, equal_var in (("welch", False), ("student", True)):
        got = t_from_summary(d2.mean(), d2.std(ddof=1), 10, d1.mean(), d1.std(ddof=1), 10, equal_var=equal_var)
        ref = sleep["expected"].loc[name]
        for field in ("estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high"):
            np.testing.assert_allclose(getattr(got, field), ref[field], rtol=1e-10, err_msg=f"{name} {field}")


def test_paired_t_from_summary_reproduces_r_paired_test(sleep) -> None:
    diff = (sleep["data"]["drug2"] - sleep["data"]["drug1"]).to_numpy()
    got = paired_t_from_summary(diff.mean(), diff.std(ddof=1), 10)
    ref = sleep["expected"].loc["paired"]
    for field in ("estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high"):
        np.testing.assert_allclose(getattr(got, field), ref[field], rtol=1e-10, err_msg=field)


# ---------------------------------------------------------------------------------------------
# Student's sleep table, end to end


def test_students_published_sds_use_divisor_n(sleep) -> None:
    """Student printed S.D. 1.70, 1.90, 1.17: the divisor-n SDs; divisor n - 1 gives 1.79, 2.00, 1.23."""
    table = sleep["table"]
    assert (table["published_sd_matches"] == "divisor_n").all()
    data = sleep["data"]
    cols = {"drug1": data["drug1"], "drug2": data["drug2"], "difference": data["drug2"] - data["drug1"]}
    for name, x in cols.items():
        assert round(float(x.std(ddof=0)), 2) == table.loc[name, "published_sd"]
        assert round(float(x.std(ddof=1)), 2) != table.loc[name, "published_sd"]
        assert float(x.std(ddof=1)) == pytest.approx(table.loc[name, "sd_divisor_n_minus_1"], rel=1e-14)
    assert round(float(cols["difference"].std(ddof=1)), 2) == 1.23


def test_grimmer_accepts_students_table_in_tenths_of_an_hour(sleep) -> None:
    # the data are in tenths of an hour: in tenths, mean 0.75 h = 7.5 and S.D. 1.70 h = 17.0 (divisor n)
    for name, row in sleep["table"].iterrows():
        res = grimmer(
            f"{row['published_mean'] * 10:.1f}",
            f"{row['published_sd'] * 10:.1f}",
            10,
            decimals_mean=1,
            decimals_sd=1,
            ddof=0,
        )
        assert res.consistent, (name, res.reason)


def test_change_score_sd_is_exact_for_sample_statistics(sleep) -> None:
    d1, d2 = sleep["data"]["drug1"], sleep["data"]["drug2"]
    r = float(sleep["expected"].loc["cor", "estimate"])
    assert change_score_sd(d1.std(), d2.std(), r) == pytest.approx(float((d2 - d1).std()), rel=1e-13)
    assert correlation_from_change_sd(d1.std(), d2.std(), float((d2 - d1).std())) == pytest.approx(r, rel=1e-12)


def test_implied_r_recovers_the_within_patient_correlation(sleep) -> None:
    """From the paired p and the two SDs (full precision), the solver returns cor(drug1, drug2)."""
    d1, d2 = sleep["data"]["drug1"], sleep["data"]["drug2"]
    arm = ArmSummary(10, float(d2.mean()), float(d2.std()), baseline_mean=float(d1.mean()), baseline_sd=float(d1.std()))
    res = implied_r(float(sleep["expected"].loc["paired", "p_value"]), arm)
    assert res.monotone and len(res.roots) == 1
    assert res.roots[0] == pytest.approx(float(sleep["expected"].loc["cor", "estimate"]), abs=1e-6)


@pytest.mark.parametrize("decimals", [None, 2])
def test_verdict_on_students_published_table(sleep, decimals) -> None:
    """Printed p 0.003 (R's paired p, 0.00283, to 3 decimals) from the two printed rows alone.

    With divisor-n SDs and no row of differences, it is reproduced only for an interval of r that
    contains the data's r = 0.795.
    """
    table = sleep["table"]
    arm = ArmSummary(
        10,
        table.loc["drug2", "published_mean"],
        table.loc["drug2", "published_sd"],
        baseline_mean=table.loc["drug1", "published_mean"],
        baseline_sd=table.loc["drug1", "published_sd"],
        sd_ddof=0,
    )
    res = table_verdict("0.003", arm, decimals=decimals)
    r_true = float(sleep["expected"].loc["cor", "estimate"])
    assert res.verdict is Verdict.REPRODUCED_FOR_R and res.method is TTestMethod.PAIRED
    assert len(res.r_intervals) == 1
    a, b = res.r_intervals[0]
    assert a < r_true < b and 0.7 < a and b < 0.9
    # the printed values sit inside the rounding box, so the box widens the r interval
    if decimals is not None:
        plain = table_verdict("0.003", arm).r_intervals[0]
        assert a <= plain[0] and plain[1] <= b
    else:  # R: uniroot on the paired p over r (tests/reference/student1908/), to 1e-8 (roots to 1e-13 and 1e-14)
        want = pd.read_csv(REFERENCE.parent / "student1908" / "expected.csv").set_index("quantity")["value"]
        assert (a, b) == pytest.approx((want["r_low_exact"], want["r_high_exact"]), abs=1e-8)


def test_verdict_on_students_two_sample_comparison(sleep) -> None:
    table = sleep["table"]
    d1 = ArmSummary(10, table.loc["drug1", "published_mean"], table.loc["drug1", "published_sd"], sd_ddof=0)
    d2 = ArmSummary(10, table.loc["drug2", "published_mean"], table.loc["drug2", "published_sd"], sd_ddof=0)
    p_welch = round(float(sleep["expected"].loc["welch", "p_value"]), 3)  # 0.079
    res = table_verdict(f"{p_welch:.3f}", d2, d1, comparison="follow_up", decimals=2)
    assert res.verdict is Verdict.REPRODUCED and res.r_intervals == ()
    # at the printed values alone only Student lands in [0.0785, 0.0795): Welch gives 0.0796
    exact = table_verdict(f"{p_welch:.3f}", d2, d1, comparison="follow_up")
    assert exact.method is TTestMethod.STUDENT and "welch: not reproducible" in exact.reason
    assert (
        table_verdict(f"{p_welch:.3f}", d2, d1, comparison="follow_up", equal_var=False).verdict
        is Verdict.NOT_REPRODUCIBLE
    )


# ---------------------------------------------------------------------------------------------
# malformed inputs


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: t_from_summary(1, 1, 1, 2, 1, 10, equal_var=True), r"`n1` must be an integer >= 2; got 1"),
        (lambda: grimmer(3.0, 1.0, 1, decimals_mean=2, decimals_sd=2), r"`n` must be an integer >= 2; got 1"),
        (lambda: sd_bounds(2.0, 1, 0, 4, integer=True), r"`n` must be an integer >= 2; got 1"),
        (lambda: ArmSummary(1, 2.0, 1.0), r"`n` must be an integer >= 2; got 1"),
        (lambda: grim(2.5, 0, decimals=1), r"`n` must be an integer >= 1; got 0"),
        (lambda: grim(2.5, 10.0, decimals=1), r"`n` must be an integer >= 1; got 10.0"),
        (lambda: t_from_summary(1, -1, 10, 2, 1, 10, equal_var=True), r"`sd1` must be a standard deviation"),
        (lambda: grimmer(3.0, -1.0, 5, decimals_mean=2, decimals_sd=2), r"`sd` must be a standard deviation"),
        (lambda: ArmSummary(10, 2.0, 1.0, baseline_sd=-0.5), r"`baseline_sd` must be a standard deviation"),
        (lambda: check_sd(2.0, -1.0, 10, 0, 4, integer=True), r"`sd` must be a standard deviation"),
        (lambda: change_score_sd(1.0, 1.0, 1.5), r"`r` must be a correlation in \[-1, 1\]; got 1.5"),
        (
            lambda: p_change_over_r(ArmSummary(10, 2, 1, baseline_mean=1, baseline_sd=1), r=[-1.2]),
            r"`r` must be a correlation in \[-1, 1\]",
        ),
        (
            lambda: implied_r(0.05, ArmSummary(10, 2, 1, baseline_mean=1, baseline_sd=1), r_range=(0, 2)),
            r"`r_range\[1\]` must be a correlation",
        ),
        (
            lambda: implied_r(0.0, ArmSummary(10, 2, 1, baseline_mean=1, baseline_sd=1)),
            r"`target_p` must be a p-value in \(0, 1\]; got 0.0",
        ),
        (
            lambda: implied_r(1.5, ArmSummary(10, 2, 1, baseline_mean=1, baseline_sd=1)),
            r"`target_p` must be a p-value in \(0, 1\]; got 1.5",
        ),
        (lambda: table_verdict("1.2", ArmSummary(10, 2, 1, change_sd=1)), r"`p` must be a p-value in \(0, 1\]"),
        (lambda: table_verdict(0, ArmSummary(10, 2, 1, change_sd=1)), r"`p` must be a p-value in \(0, 1\]"),
        (lambda: table_verdict("n.s.", ArmSummary(10, 2, 1, change_sd=1)), r"`p` must be a p-value"),
        (lambda: table_verdict(-0.01, ArmSummary(10, 2, 1, baseline_mean=1, baseline_sd=1)), r"`p` must be a p-value"),
        (
            lambda: p_change_over_r(
                ArmSummary(10, 2, 1, baseline_mean=1, baseline_sd=1),
                ArmSummary(10, 1, 1, baseline_mean=1, baseline_sd=1),
            ),
            r"`equal_var` must be True",
        ),
        (
            lambda: implied_r(0.05, ArmSummary(10, 2, 1, baseline_mean=1, baseline_sd=1), equal_var=True),
            r"leave it unset for a within-arm",
        ),
        (
            lambda: table_verdict(0.05, ArmSummary(10, 2, 1), ArmSummary(10, 1, 1), equal_var=True),
            r"change analysis needs `baseline_mean`",
        ),
        (lambda: table_verdict(0.05, ArmSummary(10, 2, 1), comparison="follow_up"), r"needs two arms"),
        (
            lambda: table_verdict(0.05, ArmSummary(10, 2, 1), ArmSummary(10, 1, 1), comparison="end", equal_var=True),
            r"`comparison` must be one of 'follow_up', 'change'",
        ),
        (lambda: grim(2.5, 10, decimals=1, rounding="bankers"), r"`rounding` must be one or more of"),
        (lambda: sd_bounds(5.0, 10, 0, 4, integer=False), r"outside the range"),
        (lambda: sd_bounds(2.0, 10, 4, 0, integer=False), r"`low` must be below `high`"),
        (lambda: sd_bounds(2.33, 10, 0, 4, integer=True), r"must be an integer; got 23\.3\. Pass `decimals`"),
        (lambda: correlation_from_change_sd(1.0, 1.0, 3.0), r"outside \[-1, 1\]"),
    ],
)
def test_malformed_inputs_raise_trialkit_errors_naming_the_argument(call, message) -> None:
    with pytest.raises(TrialkitError, match=message) as info:
        call()
    assert isinstance(info.value, TrialkitError) and isinstance(info.value, ValueError)


def test_comparison_registry_values() -> None:
    assert [c.value for c in Comparison] == ["follow_up", "change"]
    assert [v.value for v in Verdict] == ["reproduced", "reproduced_for_r", "not_reproducible", "not_assessable"]


# ---------------------------------------------------------------------------------------------
# the audit of a published file (audit_tables)


def _document(outcomes: list[dict]) -> dict:
    return {
        "trial": {"id": "flags"},
        "citation": {"authors": ["Doe J"], "title": "t", "year": 2020, "source": "s"},
        "design": {
            "type": "parallel",
            "control": "placebo",
            "visits": ["baseline", "week8"],
            "baseline": "baseline",
            "randomised": 60,
            "source": "s",
        },
        "arms": {"active": {"source": "s"}, "placebo": {"source": "s"}},
        "outcomes": outcomes,
    }


def _outcome(oid: str, rows: list[dict], **extra) -> dict:
    table = {"source": "s", "dispersion": "sd", "rows": rows} | extra.pop("table", {})
    return {"id": oid, "direction": "decrease", "p": "0.023", "source": "s", "table": table} | extra


def _rows(active: tuple, placebo: tuple, time: str = "week8", n: int = 20) -> list[dict]:
    return [
        {"arm": arm, "time": time, "n": n, "mean": mean, "sd": sd}
        for arm, (mean, sd) in (("active", active), ("placebo", placebo))
    ]


@pytest.fixture(scope="module")
def flagged():
    from trialkit.reproduce.audit import audit_tables
    from trialkit.reproduce.published import parse_published

    integer = {"integer": True, "range": [0, 28]}
    end = {"comparisons": [{"time": "week8", "p": "0.023"}]}  # Student: 14.0 vs 11.0, SD 4, n 20 -> 0.0229
    outcomes = [
        # the reference outcome: every check passes, the p is reproduced, in the published direction
        _outcome("clean", _rows(("11.00", "4.00"), ("14.00", "4.00")), scale=integer, table=end),
        # 5.19 from 28 integers is impossible (Brown & Heathers 2017)
        _outcome("grim", _rows(("5.19", "4.00"), ("14.00", "4.00"), n=28), scale=integer),
        # mean 2 of 20 integers in [0, 4]: the SD is at most 2.05 (2.51 passes GRIMMER: sum of squares 200)
        _outcome("sd", _rows(("2.00", "2.51"), ("2.00", "1.03")), scale={"integer": True, "range": [0, 4]}),
        _outcome("mean", _rows(("29.00", "1.03"), ("14.00", "4.00")), scale=integer),
        # SDs 1 and 1 at the two visits cannot give a change SD of 3 (at most 2, at r = -1)
        _outcome(
            "change_sd",
            _rows(("11.00", "1.00"), ("14.00", "1.00")) + _rows(("12.00", "1.00"), ("12.00", "1.00"), "baseline"),
            table={"change": [{"arm": "active", "time": "week8", "n": 20, "mean": "-1.00", "sd": "3.00"}]},
        ),
        # baseline means 10 and 12 with SDs 4: SMD -0.5
        _outcome("baseline", _rows(("10.00", "4.00"), ("12.00", "4.00"), "baseline")),
        # a p the table does not list; the published direction against the table's
        _outcome(
            "unlisted",
            _rows(("11.00", "4.00"), ("14.00", "4.00")),
            table={"comparisons": [{"time": "week8", "p": "0.5"}]},
        ),
        _outcome("direction", _rows(("14.00", "4.00"), ("11.00", "4.00")), table=end),
        # a comparison on change without the rows it needs
        _outcome(
            "no_rows",
            _rows(("12.00", "4.00"), ("12.00", "4.00"), "baseline"),
            table={"comparisons": [{"time": "week8", "p": "0.023", "on": "change"}]},
        ),
    ]
    audit = audit_tables(parse_published(_document(outcomes)))
    return audit, audit.outcomes.set_index("outcome")


def test_each_check_raises_its_flag_and_only_it(flagged) -> None:
    _, t = flagged
    flags = {f: f.column for f in TableFlag}
    expected = {
        "grim": TableFlag.GRIM,
        "sd": TableFlag.SD_RANGE,
        "mean": TableFlag.MEAN_RANGE,
        "change_sd": TableFlag.CHANGE_SD,
        "baseline": TableFlag.BASELINE_IMBALANCE,
    }
    for outcome in t.index:
        raised = {f for f, column in flags.items() if t.loc[outcome, column]}
        assert raised == ({expected[outcome]} if outcome in expected else set()), outcome
    assert t.loc["baseline", "baseline_smd"] == pytest.approx(-0.5, rel=1e-14)
    assert math.isnan(t.loc["clean", "baseline_smd"])  # no baseline rows


def test_the_outcome_verdict_is_that_of_its_printed_comparison(flagged) -> None:
    audit, t = flagged
    clean = t.loc["clean"]
    assert (clean["verdict"], clean["on"], clean["time"]) == ("reproduced", "end", "week8")
    assert clean["p_value"] == pytest.approx(
        t_from_summary(11.0, 4.0, 20, 14.0, 4.0, 20, equal_var=True).p_value, rel=1e-12
    )
    # equal n and SDs: Welch's t is Student's, and Welch is named first
    assert clean["test"] == "welch" and "student: reproduced" in clean["reason"]
    assert clean["estimate"] == pytest.approx(-3.0, rel=1e-15)
    assert t.loc["grim", "verdict"] == "not_assessable" and "add it to `comparisons`" in t.loc["grim", "reason"]
    assert t.loc["unlisted", "verdict"] == "not_assessable" and "(0.023)" in t.loc["unlisted", "reason"]
    assert t.loc["direction", "verdict"] == "not_reproducible"
    assert "against the published direction (decrease)" in t.loc["direction", "reason"]
    assert (
        t.loc["no_rows", "verdict"] == "not_assessable"
        and "no row and no change of 'active'" in t.loc["no_rows", "reason"]
    )
    assert len(audit.comparisons) == 4 and set(audit.checks["check"]) <= {f.value for f in TableFlag}


def test_checks_name_the_row_and_say_why(flagged) -> None:
    audit, _ = flagged
    c = audit.checks
    grim_row = c.loc[(c["outcome"] == "grim") & (c["check"] == "grim") & (c["arm"] == "active")].iloc[0]
    assert not grim_row["passed"] and "145/28" in grim_row["reason"] and "146/28" in grim_row["reason"]
    sd_row = c.loc[(c["outcome"] == "sd") & (c["check"] == "sd_range") & (c["arm"] == "active")].iloc[0]
    assert not sd_row["passed"] and "exceeds 2.05" in sd_row["reason"]
    change = c.loc[(c["outcome"] == "change_sd") & (c["check"] == "change_sd")].iloc[0]
    assert (change["table"], change["arm"], change["passed"]) == ("change", "active", False)
    assert "imply r = -3.5" in change["reason"]
