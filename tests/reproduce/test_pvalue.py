"""Published p-values: read as printed, their intervals, and impossible values refused with the fix."""

from __future__ import annotations

import re

import pytest

from trialkit.reproduce.published import PValue


@pytest.mark.parametrize(
    "written, value, bound",
    [
        ("0.002", 0.002, "="),
        ("< 0.001", 0.001, "<"),
        ("<0.001", 0.001, "<"),
        ("P = 0.06", 0.06, "="),
        ("p<=0.05", 0.05, "<="),
        ("≤ 0.01", 0.01, "<="),
        ("> 0.05", 0.05, ">"),
        ("1e-5", 1e-5, "="),
        (0.37, 0.37, "="),
        (1, 1.0, "="),
    ],
)
def test_p_values_are_read_as_printed(written, value, bound) -> None:
    p = PValue.parse(written)
    assert (p.value, p.bound) == (value, bound)


@pytest.mark.parametrize(
    "written, interval",
    [
        ("0.002", (0.0015, 0.0025)),
        ("0.030", (0.0295, 0.0305)),
        ("0.03", (0.025, 0.035)),
        ("< 0.001", (0.0, 0.001)),
        ("> 0.05", (0.05, 1.0)),
        ("1", (0.5, 1.0)),
        ("1.00", (0.995, 1.0)),
        ("1.2e-5", (1.15e-5, 1.25e-5)),
    ],
)
def test_p_value_interval_follows_the_printed_digits(written, interval) -> None:
    assert PValue.parse(written).interval == pytest.approx(interval, rel=1e-15, abs=0)


@pytest.mark.parametrize(
    "written, says",
    [
        ("1.3", "[0, 1]"),
        ("NS", "cannot read"),
        ("0.000", "< 0.0005"),
        ("< 0", "below 0"),
        ("> 1", "above 1"),
        (True, "p-value as published"),
        ("0.05.1", "cannot read"),
    ],
)
def test_impossible_p_values_are_refused_with_the_fix(written, says) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        PValue.parse(written)
