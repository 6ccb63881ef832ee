"""The reproduction section's view: a reproduction table (one row per outcome) as rows of display text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialkit._format import format_number, format_p
from trialkit._report._tables import Row
from trialkit.reproduce import DATA_KINDS, Verdict
from trialkit.reproduce.audit import AuditFlag, TableFlag

__all__ = ["REPRODUCTION_DISPLAY", "reproduction_is_calibrated", "reproduction_rows"]


#: the columns of ``trialkit.reproduce`` tables a reader needs, with their headers (``flags`` is
#: built from the ``flag_<code>`` columns)
REPRODUCTION_DISPLAY = {
    "outcome": "Outcome",
    "p_published": "Published p",
    "direction_published": "Direction",
    "table_p_value": "Table p",
    "p_recomputed": "Recomputed p",
    "p_ancova": "ANCOVA p",
    "survives_holm": "Holm",
    "survives_bh": "BH",
    "data": "Data",
    "verdict": "Verdict",
    "flags": "Flags",
}
#: the displayed columns that hold p-values, shown as every p in the report is (:func:`format_p`)
_P_COLUMNS = frozenset({"table_p_value", "p_recomputed", "p_ancova"})
#: the CSS class of a verdict row, by what the verdict says (``Verdict.agrees``)
_VERDICT_CLASS = {True: "good", False: "bad", None: "other"}


def reproduction_is_calibrated(table: pd.DataFrame) -> bool:
    """Whether any row of a reproduction table re-analysed data calibrated to the published p."""
    return "data" in table.columns and bool((table["data"].astype(str) == DATA_KINDS["calibrated"]).any())


def _flag_labels(table: pd.DataFrame) -> list[str]:
    """Return the labels of each row's raised flags (``flag_<code>`` columns of the reproduce registries)."""
    flags = [f for f in (*AuditFlag, *TableFlag) if f.column in table.columns]
    raised = table[[f.column for f in flags]].fillna(False).astype(bool).to_numpy()
    return ["; ".join(f.label for f, on in zip(flags, row, strict=True) if on) for row in raised]


def reproduction_rows(table: pd.DataFrame) -> tuple[list[str], list[Row], dict[str, int]]:
    """Columns, display rows and verdict counts of a reproduction table (one row per outcome).

    A table with the columns of ``trialkit.reproduce`` is shown through
    :data:`REPRODUCTION_DISPLAY` (the full table is in reproduction.csv); any other table whole.
    Verdicts that are :class:`~trialkit.reproduce.Verdict` codes are shown by their label.
    """
    headers = None
    if set(REPRODUCTION_DISPLAY) - {"flags"} <= set(map(str, table.columns)):
        table = table.assign(flags=_flag_labels(table))[list(REPRODUCTION_DISPLAY)]
        headers = list(REPRODUCTION_DISPLAY.values())
    columns = [str(c) for c in table.columns]
    rows: list[Row] = []
    verdict_at = columns.index("verdict") if "verdict" in columns else None
    for rec in table.itertuples(index=False, name=None):
        cells = []
        for col, v in zip(columns, rec, strict=True):
            if isinstance(v, (bool, np.bool_)):
                text = "yes" if v else "no"
            elif isinstance(v, (int, np.integer)):
                text = str(int(v))
            elif col in _P_COLUMNS:
                text = format_p(v)
            elif isinstance(v, (float, np.floating)) or v is None or v is pd.NA:
                text = format_number(v)
            elif col == "verdict" and str(v) in set(Verdict):
                text = Verdict(str(v)).label
            else:
                text = str(v)
            cells.append({"text": text, "verdict": col == "verdict"})
        verdict = "" if verdict_at is None else str(rec[verdict_at])
        rows.append({"cells": cells, "status": _verdict_class(verdict)})
    counts: dict[str, int] = {}
    if "verdict" in columns:
        for v in table["verdict"].astype(str):
            label = Verdict(v).label if v in set(Verdict) else v
            counts[label] = counts.get(label, 0) + 1
    return headers or columns, rows, counts


def _verdict_class(verdict: str) -> str:
    """Return a CSS class from a fixed set (never the verdict text itself), by what the verdict says."""
    return _VERDICT_CLASS[Verdict(verdict).agrees] if verdict in set(Verdict) else "other"
