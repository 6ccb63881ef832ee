"""The table-level audit of a published trial: every check its per-arm tables allow, outcome by outcome.

:func:`audit_tables` runs, on each outcome whose ``[outcomes.table]`` is published:

* on every printed row: GRIM and GRIMMER (:func:`grim`, :func:`grimmer`) when the outcome is made
  of integer items, and whether the mean and the SD fit the scale's range (:func:`check_sd`);
* on every change (or within-subject difference) row, with the two rows it runs between: whether the
  three SDs can describe the same subjects (some correlation in [-1, 1] gives the change SD);
* at baseline of a parallel design: the standardised difference between arms (:func:`baseline_imbalance`);
* on every published comparison: the p-value recomputed from the printed summaries over their
  rounding, and over the pre-post correlation r when the change SD is not published
  (:func:`table_verdict`), with the interval of r for which the per-arm rows alone give the
  published p (the implied pre-post correlation).

An outcome's verdict is that of the comparison whose printed p is the outcome's, with the published
direction required too. Pure: published numbers in, frames out; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from trialkit._errors import TrialkitError
from trialkit.reproduce._codes import Flag, Verdict
from trialkit.reproduce.audit._grim import grim, grimmer
from trialkit.reproduce.audit._p_over_r import check_r_range
from trialkit.reproduce.audit._sd_bounds import check_sd
from trialkit.reproduce.audit._summary_tests import ArmSummary, Comparison, baseline_imbalance
from trialkit.reproduce.audit._table_verdict import TableVerdict, table_verdict
from trialkit.reproduce.published import (
    DesignType,
    Direction,
    PairedSummary,
    PublishedComparison,
    PublishedOutcome,
    PublishedSummary,
    PublishedTable,
    PublishedTrial,
    Scale,
)

#: |SMD| between arms at baseline above which an outcome is flagged ``baseline_imbalance`` (Austin 2009)
BASELINE_SMD_LIMIT = 0.1


class TableFlag(Flag):
    """Registry of the table-level checks: a boolean column ``flag_<code>`` each, True when the check fails."""

    GRIM = (
        "grim",
        "mean impossible (GRIM)",
        "a printed mean that no n integer scores give (GRIM, Brown & Heathers 2017)",
    )
    GRIMMER = (
        "grimmer",
        "mean and SD impossible (GRIMMER)",
        "a printed mean and SD that no n integer scores give together, although the mean passes GRIM "
        "(GRIMMER, Anaya 2016)",
    )
    MEAN_RANGE = "mean_range", "mean outside the range", "a printed mean outside the scale's range"
    SD_RANGE = (
        "sd_range",
        "SD impossible for the range",
        "a printed SD that no n values within the scale's range give with that mean",
    )
    CHANGE_SD = (
        "change_sd",
        "change SD impossible",
        "a printed change SD that no correlation in [-1, 1] gives from the SDs at the two time points, even "
        "over their rounding",
    )
    BASELINE_IMBALANCE = (
        "baseline_imbalance",
        "baseline imbalance",
        f"a standardised difference between arms at baseline above {BASELINE_SMD_LIMIT} (a chance finding under "
        "randomisation, worth adjusting for)",
    )


#: the flags raised by checks of single printed rows (column ``check`` of :attr:`TableAudit.checks`)
_ROW_CHECKS = (TableFlag.GRIM, TableFlag.GRIMMER, TableFlag.MEAN_RANGE, TableFlag.SD_RANGE, TableFlag.CHANGE_SD)

#: Columns of :attr:`TableAudit.checks`: one row per printed row and check
CHECK_COLUMNS: tuple[str, ...] = ("outcome", "table", "arm", "reference", "time", "n", "check", "passed", "reason")
#: Columns of :attr:`TableAudit.comparisons`: one row per published comparison
COMPARISON_COLUMNS: tuple[str, ...] = (
    "outcome",
    "time",
    "on",
    "arm",
    "p_published",
    "test",
    "estimate",
    "p_value",
    "p_min",
    "p_max",
    "r_low",
    "r_high",
    "verdict",
    "reason",
)
#: Columns of :attr:`TableAudit.outcomes`: one row per outcome of the trial
TABLE_COLUMNS: tuple[str, ...] = (
    "outcome",
    *COMPARISON_COLUMNS[1:-2],
    "baseline_smd",
    *(f.column for f in TableFlag),
    "verdict",
    "reason",
)


@dataclass(frozen=True, eq=False)
class TableAudit:
    """What the published tables of one trial allow a reader to check.

    Attributes
    ----------
    outcomes : DataFrame
        One row per outcome (:data:`TABLE_COLUMNS`): the comparison behind the outcome's printed p
        (``time``, ``on``, ``arm``), the test that reproduces it (``test``: ``student``, ``welch``
        or ``paired``), the compared ``estimate`` (intervention − control, at the printed values),
        the recomputed ``p_value`` at the printed values (NaN when it depends on r), its range
        ``p_min``..``p_max`` over the rounding of the table and over r, the pre-post correlations
        ``r_low``..``r_high`` for which the per-arm rows give the printed p (NaN when none or when
        r does not enter), the standardised difference at baseline, one ``flag_<code>`` column per
        :class:`TableFlag`, and the ``verdict`` (a :class:`~trialkit.reproduce.Verdict` code) with its
        ``reason``. Outcomes without a table are ``not_assessable``.
    comparisons : DataFrame
        One row per published comparison (:data:`COMPARISON_COLUMNS`), baseline comparisons included.
    checks : DataFrame
        One row per printed row and check (:data:`CHECK_COLUMNS`): ``check`` is the
        :class:`TableFlag` it would raise, ``passed`` whether the row passes (NA when the check
        could not run, with the reason).
    r_range : (float, float)
        The pre-post correlations considered plausible.
    assumptions : tuple of str
        What the numbers rest on, in words.
    """

    trial_id: str
    outcomes: pd.DataFrame
    comparisons: pd.DataFrame
    checks: pd.DataFrame
    r_range: tuple[float, float]
    assumptions: tuple[str, ...]

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return self.outcomes.to_html(index=False, escape=True)


# --------------------------------------------------------------------------------------------
# checks of printed rows


def _printed(value: float, decimals: int | None) -> float | str:
    """Return a printed number with its printed decimals (``"2.50"``) when they are known."""
    return value if decimals is None else f"{value:.{decimals}f}"


def _half(decimals: int | None) -> float:
    return 0.0 if decimals is None else 0.5 * 10.0**-decimals


def _attempt(check: TableFlag, run: Callable[[], tuple[bool, str]]) -> tuple[TableFlag, bool | None, str]:
    """Return (check, passed, reason); passed is None when the row cannot be checked (the reason says why)."""
    try:
        passed, reason = run()
    except TrialkitError as exc:  # e.g. a range that holds a single integer value
        return check, None, str(exc)
    return check, passed, reason


def _row_checks(
    row: PublishedSummary | PairedSummary, kind: str, scale: Scale | None
) -> list[tuple[TableFlag, bool | None, str]]:
    """Return (check, passed, reason) for one printed row: GRIM, GRIMMER, the scale's range."""
    if scale is None:
        return []
    found = []
    ddof = 0 if row.sd_divisor == "n" else 1
    mean = _printed(row.mean, row.mean_decimals)
    sd = None if row.sd is None else _printed(row.sd, row.dispersion_decimals)
    m_places, s_places = row.mean_decimals, row.dispersion_decimals
    integer = False  # whether the range check may use integer granularity: the mean passes GRIM
    if scale.integer and m_places is not None:

        def run_grim() -> tuple[bool, str]:
            res = grim(mean, row.n, decimals=m_places, items=scale.items)
            return res.consistent, res.reason

        found.append(_attempt(TableFlag.GRIM, run_grim))
        integer = found[-1][1] is True
        if integer and sd is not None and s_places is not None and row.n >= 2:

            def run_grimmer() -> tuple[bool, str]:
                res = grimmer(
                    mean, sd, row.n, decimals_mean=m_places, decimals_sd=s_places, items=scale.items, ddof=ddof
                )
                return res.consistent, res.reason

            found.append(_attempt(TableFlag.GRIMMER, run_grimmer))
    if kind != "rows" or scale.range is None:
        return found
    low, high = scale.range
    half = _half(m_places)
    inside = low <= row.mean + half and row.mean - half <= high
    where = "within" if inside else "outside"
    found.append((TableFlag.MEAN_RANGE, inside, f"mean {mean} is {where} the scale's range [{low:g}, {high:g}]"))
    if inside and sd is not None and row.n >= 2:

        def run_sd_range() -> tuple[bool, str]:
            res = check_sd(
                mean,
                sd,
                row.n,
                low,
                high,
                integer=integer,
                decimals_mean=m_places,
                decimals_sd=s_places,
                items=scale.items if integer else 1,
                ddof=ddof,
            )
            return res.possible, res.reason

        found.append(_attempt(TableFlag.SD_RANGE, run_sd_range))
    return found


