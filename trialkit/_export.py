r"""Writing outputs: the one writer every output goes through, and the encodings of tables.

:func:`write_files` writes a set of files into a folder all or nothing: each file is first written
in full to a temporary file beside its target, and only when every one is complete are they moved
into place, each by an atomic rename. A failure (a full disk, an encoding error, Ctrl-C) leaves the
previous files as they were and no temporary file behind. Tables are encoded by :func:`csv_bytes`
(UTF-8, ``\n`` line ends, full float precision, spreadsheet-safe text) and documents by
:func:`json_bytes`.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "csv_bytes", "frame_records", "json_bytes", "neutralise_cells", "write_files"]

#: a text cell starting with one of these is run as a formula by spreadsheet programs
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` in which text cells a spreadsheet would run as a formula start with ``'``.

    Only text is changed; numbers (including negative ones) stay numbers.

    Examples
    --------
    >>> neutralise_cells(pd.DataFrame({"a": ["=1+1", "ok"], "b": [-1, 2]})).to_dict("list")
    {'a': ["'=1+1", 'ok'], 'b': [-1, 2]}
    """
    out = frame.copy()
    for c in out.columns:
        dtype = out[c].dtype
        if (
            pd.api.types.is_object_dtype(dtype)
            or pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
        ):
            out[c] = out[c].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v)
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    r"""Encode a table as CSV: UTF-8, ``\n`` line ends, full float precision, formula-like text neutralised."""
    text: str = neutralise_cells(frame).to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is pd.NA:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return value


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows of ``frame`` as dicts with JSON-safe values (NaN and NA become None)."""
    records: list[dict[str, Any]] = [_jsonable(r) for r in frame.astype(object).to_dict("records")]
    return records


def json_bytes(document: Mapping[str, Any]) -> bytes:
    """Encode a document as indented UTF-8 JSON, keys in their order, NaN as null, ending in a newline."""
    text = json.dumps(_jsonable(dict(document)), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return text.encode("utf-8")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_files(folder: str | Path, contents: Mapping[str, bytes]) -> list[Path]:
    """Write ``contents`` (file name -> bytes) into ``folder``, all or nothing.

    Parameters
    ----------
    folder : str or Path
        Created (with its parents) when missing.
    contents : mapping of str to bytes
        File names inside ``folder`` and their complete contents.

    Returns
    -------
    list of Path
        The files written, in the order of ``contents``.

    Notes
    -----
    Every file is written to a temporary file in ``folder`` (so the final rename stays on one file
    system) and flushed; only then are they renamed into place. Files get the usual permissions
    (0666 less the umask), not the 0600 of a temporary file.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    pending: list[tuple[Path, Path]] = []
    try:
        for name, data in contents.items():
            target = out / name
            fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{target.name}.", suffix=".tmp")
            pending.append((Path(tmp), target))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        mode = 0o666 & ~_umask()
        for tmp_path, target in pending:
            os.chmod(tmp_path, mode)
            os.replace(tmp_path, target)
    finally:
        for tmp_path, _ in pending:
            tmp_path.unlink(missing_ok=True)
    return [target for _, target in pending]
