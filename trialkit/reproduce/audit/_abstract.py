r"""Abstract-level audit: what a published p-value and sample size imply.

When a reader has only the abstract (n, directions, p-values), each p-value still pins down the
test statistic that produced it, and, through n, the standardised effect: under an assumed test
with df degrees of freedom, :math:`|t| = t_{1-p/2,\,df}` and :math:`d = t \cdot s` with the
scale :math:`s = \sqrt{1/n_1 + 1/n_0}` of a two-sample comparison. This module computes those
implied quantities under each plausible test (each row says which), which results survive Holm and
Benjamini–Hochberg over the family of published p-values, the design's power and minimal
detectable effect at the analysed n, and flags (counter-intuitive direction, "marginal" claims,
non-significant results, p-values published as bounds, survival that depends on rounding). The
inversions themselves (p ↔ t ↔ d, exact CIs, power) live in :mod:`._implied`.

Pure functions of numbers and of a :class:`~trialkit.reproduce.published.PublishedTrial`; no
file I/O. Reference values: ``tests/reference/abstract_audit/`` (R 4.2 ``qt``, ``pt`` with
``ncp``, ``power.t.test``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialkit._checks import check_in, check_integer, check_interval, check_number
from trialkit._errors import TrialkitError
from trialkit.analysis import adjust_p
from trialkit.power._continuous import power_t
from trialkit.reproduce._codes import Flag
from trialkit.reproduce.audit._implied import AssumedTest, d_limits, hedges_correction, mde_t, t_from_p
from trialkit.reproduce.published import DesignType, Direction, PublishedFlag, PublishedOutcome, PublishedTrial, PValue

#: Standardised effects at which :func:`audit_abstract` tabulates the design's power.
DEFAULT_EFFECTS: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.5)
#: p-values between alpha and this are "marginal" when the publication still claims an effect.
MARGINAL_UPPER = 0.10
#: Relative slack when an adjusted p is compared with alpha: products such as (10/7)·0.035 are
#: not exact in binary floating point, and a value equal to alpha in decimals must count as equal.
_ALPHA_SLACK = 1e-12


# ---------------------------------------------------------------------------------------------
# Registries


_TESTS_BY_DESIGN: dict[DesignType, tuple[AssumedTest, ...]] = {
    DesignType.PARALLEL: (AssumedTest.STUDENT_END, AssumedTest.STUDENT_CHANGE, AssumedTest.WELCH_MIN_DF),
    DesignType.CROSSOVER: (AssumedTest.PAIRED,),
}
#: The test whose df and scale describe the design's power (first of each design's tests).
_POWER_TEST = {DesignType.PARALLEL: AssumedTest.STUDENT_END, DesignType.CROSSOVER: AssumedTest.PAIRED}


class AuditFlag(Flag):
    """Registry of the abstract-level audit's flags: one boolean column ``flag_<code>`` each."""

    COUNTER_INTUITIVE = (
        "counter_intuitive",
        "counter-intuitive direction",
        "the published direction is opposite to the a priori expectation recorded in the file (`expected`)",
    )
    MARGINAL_CLAIM = (
        "marginal_claim",
        "marginal claim",
        f"p between alpha and {MARGINAL_UPPER} (or called marginal by the publication) while a direction of "
        "effect is claimed",
    )
    NOT_SIGNIFICANT = "not_significant", "not significant", "p above alpha"
    P_BOUND = (
        "p_bound",
        "p published as a bound",
        "p published as a bound: every implied statistic and effect is a bound too, and multiplicity used the "
        "bound's conservative end (the bound for '<', 1 for '>')",
    )
    ROUNDING_SENSITIVE = (
        "rounding_sensitive",
        "survival depends on rounding",
        "whether the result survives Holm or Benjamini-Hochberg depends on where the published p-values lie "
        "within their rounding or bounds",
    )


