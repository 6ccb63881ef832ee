"""The reproduction section's view: a reproduction table (one row per outcome) as rows of display text.

A table with the columns of ``trialkit.reproduce`` is shown as a journal would print it: outcomes
by their labels with the primary outcome first, every computed p in the report's one style
(:func:`~trialkit._format.format_p`), what is the same on every row (the data re-analysed) said
once in the caption, the audit's flags as lettered footnotes with their meaning, and the columns
explained below the table. A verdict that holds by construction — a match on data calibrated to
the published p — is marked so that the template styles it neutrally, never as a confirmation. Any
other table with a ``verdict`` column is shown whole. Text is left as it is: the template escapes it.

When the trial's data were generated from a design file (``design.toml`` beside the study spec,
vouched for by the data's manifest, as for the bundled 2012 trial), the section also shows the
power of that design (:func:`design_power_view`): per outcome, the analytic power at the analysed
sizes and the sizes per arm for 80 % and 90 % power, from the design's assumed effects.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trialkit._design import Design, read_design
from trialkit._format import MISSING, format_number, format_p
from trialkit._labels import default_label
from trialkit._provenance import sha256_file
from trialkit._report._tables import ANALYSIS_NAMES
from trialkit._spec import StudySpec
from trialkit._trial import Trial
from trialkit.power import DesignPower, design_power
from trialkit.reproduce import BY_CONSTRUCTION, DATA_KINDS, Verdict
from trialkit.reproduce.audit import AuditFlag, TableFlag

__all__ = [
    "DESIGN_FILE",
    "REPRODUCTION_DISPLAY",
    "design_power_view",
    "reproduction_is_calibrated",
    "reproduction_view",
    "study_design",
    "study_design_power",
]

Row = dict[str, Any]

#: the columns of ``trialkit.reproduce`` tables a reader needs, with their headers, in order (``flags`` is
#: built from the ``flag_<code>`` columns; ``table_p_value`` is left out when no outcome has a published table)
REPRODUCTION_DISPLAY = {
    "outcome": "Outcome",
    "p_published": "Published p",
    "direction_published": "Published direction",
    "table_p_value": "Table p",
    "p_recomputed": "Recomputed p",
    "p_ancova": "ANCOVA p",
    "survives_holm": "Holm",
    "survives_bh": "BH",
    "verdict": "Verdict",
    "flags": "Flags",
}
#: the columns a reproduce table must have to be shown through :data:`REPRODUCTION_DISPLAY`
_REQUIRED = frozenset(set(REPRODUCTION_DISPLAY) - {"flags"} | {"data"})
#: the displayed columns that hold computed p-values, shown as every p in the report is (:func:`format_p`)
_P_COLUMNS = frozenset({"table_p_value", "p_recomputed", "p_ancova"})
#: the CSS class of a verdict row, by what the verdict says (``Verdict.agrees``); ``construction``: true by design
_VERDICT_CLASS = {True: "good", False: "bad", None: "other"}
#: the CSS class of a cell, by column (a fixed set: never text from the table)
_CELL_CLASS = {
    **dict.fromkeys(("p_published", *_P_COLUMNS, "survives_holm", "survives_bh"), "num"),
    "verdict": "verdict",
    "flags": "flags",
}
_BOUND = re.compile(r"^\s*([<>≤≥]=?)\s*")


def reproduction_is_calibrated(table: pd.DataFrame) -> bool:
    """Whether any row of a reproduction table re-analysed data calibrated to the published p."""
    return "data" in table.columns and bool((table["data"].astype(str) == DATA_KINDS["calibrated"]).any())


def _published_p(value: object) -> str:
    """Show a published p as printed (its digits are its precision), in the report's style: ``<0.001``, no space."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return MISSING
    text = str(value).strip()
    if not text:
        return MISSING
    return _BOUND.sub(lambda m: m.group(1), text)


