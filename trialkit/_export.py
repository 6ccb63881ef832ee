"""Writing tables for users: CSV files that are safe to open in a spreadsheet, written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Mapping

import pandas as pd

#: a text cell starting with one of these is run as a formula by spreadsheet programs
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` where text cells that a spreadsheet would run as a formula start with ``'``.

    Only text is changed; numbers (including negative ones) are left as numbers.
    """
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c].dtype) \
                or isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v)
    return out


def write_csvs(folder: Path, tables: Mapping[str, pd.DataFrame]) -> list[Path]:
    """Write each table as ``folder/name`` (UTF-8, ``\\n`` line ends, full float precision).

    Every file is first written to a temporary file in ``folder`` and renamed into place, so a
    failure never leaves a half-written table.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        target = folder / name
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                neutralise_cells(frame).to_csv(fh, index=False, lineterminator="\n")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written
