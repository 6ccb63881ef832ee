"""Reproduction of a published trial: one row per published outcome, with a verdict.

Puts side by side what was published (direction, p as written), what the published numbers imply
(the abstract-level audit: effect size, multiplicity), what the published per-arm tables give (the
table-level audit: GRIM, GRIMMER, SD bounds, the p recomputed from the table, baseline imbalance,
the implied pre-post correlation) and what re-analysing individual-level data gives (the p under the
assumed published test, and the ANCOVA a statistician would pre-specify today). Reads the published
file and the data's manifest; writes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trialkit import datasets
from trialkit._checks import check_in
from trialkit._errors import TrialkitError
from trialkit._trial import Trial
from trialkit.analysis import Analysis
from trialkit.analysis._analyze import analyze
from trialkit.analysis._results import Results
from trialkit.reproduce._codes import Verdict
from trialkit.reproduce.audit import AbstractAudit, AuditFlag, TableAudit, TableFlag, audit_abstract, audit_tables
from trialkit.reproduce.published import Direction, PublishedOutcome, PublishedTrial, read_published

#: what the re-analysed data are (column ``data``)
DATA_KINDS = {
    "calibrated": "calibrated reconstruction (synthetic)",
    "individual": "individual data",
    "none": "none",
}
#: start of ``reason`` of a verdict on data calibrated to the published p: true by construction
BY_CONSTRUCTION = "by construction: the data were calibrated to the published p; "

#: columns of the table-level audit carried into a reproduction, under their names there
_FROM_TABLES = {
    "on": "table_on",
    "test": "table_test",
    "estimate": "table_estimate",
    "p_value": "table_p_value",
    "p_min": "table_p_min",
    "p_max": "table_p_max",
    "r_low": "r_low",
    "r_high": "r_high",
    "baseline_smd": "baseline_smd",
    **{f.column: f.column for f in TableFlag},
    "verdict": "verdict_table",
}

#: Columns of :attr:`Reproduction.table`, in order: published; abstract level; table level; data
REPRODUCTION_COLUMNS: tuple[str, ...] = (
    "outcome",
    "label",
    "direction_published",
    "p_published",
    "implied_test",
    "implied_d",
    "implied_d_ci_low",
    "implied_d_ci_high",
    "n_treatment",
    "n_control",
    "n_source",
    "p_holm",
    "survives_holm",
    "p_bh",
    "survives_bh",
    *(f.column for f in AuditFlag),
    *_FROM_TABLES.values(),
    "direction_recomputed",
    "p_recomputed",
    "recomputed_test",
    "p_ancova",
    "ancova_estimate",
    "ancova_ci_low",
    "ancova_ci_high",
    "significant_published",
    "significant_ancova",
    "verdict_data",
    "verdict",
    "reason",
    "data",
)
_BOOLEAN = ("survives_holm", "survives_bh", "significant_published", "significant_ancova")


@dataclass(frozen=True, eq=False)
class Reproduction:
    """A published trial reproduced: one row per outcome, and the audits the rows rest on.

    Attributes
    ----------
    trial_id : str
        The published trial's id.
    table : DataFrame
        One row per published outcome (:data:`REPRODUCTION_COLUMNS`): the published direction and
        p; the abstract-level audit (implied d under ``implied_test``, group sizes and where they
        come from, Holm and Benjamini-Hochberg survival, ``flag_<code>`` per
        :class:`~trialkit.reproduce.audit.AuditFlag`); the table-level audit (``table_*``,
        ``r_low``/``r_high``, ``baseline_smd``, ``flag_<code>`` per
        :class:`~trialkit.reproduce.audit.TableFlag`, ``verdict_table``); the re-analysis of
        individual-level data (``p_recomputed`` under ``recomputed_test``, ANCOVA, ``verdict_data``);
        and the ``verdict`` (a :class:`~trialkit.reproduce.Verdict` code) with its ``reason``.
    audit : AbstractAudit
        The abstract-level audit.
    tables : TableAudit
        The table-level audit (every outcome ``not_assessable`` when no table is published).
    assumptions : tuple of str
        What the numbers rest on, in words.
    published_file : str
        The published-results file read.
    data_file : str or None
        The study spec of the individual-level data re-analysed.
    calibrated : bool
        Whether those data were calibrated to the published p-values (a match is then by
        construction).
    """

    trial_id: str
    table: pd.DataFrame
    audit: AbstractAudit
    tables: TableAudit
    assumptions: tuple[str, ...]
    published_file: str
    data_file: str | None
    calibrated: bool

    @property
    def text(self) -> str:
        """The reproduction in words: one line per outcome, then the assumptions."""
        lines = [
            f"Reproduction of {self.trial_id} from {self.published_file}",
            f"individual-level data: {self.data_file or 'none'}",
        ]
        if self.calibrated:
            manifest = Path(self.data_file or ".").parent / "MANIFEST.json"
            lines.append(
                f"the data are a calibrated synthetic reconstruction ({manifest} records the published p each "
                'outcome was calibrated to): a "reproduced" verdict holds by construction and is no independent '
                "confirmation of the trial"
            )
        lines.append("")
        lines += [_line(row) for row in self.table.to_dict("records")]
        lines += ["", "Assumptions:", *(f"  - {a}" for a in self.assumptions)]
        return "\n".join(lines)

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return self.table.to_html(index=False, escape=True)


def _line(row: Mapping[Hashable, Any]) -> str:
    """One outcome of :attr:`Reproduction.text`."""
    parts = [f"{row['outcome']:>20}: {Verdict(row['verdict']).label:<22} published p {row['p_published']}"]
    parts[0] += f" ({row['direction_published']})"
    if row["verdict_table"] != Verdict.NOT_ASSESSABLE:
        table = f"table {row['table_test']} p {row['table_p_min']:.4g} to {row['table_p_max']:.4g}"
        if math.isfinite(row["r_low"]):
            table += f", for r in [{row['r_low']:.3f}, {row['r_high']:.3f}]"
        parts.append(table)
    if row["verdict_data"] != Verdict.NOT_ASSESSABLE:
        parts.append(
            f"recomputed {row['recomputed_test']} p = {row['p_recomputed']:.4g}, ANCOVA p = {row['p_ancova']:.4g}"
        )
    if not pd.isna(row["survives_holm"]):
        holm, bh = ("survives" if row[k] else "fails" for k in ("survives_holm", "survives_bh"))
        parts.append(f"Holm {holm}, BH {bh}")
    flags = [f.label for f in (*AuditFlag, *TableFlag) if row[f.column]]
    return "; ".join(parts) + (f"  [{'; '.join(flags)}]" if flags else "")


# ---------------------------------------------------------------------------------------------
# the re-analysis of individual-level data


def _row(results: pd.DataFrame, outcome: str, visit: str, analysis: str) -> pd.Series | None:
    t = results
    rows = t.loc[(t["endpoint"] == outcome) & (t["visit"] == visit) & (t["analysis"] == analysis)]
    if "population" in rows:
        rows = rows.loc[rows["population"] == "fas"]
    return rows.iloc[0] if len(rows) else None


def _direction(estimate: float, null: float) -> str:
    if not np.isfinite(estimate):
        return ""
    if estimate == null:
        return Direction.NONE.value
    return (Direction.INCREASE if estimate > null else Direction.DECREASE).value


def _data_verdict(
    o: PublishedOutcome, rec: pd.Series | None, test: str, direction: str, calibrated: bool
) -> tuple[Verdict, str]:
    """Return the verdict of the re-analysis of individual-level data, and its reason."""
    if rec is None or o.p is None:
        return (
            Verdict.NOT_ASSESSABLE,
            "only the p-value is published; no individual-level data or per-arm table to re-analyse.",
        )
    p = float(rec["p_value"])
    same_p = o.p.contains(p)
    same_direction = o.direction is Direction.NONE or direction == o.direction.value
    if same_p and same_direction:
        reason = (
            f"{test} p = {p:.4g} prints as the published {o.p.as_written}, direction {direction or 'as published'}."
        )
        return Verdict.REPRODUCED, (BY_CONSTRUCTION + reason) if calibrated else reason
    why = [] if same_p else [f"{test} p = {p:.4g} does not print as {o.p.as_written}"]
    if not same_direction:
        why.append(f"direction {direction} against the published {o.direction.value}")
    reason = "; ".join(why) + "."
    if calibrated:
        reason += (
            " The data were calibrated to the published p: the mismatch points at the calibration or the assumed"
            " test, not at the trial."
        )
    return Verdict.NOT_REPRODUCIBLE, reason


def _group_sizes(published: PublishedTrial, trial: Trial, visit: str) -> tuple[int, int]:
    """Return the subjects per arm observed at ``visit`` (intervention, control), by the published arm ids."""
    treatment, control = published.intervention_arms[0].id, published.design.control
    missing = [a for a in (treatment, control) if a not in trial.arms]
    if missing:
        raise TrialkitError(
            f"the published arms {', '.join(map(repr, missing))} are not arms of the data ({', '.join(trial.arms)}): "
            "the published-results file and the study spec must use the same arm ids."
        )
    d = trial.data
    seen = d.loc[(d["visit"] == visit) & d["value"].notna()]
    n = seen.groupby("arm", observed=False)["subject"].nunique()
    return int(n.get(treatment, 0)), int(n.get(control, 0))


def _calibrated(trial: Trial) -> bool:
    """Whether the MANIFEST.json beside the trial's spec records a calibration to published p-values."""
    manifest = trial.manifest
    inputs = ((i.path, i.sha256) for i in trial.inputs)
    # calibrated are the exact bytes the manifest vouches for, not whatever now lies beside it
    return manifest is not None and manifest.calibrated and manifest.vouches_for(inputs)


