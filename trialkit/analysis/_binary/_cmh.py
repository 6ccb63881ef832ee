"""Cochran–Mantel–Haenszel analysis of a binary outcome stratified by the randomisation strata.

Per non-control arm against control, on the subjects of those two arms, one 2 × 2 table per
stratum k: a_k / b_k events / non-events on the arm, c_k / d_k on control, n1_k = a_k + b_k,
n0_k = c_k + d_k, N_k = n1_k + n0_k.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._checks import check_alpha, check_instance, check_names
from trialkit._errors import AnalysisError
from trialkit.analysis._arguments import sample
from trialkit.analysis._binary._inputs import (
    binary_outcome,
    codes_within,
    frame_codes,
    frame_numbers,
    require_columns,
    same_length,
)
from trialkit.analysis._distributions import chi2_upper_tail, normal_two_sided_p, normal_upper_quantile
from trialkit.analysis._results import Analysis, Estimate

__all__ = ["cmh", "cmh_arrays"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def _tables(
    arm: Ints, y: Floats, stratum: Ints, j: int, arms: tuple[str, ...], strata: tuple[str, ...]
) -> tuple[Floats, Floats, Floats, Floats]:
    """Return a, b, c, d per stratum for arm ``j`` against control; a stratum it cannot use is an AnalysisError."""
    k = len(strata)
    on_arm, on_control = arm == j, arm == 0
    n1 = np.bincount(stratum[on_arm], minlength=k).astype(float)
    n0 = np.bincount(stratum[on_control], minlength=k).astype(float)
    a = np.bincount(stratum[on_arm], weights=y[on_arm], minlength=k).astype(float)
    c = np.bincount(stratum[on_control], weights=y[on_control], minlength=k).astype(float)
    for s, name in enumerate(strata):
        if n1[s] + n0[s] < 2 or n1[s] == 0 or n0[s] == 0:
            raise AnalysisError(
                f"stratum {name!r} has {int(n1[s])} subject(s) on arm {arms[j]!r} and {int(n0[s])} on "
                f"{arms[0]!r}: a stratum needs both arms (and at least 2 subjects) to be compared.",
                term="stratum",
            )
    return a, n1 - a, c, n0 - c


def _cmh_row(a: Floats, b: Floats, c: Floats, d: Floats, contrast: str, z: float, n1: int, n0: int) -> Estimate:
    """Return the CMH test (continuity-corrected) and the MH odds ratio with the RBG interval (mantelhaen.test)."""
    n = a + b + c + d
    events = a + c
    delta = float(np.sum(a - (a + b) * events / n))
    yates = 0.5 if abs(delta) >= 0.5 else 0.0  # R corrects only when the correction cannot overshoot
    variance = float(np.sum((a + b) * (c + d) * events * (b + d) / (n**2 * (n - 1))))
    if variance == 0:
        raise AnalysisError("every stratum has a constant outcome in these arms: the CMH test is undefined.", term="y")
    statistic = (abs(delta) - yates) ** 2 / variance
    r, s = float(np.sum(a * d / n)), float(np.sum(b * c / n))
    if r == 0 or s == 0:
        which, cells = (
            ("0", "an event on the arm and a non-event on control")
            if r == 0
            else (
                "infinite",
                "a non-event on the arm and an event on control",
            )
        )
        raise AnalysisError(f"the Mantel–Haenszel odds ratio is {which}: no stratum has both {cells}.", term="y")
    p_, q_ = (a + d) / n, (b + c) / n
    var_log = (
        float(np.sum(p_ * a * d / n)) / (2 * r**2)
        + float(np.sum((p_ * b * c + q_ * a * d) / n)) / (2 * r * s)
        + float(np.sum(q_ * b * c / n)) / (2 * s**2)
    )
    se = math.sqrt(var_log)
    estimate = r / s
    return Estimate(
        Analysis.CMH,
        contrast,
        estimate,
        se,
        estimate * math.exp(-z * se),
        estimate * math.exp(z * se),
        1.0,
        statistic,
        chi2_upper_tail(statistic, 1.0),
        n1,
        n0,
    )


def _mh_rd_row(a: Floats, b: Floats, c: Floats, d: Floats, contrast: str, z: float, n1: int, n0: int) -> Estimate:
    """Return the Mantel–Haenszel risk difference with Sato's (1989) variance, z interval and test."""
    m1, m0 = a + b, c + d
    n = m1 + m0
    w = m1 * m0 / n
    total = float(np.sum(w))
    rd = float(np.sum((a * m0 - c * m1) / n)) / total
    p_k = (m1**2 * c - m0**2 * a + m1 * m0 * (m0 - m1) / 2) / n**2
    q_k = (a * (m0 - c) + c * (m1 - a)) / (2 * n)
    variance = (rd * float(np.sum(p_k)) + float(np.sum(q_k))) / total**2
    if not variance > 0:
        raise AnalysisError(
            "the Mantel–Haenszel risk difference has no variance (every stratum's outcome is constant).", term="y"
        )
    se = math.sqrt(variance)
    t = rd / se
    return Estimate(
        Analysis.MH_RISK_DIFFERENCE,
        contrast,
        rd,
        se,
        rd - z * se,
        rd + z * se,
        math.nan,
        t,
        normal_two_sided_p(t),
        n1,
        n0,
    )


