"""Reproduction of a published trial: one row per published outcome, with a verdict.

Puts side by side what was published (direction, p as written), what the published numbers
imply (abstract audit: effect size, multiplicity), what the table-level audit finds when the
per-arm tables are published, and what re-analysing individual-level data gives — the
recomputed p under the assumed published test and the ANCOVA a statistician would pre-specify
today. Pure: takes parsed inputs and results, returns frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialkit.reproduce.abstract_audit import AbstractAudit, AssumedTest, audit_abstract
from trialkit.reproduce.published import PublishedTrial

__all__ = ["BY_CONSTRUCTION", "DATA_KINDS", "REPRODUCTION_COLUMNS", "Reproduction", "reproduce", "VERDICTS"]

REPRODUCTION_COLUMNS = (
    "outcome",
    "label",
    "direction_published",
    "p_published",
    "implied_d",
    "implied_d_ci_low",
    "implied_d_ci_high",
    "p_holm",
    "survives_holm",
    "p_bh",
    "survives_bh",
    "flags",
    "direction_recomputed",
    "p_recomputed",
    "recomputed_test",
    "p_ancova",
    "ancova_estimate",
    "ancova_ci_low",
    "ancova_ci_high",
    "significant_published",
    "significant_ancova",
    "verdict",
    "reason",
    "data",
)

#: what the re-analysed data are (column ``data``)
DATA_KINDS = {
    "calibrated": "calibrated reconstruction (synthetic)",
    "individual": "individual data",
    "none": "none",
}
#: start of ``reason`` of a verdict on data calibrated to the published p: true by construction
BY_CONSTRUCTION = "by construction: the data were calibrated to the published p; "

#: verdict registry: the words a reader sees, and what each means
VERDICTS = {
    "reproduced": "the re-analysis gives the published p (to its printed precision) and direction",
    "reproduced only for r in [a, b]": "the published table gives the published p only for pre-post correlations in that range",
    "not reproducible": "no re-analysis under the stated assumptions gives the published p and direction",
    "not assessable": "only the p-value is published and no individual-level data were given to re-analyse",
}


@dataclass(frozen=True, eq=False)
class Reproduction:
    """One row per published outcome (``table``, columns :data:`REPRODUCTION_COLUMNS`) and the
    abstract-level audit it rests on.
    """

    trial_id: str
    table: pd.DataFrame
    audit: AbstractAudit
    assumptions: tuple[str, ...]


def _flags(row: pd.Series) -> str:
    names = {
        "flag_counter_intuitive": "counter-intuitive direction",
        "flag_marginal_claim": "marginal claim",
        "flag_not_significant": "not significant",
        "flag_p_bound": "p published as a bound",
        "flag_rounding_sensitive": "Holm survival depends on rounding",
    }
    return "; ".join(text for col, text in names.items() if bool(row.get(col, False)))


def _direction(estimate: float, null: float) -> str:
    if not np.isfinite(estimate):
        return ""
    return "increase" if estimate > null else ("decrease" if estimate < null else "none")


def _recomputed(results_table: pd.DataFrame | None, outcome: str, visit: str | None, analysis: str) -> pd.Series | None:
    if results_table is None or visit is None:
        return None
    t = results_table
    rows = t.loc[(t["endpoint"] == outcome) & (t["visit"] == visit) & (t["analysis"] == analysis)]
    if "population" in rows:
        rows = rows.loc[rows["population"] == "fas"]
    return rows.iloc[0] if len(rows) else None


def _matches(p_low: float, p_high: float, bound: str, p: float) -> bool:
    """Whether ``p`` prints as the published p: inside its rounding interval, or under its bound."""
    if bound in ("<", "<="):
        return p < p_high or (bound == "<=" and p == p_high)
    return p_low <= p < p_high


def reproduce(
    published: PublishedTrial,
    *,
    results_table: pd.DataFrame | None = None,
    visit: str | None = None,
    log_endpoints: frozenset[str] = frozenset(),
    recomputed_test: str = "student_change",
    alpha: float | None = None,
    calibrated: bool = False,
) -> Reproduction:
    """Verdict per published outcome.

    Parameters
    ----------
    published : PublishedTrial
        The published results (``read_published``).
    results_table : DataFrame, optional
        ``analyze(...).table`` of individual-level data of the trial (real, or a calibrated
        reconstruction); endpoint ids must equal the outcome ids.
    visit : str, optional
        The visit the published comparison refers to (default: none, no re-analysis).
    log_endpoints : frozenset of str
        Endpoints analysed on the log scale (their estimates are ratios; "no change" is 1).
    recomputed_test : str
        Analysis id standing for the published test (default ``student_change``: the
        independent-samples t-test between arms the sister paper reports).
    alpha : float, optional
        Significance level; default the published design's.
    calibrated : bool
        The individual-level data are a synthetic reconstruction calibrated so that the
        ``recomputed_test`` gives each published p (as the bundled ``data/synthetic/<trial>/``
        data are: their ``MANIFEST.json`` records the targets under ``calibration``). A
        ``reproduced`` verdict on them is true by construction, not an independent confirmation:
        its ``reason`` starts with :data:`BY_CONSTRUCTION`, and the ``data`` column says so.

    Returns
    -------
    Reproduction

    Notes
    -----
    Verdicts (:data:`VERDICTS`): with individual-level data, ``reproduced`` when the recomputed
    p prints as the published p (inside its rounding interval, or under its bound) with the
    published direction, otherwise ``not reproducible``; without data, ``not assessable``.
    The ``data`` column names what was re-analysed (:data:`DATA_KINDS`); on calibrated data the
    verdict still comes from the numbers, but a match only shows that the calibration worked.
    The table-level verdicts (``reproduced only for r in [a, b]``) come from
    :func:`trialkit.reproduce.table_audit.verdict` when a published table is attached.
    """
    audit = audit_abstract(published, alpha=alpha)
    out = audit.outcomes.set_index("outcome")
    eff = audit.table.loc[audit.table["test"] == AssumedTest.STUDENT_END.value].set_index("outcome")
    level = alpha if alpha is not None else audit.alpha
    calibrated = bool(calibrated) and results_table is not None
    data_kind = DATA_KINDS["none" if results_table is None else ("calibrated" if calibrated else "individual")]
    rows = []
    for outcome in out.index:
        o, e = out.loc[outcome], eff.loc[outcome] if outcome in eff.index else None
        rec = _recomputed(results_table, outcome, visit, recomputed_test)
        anc = _recomputed(results_table, outcome, visit, "ancova")
        null = 1.0 if outcome in log_endpoints else 0.0
        row = {
            "outcome": outcome,
            "label": o["label"],
            "direction_published": o["direction"],
            "p_published": o["p_as_written"],
            "implied_d": e["d"] if e is not None else np.nan,
            "implied_d_ci_low": e["d_ci_low"] if e is not None else np.nan,
            "implied_d_ci_high": e["d_ci_high"] if e is not None else np.nan,
            "p_holm": o["p_holm"],
            "survives_holm": bool(o["survives_holm"]),
            "p_bh": o["p_bh"],
            "survives_bh": bool(o["survives_bh"]),
            "flags": _flags(o),
            "direction_recomputed": _direction(rec["estimate"], null) if rec is not None else "",
            "p_recomputed": rec["p_value"] if rec is not None else np.nan,
            "recomputed_test": recomputed_test if rec is not None else "",
            "p_ancova": anc["p_value"] if anc is not None else np.nan,
            "ancova_estimate": anc["estimate"] if anc is not None else np.nan,
            "ancova_ci_low": anc["ci_low"] if anc is not None else np.nan,
            "ancova_ci_high": anc["ci_high"] if anc is not None else np.nan,
            "significant_published": bool(o["significant"]),
            "significant_ancova": bool(anc["p_value"] < level) if anc is not None else None,
            "data": data_kind,
        }
        if rec is None:
            row["verdict"], row["reason"] = (
                "not assessable",
                ("only the p-value is published; no individual-level data or per-arm table to re-analyse."),
            )
        else:
            same_p = _matches(float(o["p_low"]), float(o["p_high"]), str(o["p_bound"]), float(rec["p_value"]))
            same_direction = o["direction"] == "none" or row["direction_recomputed"] == o["direction"]
            if same_p and same_direction:
                row["verdict"] = "reproduced"
                row["reason"] = (
                    f"{recomputed_test} p = {rec['p_value']:.4g} prints as the published "
                    f"{o['p_as_written']}, direction {row['direction_recomputed'] or 'as published'}."
                )
                if calibrated:
                    row["reason"] = BY_CONSTRUCTION + row["reason"]
            else:
                row["verdict"] = "not reproducible"
                why = (
                    []
                    if same_p
                    else [f"{recomputed_test} p = {rec['p_value']:.4g} does not print as {o['p_as_written']}"]
                )
                if not same_direction:
                    why.append(f"direction {row['direction_recomputed']} against the published {o['direction']}")
                row["reason"] = "; ".join(why) + "."
                if calibrated:
                    row["reason"] += (
                        " The data were calibrated to the published p: the mismatch points at the"
                        " calibration or the assumed test, not at the trial."
                    )
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(REPRODUCTION_COLUMNS))
    return Reproduction(published.id, table, audit, tuple(audit.assumptions))