# ---------------------------------------------------------------------------------------------
# the reproduction


def _abstract_columns(audit: AbstractAudit) -> pd.DataFrame:
    """Return the published and abstract-level columns of a reproduction, indexed by outcome."""
    implied = audit.table.drop_duplicates("outcome").set_index("outcome")  # under the first assumed test
    names = {"test": "implied_test", "d": "implied_d", "d_ci_low": "implied_d_ci_low", "d_ci_high": "implied_d_ci_high"}
    out = audit.outcomes.set_index("outcome").rename(
        columns={
            "direction": "direction_published",
            "p_as_written": "p_published",
            "significant": "significant_published",
        }
    )
    out = out[
        ["label", "direction_published", "p_published", "p_holm", "survives_holm", "p_bh", "survives_bh"]
        + ["significant_published", *(f.column for f in AuditFlag)]
    ].join(implied[list(names)].rename(columns=names))
    out["implied_test"] = out["implied_test"].fillna("")
    out["n_treatment"], out["n_control"], out["n_source"] = audit.n_treatment, audit.n_control, audit.n_source
    return out


def _data_columns(
    published: PublishedTrial,
    results: Results | None,
    visit: str | None,
    test: str,
    logs: frozenset[str],
    calibrated: bool,
    alpha: float,
) -> pd.DataFrame:
    """Return the columns of the re-analysis of individual-level data, indexed by outcome."""
    rows = []
    for o in published.outcomes:
        rec = anc = None
        if results is not None and visit is not None:
            rec, anc = _row(results.table, o.id, visit, test), _row(results.table, o.id, visit, Analysis.ANCOVA)
        direction = _direction(float(rec["estimate"]), 1.0 if o.id in logs else 0.0) if rec is not None else ""
        verdict, reason = _data_verdict(o, rec, test, direction, calibrated)
        rows.append(
            {
                "outcome": o.id,
                "direction_recomputed": direction,
                "p_recomputed": rec["p_value"] if rec is not None else np.nan,
                "recomputed_test": test if rec is not None else "",
                "p_ancova": anc["p_value"] if anc is not None else np.nan,
                "ancova_estimate": anc["estimate"] if anc is not None else np.nan,
                "ancova_ci_low": anc["ci_low"] if anc is not None else np.nan,
                "ancova_ci_high": anc["ci_high"] if anc is not None else np.nan,
                "significant_ancova": bool(anc["p_value"] < alpha) if anc is not None else None,
                "verdict_data": verdict.value,
                "reason_data": reason,
            }
        )
    return pd.DataFrame(rows).set_index("outcome")