#: Columns of :attr:`AbstractAudit.table` (one row per outcome x assumed test), in order.
EFFECT_COLUMNS: tuple[str, ...] = (
    "outcome",
    "label",
    "test",
    "assumption",
    "direction",
    "sign_known",
    "p_as_written",
    "p_value",
    "p_bound",
    "n_treatment",
    "n_control",
    "n_source",
    "df",
    "bound",
    "statistic",
    "d",
    "d_ci_low",
    "d_ci_high",
    "g",
    "g_ci_low",
    "g_ci_high",
    "p_holm",
    "survives_holm",
    "p_bh",
    "survives_bh",
    *(f.column for f in AuditFlag),
)
#: Columns of :attr:`AbstractAudit.outcomes` (one row per outcome), in order.
OUTCOME_COLUMNS: tuple[str, ...] = (
    "outcome",
    "label",
    "direction",
    "expected",
    "p_as_written",
    "p_value",
    "p_bound",
    "p_low",
    "p_high",
    "significant",
    "p_holm",
    "p_holm_low",
    "p_holm_high",
    "survives_holm",
    "survives_holm_worst_case",
    "survives_holm_best_case",
    "p_bh",
    "p_bh_low",
    "p_bh_high",
    "survives_bh",
    "survives_bh_worst_case",
    "survives_bh_best_case",
    *(f.column for f in AuditFlag),
)


# ---------------------------------------------------------------------------------------------
# The audit


@dataclass(frozen=True)
class AbstractAudit:
    """What the published p-values and n of one trial imply.

    Attributes
    ----------
    table : DataFrame
        One row per outcome × assumed test (:data:`EFFECT_COLUMNS`): implied ``statistic`` (t),
        ``d`` and Hedges' ``g`` with their CIs at ``level``, multiplicity and flags. Signs follow
        the published direction (intervention − control); when the direction is ``none``
        (``sign_known`` False) the numbers are magnitudes. ``bound`` says how the true value
        relates to every number of the row: ``"="``, or ``">"``/``"<"`` (``">="``/``"<="``) when
        the p-value was published as a bound (``"< 0.001"`` gives t > x, d > y, ci_low > z ...).
    outcomes : DataFrame
        One row per outcome (:data:`OUTCOME_COLUMNS`): the p-value, its rounding interval
        (``p_low``, ``p_high``), Holm and Benjamini–Hochberg adjusted p over the family, whether
        each survives at the written values and at the worst and best ends of the intervals, flags.
    power : DataFrame
        The design's power at the analysed n for each standardised effect in ``effects``:
        ``d, n_treatment, n_control, df, ncp, alpha, power``.
    mde : DataFrame
        Minimal detectable effect per target power: ``power, d, n_treatment, n_control, df, alpha``.
    n_treatment, n_control : int
        Group sizes used; ``n_source`` says where they come from (``"data"``, ``"published"``,
        ``"equal_split_of_analysed"``, ``"equal_split_of_randomised"``, ``"crossover_all_subjects"``).
    assumptions : tuple of str
        Every assumption the numbers rest on, in words (carried into reports).
    """

    trial_id: str
    table: pd.DataFrame
    outcomes: pd.DataFrame
    power: pd.DataFrame
    mde: pd.DataFrame
    n_treatment: int
    n_control: int
    n_source: str
    alpha: float
    level: float
    assumptions: tuple[str, ...]

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return self.table.to_html(index=False, escape=True)