def _spread_box(row: PublishedSummary | PairedSummary) -> tuple[float, float]:
    """Return the sample SDs (divisor n - 1) that print as the row's ± value."""
    half = _half(row.dispersion_decimals) * row.sd_factor
    return max(row.sample_sd - half, 0.0), row.sample_sd + half


def _change_sd_check(
    change: PublishedSummary | PairedSummary, pre: PublishedSummary, post: PublishedSummary
) -> tuple[bool, str]:
    """Whether a change SD can come from the SDs at its two time points (same subjects), over rounding.

    The change variance is a² + b² − 2rab with r in [-1, 1], so c is possible exactly when
    |a − b| <= c <= a + b; over the rounding boxes of a, b and c that is c_low <= a_high + b_high and
    c_high >= the smallest |a − b| in the box.
    """
    (a_lo, a_hi), (b_lo, b_hi), (c_lo, c_hi) = _spread_box(pre), _spread_box(post), _spread_box(change)
    possible = c_lo <= a_hi + b_hi and c_hi >= max(0.0, a_lo - b_hi, b_lo - a_hi)
    a, b, c = pre.sample_sd, post.sample_sd, change.sample_sd
    said = f"SDs {a:.4g} ({pre.arm}, {pre.time}), {b:.4g} ({post.arm}, {post.time}) and {c:.4g} (difference)"
    if a > 0 and b > 0:
        said += f" imply r = {(a * a + b * b - c * c) / (2 * a * b):.4g}"
    if not possible:
        said += "; no correlation in [-1, 1] gives the change SD, even over the rounding of the three"
    return possible, said