def bundled_study(published: str | Path) -> Path | None:
    """Return the study spec bundled under the name of a bundled published-results file, else None.

    The data :func:`reproduce` re-analyses by default from the command line: ``trialkit reproduce
    abbasi2012`` re-analyses ``tk.datasets.study_spec("abbasi2012")``.

    Parameters
    ----------
    published : str or Path
        What ``trialkit reproduce`` was given: a bundled name or a published-results file.

    Returns
    -------
    Path or None
        ``tk.datasets.study_spec(name)`` when ``published`` is a bundled name with bundled data.

    Examples
    --------
    >>> bundled_study("abbasi2012").name, bundled_study("student1908"), bundled_study("paper.toml")
    ('study.toml', None, None)
    """
    name = str(published)
    if Path(name).suffix or name not in datasets.studies():
        return None
    return datasets.study_spec(name)


def reproduce(
    published: PublishedTrial | str | Path,
    trial: Trial | None = None,
    *,
    results: Results | None = None,
    visit: str | None = None,
    recomputed_test: Analysis | str = Analysis.STUDENT_CHANGE,
    alpha: float | None = None,
    calibrated: bool | None = None,
    r_range: Sequence[float] = (0.0, 1.0),
) -> Reproduction:
    """Reproduce a published trial: a verdict per published outcome, from its tables or its data.

    Parameters
    ----------
    published : PublishedTrial, str or Path
        The published results: read already, a published-results file, or the name of one
        bundled with trialkit (``"abbasi2012"``; see :func:`~trialkit.reproduce.published.read_published`).
    trial : Trial, optional
        Individual-level data of the trial (real, or a calibrated reconstruction); its endpoint
        ids must equal the outcome ids and its arm codes the published arm ids.
    results : Results, optional
        ``tk.analyze(trial)`` when already computed; by default the ANCOVA and
        ``recomputed_test`` are run.
    visit : str, optional
        The visit the published comparisons refer to; default the spec's primary visit.
    recomputed_test : Analysis or str, default ``"student_change"``
        The analysis standing for the published test (the independent-samples t-test between
        arms, as the sister paper of the 2012 trial reports).
    alpha : float, optional
        Significance level; default the publication's, else 0.05.
    calibrated : bool, optional
        Whether the data are a reconstruction calibrated so that ``recomputed_test`` gives each
        published p (a ``reproduced`` verdict on them is true by construction: its ``reason``
        starts with :data:`BY_CONSTRUCTION`); default what the ``MANIFEST.json`` beside the
        data's spec says.
    r_range : (float, float), default (0, 1)
        Plausible pre-post correlations for the table-level audit.

    Returns
    -------
    Reproduction
        ``table`` holds one row per outcome; ``text`` says it in words.

    Raises
    ------
    ValidationError
        When the published-results file is missing or breaks its format (every problem at once).
    TrialkitError
        When the published trial has other than two arms, the data do not use its arm ids, or an
        option is invalid.

    Notes
    -----
    The ``verdict`` (:class:`~trialkit.reproduce.Verdict`) comes from the table-level audit when
    the outcome's per-arm table is published and gives the numbers behind its p
    (:func:`~trialkit.reproduce.audit.audit_tables`; ``verdict_table``); otherwise from the
    individual-level data when given (``verdict_data``: ``reproduced`` when the recomputed p prints
    as the published p, inside its rounding interval or under its bound, with the published
    direction); otherwise it is ``not_assessable``. With data, the abstract-level audit uses the
    group sizes of the data (the subjects per arm observed at ``visit``), not those published or
    assumed, and says so in ``assumptions``.

    Examples
    --------
    >>> import trialkit as tk
    >>> trial = tk.load(tk.datasets.study_spec("abbasi2012"))
    >>> rep = reproduce(tk.datasets.published("abbasi2012"), trial)
    >>> rep.table[["outcome", "n_treatment", "n_control", "verdict"]].head(3)
                outcome  n_treatment  n_control     verdict
    0        sleep_time           21         22  reproduced
    1  sleep_efficiency           21         22  reproduced
    2             renin           21         22  reproduced
    >>> rep.calibrated, bool(rep.table["reason"].str.startswith(BY_CONSTRUCTION).all())
    (True, True)
    """
    pub = published if isinstance(published, PublishedTrial) else read_published(published)
    test = check_in(recomputed_test, "recomputed_test", Analysis).value
    if trial is None and results is not None:
        raise TrialkitError("`results` need the `trial` they were computed from; pass both.")
    sizes = None
    if trial is not None:
        visit = trial.spec.visits.primary if visit is None else visit
        if visit not in trial.spec.visits.order:
            raise TrialkitError(
                f"`visit` must be one of {', '.join(map(repr, trial.spec.visits.order))}; got {visit!r}."
            )
        if results is None:
            results = analyze(trial, analyses=[Analysis.ANCOVA, test], sweep=False)
        calibrated = _calibrated(trial) if calibrated is None else bool(calibrated)
        if len(pub.arms) == 2:
            sizes = _group_sizes(pub, trial, visit)
    calibrated = bool(calibrated) and trial is not None
    audit = audit_abstract(pub, alpha=alpha, group_sizes=sizes)
    tables = audit_tables(pub, r_range=r_range)
    logs = frozenset(e.id for e in trial.spec.endpoints if e.scale == "log") if trial is not None else frozenset()
    data = _data_columns(pub, results, visit, test, logs, calibrated, audit.alpha)
    by_table = tables.outcomes.set_index("outcome")[[*_FROM_TABLES, "reason"]]
    by_table = by_table.rename(columns=_FROM_TABLES | {"reason": "reason_table"})
    table = _abstract_columns(audit).join(by_table).join(data)
    # the verdict of the table when it has one; else of the data when they have one, or when no table is published
    no_table = pd.Series([o.table is None for o in pub.outcomes], index=table.index)
    from_data = (table["verdict_table"] == Verdict.NOT_ASSESSABLE) & (
        (table["verdict_data"] != Verdict.NOT_ASSESSABLE) | no_table
    )
    table["verdict"] = table["verdict_table"].where(~from_data, table["verdict_data"])
    table["reason"] = table["reason_table"].where(~from_data, table["reason_data"])
    table["data"] = DATA_KINDS["none" if trial is None else ("calibrated" if calibrated else "individual")]
    table = table.reset_index()[list(REPRODUCTION_COLUMNS)]
    for column in _BOOLEAN:
        table[column] = table[column].astype("boolean")
    assumptions = list(audit.assumptions)
    if any(table["verdict_table"] != Verdict.NOT_ASSESSABLE):
        assumptions += [f"table-level audit: {a}" for a in tables.assumptions]
    if trial is not None:
        assumptions.append(
            f"individual-level data re-analysed at {visit!r} with {test} (standing for the published test) and the "
            "ANCOVA of the study spec."
        )
    return Reproduction(
        trial_id=pub.id,
        table=table,
        audit=audit,
        tables=tables,
        assumptions=tuple(assumptions),
        published_file=pub.file,
        data_file=trial.inputs[0].path if trial is not None and trial.inputs else None,
        calibrated=calibrated,
    )
