"""Tests from published summary statistics: what n, means and SDs per arm allow a reader to recompute.

Between-group t-tests (:func:`t_from_summary`), the paired t-test on within-subject differences
(:func:`paired_t_from_summary`), the baseline difference between arms (:func:`baseline_imbalance`)
and the SD of change from the SDs at two visits and their correlation
(:func:`change_score_sd`, :func:`correlation_from_change_sd`). :class:`ArmSummary` holds one arm's
statistics as the r-dependent tools (:mod:`._p_over_r`, :mod:`._table_verdict`) take them.

Pure functions of numbers: no I/O, no state. Validated against scipy and R ``t.test`` on Student's
sleep data (tests/reference/table_audit/).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from trialkit._checks import check_alpha, check_integer, check_interval, check_number, check_sd
from trialkit._errors import TrialkitError
from trialkit.analysis import t_inference
from trialkit.reproduce.audit._rounding import check_ddof

if TYPE_CHECKING:
    from trialkit.reproduce.published import PairedSummary, PublishedSummary


# --------------------------------------------------------------------------------------------
# registries


class TTestMethod(StrEnum):
    """Registry of t-tests from summary statistics."""

    STUDENT = "student"  # pooled variance, df = n1 + n2 - 2
    WELCH = "welch"  # separate variances, Welch-Satterthwaite df
    PAIRED = "paired"  # one-sample t on within-subject differences, df = n - 1


class Comparison(StrEnum):
    """What a published between-group (or within-arm) p-value compared."""

    FOLLOW_UP = "follow_up"  # the arms' follow-up values
    CHANGE = "change"  # change from baseline (within one arm: the paired test)


# --------------------------------------------------------------------------------------------
# t-tests from summary statistics


@dataclass(frozen=True)
class SummaryTTest:
    """A t-test computed from summary statistics (broom vocabulary; ``estimate`` = mean 1 - mean 2)."""

    method: TTestMethod
    estimate: float
    std_error: float
    df: float
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float


def two_sided_p(t: np.ndarray | float, df: np.ndarray | float) -> np.ndarray:
    # 2 * P(T_df > |t|), as scipy's t.sf (stdtr) and R's 2 * pt(-|t|, df)
    return 2.0 * special.stdtr(df, -np.abs(t))


def _finish(method: TTestMethod, est: float, se: float, df: float, alpha: float) -> SummaryTTest:
    if not se > 0:
        raise TrialkitError("both standard deviations are 0: the t statistic is undefined.")
    r = t_inference(est, se, df, alpha)
    return SummaryTTest(method, r.estimate, r.std_error, r.df, r.statistic, r.p_value, r.ci_low, r.ci_high, alpha)


def t_from_summary(
    m1: float, sd1: float, n1: int, m2: float, sd2: float, n2: int, *, equal_var: bool, alpha: float = 0.05
) -> SummaryTTest:
    r"""Two-sample t-test of mean 1 − mean 2 from means, SDs (divisor n − 1) and sizes.

    Parameters
    ----------
    m1, sd1, n1, m2, sd2, n2
        Mean, sample SD and size of each group (n >= 2, SD >= 0, not both 0).
    equal_var : bool
        True: Student (pooled variance); False: Welch. No default: the published method decides.
    alpha : float, default 0.05
        The CI is 1 − alpha, two-sided.

    Returns
    -------
    SummaryTTest

    Notes
    -----
    Student: :math:`s_p^2 = ((n_1 - 1)s_1^2 + (n_2 - 1)s_2^2)/(n_1 + n_2 - 2)`,
    :math:`SE = s_p \sqrt{1/n_1 + 1/n_2}`, df :math:`= n_1 + n_2 - 2`. Welch:
    :math:`SE = \sqrt{s_1^2/n_1 + s_2^2/n_2}`, df :math:`= SE^4 / ((s_1^2/n_1)^2/(n_1 - 1) +
    (s_2^2/n_2)^2/(n_2 - 1))` (Welch-Satterthwaite). :math:`p = 2 P(T_{df} > |t|)`.
    Matches ``scipy.stats.ttest_ind_from_stats`` (1e-12) and R ``t.test`` on Student's sleep data
    (1e-10; tests/reference/table_audit/).

    Examples
    --------
    >>> res = t_from_summary(2.33, 2.0, 10, 0.75, 1.79, 10, equal_var=True)
    >>> round(res.df), round(res.statistic, 4)
    (18, 1.8615)
    """
    m1, m2 = check_number(m1, "m1"), check_number(m2, "m2")
    s1, s2 = check_sd(sd1, "sd1"), check_sd(sd2, "sd2")
    n1, n2 = check_integer(n1, "n1", 2), check_integer(n2, "n2", 2)
    alpha = check_alpha(alpha)
    est = m1 - m2
    if equal_var:
        df = n1 + n2 - 2.0
        se = math.sqrt(((n1 - 1) * s1 * s1 + (n2 - 1) * s2 * s2) / df * (1.0 / n1 + 1.0 / n2))
        return _finish(TTestMethod.STUDENT, est, se, df, alpha)
    a, b = s1 * s1 / n1, s2 * s2 / n2
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1)) if a + b > 0 else math.nan
    return _finish(TTestMethod.WELCH, est, math.sqrt(a + b), df, alpha)


def paired_t_from_summary(mean_diff: float, sd_diff: float, n: int, *, alpha: float = 0.05) -> SummaryTTest:
    r"""Paired t-test from the mean and SD (divisor n − 1) of the within-subject differences.

    :math:`t = \bar d / (s_d/\sqrt n)`, df :math:`= n - 1`; R ``t.test(post, pre, paired = TRUE)``.
    Without the SD of the differences, use :func:`change_score_sd` with an assumed correlation.

    Parameters
    ----------
    mean_diff : float
        Mean of the within-subject differences (the estimate).
    sd_diff : float
        Their SD, divisor n − 1 (> 0).
    n : int
        Number of subjects (>= 2).
    alpha : float, default 0.05
        The CI is 1 − alpha, two-sided.

    Returns
    -------
    SummaryTTest
        Method ``paired``, df = n − 1.

    Examples
    --------
    >>> round(paired_t_from_summary(1.58, 1.2299954832798732, 10).p_value, 6)
    0.002833
    """
    est = check_number(mean_diff, "mean_diff")
    s = check_sd(sd_diff, "sd_diff")
    n = check_integer(n, "n", 2)
    alpha = check_alpha(alpha)
    if s == 0:
        raise TrialkitError("`sd_diff` is 0: the paired t statistic is undefined.")
    return _finish(TTestMethod.PAIRED, est, s / math.sqrt(n), n - 1.0, alpha)


# --------------------------------------------------------------------------------------------
# baseline imbalance


@dataclass(frozen=True)
class BaselineImbalance:
    r"""Baseline difference between two arms from their summary statistics.

    Attributes
    ----------
    smd : float
        Standardised difference :math:`(m_1 - m_2)/\sqrt{(s_1^2 + s_2^2)/2}`.
    thresholds : tuple of float
        The conventional thresholds compared with.
    exceeded : tuple of float
        Those that ``|smd|`` exceeds.
    ttest : SummaryTTest
        The t-test of the baseline difference.
    note : str
        How to read the two.
    """

    smd: float
    thresholds: tuple[float, ...]
    exceeded: tuple[float, ...]
    ttest: SummaryTTest
    note: str


_BASELINE_NOTE = (
    "Under randomisation every baseline difference arises by chance, so a baseline p-value tests "
    "whether randomisation was carried out as described, not whether the arms are comparable; "
    "CONSORT 2010 (item 15) advises against such tests. Judge imbalance by its size (|SMD| above "
    "0.1 or 0.2 are the usual flags) and by how strongly the variable predicts the outcome, and "
    "prefer an analysis adjusted for pre-specified baseline covariates (ANCOVA)."
)


def baseline_imbalance(
    m1: float,
    sd1: float,
    n1: int,
    m2: float,
    sd2: float,
    n2: int,
    *,
    equal_var: bool,
    thresholds: Sequence[float] = (0.1, 0.2),
) -> BaselineImbalance:
    """Standardised difference at baseline and the t-test of the baseline difference.

    Parameters
    ----------
    m1, sd1, n1, m2, sd2, n2
        Baseline mean, SD (divisor n − 1) and size of each arm.
    equal_var : bool
        Student (True) or Welch (False) for the baseline t-test.
    thresholds : sequence of float, default (0.1, 0.2)
        |SMD| thresholds to flag (Austin 2009 uses 0.1; 0.2 is Cohen's "small").

    Returns
    -------
    BaselineImbalance

    Notes
    -----
    The SMD uses the mean of the two variances, as trialkit's Table 1 does (Austin 2009). The
    p-value tests randomisation, not balance (Altman 1985; CONSORT 2010 explanation, item 15):
    it is reported because publications report it, with a note saying so.

    References: Austin, P. C. (2009). Balance diagnostics for comparing the distribution of baseline
    covariates between treatment groups in propensity-score matched samples. *Stat Med*
    28:3083-3107. Moher, D. et al. (2010). CONSORT 2010 explanation and elaboration. *BMJ* 340:c869.

    Examples
    --------
    >>> res = baseline_imbalance(15.2, 4.0, 40, 14.0, 4.4, 38, equal_var=False)
    >>> round(res.smd, 4), res.exceeded
    (0.2854, (0.1, 0.2))
    """
    ttest = t_from_summary(m1, sd1, n1, m2, sd2, n2, equal_var=equal_var)
    levels = tuple(sorted(check_number(t, "thresholds") for t in thresholds))
    if any(t < 0 for t in levels):
        raise TrialkitError(f"`thresholds` must be numbers >= 0; got {tuple(thresholds)!r}.")
    pooled = math.sqrt((float(sd1) ** 2 + float(sd2) ** 2) / 2)
    smd = (float(m1) - float(m2)) / pooled
    return BaselineImbalance(smd, levels, tuple(t for t in levels if abs(smd) > t), ttest, _BASELINE_NOTE)


# --------------------------------------------------------------------------------------------
# change scores and the pre-post correlation


def change_score_sd(sd_baseline: float, sd_follow_up: float, r: float) -> float:
    r"""SD of change from the baseline and follow-up SDs and their correlation ``r``.

    :math:`s_{change} = \sqrt{s_{pre}^2 + s_{post}^2 - 2 r s_{pre} s_{post}}` (Cochrane Handbook
    for Systematic Reviews of Interventions, v6.4, section 6.5.2.8). Exact for sample SDs and the
    sample correlation of the same subjects (the variance of a difference).

    Parameters
    ----------
    sd_baseline, sd_follow_up : float
        SDs at the two time points (same subjects).
    r : float
        Their correlation, in [-1, 1].

    Returns
    -------
    float
        The SD of change (0 when rounding makes the variance negative).

    Examples
    --------
    >>> round(change_score_sd(3.0, 4.0, 0.5), 10)
    3.6055512755
    """
    a, b = check_sd(sd_baseline, "sd_baseline"), check_sd(sd_follow_up, "sd_follow_up")
    r = check_interval(r, "r", "[-1, 1]", "a correlation")
    return math.sqrt(max(a * a + b * b - 2.0 * r * a * b, 0.0))


def correlation_from_change_sd(sd_baseline: float, sd_follow_up: float, sd_change: float) -> float:
    """Return the correlation implied by a published change SD (Cochrane Handbook 6.5.2.8, inverted).

    :math:`r = (s_{pre}^2 + s_{post}^2 - s_{change}^2) / (2 s_{pre} s_{post})`.

    Parameters
    ----------
    sd_baseline, sd_follow_up : float
        SDs at the two time points (> 0).
    sd_change : float
        SD of the change between them (same subjects).

    Returns
    -------
    float
        The correlation, in [-1, 1].

    Raises
    ------
    TrialkitError
        When the SDs imply a correlation outside [-1, 1], or an SD at a time point is 0.

    Examples
    --------
    >>> round(correlation_from_change_sd(3.0, 4.0, 3.6055512755), 6)
    0.5
    """
    a, b = check_sd(sd_baseline, "sd_baseline"), check_sd(sd_follow_up, "sd_follow_up")
    c = check_sd(sd_change, "sd_change")
    if a == 0 or b == 0:
        raise TrialkitError("`sd_baseline` and `sd_follow_up` must be > 0 to imply a correlation.")
    r = (a * a + b * b - c * c) / (2 * a * b)
    if not -1 - 1e-12 <= r <= 1 + 1e-12:
        raise TrialkitError(
            f"SDs {a:g} (baseline), {b:g} (follow-up) and {c:g} (change) imply r = "
            f"{r:.6g}, outside [-1, 1]: they cannot come from the same subjects."
        )
    return min(1.0, max(-1.0, r))


@dataclass(frozen=True)
class ArmSummary:
    """One arm's published summary statistics (the inputs of the r-dependent functions).

    Attributes
    ----------
    n : int
        Number analysed (>= 2).
    mean, sd : float
        Follow-up mean and SD.
    baseline_mean, baseline_sd : float, optional
        Baseline mean and SD (needed for change unless ``change_mean`` and ``change_sd`` are given).
    change_mean : float, optional
        Published mean change; default ``mean - baseline_mean``.
    change_sd : float, optional
        Published SD of change; when absent, the change SD depends on the pre-post correlation r.
    sd_ddof : {1, 0}, default 1
        The publication's SD divisor is ``n - sd_ddof`` (0 for divisor n, as Student 1908); every
        SD is converted to the sample SD before testing.

    For a within-subject comparison of two conditions (a crossover, as Student's sleep data), the
    first condition is the "baseline" and the second the "follow-up".

    What a test needs; the rows of a published-results file (what a file says,
    :class:`~trialkit.reproduce.published.PublishedSummary`) become one through
    :meth:`from_published`.
    """

    n: int
    mean: float
    sd: float
    baseline_mean: float | None = None
    baseline_sd: float | None = None
    change_mean: float | None = None
    change_sd: float | None = None
    sd_ddof: int = 1

    def __post_init__(self) -> None:
        check_integer(self.n, "n", 2)
        check_number(self.mean, "mean")
        check_sd(self.sd, "sd")
        check_ddof(self.sd_ddof)
        for name in ("baseline_mean", "change_mean"):
            if getattr(self, name) is not None:
                check_number(getattr(self, name), name)
        for name in ("baseline_sd", "change_sd"):
            if getattr(self, name) is not None:
                check_sd(getattr(self, name), name)

    @classmethod
    def from_published(
        cls,
        follow_up: PublishedSummary | None,
        baseline: PublishedSummary | None = None,
        change: PublishedSummary | PairedSummary | None = None,
    ) -> ArmSummary:
        """Return one arm's statistics from the rows of a published table that give them.

        The one conversion from what a file says to what the tests need.

        Parameters
        ----------
        follow_up : PublishedSummary or None
            The row at the compared visit (``PublishedTable.row(arm, visit)``); None when the
            table gives only the change (then ``change`` stands in for it).
        baseline : PublishedSummary, optional
            The row at the baseline (for a crossover, the other condition's row).
        change : PublishedSummary or PairedSummary, optional
            The change row to the compared visit (for a crossover, the within-subject differences).

        Returns
        -------
        ArmSummary
            n of the change row when there is one (the subjects a test on change uses), else of
            the follow-up row. SDs as printed, with the table's divisor (``sd_ddof`` 0 for
            ``sd_divisor = "n"``), so that a verdict with ``decimals`` rounds the printed values.
            When a row gives an SE, or the rows' divisors differ, every SD is the sample SD instead
            (``PublishedSummary.sample_sd``, ``sd_ddof`` 1): the rounding of an SE is not modelled.

        Raises
        ------
        TrialkitError
            When neither ``follow_up`` nor ``change`` is given.

        Examples
        --------
        >>> from trialkit.reproduce.published import PublishedSummary
        >>> drug1 = PublishedSummary("drug1", "on_drug", 10, 0.75, sd=1.79)
        >>> drug2 = PublishedSummary("drug2", "on_drug", 10, 2.33, sd=2.00)
        >>> arm = ArmSummary.from_published(drug2, baseline=drug1)
        >>> arm.n, arm.mean, arm.sd, arm.baseline_mean, arm.baseline_sd, arm.change_sd, arm.sd_ddof
        (10, 2.33, 2.0, 0.75, 1.79, None, 1)
        """
        main = follow_up if follow_up is not None else change
        if main is None:
            raise TrialkitError("`follow_up` or `change` must be given: a row to compare.")
        rows = [r for r in (follow_up, baseline, change) if r is not None]
        as_printed = all(r.se is None for r in rows) and len({r.sd_divisor for r in rows}) == 1

        def sd(row: PublishedSummary | PairedSummary | None) -> float | None:
            if row is None:
                return None
            return row.sd if as_printed else row.sample_sd

        main_sd = sd(main)
        if main_sd is None:
            raise TrialkitError(f"the row of {main.arm!r} at {main.time!r} gives neither `sd` nor `se`.")
        return cls(
            n=(change if change is not None else main).n,
            mean=main.mean,
            sd=main_sd,
            baseline_mean=None if baseline is None else baseline.mean,
            baseline_sd=sd(baseline),
            change_mean=None if change is None else change.mean,
            change_sd=sd(change),
            sd_ddof=0 if as_printed and main.sd_divisor == "n" else 1,
        )