def _checks(trial: PublishedTrial, o: PublishedOutcome, table: PublishedTable) -> list[dict[str, Any]]:
    """Return one record per printed row and check (:data:`CHECK_COLUMNS`)."""
    records = []
    rows: Sequence[PublishedSummary | PairedSummary]
    for kind, rows in (("rows", table.rows), ("change", table.change), ("paired", table.paired)):
        for row in rows:
            found = _row_checks(row, kind, o.scale)
            pre = post = None
            if isinstance(row, PairedSummary):
                pre, post = _find(table.rows, row.reference, row.time), _find(table.rows, row.arm, row.time)
            elif kind == "change":
                pre, post = _find(table.rows, row.arm, trial.design.baseline), _find(table.rows, row.arm, row.time)
            if pre is not None and post is not None and pre.n == post.n == row.n:
                found.append((TableFlag.CHANGE_SD, *_change_sd_check(row, pre, post)))
            reference = row.reference if isinstance(row, PairedSummary) else ""
            where = {"outcome": o.id, "table": kind, "arm": row.arm, "reference": reference, "time": row.time}
            records += [{**where, "n": row.n, "check": f.value, "passed": ok, "reason": why} for f, ok, why in found]
    return records


def _find(rows: Sequence[PublishedSummary], arm: str, time: str | None) -> PublishedSummary | None:
    return next((r for r in rows if r.arm == arm and r.time == time), None)


