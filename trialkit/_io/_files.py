"""Read one data file of any supported format into a frame of its raw columns.

Readers never modify their input and never guess: a file that cannot be read in its format, a
pickle, an empty file or a missing column each becomes a :class:`~trialkit.Problem`.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trialkit._errors import Problem, Rule, closest
from trialkit._spec import DataSpec

#: file suffix -> reader name; the registry behind "unsupported format" messages
FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "excel",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".sav": "spss",
    ".zsav": "spss",
    ".xpt": "xport",
    ".sas7bdat": "sas7bdat",
}
_REFUSED = {".pkl", ".pickle", ".pck", ".joblib", ".npy", ".npz"}
_PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


@dataclass(frozen=True)
class RawTable:
    """The columns of one file that the spec needs, as read.

    ``rows`` holds the row number of each record as a user finds it: the line in a CSV or the
    row in an Excel sheet (header = 1, first record = 2); the observation number (from 1) in
    Parquet, SPSS and SAS files.
    """

    file: str
    frame: pd.DataFrame
    rows: np.ndarray
    sha256: str


def _problem(rule: Rule, path: Path, message: str, **kw) -> Problem:
    return Problem(rule, str(path), message, **kw)


def _text_columns(columns: Iterable[str]) -> dict[str, type]:
    return {c: str for c in columns}


def read_table(
    path: Path,
    data: DataSpec,
    *,
    required: Iterable[str],
    text: Iterable[str] = (),
    optional: Iterable[str] = (),
    select: callable | None = None,
) -> tuple[RawTable | None, list[Problem]]:
    """Read the columns a layout needs from one file.

    Parameters
    ----------
    path : Path
        The file; its suffix selects the reader (see :data:`FORMATS`).
    data : DataSpec
        Delimiter, decimal mark, encoding, sheet and missing-value codes.
    required : iterable of str
        Columns that must exist; each absent one is a ``missing_column`` problem with the closest
        existing names.
    text : iterable of str
        Columns read as text whatever they look like (identifiers: ``"001"`` stays ``"001"``).
    optional : iterable of str
        Columns kept when present.
    select : callable, optional
        ``select(columns) -> list`` picking extra columns from the header (wide patterns).

    Returns
    -------
    (RawTable or None, list of Problem)
    """
    required = list(dict.fromkeys(required))
    suffix = path.suffix.lower()
    if not path.exists():
        return None, [_problem(Rule.FILE_NOT_FOUND, path, "the data file does not exist.")]
    if suffix in _REFUSED:
        return None, [
            _problem(
                Rule.UNSUPPORTED_FORMAT,
                path,
                f"{suffix} files can execute code when loaded and are never read; "
                "export the data to CSV, Excel, Parquet, SPSS or SAS.",
            )
        ]
    if suffix not in FORMATS:
        return None, [
            _problem(
                Rule.UNSUPPORTED_FORMAT,
                path,
                f"unsupported file type {suffix or '(no suffix)'!r}; trialkit reads {', '.join(sorted(FORMATS))}.",
            )
        ]
    if path.stat().st_size == 0:
        return None, [_problem(Rule.EMPTY_FILE, path, "the file is empty.")]
    with path.open("rb") as fh:
        head = fh.read(2)
    if head in _PICKLE_MAGIC:
        return None, [
            _problem(
                Rule.UNSUPPORTED_FORMAT,
                path,
                "the file is a Python pickle under a data-file name; pickles can execute code and are never loaded.",
            )
        ]
    kind = FORMATS[suffix]
    try:
        header = _read_header(path, kind, data)
    except Exception as exc:  # every parser failure becomes a problem naming the file
        return None, [_problem(Rule.UNREADABLE_FILE, path, f"cannot read as {kind}: {_short(exc)}")]
    missing = [c for c in required if c not in header]
    if missing:
        return None, [_missing_column(path, c, header, kind, data) for c in missing]
    wanted = required + [c for c in optional if c in header and c not in required]
    if select is not None:
        wanted += [c for c in select(header) if c not in wanted]
    text_cols = [c for c in text if c in wanted]
    # the bytes hashed are the bytes parsed: provenance cannot drift from what was read
    content = path.read_bytes()
    with ThreadPoolExecutor(max_workers=1) as pool:  # hashlib releases the GIL: hash while parsing
        digest = pool.submit(lambda: hashlib.sha256(content).hexdigest())
        try:
            frame, rows = _read_body(path, content, kind, data, wanted, text_cols)
        except Exception as exc:
            return None, [_problem(Rule.UNREADABLE_FILE, path, f"cannot read as {kind}: {_short(exc)}")]
    if len(frame) == 0:
        return None, [_problem(Rule.EMPTY_FILE, path, "the file has a header but no data rows.")]
    return RawTable(str(path), frame, rows, digest.result()), []


def _short(exc: Exception) -> str:
    msg = str(exc).strip().splitlines()
    return (msg[0] if msg else type(exc).__name__)[:300]


def _missing_column(path: Path, name: str, header: list[str], kind: str, data: DataSpec) -> Problem:
    hint = ""
    near = closest(name, header)
    if near:
        hint = f" Closest existing: {', '.join(map(repr, near))}."
    if kind == "csv":
        if len(header) == 1:
            for sep in (";", "\t", ",", "|"):
                if sep != data.delimiter and sep in header[0]:
                    hint += (
                        f" The header holds one column containing {sep!r}: the file seems "
                        f'delimited by {sep!r}; set `data.delimiter = "{sep}"`.'
                    )
                    break
        if any(h.startswith(("\ufeff", "ï»¿")) for h in header):
            hint += (
                " The first column name starts with a byte-order mark (BOM); set "
                '`data.encoding = "utf-8-sig"` (the default).'
            )
    shown = ", ".join(map(repr, header[:12])) + (" ..." if len(header) > 12 else "")
    return _problem(
        Rule.MISSING_COLUMN, path, f"column {name!r} is not in the file.{hint} Columns: {shown}.", column=name
    )


def _read_header(path: Path, kind: str, data: DataSpec) -> list[str]:
    if kind == "csv":
        with path.open("r", encoding=data.encoding, newline="") as fh:
            first = fh.readline()
        if not first.strip():
            raise ValueError("the first line (the header) is empty")
        return [str(c) for c in next(csv.reader(io.StringIO(first), delimiter=data.delimiter))]
    if kind == "excel":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            ws = wb[data.sheet] if isinstance(data.sheet, str) else wb.worksheets[data.sheet]
            row = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
        finally:
            wb.close()
        return [str(c) for c in row if c is not None]
    if kind == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    import pyreadstat

    reader = {"spss": pyreadstat.read_sav, "xport": pyreadstat.read_xport, "sas7bdat": pyreadstat.read_sas7bdat}[kind]
    _, meta = reader(str(path), metadataonly=True)
    return list(meta.column_names)


def _read_body(
    path: Path, content: bytes, kind: str, data: DataSpec, columns: list[str], text_cols: list[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    if kind == "csv":
        fast = _read_csv_arrow(content, data, columns, text_cols)
        if fast is not None:
            return fast
        frame = pd.read_csv(
            io.BytesIO(content),
            sep=data.delimiter,
            decimal=data.decimal,
            encoding=data.encoding,
            usecols=columns,
            dtype=_text_columns(text_cols),
            keep_default_na=False,
            na_values=list(data.missing),
            skip_blank_lines=False,
        )
        rows = np.arange(2, len(frame) + 2)
        blank = frame.isna().all(axis=1).to_numpy()
        if blank.any():
            # keep line numbers true to the file: blank lines count, then are dropped
            frame, rows = frame.loc[~blank].reset_index(drop=True), rows[~blank]
        for c in text_cols:
            frame[c] = _clean_categories(frame[c])
        return frame[columns], rows
    if kind == "excel":
        frame = pd.read_excel(
            path,
            sheet_name=data.sheet,
            usecols=lambda c: str(c) in columns,
            dtype=object,
            keep_default_na=False,
            na_values=list(data.missing),
            engine="openpyxl",
        )
        frame.columns = [str(c) for c in frame.columns]
        rows = np.arange(2, len(frame) + 2)
        blank = frame.isna().all(axis=1).to_numpy()
        frame, rows = frame.loc[~blank].reset_index(drop=True), rows[~blank]
        return _as_text(frame[columns], text_cols), rows
    if kind == "parquet":
        frame = pd.read_parquet(path, columns=columns)
    else:
        import pyreadstat

        reader = {"spss": pyreadstat.read_sav, "xport": pyreadstat.read_xport, "sas7bdat": pyreadstat.read_sas7bdat}[
            kind
        ]
        frame, _ = reader(str(path), usecols=columns)
        frame = frame[columns]
    return _as_text(frame, text_cols), np.arange(1, len(frame) + 1)


_ARROW_ENCODINGS = {"utf-8", "utf8", "utf-8-sig", "utf_8", "utf_8_sig"}


def _read_csv_arrow(
    content: bytes, data: DataSpec, columns: list[str], text_cols: list[str]
) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Multi-threaded CSV parse with identifier columns dictionary-encoded (categoricals).

    Returns None, and the caller uses pandas, whenever the fast parser could read the file
    differently from what the rules require: a non-UTF-8 encoding, blank lines or quoted line
    breaks (row numbers would no longer be line numbers), or a literal ``nan`` that Arrow would
    read as a number.
    """
    if data.encoding.lower() not in _ARROW_ENCODINGS:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    as_dict = pa.dictionary(pa.int32(), pa.string())
    table = pacsv.read_csv(
        pa.BufferReader(content),
        parse_options=pacsv.ParseOptions(delimiter=data.delimiter),
        convert_options=pacsv.ConvertOptions(
            include_columns=columns,
            column_types={c: as_dict for c in text_cols},
            null_values=list(data.missing),
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            decimal_point=data.decimal,
        ),
    )
    lines = content.count(b"\n") + (not content.endswith(b"\n"))
    if table.num_rows != lines - 1:
        return None  # blank lines or line breaks inside quotes: row numbers need the line-true reader
    for c in columns:
        col = table[c]
        if pa.types.is_floating(col.type) and pc.any(pc.and_(pc.is_nan(col), pc.is_valid(col))).as_py():
            return None
    frame = table.to_pandas()
    for c in text_cols:
        frame[c] = _clean_categories(frame[c])
    return frame[columns], np.arange(2, len(frame) + 2)