def _group_sizes(trial: PublishedTrial, given: tuple[int, int] | None) -> tuple[int, int, str, str]:
    """Return n_treatment, n_control, where they come from (``n_source``) and the assumption in words."""
    design = trial.design
    if len(trial.arms) != 2:
        raise TrialkitError(
            f"the abstract-level audit compares two arms; {trial.id!r} has "
            f"{len(trial.arms)} ({', '.join(trial.arm_ids)})."
        )
    if given is not None:
        try:
            n1, n0 = given
        except (TypeError, ValueError):
            raise TrialkitError(f"`group_sizes` must be a pair (n_treatment, n_control); got {given!r}.") from None
        n1, n0 = check_integer(n1, "group_sizes[0]", 2), check_integer(n0, "group_sizes[1]", 2)
        counted = f"{trial.intervention_arms[0].id} {n1}, {design.control} {n0}"
        return n1, n0, "data", f"per-arm n counted in the individual-level data: {counted}."
    if design.type is DesignType.CROSSOVER:
        n = design.analysed or design.randomised
        if n is None:
            raise TrialkitError(f"{trial.id!r}: set `design.analysed` (or `design.randomised`) to audit it.")
        return (
            n,
            n,
            "crossover_all_subjects",
            (
                f"crossover: all {n} subjects contribute to both arms (n = design.analysed"
                f"{'' if design.analysed else ', here design.randomised'})."
            ),
        )
    treatment = trial.intervention_arms[0]
    control = trial.arm(design.control)
    if treatment.n_analysed is not None and control.n_analysed is not None:
        return (
            treatment.n_analysed,
            control.n_analysed,
            "published",
            (
                f"per-arm analysed n as published: {treatment.id} {treatment.n_analysed}, "
                f"{control.id} {control.n_analysed}."
            ),
        )
    for total, source in ((design.analysed, "analysed"), (design.randomised, "randomised")):
        if total is not None:
            n1, n0 = (total + 1) // 2, total // 2
            return (
                n1,
                n0,
                f"equal_split_of_{source}",
                (
                    f"per-arm n not available: ASSUMED an equal split of the {total} {source}, "
                    f"{treatment.id} {n1} and {control.id} {n0} (d, t and power are symmetric in n1 and n0, "
                    f"so which arm gets the odd subject does not matter)."
                ),
            )
    raise TrialkitError(f"{trial.id!r}: no sample size to audit; set `design.analysed` or the arms' `n_analysed`.")


#: the fewest subjects per arm (parallel) or in all (crossover) the assumed t-tests need: their degrees of
#: freedom, and those of the SD behind Hedges' correction, must be at least 2 (n1 + n0 - 2 and n - 1)
_FEWEST = {DesignType.CROSSOVER: 3}
_FEWEST_PER_ARM = 2


def _enough_subjects(trial: PublishedTrial, n1: int, n0: int, n_source: str) -> None:
    """Refuse group sizes too small for the assumed t-tests, naming the file, the key and its value."""
    design = trial.design
    where = f"{trial.file}: " if trial.file else f"{trial.id!r}: "
    if design.type is DesignType.CROSSOVER:
        key = "design.analysed" if design.analysed else "design.randomised"
        if n1 < _FEWEST[DesignType.CROSSOVER]:
            raise TrialkitError(
                f"{where}`{key}` is {n1}: the paired t-test the audit assumes needs at least "
                f"{_FEWEST[DesignType.CROSSOVER]} subjects (n - 1 degrees of freedom, at least 2 for Hedges' "
                "correction)."
            )
        return
    if min(n1, n0) >= _FEWEST_PER_ARM:
        return
    treatment, control = trial.intervention_arms[0].id, design.control
    if n_source == "published":
        arm, n = (treatment, n1) if n1 < _FEWEST_PER_ARM else (control, n0)
        key, value = f"arms.{arm}.n_analysed", n
    elif n_source == "data":
        key, value = "the individual-level data", min(n1, n0)
    else:
        key = f"design.{n_source.removeprefix('equal_split_of_')}"
        value = n1 + n0
    raise TrialkitError(
        f"{where}`{key}` is {value}: the t-tests the audit assumes need at least {_FEWEST_PER_ARM} subjects in "
        f"each arm (here {treatment} {n1}, {control} {n0}; Welch's smallest df is min(n1, n0) - 1)."
    )


def _relation(p: PValue, sign: float) -> str:
    """How the true signed effect relates to the number computed at the published p."""
    magnitude = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}[p.bound]
    if sign >= 0 or magnitude == "=":
        return magnitude
    return {">": "<", ">=": "<=", "<": ">", "<=": ">="}[magnitude]


def _survives(adjusted: np.ndarray, alpha: float) -> np.ndarray:
    return adjusted <= alpha * (1 + _ALPHA_SLACK)


