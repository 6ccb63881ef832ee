"""Verdicts on published p-values, and printed p-values read as intervals.

The verdicts on Student's sleep table are in tests/reproduce/test_table_audit.py.
"""

from __future__ import annotations

import pytest

from trialkit.reproduce import Verdict
from trialkit.reproduce.audit import ArmSummary, t_from_summary, table_verdict
from trialkit.reproduce.published import PValue


def test_printed_p_values_read_as_intervals() -> None:
    assert PValue.parse(0.03).interval_text == "[0.025, 0.035)"
    assert PValue.parse("0.030").interval_text == "[0.0295, 0.0305)"
    assert PValue.parse("p < .001").interval_text == "(0, 0.001)"
    assert PValue.parse("P ≤ 0.05").interval_text == "(0, 0.05]"
    assert PValue.parse("> 0.05").interval_text == "(0.05, 1]"
    assert PValue.parse("1.00").contains(1.0)


def test_verdict_kinds() -> None:
    t = ArmSummary(30, 12.0, 4.0, baseline_mean=15.0, baseline_sd=5.0)
    c = ArmSummary(30, 14.5, 4.5, baseline_mean=15.5, baseline_sd=4.8)
    # a huge effect: p < 0.001 whatever r
    big = ArmSummary(30, 2.0, 1.0, baseline_mean=15.0, baseline_sd=1.0)
    assert table_verdict("< 0.001", big, c, equal_var=True).verdict is Verdict.REPRODUCED
    # p falls from 0.24 (r = 0) as r grows: 0.5 cannot be reached
    res = table_verdict("0.5", t, c, equal_var=False)
    assert res.verdict is Verdict.NOT_REPRODUCIBLE and "no r in" in res.reason
    # published change SDs: no r needed
    t2 = ArmSummary(30, 12.0, 4.0, baseline_mean=15.0, baseline_sd=5.0, change_sd=4.2)
    c2 = ArmSummary(30, 14.5, 4.5, baseline_mean=15.5, baseline_sd=4.8, change_sd=4.4)
    p = t_from_summary(-3.0, 4.2, 30, -1.0, 4.4, 30, equal_var=True).p_value
    res = table_verdict(f"{p:.3f}", t2, c2, equal_var=True)
    assert res.verdict is Verdict.REPRODUCED and res.p_value == pytest.approx(p, rel=1e-14)
    wrong = table_verdict(f"{p * 3:.3f}", t2, c2, equal_var=True)
    assert wrong.verdict is Verdict.NOT_REPRODUCIBLE and "outside" in wrong.reason