def _clean_categories(col: pd.Series) -> pd.Series:
    """Strip blanks from identifier categories; an empty identifier is missing."""
    if not isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype("category")
    cats = pd.Index(col.cat.categories.astype(str).str.strip(), dtype=object)
    if cats.has_duplicates or (cats == "").any():
        codes_map = {c: i for i, c in enumerate(pd.unique(cats[cats != ""]))}
        remap = np.array([codes_map.get(c, -1) for c in cats] + [-1], dtype=np.int64)
        codes = remap[col.cat.codes.to_numpy()]
        return pd.Series(pd.Categorical.from_codes(codes, categories=list(codes_map)), index=col.index)
    return col.cat.rename_categories(list(cats))


def _as_text(frame: pd.DataFrame, text_cols: list[str]) -> pd.DataFrame:
    """Identifier columns as stripped text categories; integral numbers lose the trailing ``.0``."""
    frame = frame.copy()
    for c in text_cols:
        col = frame[c]
        out = np.empty(len(col), dtype=object)
        values = col.to_numpy(dtype=object)
        for i, v in enumerate(values):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                out[i] = np.nan
            elif isinstance(v, (float, np.floating)) and float(v).is_integer():
                out[i] = str(int(v))
            else:
                s = str(v).strip()
                out[i] = s if s else np.nan
        frame[c] = _clean_categories(pd.Series(out, index=frame.index, dtype="str"))
    return frame