# --------------------------------------------------------------------------------------------
# published comparisons


class _NotAssessable(Exception):
    """A comparison the table does not give the numbers for (its message says which)."""


def _arms(
    trial: PublishedTrial, table: PublishedTable, c: PublishedComparison
) -> tuple[ArmSummary, ArmSummary | None, Comparison, list[PublishedSummary | PairedSummary]]:
    """Return the treatment and control summaries of a comparison (control None: within subjects) and the rows used."""
    intervention = [a.id for a in trial.intervention_arms]
    if not c.arm and len(intervention) != 1:
        raise _NotAssessable(f"the comparison names no `arm` and the trial has {len(intervention)} intervention arms")
    treatment, control = c.arm or intervention[0], trial.design.control
    if c.on == "paired":
        pair = next((p for p in table.paired if (p.arm, p.reference, p.time) == (treatment, control, c.time)), None)
        follow, base = _find(table.rows, treatment, c.time), _find(table.rows, control, c.time)
        if follow is None or base is None:
            if pair is None:
                raise _NotAssessable(
                    f"the table gives neither the {treatment} - {control} differences nor both rows at {c.time!r}"
                )
            follow = base = None
        used = [r for r in (follow, base, pair) if r is not None]
        return ArmSummary.from_published(follow, base, pair), None, Comparison.CHANGE, used
    summaries, used = [], []
    for arm in (treatment, control):
        follow = _find(table.rows, arm, c.time)
        if c.on == "change":
            change = _find(table.change, arm, c.time)
            base = _find(table.rows, arm, trial.design.baseline)
            if follow is None and change is None:
                raise _NotAssessable(f"the table gives no row and no change of {arm!r} at {c.time!r}")
            summaries.append(ArmSummary.from_published(follow, base, change))
            used += [r for r in (follow, base, change) if r is not None]
        else:
            if follow is None:
                raise _NotAssessable(f"the table gives no row of {arm!r} at {c.time!r}")
            summaries.append(ArmSummary.from_published(follow))
            used.append(follow)
    return summaries[0], summaries[1], Comparison.CHANGE if c.on == "change" else Comparison.FOLLOW_UP, used


def _decimals(rows: Sequence[PublishedSummary | PairedSummary]) -> int | None:
    """Return the fewest printed decimals of the rows (None when any is unknown: the values are then exact)."""
    places = [d for r in rows for d in (r.mean_decimals, r.dispersion_decimals)]
    known = [d for d in places if d is not None]
    return None if len(known) < len(places) or not known else min(known)


def _r_span(spans: Sequence[tuple[float, float]]) -> tuple[float, float]:
    return (min(a for a, _ in spans), max(b for _, b in spans)) if spans else (math.nan, math.nan)


def _implied_r(
    v: TableVerdict,
    c: PublishedComparison,
    arms: tuple[ArmSummary, ArmSummary | None],
    decimals: int | None,
    r_range: tuple[float, float],
) -> tuple[float, float]:
    """Return the r for which the per-arm rows alone give the published p (NaN when r does not enter)."""
    if v.r_intervals:
        return _r_span(v.r_intervals)
    treatment, control = arms
    together = [a for a in arms if a is not None]
    if v.comparison is not Comparison.CHANGE or not all(
        a.change_sd is not None and a.baseline_sd is not None for a in together
    ):
        return math.nan, math.nan
    without = table_verdict(
        c.p,
        replace(treatment, change_sd=None),
        None if control is None else replace(control, change_sd=None),
        comparison=Comparison.CHANGE,
        decimals=decimals,
        r_range=r_range,
    )
    return _r_span(without.r_intervals)


