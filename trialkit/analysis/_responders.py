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
from typing import TypedDict

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._checks import check_alpha, check_bool, check_instance, check_integer, check_interval, check_sample
from trialkit.analysis._arguments import check_nonzero, sample
from trialkit.analysis._distributions import hypergeom_logpmf, normal_quantile
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

_THRESHOLD_SIGN = "negative when a fall is an improvement, positive when a rise is"


def _check_threshold(threshold: object, name: str = "threshold") -> float:
    return check_nonzero(threshold, name, _THRESHOLD_SIGN)


def _check_count(x: object, n: object, x_name: str = "x", n_name: str = "n") -> tuple[int, int]:
    total = check_integer(n, n_name, 1)
    count = check_integer(x, x_name, 0)
    check_interval(count, x_name, f"[0, {total}]", f"an integer ({n_name} = {total})")
    return count, total


def _responds(change: npt.NDArray[np.float64], threshold: float) -> npt.NDArray[np.bool_]:
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

    Raises
    ------
    TrialkitError
        ``x`` or ``n`` not an integer, ``n < 1``, ``x`` outside [0, n], or ``alpha`` outside (0, 1).

    Notes
    -----
    With :math:`\hat p = x/n`, :math:`z = \Phi^{-1}(1 - \alpha/2)`:

    .. math:: \frac{\hat p + z^2/(2n) \pm z\sqrt{\hat p(1-\hat p)/n + z^2/(4n^2)}}{1 + z^2/n}

    (Wilson 1927; Newcombe 1998, Stat Med 17:857, method 3). As in R's
    ``prop.test(x, n, correct = FALSE)$conf.int``, the lower limit is exactly 0 when x = 0 and
    the upper limit exactly 1 when x = n; the arithmetic follows R's so results agree to
    rounding (tests/analysis/test_responders.py: R values to 1e-14; rows ``responder_rate`` of
    tests/reference/analyses/<case>/expected.csv).

    Examples
    --------
    >>> [round(v, 4) for v in wilson_interval(56, 70, 0.05)]
    [0.6918, 0.877]
    """
    x, n = _check_count(x, n)
    return _wilson(x, n, normal_quantile(1 - check_alpha(alpha) / 2))


def _wilson(x: int, n: int, z: float) -> tuple[float, float]:
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

    Raises
    ------
    TrialkitError
        A count that is not an integer in [0, n], an ``n`` below 1, or ``alpha`` outside (0, 1).

    Notes
    -----
    Newcombe (1998), Stat Med 17:873-890, method 10 (no continuity correction). With Wilson
    limits :math:`(l_i, u_i)` of each proportion (:func:`wilson_interval`) and
    :math:`\hat\theta = \hat p_1 - \hat p_0`:

    .. math::
        L = \hat\theta - \sqrt{(\hat p_1 - l_1)^2 + (u_0 - \hat p_0)^2}, \quad
        U = \hat\theta + \sqrt{(u_1 - \hat p_1)^2 + (\hat p_0 - l_0)^2}.

    Validated against the paper's worked examples and against the same formula in R
    (tests/analysis/test_responders.py; rows ``responder_rd`` of
    tests/reference/analyses/<case>/expected.csv, 1e-8 relative).

    Examples
    --------
    >>> [round(v, 4) for v in newcombe_difference_interval(56, 70, 48, 80, 0.05)]
    [0.0524, 0.3339]
    """
    x1, n1 = _check_count(x1, n1, "x1", "n1")
    x0, n0 = _check_count(x0, n0, "x0", "n0")
    return _newcombe(x1, n1, x0, n0, normal_quantile(1 - check_alpha(alpha) / 2))


