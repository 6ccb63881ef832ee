"""Responder analyses: proportions responding, their contrasts and an MCID sweep.

A subject responds when its change from baseline reaches the endpoint's responder threshold:
``change <= threshold`` for a negative threshold (improvement is a fall), ``change >= threshold``
for a positive one (docs/analyses.md). The comparisons are exact (no tolerance), as in R.

Pure functions of arrays of changes (the caller removes missing values); no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import hypergeom, norm

from trialkit._errors import AnalysisError, TrialkitError
from trialkit.analysis._results import Analysis, Estimate

__all__ = [
    "ResponderResult",
    "SWEEP_COLUMNS",
    "default_thresholds",
    "fisher_exact_p",
    "mcid_sweep",
    "newcombe_difference_interval",
    "responder_estimates",
    "responder_rates",
    "wilson_interval",
]

#: Columns of :func:`mcid_sweep`, in order.
SWEEP_COLUMNS = (
    "threshold",
    "analysis",
    "contrast",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "responders_treatment",
    "n_treatment",
    "responders_control",
    "n_control",
)

#: Relative tolerance of R's ``fisher.test`` when collecting tables "as or less likely".
_R_FISHER_REL_ERR = 1 + 1e-7


@dataclass(frozen=True)
class ResponderResult:
    """The responder contrasts of one arm against control.

    Attributes
    ----------
    estimates : tuple of Estimate
        The rows that are defined, in the order ``responder_rd``, ``responder_rr``,
        ``responder_or``, ``responder_nnt``.
    failures : tuple of (Analysis, str)
        The rows that are undefined for these data, with the reason (e.g. a zero cell).
    """

    estimates: tuple[Estimate, ...]
    failures: tuple[tuple[Analysis, str], ...]


# ---------------------------------------------------------------------------------------------
# argument checks


def _check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating)) or not 0.0 < float(alpha) < 1.0:
        raise TrialkitError(f"`alpha` must be a number in (0, 1); got {alpha!r}.")
    return float(alpha)


def _check_threshold(threshold: float) -> float:
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float, np.floating, np.integer))
        or not math.isfinite(float(threshold))
        or float(threshold) == 0.0
    ):
        raise TrialkitError(
            f"the responder threshold must be a finite non-zero number (negative when a fall is "
            f"an improvement, positive when a rise is); got {threshold!r}."
        )
    return float(threshold)


def _check_count(x: int, n: int) -> tuple[int, int]:
    if n < 1:
        raise AnalysisError(f"a proportion needs at least one subject; got n = {n}.", term="n")
    if not 0 <= x <= n:
        raise AnalysisError(f"the count of responders must be in [0, n = {n}]; got {x}.", term="x")
    return int(x), int(n)


def _changes(values: np.ndarray, arm: str) -> np.ndarray:
    """Validated 1-d float array of changes of one arm."""
    v = np.asarray(values, dtype="float64").ravel()
    if v.size == 0:
        raise AnalysisError(f"arm {arm!r} has no subject with an analysable change.", term=arm)
    n_nan = int(np.isnan(v).sum())
    if n_nan:
        raise AnalysisError(
            f"arm {arm!r} has {n_nan} missing change value(s); remove subjects with a missing "
            f"change before the responder analysis.",
            term=arm,
        )
    if np.isinf(v).any():
        raise AnalysisError(f"arm {arm!r} has an infinite change value.", term=arm)
    return v


def _responds(change: np.ndarray, threshold: float) -> np.ndarray:
    return change <= threshold if threshold < 0 else change >= threshold


# ---------------------------------------------------------------------------------------------
# building blocks


def wilson_interval(x: int, n: int, alpha: float) -> tuple[float, float]:
    r"""Wilson score interval for a binomial proportion, without continuity correction.

    Parameters
    ----------
    x : int
        Number of successes, ``0 <= x <= n``.
    n : int
        Number of trials, ``n >= 1``.
    alpha : float
        1 - confidence level (two-sided).

    Returns
    -------
    (float, float)
        Lower and upper limits.

    Notes
    -----
    With :math:`\\hat p = x/n`, :math:`z = \\Phi^{-1}(1 - \\alpha/2)`:

    .. math:: \\frac{\\hat p + z^2/(2n) \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/(4n^2)}}{1 + z^2/n}

    (Wilson 1927; Newcombe 1998, Stat Med 17:857, method 3). As in R's
    ``prop.test(x, n, correct = FALSE)$conf.int``, the lower limit is exactly 0 when x = 0 and
    the upper limit exactly 1 when x = n; the arithmetic follows R's so results agree to
    rounding.

    Examples
    --------
    >>> [round(v, 4) for v in wilson_interval(56, 70, 0.05)]
    [0.6918, 0.877]
    """
    x, n = _check_count(x, n)
    alpha = _check_alpha(alpha)
    z = float(norm.ppf(1 - alpha / 2))
    p = x / n
    z22n = z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z22n / (2 * n))
    lower = 0.0 if p <= 0 else (p + z22n - half) / (1 + 2 * z22n)
    upper = 1.0 if p >= 1 else (p + z22n + half) / (1 + 2 * z22n)
    return max(lower, 0.0), min(upper, 1.0)


def newcombe_difference_interval(x1: int, n1: int, x0: int, n0: int, alpha: float) -> tuple[float, float]:
    r"""Newcombe's hybrid score interval for the difference of two independent proportions.

    Parameters
    ----------
    x1, n1 : int
        Successes and trials in the treatment arm.
    x0, n0 : int
        Successes and trials in the control arm.
    alpha : float
        1 - confidence level (two-sided).

    Returns
    -------
    (float, float)
        Limits for :math:`p_1 - p_0`.

    Notes
    -----
    Newcombe (1998), Stat Med 17:873-890, method 10 (no continuity correction). With Wilson
    limits :math:`(l_i, u_i)` of each proportion (:func:`wilson_interval`) and
    :math:`\\hat\\theta = \\hat p_1 - \\hat p_0`:

    .. math::
        L = \\hat\\theta - \\sqrt{(\\hat p_1 - l_1)^2 + (u_0 - \\hat p_0)^2}, \\quad
        U = \\hat\\theta + \\sqrt{(u_1 - \\hat p_1)^2 + (\\hat p_0 - l_0)^2}.

    Validated against the paper's worked examples (tests/test_responders.py).

    Examples
    --------
    >>> [round(v, 4) for v in newcombe_difference_interval(56, 70, 48, 80, 0.05)]
    [0.0524, 0.3339]
    """
    l1, u1 = wilson_interval(x1, n1, alpha)
    l0, u0 = wilson_interval(x0, n0, alpha)
    p1, p0 = x1 / n1, x0 / n0
    theta = p1 - p0
    lower = theta - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    upper = theta + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return max(lower, -1.0), min(upper, 1.0)


def fisher_exact_p(a: int, b: int, c: int, d: int) -> float:
    r"""Two-sided p-value of Fisher's exact test for the 2 x 2 table ``[[a, b], [c, d]]``.

    Parameters
    ----------
    a, b : int
        Treatment arm: responders, non-responders.
    c, d : int
        Control arm: responders, non-responders.

    Returns
    -------
    float
        The probability, under the hypergeometric null with all margins fixed, of the tables
        no more likely than the one observed.

    Notes
    -----
    R's rule (``fisher.test``, two-sided): sum the hypergeometric probabilities
    :math:`P(X = k)` over the support with :math:`P(X = k) \\le P(X = a)(1 + 10^{-7})`, the
    relative tolerance that makes numerically tied tables count as "as extreme". The
    probabilities are scaled by their maximum before comparing, as R does. ``scipy.stats.
    fisher_exact`` uses a 1e-14 tolerance instead, so this function implements R's rule
    directly from :data:`scipy.stats.hypergeom`. The result is capped at 1.

    Examples
    --------
    >>> round(fisher_exact_p(3, 1, 1, 3), 6)
    0.485714
    """
    for name, v in (("a", a), ("b", b), ("c", c), ("d", d)):
        try:
            is_count = float(v).is_integer() and v >= 0
        except (TypeError, ValueError):
            is_count = False
        if not is_count:
            raise AnalysisError(f"cell {name} of a 2 x 2 table must be a count; got {v!r}.", term=name)
    a, b, c, d = int(a), int(b), int(c), int(d)
    m, n, k = a + c, b + d, a + b  # responders, non-responders, treatment-arm size
    lo, hi = max(0, k - n), min(k, m)
    support = np.arange(lo, hi + 1)
    logp = hypergeom.logpmf(support, m + n, m, k)
    prob = np.exp(logp - logp.max())
    prob /= prob.sum()
    observed = prob[a - lo]
    return float(min(1.0, prob[prob <= observed * _R_FISHER_REL_ERR].sum()))


# ---------------------------------------------------------------------------------------------
# analyses


def responder_rates(change: np.ndarray, threshold: float, *, arm: str, alpha: float) -> Estimate:
    """Proportion of an arm's subjects that respond, with a Wilson score interval.

    Parameters
    ----------
    change : ndarray
        Changes from baseline of the arm's analysed subjects (no NaN; remove missing first).
    threshold : float
        Responder threshold (non-zero; negative: respond when ``change <= threshold``;
        positive: when ``change >= threshold``).
    arm : str
        Arm code (the ``contrast``).
    alpha : float
        1 - confidence level.

    Returns
    -------
    Estimate
        ``responder_rate`` row: estimate x/n, Wilson CI (:func:`wilson_interval`),
        ``n_treatment = n``. R reference: ``prop.test(x, n, correct = FALSE)$conf.int``.

    Raises
    ------
    AnalysisError
        When the arm has no subject or a missing change.
    """
    threshold = _check_threshold(threshold)
    alpha = _check_alpha(alpha)
    v = _changes(change, arm)
    x, n = int(_responds(v, threshold).sum()), int(v.size)
    low, high = wilson_interval(x, n, alpha)
    return Estimate(Analysis.RESPONDER_RATE, str(arm), x / n, ci_low=low, ci_high=high, n_treatment=n)


def _contrasts(x1: int, n1: int, x0: int, n0: int, *, contrast: str, alpha: float) -> ResponderResult:
    """RD, RR, OR and NNT rows from the two arms' counts (see :func:`responder_estimates`)."""
    a, b, c, d = x1, n1 - x1, x0, n0 - x0
    z = float(norm.ppf(1 - alpha / 2))
    p_value = fisher_exact_p(a, b, c, d)
    counts = {"n_treatment": n1, "n_control": n0}
    estimates: list[Estimate] = []
    failures: list[tuple[Analysis, str]] = []

    rd = x1 / n1 - x0 / n0
    rd_low, rd_high = newcombe_difference_interval(x1, n1, x0, n0, alpha)
    estimates.append(
        Estimate(Analysis.RESPONDER_RD, contrast, rd, ci_low=rd_low, ci_high=rd_high, p_value=p_value, **counts)
    )

    if a == 0 or c == 0:
        who = "the treatment arm" if a == 0 else "the control arm"
        if a == 0 and c == 0:
            who = "either arm"
        failures.append(
            (
                Analysis.RESPONDER_RR,
                f"no responder in {who} ({x1}/{n1} vs {x0}/{n0}): "
                "the risk ratio or its log-scale interval is undefined.",
            )
        )
    else:
        rr = (x1 / n1) / (x0 / n0)
        se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
        estimates.append(
            Estimate(
                Analysis.RESPONDER_RR,
                contrast,
                rr,
                std_error=se,
                ci_low=math.exp(math.log(rr) - z * se),
                ci_high=math.exp(math.log(rr) + z * se),
                p_value=p_value,
                **counts,
            )
        )

    if min(a, b, c, d) == 0:
        cells = [
            name
            for name, v in (
                ("treatment responders", a),
                ("treatment non-responders", b),
                ("control responders", c),
                ("control non-responders", d),
            )
            if v == 0
        ]
        failures.append(
            (
                Analysis.RESPONDER_OR,
                f"zero cell ({', '.join(cells)}; {x1}/{n1} vs "
                f"{x0}/{n0}): the odds ratio or its Woolf interval is undefined.",
            )
        )
    else:
        log_or = math.log(a) + math.log(d) - math.log(b) - math.log(c)
        se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        estimates.append(
            Estimate(
                Analysis.RESPONDER_OR,
                contrast,
                (a * d) / (b * c),
                std_error=se,
                ci_low=math.exp(log_or - z * se),
                ci_high=math.exp(log_or + z * se),
                p_value=p_value,
                **counts,
            )
        )

    if rd == 0:
        failures.append(
            (
                Analysis.RESPONDER_NNT,
                f"equal responder proportions ({x1}/{n1} vs "
                f"{x0}/{n0}): the number needed to treat (1 / risk difference) is undefined.",
            )
        )
    elif rd_low == 0 or rd_high == 0:
        failures.append(
            (
                Analysis.RESPONDER_NNT,
                "a limit of the risk-difference interval is exactly 0: "
                "the corresponding number-needed-to-treat limit is infinite.",
            )
        )
    else:
        bounds = sorted((1 / rd_low, 1 / rd_high))
        estimates.append(
            Estimate(Analysis.RESPONDER_NNT, contrast, 1 / rd, ci_low=bounds[0], ci_high=bounds[1], **counts)
        )
    return ResponderResult(tuple(estimates), tuple(failures))