def _comparison(
    trial: PublishedTrial,
    o: PublishedOutcome,
    table: PublishedTable,
    c: PublishedComparison,
    r_range: tuple[float, float],
) -> dict[str, Any]:
    row: dict[str, Any] = {"outcome": o.id, "time": c.time, "on": c.on, "arm": c.arm, "p_published": c.p.as_written}
    try:
        treatment, control, comparison, used = _arms(trial, table, c)
        decimals = _decimals(used)
        v = table_verdict(c.p, treatment, control, comparison=comparison, decimals=decimals, r_range=r_range)
        r_low, r_high = _implied_r(v, c, (treatment, control), decimals, r_range)
    except (_NotAssessable, TrialkitError) as exc:
        nan = math.nan
        return row | {
            "test": "",
            "estimate": nan,
            "p_value": nan,
            "p_min": nan,
            "p_max": nan,
            "r_low": nan,
            "r_high": nan,
            "verdict": Verdict.NOT_ASSESSABLE.value,
            "reason": f"{exc}.",
        }
    return row | {
        "test": v.method.value,
        "estimate": v.estimate,
        "p_value": v.p_value,
        "p_min": v.p_min,
        "p_max": v.p_max,
        "r_low": r_low,
        "r_high": r_high,
        "verdict": v.verdict.value,
        "reason": v.reason + ".",
    }


def _baseline_smd(trial: PublishedTrial, table: PublishedTable) -> float:
    """Return the standardised difference between the arms at baseline (NaN when the table does not give it)."""
    design = trial.design
    if design.type is not DesignType.PARALLEL or design.baseline is None or len(trial.intervention_arms) != 1:
        return math.nan
    t = _find(table.rows, trial.intervention_arms[0].id, design.baseline)
    c = _find(table.rows, design.control, design.baseline)
    if t is None or c is None or min(t.n, c.n) < 2:
        return math.nan
    try:
        res = baseline_imbalance(t.mean, t.sample_sd, t.n, c.mean, c.sample_sd, c.n, equal_var=True)
    except TrialkitError:  # no spread in either arm: the SMD is undefined
        return math.nan
    return res.smd


# --------------------------------------------------------------------------------------------
# the audit


def _outcome_row(
    trial: PublishedTrial, o: PublishedOutcome, comparisons: list[dict[str, Any]], checks: list[dict[str, Any]]
) -> dict[str, Any]:
    empty = dict.fromkeys(COMPARISON_COLUMNS[1:-2], math.nan) | {"on": "", "arm": "", "test": "", "time": ""}
    flags = {f.column: any(c["check"] == f.value and c["passed"] is False for c in checks) for f in _ROW_CHECKS}
    row: dict[str, Any] = {"outcome": o.id, **empty, "baseline_smd": math.nan, **flags}
    row[TableFlag.BASELINE_IMBALANCE.column] = False
    if o.table is None:
        why = (
            f"the table is published but not available here ({o.unavailable_reason or 'no reason given'})"
            if "table" in o.unavailable
            else "no per-arm table is published"
        )
        return row | {"verdict": Verdict.NOT_ASSESSABLE.value, "reason": f"{why}."}
    smd = _baseline_smd(trial, o.table)
    row["baseline_smd"] = smd
    row[TableFlag.BASELINE_IMBALANCE.column] = bool(abs(smd) > BASELINE_SMD_LIMIT)
    if o.p is None:
        return row | {"verdict": Verdict.NOT_ASSESSABLE.value, "reason": "the outcome has no published p-value."}
    order = {visit: i for i, visit in enumerate(trial.design.visits)}
    matching = sorted((c for c in comparisons if c["p_published"] == o.p.as_written), key=lambda c: order[c["time"]])
    if not matching:
        return row | {
            "verdict": Verdict.NOT_ASSESSABLE.value,
            "reason": f"the table lists no comparison with the outcome's p ({o.p.as_written}): add it to "
            "`comparisons`, with what it compared (`on`).",
        }
    chosen = matching[-1]
    row |= {k: chosen[k] for k in COMPARISON_COLUMNS[1:]}
    sign = {Direction.INCREASE: 1.0, Direction.DECREASE: -1.0}.get(o.direction)
    found = Verdict(chosen["verdict"])
    if (
        sign is not None
        and found in (Verdict.REPRODUCED, Verdict.REPRODUCED_FOR_R)
        and not sign * chosen["estimate"] > 0
    ):
        row["verdict"] = Verdict.NOT_REPRODUCIBLE.value
        row["reason"] = (
            f"the table's difference {chosen['estimate']:.4g} is against the published direction "
            f"({o.direction.value}); {chosen['reason']}"
        )
    return row


