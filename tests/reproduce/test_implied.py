"""What a p-value and n imply: p <-> t <-> d round trips, power at the MDE, bad arguments.

The R references (tests/reference/abstract_audit/) are checked in tests/reproduce/test_abstract_audit.py.
"""

from __future__ import annotations

import pytest

from trialkit import TrialkitError
from trialkit.reproduce.audit import (
    d_from_t,
    d_interval,
    hedges_correction,
    minimal_detectable_effect,
    p_from_t,
    power_two_sample,
    t_from_d,
    t_from_p,
)

REL = 1e-10


# ---------------------------------------------------------------------------------------------
# Inversions


@pytest.mark.parametrize("df", [1, 2, 2.5, 9, 41, 200, 1e5])
def test_t_from_p_and_back_round_trips(df) -> None:
    """Round trip to relative 1e-12 (observed <= 1e-14).

    At df = 1 (Cauchy) scipy's quantile just below the median loses precision (p = 0.999999 comes
    back 8e-12 off), so p > 0.99 is left out there.
    """
    grid = (1e-12, 1e-10, 1e-6, 0.0006, 0.001, 0.002, 0.03, 0.05, 0.37, 0.5, 0.9, 0.99, 0.999999, 1.0)
    for p in grid if df > 1 else grid[:-2]:
        assert p_from_t(t_from_p(p, df), df) == pytest.approx(p, rel=1e-12, abs=0)


def test_p_from_t_and_back_round_trips() -> None:
    for df in (3, 20, 41):
        for t in (0.0, 0.1, 1.0, 2.5, -3.3, 6.0):
            assert t_from_p(p_from_t(t, df), df) == pytest.approx(abs(t), rel=1e-12, abs=1e-12)


def test_d_from_t_and_back_round_trips() -> None:
    for n1, n0 in ((22, 21), (5, 9), (100, 100)):
        for t in (-4.0, -0.5, 0.0, 1.3, 3.301):
            assert t_from_d(d_from_t(t, n1, n0), n1, n0) == pytest.approx(t, rel=1e-14, abs=1e-15)
    assert d_from_t(2.0, 8, 8) == 1.0  # 2 * sqrt(1/8 + 1/8)


def test_power_at_the_minimal_detectable_effect_is_the_target() -> None:
    for n1, n0 in ((22, 21), (10, 10)):
        for target in (0.8, 0.9):
            d = minimal_detectable_effect(n1, n0, power=target)
            assert power_two_sample(d, n1, n0) == pytest.approx(target, rel=1e-12)


def test_d_interval_has_the_confidence_level_it_claims() -> None:
    # a p-value equal to 1 - level puts one CI limit at 0
    t = t_from_p(0.05, 41)
    low, high = d_interval(t, 22, 21, level=0.95)
    assert abs(low) < 1e-10 and high > d_from_t(t, 22, 21)


@pytest.mark.parametrize(
    "call",
    [
        lambda: t_from_p(0, 10),
        lambda: t_from_p(1.2, 10),
        lambda: t_from_p(0.05, 0),
        lambda: d_from_t(1.0, 0, 5),
        lambda: power_two_sample(0.5, 1, 5),
        lambda: hedges_correction(1),
        lambda: minimal_detectable_effect(10, 10, power=1.0),
    ],
)
def test_bad_arguments_raise_trialkit_errors(call) -> None:
    with pytest.raises(TrialkitError):
        call()