def cmh_arrays(
    arm: Ints, y: Floats, stratum: Ints, *, arms: tuple[str, ...], strata: tuple[str, ...], alpha: float
) -> tuple[Estimate, ...]:
    """Run :func:`cmh` on arrays: arm and stratum as codes, the outcome as 0.0/1.0.

    Parameters
    ----------
    arm : ndarray of int
        Position of each subject's arm in ``arms`` (control = 0).
    y : ndarray of float
        Outcome per subject, 0.0 or 1.0 (1 = the event).
    stratum : ndarray of int
        Position of each subject's stratum in ``strata``.
    arms : tuple of str
        Arm codes, control first (at least 2).
    strata : tuple of str
        Stratum labels (at least 2, as ``mantelhaen.test``).
    alpha : float
        1 − confidence level of the intervals, in (0, 1).

    Returns
    -------
    tuple of Estimate
        The ``cmh`` rows per non-control arm, then the ``mh_risk_difference`` rows (see :func:`cmh`).

    Raises
    ------
    TrialkitError
        ``y`` not 0/1 or not finite; codes outside their labels; arrays of different lengths;
        ``arms``, ``strata`` or ``alpha`` invalid.
    AnalysisError
        As :func:`cmh`.

    Notes
    -----
    The statistics are those of :func:`cmh`.
    """
    outcome = binary_outcome(sample(y, "y"), "y")
    arm_labels = check_names(arms, "arms", 2)
    stratum_labels = check_names(strata, "strata", 2)
    arm_codes = codes_within(arm, "arm", arm_labels)
    stratum_codes = codes_within(stratum, "stratum", stratum_labels)
    same_length(outcome.size, {"arm": arm_codes, "stratum": stratum_codes})
    return _rows(arm_codes, outcome, stratum_codes, arm_labels, stratum_labels, check_alpha(alpha))


def _rows(
    arm: Ints, y: Floats, stratum: Ints, arms: tuple[str, ...], strata: tuple[str, ...], alpha: float
) -> tuple[Estimate, ...]:
    z = normal_upper_quantile(alpha / 2)
    per_arm = np.bincount(arm, minlength=len(arms))
    for j, name in enumerate(arms):
        if per_arm[j] == 0:
            raise AnalysisError(f"arm {name!r} has no analysable subject.", term="arm")
    tests, differences = [], []
    for j in range(1, len(arms)):
        a, b, c, d = _tables(arm, y, stratum, j, arms, strata)
        contrast = f"{arms[j]} - {arms[0]}"
        n1, n0 = int(per_arm[j]), int(per_arm[0])
        tests.append(_cmh_row(a, b, c, d, contrast, z, n1, n0))
        differences.append(_mh_rd_row(a, b, c, d, contrast, z, n1, n0))
    return (*tests, *differences)