def responder_estimates(
    change_treatment: np.ndarray, change_control: np.ndarray, threshold: float, *, arm: str, control: str, alpha: float
) -> ResponderResult:
    r"""Risk difference, risk ratio, odds ratio and NNT of responding, one arm against control.

    Parameters
    ----------
    change_treatment, change_control : ndarray
        Changes from baseline of the analysed subjects of each arm (no NaN: the caller removes
        subjects with a missing change and counts them).
    threshold : float
        Responder threshold (non-zero; negative: respond when ``change <= threshold``;
        positive: when ``change >= threshold``).
    arm, control : str
        Arm codes; ``contrast`` is ``"<arm> - <control>"``.
    alpha : float
        1 - confidence level.

    Returns
    -------
    ResponderResult
        The defined rows (``n_treatment``, ``n_control`` = numbers analysed) and, for each
        undefined one, the reason.

    Raises
    ------
    AnalysisError
        When an arm has no subject or a missing change (``term`` = the arm).
    TrialkitError
        When ``threshold`` is zero or not finite, or ``alpha`` is not in (0, 1).

    Notes
    -----
    With a = responders / n₁ subjects in the arm and c / n₀ in control (b = n₁ - a,
    d = n₀ - c):

    - ``responder_rd``: :math:`a/n_1 - c/n_0`, Newcombe hybrid score CI
      (:func:`newcombe_difference_interval`);
    - ``responder_rr``: :math:`(a/n_1)/(c/n_0)`, CI
      :math:`\\exp(\\log RR \\pm z\\sqrt{1/a - 1/n_1 + 1/c - 1/n_0})`; undefined when a = 0
      or c = 0;
    - ``responder_or``: sample odds ratio :math:`ad/(bc)`, Woolf CI
      :math:`\\exp(\\log OR \\pm z\\sqrt{1/a + 1/b + 1/c + 1/d})`; undefined with any zero
      cell;
    - ``p_value`` of these three: Fisher's exact two-sided test (:func:`fisher_exact_p`,
      R's ``fisher.test``);
    - ``responder_nnt``: 1 / RD, limits the reciprocals of the RD limits in increasing order
      (when the RD interval spans 0 they have opposite signs: NNT to harm and NNT to benefit,
      Altman 1998, BMJ 317:1309); undefined when RD = 0. No p-value.

    ``std_error`` of ``responder_rr`` and ``responder_or`` is the standard error of the log
    ratio (the square roots above), as for log-scale endpoints; it is NaN for ``responder_rd``
    and ``responder_nnt``. ``df`` and ``statistic`` are not defined (NaN). ``contrast`` is
    ``"<arm> - <control>"`` on every row (the ratio rows included), so one contrast key selects
    all rows of an arm.

    R reference: tests/reference/analyses/<case>/expected.csv (make_reference.R computes these
    by the same formulas, ``prop.test(correct = FALSE)`` and ``fisher.test``).
    """
    threshold = _check_threshold(threshold)
    alpha = _check_alpha(alpha)
    t = _changes(change_treatment, arm)
    c = _changes(change_control, control)
    x1, x0 = int(_responds(t, threshold).sum()), int(_responds(c, threshold).sum())
    return _contrasts(x1, int(t.size), x0, int(c.size), contrast=f"{arm} - {control}", alpha=alpha)


