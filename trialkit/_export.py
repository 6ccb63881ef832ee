"""Writing tables for users: CSV files that are safe to open in a spreadsheet, written whole or not at all."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

#: a text cell starting with one of these is run as a formula by spreadsheet programs
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` where text cells that a spreadsheet would run as a formula start with ``'``.

    Only text is changed; numbers (including negative ones) are left as numbers.
    """
    out = frame.copy()
    for c in out.columns:
        if (
            out[c].dtype == object
            or pd.api.types.is_string_dtype(out[c].dtype)
            or isinstance(out[c].dtype, pd.CategoricalDtype)
        ):
            out[c] = out[c].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v)
    return out


def _atomic_write(target: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write(fh)
        # mkstemp creates 0600; an output file gets the usual permissions (0666 less the umask)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is pd.NA:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return value


def frame_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with JSON-safe values (NaN and NA become None)."""
    return [_jsonable(r) for r in frame.astype(object).to_dict("records")]


def write_json(target: Path, document: Mapping) -> Path:
    """Write ``document`` as indented UTF-8 JSON (NaN as null), atomically; keys keep their order."""
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_jsonable(dict(document)), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    _atomic_write(target, lambda fh: fh.write(text))
    return target


def write_text(target: Path, text: str) -> Path:
    """Write UTF-8 text atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(target, lambda fh: fh.write(text))
    return target


def write_csvs(folder: Path, tables: Mapping[str, pd.DataFrame]) -> list[Path]:
    r"""Write each table as ``folder/name`` (UTF-8, ``\\n`` line ends, full float precision).

    Every file is first written to a temporary file in ``folder`` and renamed into place, so a
    failure never leaves a half-written table.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        target = folder / name
        safe = neutralise_cells(frame)
        _atomic_write(target, lambda fh: safe.to_csv(fh, index=False, lineterminator="\n"))
        written.append(target)
    return written
