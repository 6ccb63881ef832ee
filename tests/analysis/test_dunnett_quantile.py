"""The Dunnett many-to-one critical value (two- and one-sided) against R's mvtnorm.

R reference: tests/reference/dunnett_quantile/dunnett_quantile.R. Tolerances, absolute on c:
- 1e-12 against uniroot(tol = 1e-13) on TVPACK (k <= 3, integer df; abseps 1e-14 on the
  probability, and the density of max |T| near alpha = 0.01..0.1 is above 0.05, so the reference's
  c is good to about 1e-13; ours is a root to 1e-12 of an integral measured below 1e-15; measured
  difference at most 5e-14);
- 2e-6 against uniroot on GenzBretz(abseps = 1e-8) for k >= 4 (that reference's own probability
  error of 1e-8 is about 2e-7 on c; measured difference 5e-7 on the 4-arm case, where our value
  agrees with the nested-quadrature tail of dunnett_p to 1e-15);
- 2e-3 against qmvt's default answer (randomised GenzBretz at abseps 1e-3).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trialkit as tk
from trialkit.analysis import dunnett_p
from trialkit.analysis._dunnett import dunnett_quantile

REFERENCE = Path(__file__).parents[1] / "reference" / "dunnett_quantile"
CASES = pd.read_csv(REFERENCE / "expected.csv")
ROWS = list(CASES.itertuples())


def _sizes(row) -> list[float]:
    return [float(x) for x in row.n_per_arm.split()]


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.n_per_arm} df={r.df} alpha={r.alpha} sided={r.sided}" for r in ROWS])
def test_matches_mvtnorm(row) -> None:
    c = dunnett_quantile(row.alpha, _sizes(row), row.df, sided=int(row.sided))
    tolerance = 1e-12 if row.algorithm.startswith("TVPACK") else 2e-6
    assert c == pytest.approx(row.value, abs=tolerance)
    assert c == pytest.approx(row.qmvt, abs=2e-3)


@pytest.mark.parametrize("sizes", [(20, 20, 20), (10, 25, 40), (30, 30, 30, 30, 30), (12, 120, 120)])
def test_the_two_sided_tail_at_the_quantile_is_alpha_by_dunnett_p(sizes) -> None:
    df = sum(sizes) - len(sizes)
    c = dunnett_quantile(0.05, sizes, df)
    n0, arms = sizes[0], np.asarray(sizes[1:], dtype=float)
    share = np.sqrt(arms / (arms + n0))
    corr = np.outer(share, share)
    np.fill_diagonal(corr, 1.0)
    assert dunnett_p([c] * len(arms), corr, df)[0] == pytest.approx(0.05, abs=1e-12)


def test_one_arm_is_the_t_quantile_and_the_normal_is_the_limit() -> None:
    from scipy import stats

    assert dunnett_quantile(0.05, [10, 10], 18) == pytest.approx(stats.t.isf(0.025, 18), abs=1e-14)
    assert dunnett_quantile(0.05, [10, 10], 18, sided=1) == pytest.approx(stats.t.isf(0.05, 18), abs=1e-14)
    normal = dunnett_quantile(0.05, [20, 20, 20], math.inf)
    assert dunnett_quantile(0.05, [20, 20, 20], 1e7) == pytest.approx(normal, abs=1e-6)
    assert dunnett_quantile(0.05, [20, 20, 20], math.inf, sided=1) < normal


def test_one_sided_is_between_unadjusted_and_bonferroni() -> None:
    from scipy import stats

    c = dunnett_quantile(0.025, [30, 30, 30, 30], 116, sided=1)
    assert stats.t.isf(0.025, 116) < c < stats.t.isf(0.025 / 3, 116)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({"alpha": 0}, "`alpha` must be a number in (0, 1); got 0."),
        ({"n_per_arm": [10]}, "`n_per_arm` must hold at least 2 values; got 1."),
        ({"n_per_arm": [10, 0]}, "`n_per_arm[1]` must be a size > 0; got 0.0."),
        ({"df": 0}, "`df` must be degrees of freedom > 0; got 0."),
        ({"sided": 3}, "`sided` must be one of 2, 1; got 3."),
    ],
)
def test_bad_arguments_are_refused(call: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"alpha": 0.05, "n_per_arm": [10, 10, 10], "df": 27} | call
    with pytest.raises(tk.TrialkitError) as info:
        dunnett_quantile(args.pop("alpha"), args.pop("n_per_arm"), args.pop("df"), **args)  # type: ignore[arg-type]
    assert str(info.value) == message