def _family(outcomes: Sequence[PublishedOutcome], alpha: float) -> pd.DataFrame:
    """Holm and BH over the outcomes with a p-value, at the written values and the interval ends."""
    rows = [(o.id, o.p) for o in outcomes if o.p is not None]
    written = [_treated(p) for _, p in rows]
    low = [p.interval[0] for _, p in rows]
    high = [p.interval[1] for _, p in rows]
    frame = pd.DataFrame({"outcome": [oid for oid, _ in rows]})
    for name in ("holm", "bh"):
        at_written, at_low, at_high = (adjust_p(v, name) if rows else np.array([]) for v in (written, low, high))
        frame[f"p_{name}"] = at_written
        frame[f"p_{name}_low"] = at_low
        frame[f"p_{name}_high"] = at_high
        # Holm and BH are monotone: raising any p-value never adds a rejection, so every p at
        # the top of its interval is the worst case for every outcome at once, and the bottom the best
        frame[f"survives_{name}"] = _survives(at_written, alpha)
        frame[f"survives_{name}_worst_case"] = _survives(at_high, alpha)
        frame[f"survives_{name}_best_case"] = _survives(at_low, alpha)
    return frame


def _treated(p: PValue) -> float:
    """Return the value a p enters multiplicity at.

    The printed value; a "<" bound at the bound, a ">" bound at 1 (the conservative end: Holm and
    BH are monotone in every p-value).
    """
    return p.interval[1] if p.bound in (">", ">=") else p.value


def _significant(p: PValue, alpha: float) -> bool | None:
    """P <= alpha; None when a bound leaves it open ("< 0.10" or "> 0.01" at alpha 0.05)."""
    if p.bound in ("<", "<="):
        return True if p.value <= alpha else None
    if p.bound in (">", ">="):
        return False if p.value >= alpha else None
    return p.value <= alpha


def _marginal(p: PValue, alpha: float) -> bool:
    """P in (alpha, MARGINAL_UPPER]: a value there, or a bound "< c" with c in that range."""
    return p.bound in ("=", "<", "<=") and alpha < p.value <= MARGINAL_UPPER


def _outcome_rows(trial: PublishedTrial, alpha: float) -> pd.DataFrame:
    family = _family(trial.outcomes, alpha).set_index("outcome")
    records = []
    for o in trial.outcomes:
        row: dict[str, object] = {
            "outcome": o.id,
            "label": o.label,
            "direction": o.direction.value,
            "expected": o.expected.value if o.expected is not None else None,
            "p_as_written": o.p.as_written if o.p else None,
            "p_value": o.p.value if o.p else math.nan,
            "p_bound": o.p.bound if o.p else None,
            "p_low": o.p.interval[0] if o.p else math.nan,
            "p_high": o.p.interval[1] if o.p else math.nan,
            "significant": _significant(o.p, alpha) if o.p else None,
        }
        if o.p is not None:
            row.update({str(k): v for k, v in family.loc[o.id].items()})
        claimed = o.direction is not Direction.NONE
        marginal = o.p is not None and _marginal(o.p, alpha)
        row[AuditFlag.COUNTER_INTUITIVE.column] = bool(
            o.expected is not None and claimed and o.direction is not o.expected
        )
        row[AuditFlag.MARGINAL_CLAIM.column] = bool(claimed and (marginal or PublishedFlag.MARGINAL in o.flags))
        row[AuditFlag.NOT_SIGNIFICANT.column] = row["significant"] is False
        row[AuditFlag.P_BOUND.column] = bool(o.p is not None and o.p.is_bound)
        row[AuditFlag.ROUNDING_SENSITIVE.column] = bool(
            o.p is not None
            and any(row[f"survives_{m}_worst_case"] != row[f"survives_{m}_best_case"] for m in ("holm", "bh"))
        )
        records.append(row)
    frame = pd.DataFrame.from_records(records, columns=list(OUTCOME_COLUMNS))
    for col in (
        "significant",
        "survives_holm",
        "survives_holm_worst_case",
        "survives_holm_best_case",
        "survives_bh",
        "survives_bh_worst_case",
        "survives_bh_best_case",
    ):
        frame[col] = frame[col].astype("boolean")
    return frame