def audit_tables(trial: PublishedTrial, *, r_range: Sequence[float] = (0.0, 1.0)) -> TableAudit:
    """Audit every published per-arm table of a trial: row checks, recomputed p-values, verdicts.

    Parameters
    ----------
    trial : PublishedTrial
        The published results (:func:`~trialkit.reproduce.published.read_published`); outcomes
        with an ``[outcomes.table]`` are audited, the others are ``not_assessable``.
    r_range : (float, float), default (0, 1)
        Plausible pre-post correlations (the same in both arms), where a change SD must come
        from one.

    Returns
    -------
    TableAudit

    Notes
    -----
    Rows: GRIM and GRIMMER need ``scale.integer`` and the printed decimals (a value written as a
    string such as ``"5.20"``, or the table's ``decimals``); the range checks need
    ``scale.range`` and apply to end values (not to changes). SE rows are checked for GRIM only:
    an SD computed from a printed SE does not carry the SE's rounding. A change SD is checked
    against the SDs at its two time points when the three rows have the same n.

    Comparisons: :func:`table_verdict` with ``decimals`` the fewest printed decimals of the rows
    involved (unknown decimals: the printed values are taken as exact); two arms are compared by
    Welch's and Student's t, and ``test`` names the one that reproduces the p. The outcome's
    comparison is the one listed in ``comparisons`` with the outcome's printed p (the latest
    visit when several are).

    Examples
    --------
    >>> from trialkit.reproduce.published import read_published
    >>> audit = audit_tables(read_published("student1908"))
    >>> row = audit.outcomes.iloc[0]
    >>> row["verdict"], row["test"], float(round(row["p_value"], 5))
    ('reproduced', 'paired', 0.00288)
    >>> float(round(row["r_low"], 3)), float(round(row["r_high"], 3))
    (0.777, 0.806)
    """
    lo, hi = check_r_range(r_range)
    outcomes, comparisons, checks = [], [], []
    for o in trial.outcomes:
        found: list[dict[str, Any]] = []
        flagged: list[dict[str, Any]] = []
        if o.table is not None:
            flagged = _checks(trial, o, o.table)
            found = [_comparison(trial, o, o.table, c, (lo, hi)) for c in o.table.comparisons]
        outcomes.append(_outcome_row(trial, o, found, flagged))
        comparisons += found
        checks += flagged
    checks_frame = pd.DataFrame(checks, columns=list(CHECK_COLUMNS))
    checks_frame["passed"] = checks_frame["passed"].astype("boolean")
    assumptions = (
        f"pre-post correlation r in [{lo:g}, {hi:g}], the same in both arms, where a change SD is not published.",
        "printed means and SDs stand for every value that rounds to them, at the decimals the file gives "
        '(strings such as "2.50" or the table\'s `decimals`); without them, the printed values are taken as exact.',
        "two arms are compared by Welch's and by Student's t (column `test` names the one that reproduces the p); "
        "within subjects by the paired t.",
    )
    return TableAudit(
        trial_id=trial.id,
        outcomes=pd.DataFrame(outcomes, columns=list(TABLE_COLUMNS)),
        comparisons=pd.DataFrame(comparisons, columns=list(COMPARISON_COLUMNS)),
        checks=checks_frame,
        r_range=(lo, hi),
        assumptions=assumptions,
    )
