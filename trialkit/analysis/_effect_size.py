"""Standardised mean differences: Hedges' g, unadjusted and ANCOVA-adjusted."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from trialkit._errors import AnalysisError

__all__ = ["HedgesG", "hedges_correction", "hedges_g", "pooled_sd"]


@dataclass(frozen=True)
class HedgesG:
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float


def hedges_correction(df: float) -> float:
    """Exact small-sample factor J(ν) = Γ(ν/2) / (√(ν/2) Γ((ν−1)/2)) (Hedges 1981)."""
    return float(np.exp(special.gammaln(df / 2) - special.gammaln((df - 1) / 2)) / np.sqrt(df / 2))


def pooled_sd(x: np.ndarray, y: np.ndarray) -> float:
    """√(((n_x−1)s_x² + (n_y−1)s_y²) / (n_x+n_y−2))."""
    nx, ny = len(x), len(y)
    return float(np.sqrt(((nx - 1) * np.var(x, ddof=1) + (ny - 1) * np.var(y, ddof=1)) / (nx + ny - 2)))


def hedges_g(difference: float, sd: float, n_treatment: int, n_control: int, *, alpha: float = 0.05) -> HedgesG:
    """Hedges' g = J·difference/sd with the large-sample SE of Hedges & Olkin (1985).

    SE = √((n₁+n₀)/(n₁n₀) + g²/(2(n₁+n₀))); CI g ± z₁₋α/₂·SE. With ``difference`` the raw mean
    difference of change and ``sd`` the pooled SD of change this is Hedges' g of change; with the
    ANCOVA-adjusted difference and the pooled SD of the unadjusted follow-up values it is the
    adjusted g of the WWC Procedures Handbook (v5, 2022).
    """
    if n_treatment < 2 or n_control < 2:
        raise AnalysisError("Hedges' g needs at least 2 subjects per arm.", term="arm")
    if not sd > 0:
        raise AnalysisError("zero standard deviation: the standardised difference is undefined.", term="value")
    n = n_treatment + n_control
    g = hedges_correction(n - 2) * difference / sd
    se = float(np.sqrt(n / (n_treatment * n_control) + g**2 / (2 * n)))
    z = stats.norm.isf(alpha / 2)
    return HedgesG(float(g), se, float(g - z * se), float(g + z * se))