_SWEPT = (Analysis.RESPONDER_RD, Analysis.RESPONDER_RR, Analysis.RESPONDER_OR)


def mcid_sweep(
    change_treatment: np.ndarray,
    change_control: np.ndarray,
    thresholds: Sequence[float],
    *,
    arm: str,
    control: str,
    alpha: float,
) -> pd.DataFrame:
    """Responder RD, RR and OR over a grid of thresholds (sensitivity to the MCID).

    Parameters
    ----------
    change_treatment, change_control : ndarray
        Changes of the analysed subjects of each arm (no NaN).
    thresholds : sequence of float
        Responder thresholds (each non-zero; see :func:`default_thresholds`).
    arm, control : str
        Arm codes.
    alpha : float
        1 - confidence level.

    Returns
    -------
    DataFrame
        Columns :data:`SWEEP_COLUMNS`; per threshold (in the order given) the rows
        ``responder_rd``, ``responder_rr``, ``responder_or`` as defined in
        :func:`responder_estimates`. A row that is undefined at a threshold (RR or OR with a
        zero cell) is left out.
    """
    alpha = _check_alpha(alpha)
    t = _changes(change_treatment, arm)
    c = _changes(change_control, control)
    contrast = f"{arm} - {control}"
    rows = []
    for threshold in thresholds:
        th = _check_threshold(threshold)
        x1, x0 = int(_responds(t, th).sum()), int(_responds(c, th).sum())
        result = _contrasts(x1, int(t.size), x0, int(c.size), contrast=contrast, alpha=alpha)
        for e in result.estimates:
            if e.analysis in _SWEPT:
                rows.append(
                    {
                        "threshold": th,
                        "analysis": e.analysis.value,
                        "contrast": contrast,
                        "estimate": e.estimate,
                        "ci_low": e.ci_low,
                        "ci_high": e.ci_high,
                        "p_value": e.p_value,
                        "responders_treatment": x1,
                        "n_treatment": int(t.size),
                        "responders_control": x0,
                        "n_control": int(c.size),
                    }
                )
    out = pd.DataFrame(rows, columns=list(SWEEP_COLUMNS))
    ints = ("responders_treatment", "n_treatment", "responders_control", "n_control")
    return out.astype(
        {k: "int64" for k in ints}
        | {
            "threshold": "float64",
            "estimate": "float64",
            "ci_low": "float64",
            "ci_high": "float64",
            "p_value": "float64",
        }
    )