def _newcombe(x1: int, n1: int, x0: int, n0: int, z: float) -> tuple[float, float]:
    l1, u1 = _wilson(x1, n1, z)
    l0, u0 = _wilson(x0, n0, z)
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

    Raises
    ------
    TrialkitError
        A cell that is not an integer >= 0.

    Notes
    -----
    R's rule (``fisher.test``, two-sided): sum the hypergeometric probabilities
    :math:`P(X = k)` over the support with :math:`P(X = k) \le P(X = a)(1 + 10^{-7})`, the
    relative tolerance that makes numerically tied tables count as "as extreme". The
    probabilities are scaled by their maximum before comparing, as R does. ``scipy.stats.
    fisher_exact`` uses a 1e-14 tolerance instead, so this function implements R's rule
    directly from the hypergeometric probabilities (computed as ``scipy.stats.hypergeom``
    does). The result is capped at 1. R reference: ``fisher.test`` p-values in
    tests/analysis/test_responders.py and the responder rows of tests/reference/analyses/.

    Examples
    --------
    >>> round(fisher_exact_p(3, 1, 1, 3), 6)
    0.485714
    """
    a, b, c, d = (check_integer(v, name, 0) for name, v in (("a", a), ("b", b), ("c", c), ("d", d)))
    return _fisher(a, b, c, d)


def _fisher(a: int, b: int, c: int, d: int) -> float:
    m, n, k = a + c, b + d, a + b  # responders, non-responders, treatment-arm size
    lo, hi = max(0, k - n), min(k, m)
    support = np.arange(lo, hi + 1)
    logp = hypergeom_logpmf(support, m + n, m, k)
    prob = np.exp(logp - logp.max())
    prob /= prob.sum()
    observed = prob[a - lo]
    return float(min(1.0, prob[prob <= observed * _R_FISHER_REL_ERR].sum()))


# ---------------------------------------------------------------------------------------------
# analyses


def responder_rates(change: npt.ArrayLike, threshold: float, *, arm: str, alpha: float) -> Estimate:
    """Return the proportion of an arm's subjects that respond, with a Wilson score interval.

    Parameters
    ----------
    change : array_like of float
        Changes from baseline of the arm's analysed subjects (no NaN: remove missing values
        first); at least one.
    threshold : float
        Responder threshold (non-zero; negative: respond when ``change <= threshold``;
        positive: when ``change >= threshold``), in the endpoint's units.
    arm : str
        Arm code (the ``contrast``).
    alpha : float
        1 - confidence level, in (0, 1).

    Returns
    -------
    Estimate
        ``responder_rate`` row: estimate x/n, Wilson CI (:func:`wilson_interval`),
        ``n_treatment = n``.

    Raises
    ------
    TrialkitError
        ``change`` not a flat sequence of finite numbers, a zero or non-finite ``threshold``,
        a non-text ``arm``, or ``alpha`` outside (0, 1).
    AnalysisError
        An empty ``change`` (``term`` = ``change``).

    Notes
    -----
    R reference: ``prop.test(x, n, correct = FALSE)$conf.int``, rows ``responder_rate`` of
    tests/reference/analyses/<case>/expected.csv (1e-8 relative).

    Examples
    --------
    >>> e = responder_rates([-8.0, -2.0, -7.0, 1.0], -6.0, arm="active", alpha=0.05)
    >>> e.estimate, round(e.ci_low, 4), round(e.ci_high, 4)
    (0.5, 0.15, 0.85)
    """
    v = sample(change, "change")
    threshold = _check_threshold(threshold)
    arm = check_instance(arm, "arm", str, "an arm code (text)")
    z = normal_quantile(1 - check_alpha(alpha) / 2)
    x, n = int(_responds(v, threshold).sum()), int(v.size)
    low, high = _wilson(x, n, z)
    return Estimate(Analysis.RESPONDER_RATE, arm, x / n, ci_low=low, ci_high=high, n_treatment=n)


class _Counts(TypedDict):
    """The subjects of both arms, as keyword arguments of :class:`Estimate` (typed, unlike a plain dict)."""

    n_treatment: int
    n_control: int


@dataclass(frozen=True)
class ContrastKinds:
    """The analysis ids of the four two-proportion contrasts, and what a counted subject is called."""

    rd: Analysis
    rr: Analysis
    odds: Analysis
    nnt: Analysis
    event: str


#: responders to a threshold on change or percent change
RESPONDING = ContrastKinds(
    Analysis.RESPONDER_RD, Analysis.RESPONDER_RR, Analysis.RESPONDER_OR, Analysis.RESPONDER_NNT, "responder"
)
#: a binary endpoint's events
EVENTS = ContrastKinds(Analysis.RISK_DIFFERENCE, Analysis.RISK_RATIO, Analysis.ODDS_RATIO, Analysis.NNT, "event")


def proportion_contrasts(
    x1: int, n1: int, x0: int, n0: int, *, contrast: str, alpha: float, kinds: ContrastKinds = RESPONDING
) -> ResponderResult:
    """Return RD, RR, OR and NNT rows from the two arms' counts (see :func:`responder_estimates`).

    ``kinds`` names the rows (responders or a binary endpoint's events); the caller checked the counts.
    """
    a, b, c, d = x1, n1 - x1, x0, n0 - x0
    z = normal_quantile(1 - alpha / 2)
    p_value = _fisher(a, b, c, d)
    counts = _Counts(n_treatment=n1, n_control=n0)
    estimates: list[Estimate] = []
    failures: list[tuple[Analysis, str]] = []

    rd = x1 / n1 - x0 / n0
    rd_low, rd_high = _newcombe(x1, n1, x0, n0, z)
    estimates.append(Estimate(kinds.rd, contrast, rd, ci_low=rd_low, ci_high=rd_high, p_value=p_value, **counts))

    if a == 0 or c == 0:
        who = "the treatment arm" if a == 0 else "the control arm"
        if a == 0 and c == 0:
            who = "either arm"
        failures.append(
            (
                kinds.rr,
                f"no {kinds.event} in {who} ({x1}/{n1} vs {x0}/{n0}): "
                "the risk ratio or its log-scale interval is undefined.",
            )
        )
    else:
        rr = (x1 / n1) / (x0 / n0)
        se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
        estimates.append(
            Estimate(
                kinds.rr,
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
                (f"treatment {kinds.event}s", a),
                (f"treatment non-{kinds.event}s", b),
                (f"control {kinds.event}s", c),
                (f"control non-{kinds.event}s", d),
            )
            if v == 0
        ]
        failures.append(
            (
                kinds.odds,
                f"zero cell ({', '.join(cells)}; {x1}/{n1} vs "
                f"{x0}/{n0}): the odds ratio or its Woolf interval is undefined.",
            )
        )
    else:
        log_or = math.log(a) + math.log(d) - math.log(b) - math.log(c)
        se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        estimates.append(
            Estimate(
                kinds.odds,
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
                kinds.nnt,
                f"equal {kinds.event} proportions ({x1}/{n1} vs "
                f"{x0}/{n0}): the number needed to treat (1 / risk difference) is undefined.",
            )
        )
    elif rd_low == 0 or rd_high == 0:
        failures.append(
            (
                kinds.nnt,
                "a limit of the risk-difference interval is exactly 0: "
                "the corresponding number-needed-to-treat limit is infinite.",
            )
        )
    else:
        bounds = sorted((1 / rd_low, 1 / rd_high))
        estimates.append(Estimate(kinds.nnt, contrast, 1 / rd, ci_low=bounds[0], ci_high=bounds[1], **counts))
    return ResponderResult(tuple(estimates), tuple(failures))


def responder_estimates(
    change_treatment: npt.ArrayLike,
    change_control: npt.ArrayLike,
    threshold: float,
    *,
    arm: str,
    control: str,
    alpha: float,
) -> ResponderResult:
    r"""Return risk difference, risk ratio, odds ratio and NNT of responding, one arm against control.

    Parameters
    ----------
    change_treatment, change_control : array_like of float
        Changes from baseline of the analysed subjects of each arm (no NaN: the caller removes
        subjects with a missing change and counts them); at least one each.
    threshold : float
        Responder threshold (non-zero; negative: respond when ``change <= threshold``;
        positive: when ``change >= threshold``), in the endpoint's units.
    arm, control : str
        Arm codes; ``contrast`` is ``"<arm> - <control>"``.
    alpha : float
        1 - confidence level, in (0, 1).

    Returns
    -------
    ResponderResult
        The defined rows (``n_treatment``, ``n_control`` = numbers analysed) and, for each
        undefined one, the reason.

    Raises
    ------
    TrialkitError
        A sample that is not a flat sequence of finite numbers, a zero or non-finite
        ``threshold``, a non-text arm code, or ``alpha`` outside (0, 1).
    AnalysisError
        An empty sample (``term`` = ``change_treatment`` or ``change_control``).

    Notes
    -----
    With a = responders / n₁ subjects in the arm and c / n₀ in control (b = n₁ - a,
    d = n₀ - c):

    - ``responder_rd``: :math:`a/n_1 - c/n_0`, Newcombe hybrid score CI
      (:func:`newcombe_difference_interval`);
    - ``responder_rr``: :math:`(a/n_1)/(c/n_0)`, CI
      :math:`\exp(\log RR \pm z\sqrt{1/a - 1/n_1 + 1/c - 1/n_0})`; undefined when a = 0
      or c = 0;
    - ``responder_or``: sample odds ratio :math:`ad/(bc)`, Woolf CI
      :math:`\exp(\log OR \pm z\sqrt{1/a + 1/b + 1/c + 1/d})`; undefined with any zero
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

    Examples
    --------
    >>> res = responder_estimates([-8.0, -7.0, -2.0, -6.5], [-1.0, -6.0, 2.0, 0.5], -6.0,
    ...                           arm="a", control="c", alpha=0.05)
    >>> [(e.analysis.value, round(e.estimate, 3)) for e in res.estimates]
    [('responder_rd', 0.5), ('responder_rr', 3.0), ('responder_or', 9.0), ('responder_nnt', 2.0)]
    """
    t, c = sample(change_treatment, "change_treatment"), sample(change_control, "change_control")
    threshold = _check_threshold(threshold)
    arm = check_instance(arm, "arm", str, "an arm code (text)")
    control = check_instance(control, "control", str, "an arm code (text)")
    alpha = check_alpha(alpha)
    x1, x0 = int(_responds(t, threshold).sum()), int(_responds(c, threshold).sum())
    return proportion_contrasts(x1, int(t.size), x0, int(c.size), contrast=f"{arm} - {control}", alpha=alpha)


_SWEPT = (Analysis.RESPONDER_RD, Analysis.RESPONDER_RR, Analysis.RESPONDER_OR)


def mcid_sweep(
    change_treatment: npt.ArrayLike,
    change_control: npt.ArrayLike,
    thresholds: Sequence[float],
    *,
    arm: str,
    control: str,
    alpha: float,
) -> pd.DataFrame:
    """Return responder RD, RR and OR over a grid of thresholds (sensitivity to the MCID).

    Parameters
    ----------
    change_treatment, change_control : array_like of float
        Changes of the analysed subjects of each arm (no NaN); at least one each.
    thresholds : sequence of float
        Responder thresholds (each non-zero; see :func:`default_thresholds`); none gives an
        empty frame.
    arm, control : str
        Arm codes.
    alpha : float
        1 - confidence level, in (0, 1).

    Returns
    -------
    DataFrame
        Columns :data:`SWEEP_COLUMNS`; per threshold (in the order given) the rows
        ``responder_rd``, ``responder_rr``, ``responder_or`` as defined in
        :func:`responder_estimates`. A row that is undefined at a threshold (RR or OR with a
        zero cell) is left out.

    Raises
    ------
    TrialkitError
        As :func:`responder_estimates`; also ``thresholds`` holding a zero or a non-finite
        value.
    AnalysisError
        An empty sample.

    Notes
    -----
    Each threshold's rows are those of :func:`responder_estimates` at that threshold (same
    formulas, same R reference: tests/reference/analyses/<case>/expected.csv); checked row by
    row against it in tests/analysis/test_responders.py.

    Examples
    --------
    >>> sweep = mcid_sweep([-8.0, -5.0, -7.0], [-2.0, -6.0, 1.0], [-5.0, -6.0], arm="a", control="c", alpha=0.05)
    >>> print(sweep[["threshold", "analysis", "estimate", "p_value"]].head(2).to_string(index=False))
     threshold     analysis  estimate  p_value
          -5.0 responder_rd  0.666667      0.4
          -5.0 responder_rr  3.000000      0.4
    """
    t, c = sample(change_treatment, "change_treatment"), sample(change_control, "change_control")
    grid = [_check_threshold(th, "thresholds") for th in check_sample(thresholds, "thresholds", minimum=0)]
    arm = check_instance(arm, "arm", str, "an arm code (text)")
    control = check_instance(control, "control", str, "an arm code (text)")
    alpha = check_alpha(alpha)
    contrast = f"{arm} - {control}"
    rows = []
    for th in grid:
        x1, x0 = int(_responds(t, th).sum()), int(_responds(c, th).sum())
        result = proportion_contrasts(x1, int(t.size), x0, int(c.size), contrast=contrast, alpha=alpha)
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
    """Return a grid of responder thresholds around the MCID, from 0.5x to 1.5x its size.

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

    Raises
    ------
    TrialkitError
        A zero or non-finite ``threshold``, or a non-bool ``integer``.

    Notes
    -----
    A design choice of trialkit, with no R function to match: the sweep shows how the responder
    contrasts move as the MCID is made half as large or half as large again. The grids are
    pinned in tests/analysis/test_responders.py.

    Examples
    --------
    >>> default_thresholds(-6, integer=True)
    (-3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0)
    >>> default_thresholds(10.0)
    (5.0, 7.5, 10.0, 12.5, 15.0)
    """
    t = _check_threshold(threshold)
    on_integers = check_bool(integer, "integer")
    sign, size = math.copysign(1.0, t), abs(t)
    factors = (0.5, 0.75, 1.0, 1.25, 1.5)
    if not on_integers:
        return tuple(sign * f * size for f in factors)
    first, last = max(1, math.ceil(0.5 * size)), math.floor(1.5 * size)
    sizes: set[float]
    if last - first + 1 <= 11:
        sizes = {float(k) for k in range(first, last + 1)}
    else:
        sizes = {float(math.floor(f * size + 0.5)) for f in factors} - {0.0}
    sizes.add(size)
    return tuple(sign * float(s) for s in sorted(sizes))
