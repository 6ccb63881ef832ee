"""t-based comparisons of change: Welch and Student between arms, paired within an arm."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from trialkit._errors import AnalysisError

__all__ = ["TTest", "paired_t", "t_inference", "two_sample_t"]


@dataclass(frozen=True)
class TTest:
    """Mean difference, its SE, df, t, two-sided p and the 1 - alpha CI."""

    estimate: float
    std_error: float
    df: float
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float


def t_inference(est: float, se: float, df: float, alpha: float) -> TTest:
    """T = est/se, two-sided p = 2·P(T_df > |t|) and the CI est ± t_{1−α/2, df}·se (se > 0)."""
    t = est / se
    q = stats.t.ppf(1 - alpha / 2, df)
    return TTest(est, se, float(df), t, float(2 * stats.t.sf(abs(t), df)), est - q * se, est + q * se)


def _finish(est: float, se: float, df: float, alpha: float, what: str, scale: float) -> TTest:
    # a spread at the level of rounding noise of the values is no spread: t would be noise / noise
    if not se > 64 * np.finfo(float).eps * max(scale, 1e-300):
        raise AnalysisError(f"{what}: zero variance, the t statistic is undefined.", term="value")
    return t_inference(est, se, df, alpha)


def two_sample_t(x: np.ndarray, y: np.ndarray, *, equal_var: bool, alpha: float = 0.05) -> TTest:
    """Two-sample t-test of mean(x) − mean(y).

    Student (``equal_var=True``): SE = s_p·√(1/n_x + 1/n_y), df = n_x + n_y − 2. Welch: SE =
    √(s_x²/n_x + s_y²/n_y), Welch–Satterthwaite df. Matches R ``t.test(x, y, var.equal=...)``.

    Raises
    ------
    AnalysisError
        Fewer than 2 values in a sample, or zero variance.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    nx, ny = len(x), len(y)
    if nx < 2 or ny < 2:
        raise AnalysisError(f"a t-test needs at least 2 values per arm; got {nx} and {ny}.", term="arm")
    vx, vy = x.var(ddof=1), y.var(ddof=1)
    est = float(x.mean() - y.mean())
    if equal_var:
        df = nx + ny - 2
        sp2 = ((nx - 1) * vx + (ny - 1) * vy) / df
        se = float(np.sqrt(sp2 * (1 / nx + 1 / ny)))
    else:
        a, b = vx / nx, vy / ny
        se = float(np.sqrt(a + b))
        df = (a + b) ** 2 / (a**2 / (nx - 1) + b**2 / (ny - 1)) if a + b > 0 else np.nan
    return _finish(est, se, df, alpha, "two-sample t-test", float(max(np.abs(x).max(), np.abs(y).max())))


def paired_t(d: np.ndarray, *, alpha: float = 0.05) -> TTest:
    """One-sample t-test of paired differences ``d`` (follow-up − baseline); df = n − 1.

    Matches R ``t.test(post, pre, paired = TRUE)``.
    """
    d = np.asarray(d, float)
    n = len(d)
    if n < 2:
        raise AnalysisError(f"a paired t-test needs at least 2 subjects; got {n}.", term="arm")
    return _finish(
        float(d.mean()), float(d.std(ddof=1) / np.sqrt(n)), n - 1, alpha, "paired t-test", float(np.abs(d).max())
    )