def _effect_rows(
    trial: PublishedTrial,
    outcomes: pd.DataFrame,
    tests: Sequence[AssumedTest],
    n1: int,
    n0: int,
    n_source: str,
    level: float,
) -> pd.DataFrame:
    by_id = outcomes.set_index("outcome")
    records = []
    for o in trial.outcomes:
        if o.p is None:
            continue
        sign = -1.0 if o.direction is Direction.DECREASE else 1.0
        summary = by_id.loc[o.id]
        for test in tests:
            df, scale = test.df(n1, n0), test.scale(n1, n0)
            t = sign * t_from_p(o.p.value, df)
            d = t * scale
            d_lo, d_hi = d_limits(t, df, scale, level)
            j = hedges_correction(test.pooled_df(n1, n0))
            record: dict[str, object] = {
                "outcome": o.id,
                "label": o.label,
                "test": test.value,
                "assumption": test.assumption,
                "direction": o.direction.value,
                "sign_known": o.direction is not Direction.NONE,
                "p_as_written": o.p.as_written,
                "p_value": o.p.value,
                "p_bound": o.p.bound,
                "n_treatment": n1,
                "n_control": n0,
                "n_source": n_source,
                "df": df,
                "bound": _relation(o.p, sign),
                "statistic": float(t),
                "d": float(d),
                "d_ci_low": d_lo,
                "d_ci_high": d_hi,
                "g": j * float(d),
                "g_ci_low": j * d_lo,
                "g_ci_high": j * d_hi,
            }
            for col in ("p_holm", "survives_holm", "p_bh", "survives_bh", *(f.column for f in AuditFlag)):
                record[col] = summary[col]
            records.append(record)
    frame = pd.DataFrame.from_records(records, columns=list(EFFECT_COLUMNS))
    for col in ("survives_holm", "survives_bh"):
        frame[col] = frame[col].astype("boolean")
    return frame