def cmh(
    frame: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    arms: Sequence[str],
    stratum: str,
    strata: Sequence[str],
    alpha: float = 0.05,
) -> tuple[Estimate, ...]:
    """Compare a binary outcome between arms stratified by the randomisation strata (Cochran–Mantel–Haenszel).

    Parameters
    ----------
    frame : DataFrame
        One row per subject with the columns named below and no missing values. Not modified.
    outcome : str
        Column of 0/1 outcomes (1 = the event).
    arm : str
        Column of arm codes.
    arms : sequence of str
        Arm codes, control first (at least 2).
    stratum : str
        Column of stratum labels.
    strata : sequence of str
        The strata (at least 2, as ``mantelhaen.test``); every ``stratum`` value must be one of
        them, and every stratum must hold subjects of each arm compared.
    alpha : float
        1 − confidence level of the intervals, in (0, 1).

    Returns
    -------
    tuple of Estimate
        Per non-control arm (in ``arms`` order) a ``cmh`` row — Mantel–Haenszel common odds ratio
        with the Robins–Breslow–Greenland interval (``std_error`` = SE of its log), the CMH
        chi-square with continuity correction in ``statistic``, ``df`` = 1, its p — then per
        non-control arm a ``mh_risk_difference`` row: MH risk difference, Sato's SE, z interval,
        z and p.

    Raises
    ------
    TrialkitError
        ``frame`` not a DataFrame or without the named columns; an outcome other than 0/1; a
        missing value; an arm or stratum not declared; ``alpha`` invalid.
    AnalysisError
        An arm without subjects (``term`` = ``arm``); a stratum with fewer than 2 subjects or
        without one of the two arms compared (``term`` = ``stratum``, the message names it); an
        outcome constant in every stratum, or an odds ratio of 0 or infinity (``term`` = ``y``).

    Notes
    -----
    CMH statistic (R ``mantelhaen.test``, default ``correct = TRUE``): Δ = Σ_k [a_k − n1_k m1_k / N_k]
    with m1_k = a_k + c_k; X² = (|Δ| − ½)² / Σ_k n1_k n0_k m1_k m0_k / [N_k² (N_k − 1)], the ½
    dropped when |Δ| < ½ (as R); p = P(χ²₁ > X²). MH odds ratio R/S with R = Σ a_k d_k / N_k,
    S = Σ b_k c_k / N_k; Var(log OR) by Robins, Breslow and Greenland (1986); CI
    OR · exp(± z SE).

    MH risk difference RD = Σ_k w_k (a_k/n1_k − c_k/n0_k) / Σ_k w_k, w_k = n1_k n0_k / N_k, with
    the variance of Sato (1989), consistent both for few large strata and for many small ones:
    Var = [RD Σ P_k + Σ Q_k] / (Σ w_k)², P_k = [n1_k² c_k − n0_k² a_k + n1_k n0_k (n0_k − n1_k)/2] / N_k²,
    Q_k = [a_k (n0_k − c_k) + c_k (n1_k − a_k)] / (2 N_k). (The Greenland–Robins (1985) variance
    is the other common choice; it is not computed.)

    Matches ``mantelhaen.test`` (statistic, p, estimate, conf.int) and the MH RD formula in R to a
    relative 1e-13: tests/reference/binary/.

    Examples
    --------
    >>> frame = pd.DataFrame({"arm": ["c", "c", "t", "t"] * 3,
    ...                       "y": [0, 1, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0],
    ...                       "centre": ["1"] * 4 + ["2"] * 4 + ["3"] * 4})
    >>> rows = cmh(frame, outcome="y", arm="arm", arms=["c", "t"], stratum="centre", strata=["1", "2", "3"])
    >>> [(r.analysis.value, round(r.estimate, 4)) for r in rows]
    [('cmh', 5.0), ('mh_risk_difference', 0.3333)]
    """
    check_instance(frame, "frame", pd.DataFrame, "a DataFrame")
    outcome_column = check_instance(outcome, "outcome", str, "text (a column name)")
    arm_column = check_instance(arm, "arm", str, "text (a column name)")
    arm_codes = check_names(arms, "arms", 2)
    stratum_column = check_instance(stratum, "stratum", str, "text (a column name)")
    levels = check_names(strata, "strata", 2)
    alpha = check_alpha(alpha)
    require_columns(frame, [outcome_column, arm_column, stratum_column])
    y = binary_outcome(frame_numbers(frame, outcome_column), f"frame[{outcome_column!r}]")
    return _rows(
        frame_codes(frame, arm_column, arm_codes),
        y,
        frame_codes(frame, stratum_column, levels),
        arm_codes,
        levels,
        alpha,
    )