def default_thresholds(threshold: float, *, integer: bool = False) -> tuple[float, ...]:
    """A grid of responder thresholds around the MCID, from 0.5x to 1.5x its size.

    Parameters
    ----------
    threshold : float
        The pre-specified responder threshold (non-zero); its sign is kept.
    integer : bool
        The endpoint is on an integer scale: use every integer whose size lies in
        [0.5|t|, 1.5|t|] (and |t| itself), or, when that gives more than 11 values, the
        0.25x grid rounded half away from zero to integers (duplicates and 0 dropped).

    Returns
    -------
    tuple of float
        Thresholds in order of increasing size (less to more demanding), the MCID included.
        Without ``integer``: ``(0.5t, 0.75t, t, 1.25t, 1.5t)``.

    Examples
    --------
    >>> default_thresholds(-6, integer=True)
    (-3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0)
    >>> default_thresholds(10.0)
    (5.0, 7.5, 10.0, 12.5, 15.0)
    """
    t = _check_threshold(threshold)
    sign, size = math.copysign(1.0, t), abs(t)
    factors = (0.5, 0.75, 1.0, 1.25, 1.5)
    if not integer:
        return tuple(sign * f * size for f in factors)
    first, last = max(1, math.ceil(0.5 * size)), math.floor(1.5 * size)
    if last - first + 1 <= 11:
        sizes = set(range(first, last + 1))
    else:
        sizes = {math.floor(f * size + 0.5) for f in factors} - {0}
    sizes.add(size)
    return tuple(sign * float(s) for s in sorted(sizes))