def _yes_no(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return MISSING
    return "yes" if bool(value) else "no"


def _verdict_class(verdict: str) -> str:
    """Return a CSS class from a fixed set (never the verdict text itself), by what the verdict says."""
    return _VERDICT_CLASS[Verdict(verdict).agrees] if verdict in set(Verdict) else "other"


def _verdict_label(verdict: object) -> str:
    text = str(verdict)
    return Verdict(text).label if text in set(Verdict) else text


def _outcome_labels(table: pd.DataFrame, spec: StudySpec | None) -> list[str]:
    """Name each outcome: the spec's endpoint label, else the published label, else words from the id."""
    labels = {e.id: e.label for e in spec.endpoints} if spec is not None else {}
    published = table["label"].astype(str).tolist() if "label" in table.columns else [""] * len(table)
    return [
        labels.get(str(o)) or (p if p and p != "nan" else default_label(str(o)))
        for o, p in zip(table["outcome"], published, strict=True)
    ]


def _primary_first(table: pd.DataFrame, spec: StudySpec | None) -> pd.DataFrame:
    """Return the rows with the trial's primary outcome first, the others in the table's (published) order."""
    if spec is None or "outcome" not in table.columns:
        return table.reset_index(drop=True)
    is_primary = (table["outcome"].astype(str) == spec.primary_endpoint.id).to_numpy()
    return pd.concat([table.loc[is_primary], table.loc[~is_primary]]).reset_index(drop=True)


def _counts(table: pd.DataFrame) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in table["verdict"].astype(str):
        label = _verdict_label(v)
        counts[label] = counts.get(label, 0) + 1
    return counts


def _generic(table: pd.DataFrame, spec: StudySpec | None) -> dict[str, Any]:
    """Show a table that is not a ``trialkit.reproduce`` table whole: every column, in its order."""
    columns = [str(c) for c in table.columns]
    labels = _outcome_labels(table, spec) if "outcome" in columns else None
    rows: list[Row] = []
    for k, rec in enumerate(table.itertuples(index=False, name=None)):
        cells: list[Row] = []
        for col, v in zip(columns, rec, strict=True):
            if col == "outcome" and labels is not None:
                text = labels[k]
            elif isinstance(v, (bool, np.bool_)):
                text = "yes" if v else "no"
            elif isinstance(v, (int, np.integer)):
                text = str(int(v))
            elif isinstance(v, (float, np.floating)) or v is None or v is pd.NA:
                text = format_number(v)
            elif col == "verdict":
                text = _verdict_label(v)
            else:
                text = str(v)
            cells.append({"text": text, "col": col, "cls": "verdict" if col == "verdict" else "", "marks": []})
        verdict = str(rec[columns.index("verdict")])
        outcome = str(rec[columns.index("outcome")]) if "outcome" in columns else ""
        rows.append({"cells": cells, "status": _verdict_class(verdict), "outcome": outcome})
    return {
        "columns": [{"key": c, "header": default_label(c), "cls": ""} for c in columns],
        "rows": rows,
        "counts": _counts(table),
        "data": "",
        "calibrated": reproduction_is_calibrated(table),
        "by_construction": 0,
        "flags": [],
        "notes": [],
    }


#: the design file a study's generated data were drawn from, beside its study spec
DESIGN_FILE = "design.toml"
#: the tests of :func:`trialkit.power.design_power`, as the table's note names them
_POWER_TESTS = {
    "ancova": "ANCOVA on baseline",
    "t": "two-sample t-test",
    "proportions": "test of two proportions (normal approximation)",
    "negative_binomial": "negative binomial rate-ratio test",
}
#: the powers the table gives sizes for, with their columns in ``DesignPower.table``
_TARGETS = ((80, "n80", "n80_randomised"), (90, "n90", "n90_randomised"))


def study_design(trial: Trial) -> Design | None:
    """Return the design the trial's data were generated from, when there is one to trust; else None.

    That is ``design.toml`` beside the study spec, of the same study id, when the data's
    ``MANIFEST.json`` vouches for every file the trial was read from and records the design file's
    SHA-256, which ``design.toml`` has: the data are those this design generated, as for the bundled
    ``tk.datasets.study_spec("abbasi2012")``. A design file that passes and cannot be read raises
    its :class:`~trialkit.ValidationError`.
    """
    manifest = trial.manifest
    if manifest is None or not trial.inputs:
        return None
    path = Path(trial.inputs[0].path).parent / DESIGN_FILE  # the spec is the first input
    if manifest.design_sha256 is None or not path.is_file():
        return None
    if (
        not manifest.vouches_for((i.path, i.sha256) for i in trial.inputs)
        or sha256_file(path) != manifest.design_sha256
    ):
        return None
    design = read_design(path)
    return design if design.study_id == trial.spec.study.id else None


def _percent(value: float) -> str:
    return format_number(100 * float(value), 1) + "%"


def _size(value: int | None) -> str:
    return MISSING if value is None else str(int(value))


def design_power_view(
    power: DesignPower, spec: StudySpec | None = None, order: list[str] | None = None
) -> dict[str, Any]:
    """Return the "Power of the design" table of the reproduction section: one row per outcome (and arm).

    Outcomes by label (the spec's, else the design's), the primary first, then in ``order`` (the
    reproduction table's outcome ids), then the design's; the power at the analysed
    sizes as a percentage with one decimal, the sizes per arm as whole numbers, "–" where the
    assumed effect is null (no size reaches a power above alpha).

    Returns
    -------
    dict
        ``rows`` (``outcome`` id, ``label``, ``arm`` label, ``power``, ``n80``,
        ``n80_randomised``, ``n90``, ``n90_randomised``, ``null``: the effect is null), ``arms``
        (whether an arm column is needed), ``analysed`` (the analysed sizes in words), ``tests``
        (the tests used, in words), ``null`` (labels of the outcomes with a null effect),
        ``dropout`` (the dropout share, in words), ``alpha``.
    """
    design = power.design
    labels = {e.id: e.label for e in spec.endpoints} if spec is not None else {}
    arm_labels = {a.id: a.label or a.id for a in design.arms}
    table = power.table
    primary = (
        spec.primary_endpoint.id if spec is not None else next((e.id for e in design.endpoints if e.primary), None)
    )
    first = [primary, *(order or [])]  # the primary outcome, then the reproduction table's order
    rank = {o: i for i, o in reversed(list(enumerate(first)))}
    order_rows = sorted(range(len(table)), key=lambda k: rank.get(str(table["endpoint"].iloc[k]), len(rank)))
    rows: list[Row] = []
    for k in order_rows:
        r = table.iloc[k]
        row: Row = {
            "outcome": str(r["endpoint"]),
            "label": labels.get(str(r["endpoint"])) or str(r["label"]),
            "arm": arm_labels.get(str(r["arm"]), str(r["arm"])),
            "power": _percent(r["power"]),
            "null": r["n80"] is None,
        }
        for _, n, randomised in _TARGETS:
            row[n], row[randomised] = _size(r[n]), _size(r[randomised])
        rows.append(row)
    analysed = sorted({tuple(n) for n in table["n_analysed"]})
    control = arm_labels[design.control]
    others = [a for a in design.arms if a.id != design.control]
    words = []
    for sizes in analysed:
        if len(others) == 1:
            words.append(f"{sizes[0]} analysed in {control} and {sizes[1]} in {others[0].label or others[0].id}")
        else:
            words.append(f"{sizes[0]} analysed in {control} and {sizes[1]} in another arm")
    tests = [_POWER_TESTS.get(t, t) for t in dict.fromkeys(map(str, table["test"]))]
    return {
        "rows": rows,
        "arms": len(others) > 1,
        "analysed": "; ".join(words),
        "tests": ", ".join(tests),
        "null": [row["label"] for row in rows if row["null"]],
        "dropout": format_number(100 * power.dropout, 1) + "%",
        "alpha": format_number(power.alpha),
    }


def reproduction_view(
    table: pd.DataFrame, spec: StudySpec | None = None, *, design: DesignPower | None = None
) -> dict[str, Any]:
    """Return what ``sections/reproduction.html.j2`` shows of a reproduction table (one row per outcome).

    Parameters
    ----------
    table : DataFrame
        ``trialkit.reproduce(...).table``, or any table with ``verdict`` (and ``outcome``) columns.
    spec : StudySpec, optional
        The re-analysed trial's spec: its endpoint labels name the outcomes and its primary
        endpoint comes first.

    Returns
    -------
    dict
        ``columns`` (``key``, ``header``, ``cls``), ``rows`` (``cells`` of ``text``, ``col``, ``cls``
        — a CSS class from a fixed set — and footnote ``marks``; ``status``: ``good``, ``bad``,
        ``other`` or ``construction``, a verdict that holds by construction; ``outcome``: the
        id), ``counts`` (verdict label -> number of outcomes),
        ``data`` (what was re-analysed, when the same for every row), ``calibrated``,
        ``by_construction`` (rows whose verdict holds by construction), ``flags`` (``mark``,
        ``label``, ``meaning`` of each flag raised), ``notes`` (what the columns mean) and
        ``power`` (:func:`design_power_view` of ``design``, or None).
    """
    outcomes = [str(o) for o in table["outcome"]] if "outcome" in table.columns else None
    power = None if design is None else design_power_view(design, spec, outcomes)
    if not _REQUIRED <= set(map(str, table.columns)):
        return {**_generic(table, spec), "power": power}
    table = _primary_first(table, spec)
    labels = _outcome_labels(table, spec)
    by_construction = (
        table["reason"].astype(str).str.startswith(BY_CONSTRUCTION).to_numpy()
        if "reason" in table.columns
        else np.zeros(len(table), bool)
    )
    flags = [f for f in (*AuditFlag, *TableFlag) if f.column in table.columns]
    raised = table[[f.column for f in flags]].fillna(False).astype(bool).to_numpy() if flags else None
    shown_flags = [f for k, f in enumerate(flags) if raised is not None and raised[:, k].any()]
    marks = {f: string.ascii_lowercase[k] for k, f in enumerate(shown_flags)}
    keys = [k for k in REPRODUCTION_DISPLAY if k != "table_p_value" or table[k].notna().any()]
    if not shown_flags:
        keys.remove("flags")
    data_kinds = table["data"].astype(str).unique().tolist()
    same_data = len(data_kinds) == 1
    if not same_data:
        keys.insert(keys.index("verdict"), "data")
    rows: list[Row] = []
    for k, r in enumerate(table.to_dict("records")):
        cells: list[Row] = []
        for key in keys:
            value = r.get(key)
            row_marks: list[str] = []
            if key == "outcome":
                text = labels[k]
            elif key == "p_published":
                text = _published_p(value)
            elif key in _P_COLUMNS:
                text = format_p(value)
            elif key in ("survives_holm", "survives_bh"):
                text = _yes_no(value)
            elif key == "verdict":
                text = _verdict_label(value)
            elif key == "flags":
                assert raised is not None  # the column is shown only when a flag is raised
                row_marks = [marks[f] for j, f in enumerate(flags) if raised[k, j] and f in marks]
                text = ""
            else:
                text = MISSING if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
            cells.append({"text": text, "col": key, "cls": _CELL_CLASS.get(key, ""), "marks": row_marks})
        verdict = str(r["verdict"])
        status = "construction" if by_construction[k] else _verdict_class(verdict)
        rows.append({"cells": cells, "status": status, "outcome": str(r["outcome"])})
    tests = sorted({str(t) for t in table.get("recomputed_test", pd.Series(dtype=object)).dropna()})
    recomputed = " or ".join(ANALYSIS_NAMES.get(t, default_label(t)) for t in tests) or "the assumed published test"
    notes = [
        ("Published p", "as printed in the publication (its digits are its precision)"),
        *(
            [("Table p", "recomputed from the published per-arm table (the table-level audit)")]
            if "table_p_value" in keys
            else []
        ),
        ("Recomputed p", f"the published test as assumed ({recomputed}) on the re-analysed data"),
        ("ANCOVA p", "the ANCOVA of this report's study spec on the same data"),
        (
            "Holm, BH",
            f"whether the published p stays significant after Holm's step-down (family-wise error rate) or "
            f"the Benjamini–Hochberg (false discovery rate) adjustment over the family of the {len(table)} "
            "published outcomes (not over this report's endpoints); a p published as a bound is taken at its "
            "conservative end",
        ),
    ]
    return {
        "columns": [
            {"key": key, "header": REPRODUCTION_DISPLAY.get(key, "Data"), "cls": _CELL_CLASS.get(key, "")}
            for key in keys
        ],
        "rows": rows,
        "counts": _counts(table),
        "data": data_kinds[0] if same_data else "",
        "calibrated": reproduction_is_calibrated(table),
        "by_construction": int(by_construction.sum()),
        "flags": [{"mark": marks[f], "label": f.label, "meaning": f.meaning} for f in shown_flags],
        "notes": [{"term": t, "text": x} for t, x in notes],
        "power": power,
    }


def study_design_power(trial: Trial) -> DesignPower | None:
    """Return the power of the design the trial's data were generated from (:func:`study_design`), or None."""
    design = study_design(trial)
    return None if design is None else design_power(design)