def audit_abstract(
    trial: PublishedTrial,
    *,
    alpha: float | None = None,
    level: float = 0.95,
    effects: Sequence[float] = DEFAULT_EFFECTS,
    powers: Sequence[float] = (0.8, 0.9),
    tests: Sequence[AssumedTest | str] | None = None,
    group_sizes: tuple[int, int] | None = None,
) -> AbstractAudit:
    r"""Audit the abstract-level results of a published trial.

    Parameters
    ----------
    trial : PublishedTrial
        The published results (:func:`trialkit.reproduce.published.read_published`); two arms.
    alpha : float, optional
        Significance level for multiplicity, flags and power; default the publication's
        ``design.alpha``, else 0.05.
    level : float
        Confidence level of the d and g intervals (default 0.95).
    effects : sequence of float
        Standardised effects at which the design's power is tabulated.
    powers : sequence of float
        Target powers for the minimal detectable effect (default 80 % and 90 %).
    tests : sequence of AssumedTest, optional
        Tests to assume; default ``student_end, student_change, welch_min_df`` for a parallel
        design and ``paired`` for a crossover.
    group_sizes : (int, int), optional
        ``(n_treatment, n_control)`` known from elsewhere, such as the subjects analysed in
        individual-level data, used instead of the published n (``n_source = "data"``).

    Returns
    -------
    AbstractAudit

    Raises
    ------
    TrialkitError
        When the trial has more than two arms or no sample size, or an option is invalid.

    Notes
    -----
    Per outcome with a p-value and per assumed test with df ν and scale s (s = √(1/n₁+1/n₀),
    or 1/√n for paired):

    - implied statistic :math:`t = \pm t_{1-p/2,\,\nu}`, signed by the published direction;
    - Cohen's :math:`d = t s`; Hedges' :math:`g = J(\nu_p) d` with the exact J and ν_p = n₁+n₀−2
      (n−1 paired); the CI of d inverts the noncentral t
      (:func:`~trialkit.reproduce.audit.d_interval`) and g's CI is J times d's;
    - a p published as a bound gives bounds: with p < c, |t| > t(c) and every number of the row
      is a bound in the direction of the column ``bound`` (the CI limits are monotone in t).

    Group sizes: ``group_sizes`` when given; else the published per-arm analysed n; when that is
    unpublished, the analysed total is split equally (ceil and floor). ``n_source`` and
    ``assumptions`` say which.

    Multiplicity over the family of outcomes with a p-value (R ``p.adjust``, via
    :func:`trialkit.analysis.multiplicity.adjust_p`): Holm and Benjamini–Hochberg at the
    written values (a bound at its conservative end: "< c" at c, "> c" at 1), and at the low and
    high ends of each p's interval (rounding to the written digits, or the bound's range). Both procedures
    are monotone in every p-value, so "all at the high end" is the worst case for every outcome
    at once. A result survives when its adjusted p ≤ alpha (relative slack 1e-12 for binary
    rounding of products such as (10/7)·0.035); the interval's upper end is not attained, so
    "survives in the worst case" is certain.

    Power: two-sided Student t (paired t for a crossover) at the analysed n, noncentral t with
    both tails (:func:`~trialkit.reproduce.audit.power_two_sample`); MDE by root-finding
    (:func:`~trialkit.reproduce.audit.minimal_detectable_effect`).

    Examples
    --------
    >>> from trialkit.reproduce.published import read_published
    >>> audit = audit_abstract(read_published("abbasi2012"))
    >>> audit.n_treatment, audit.n_control, audit.n_source
    (22, 21, 'equal_split_of_analysed')
    >>> isi = audit.outcomes.set_index("outcome").loc["isi"]
    >>> float(isi["p_holm"]), bool(isi["survives_holm"]), bool(isi["survives_holm_worst_case"])
    (0.048, True, False)
    """
    if alpha is None:
        alpha = trial.design.alpha if trial.design.alpha is not None else 0.05
    alpha, level = check_interval(alpha, "alpha", "(0, 1)"), check_interval(level, "level", "(0, 1)")
    if tests is None:
        chosen = _TESTS_BY_DESIGN[trial.design.type]
    else:
        chosen = tuple(check_in(t, "test", AssumedTest) for t in tests)
        paired = [t is AssumedTest.PAIRED for t in chosen]
        if (
            not chosen
            or (any(paired) and trial.design.type is not DesignType.CROSSOVER)
            or (not all(paired) and trial.design.type is DesignType.CROSSOVER)
        ):
            raise TrialkitError(
                f"`tests` {[t.value for t in chosen]} do not fit a "
                f"{trial.design.type.value} design: 'paired' is for crossover trials only."
            )
    targets = tuple(check_interval(p, "powers", f"({alpha:g}, 1)", "a power") for p in powers)
    grid = tuple(check_number(e, "effects") for e in effects)

    n1, n0, n_source, n_note = _group_sizes(trial, group_sizes)
    _enough_subjects(trial, n1, n0, n_source)
    outcomes = _outcome_rows(trial, alpha)
    table = _effect_rows(trial, outcomes, chosen, n1, n0, n_source, level)

    power_test = _POWER_TEST[trial.design.type]
    df, scale = power_test.df(n1, n0), power_test.scale(n1, n0)
    power = pd.DataFrame(
        {
            "d": [float(e) for e in grid],
            "n_treatment": n1,
            "n_control": n0,
            "df": df,
            "ncp": [float(e) / scale for e in grid],
            "alpha": alpha,
            "power": [power_t(float(e), df, scale, alpha) for e in grid],
        }
    )
    mde = pd.DataFrame(
        {
            "power": [float(p) for p in targets],
            "d": [mde_t(df, scale, float(p), alpha) for p in targets],
            "n_treatment": n1,
            "n_control": n0,
            "df": df,
            "alpha": alpha,
        }
    )
    bounds = [o.id for o in trial.outcomes if o.p is not None and o.p.is_bound]
    power_name = "paired" if power_test is AssumedTest.PAIRED else "two-sample Student"
    assumptions = [
        n_note,
        "tests behind the p-values: " + (trial.design.tests or "not stated").rstrip(".") + ". Each row of the table "
        "assumes one test (column `assumption`).",
        f"p-values are two-sided; multiplicity family = the {int(outcomes['p_value'].notna().sum())} "
        f"outcomes with a p-value; alpha = {alpha}.",
        f"power and minimal detectable effect: two-sided {power_name} t at alpha = {alpha}, n = {n1} and {n0}, "
        f"df = {df:g}.",
    ]
    if bounds:
        assumptions.append(
            f"p published as a bound ({', '.join(bounds)}): treated at the conservative end for "
            "multiplicity ('< c' at c, '> c' at 1); implied effects are bounds."
        )
    return AbstractAudit(
        trial_id=trial.id,
        table=table,
        outcomes=outcomes,
        power=power,
        mde=mde,
        n_treatment=n1,
        n_control=n0,
        n_source=n_source,
        alpha=alpha,
        level=level,
        assumptions=tuple(assumptions),
    )
