"""Read the columns a layout needs from one data file of any supported format.

Readers never modify their input and never guess: a file that cannot be read in its format, a
pickle, an empty file or a missing column each becomes a :class:`~trialkit.Problem`. Identifier
columns come back as :class:`~trialkit._values.Labels` (integer codes into their texts), every
other column as :class:`~trialkit._values.Numbers` parsed by the one rule for numbers.

A CSV file is read by Arrow's multi-threaded parser when that gives exactly what the line-true
reader (Python's csv module, record by record) would give, and by the line-true reader
otherwise; :func:`_read_csv_arrow` lists the conditions. Either way the cells are converted by
the same functions, so that identifiers, numbers and row numbers never depend on the reader.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._errors import Problem, Rule, closest
from trialkit._input import check_input
from trialkit._io import _memory
from trialkit._io._excel import SheetProblems, read_columns, sheet_problems
from trialkit._io._excel import read_header as read_sheet_header
from trialkit._limits import LOAD_MEMORY_BASE, LOAD_MEMORY_FACTOR_LONG, LOAD_MEMORY_FACTOR_WIDE
from trialkit._provenance import sha256_bytes, sha256_file
from trialkit._spec import DataSpec
from trialkit._values import NUMBER_PATTERN, Labels, Numbers, parse_number_text, parse_numbers

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["FORMATS", "Padded", "RawTable", "in_background", "read_header", "read_table"]

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
_BOM = b"\xef\xbb\xbf"
#: the first rows of a text column that show whether its entries come in runs, and its usual texts
_SAMPLE = 4096

Rows = npt.NDArray[np.int64]
T = TypeVar("T")
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Padded:
    """The entries of a text column written with blanks around them (they are read without).

    Attributes
    ----------
    code : ndarray of int32
        For each entry, its text as written, a position in ``written``; -1 where the entry was
        not padded (or is missing).
    written : tuple of str
        The distinct padded texts as written.
    """

    code: npt.NDArray[np.int32]
    written: tuple[str, ...]

    def take(self, keep: Mask) -> Padded:
        """Return the entries where ``keep`` is True."""
        return Padded(self.code[keep], self.written)


@dataclass(frozen=True)
class RawTable:
    """The columns of one file that a layout needs, as read.

    Attributes
    ----------
    file : str
        The file's path.
    columns : tuple of str
        The columns read, in the order asked for (required ones, then optional ones present).
    labels : dict of str to Labels
        The identifier (text) columns.
    numbers : dict of str to Numbers
        Every other column, parsed as numbers (and the ``both`` columns of :func:`read_table`,
        which are also in ``labels``).
    rows : ndarray of int64
        The row number of each record as a user finds it: the line in a CSV or the row in an
        Excel sheet (header = 1, first record = 2); the observation number (from 1) in
        Parquet, SPSS and SAS files.
    sha256 : Future of str
        SHA-256 of the file's bytes (hex), being computed in a background thread.
    padded : dict of str to Padded
        The text columns with entries written with blanks around them (reported as warnings).
    ragged : tuple of Problem
        The CSV lines with more or fewer fields than the header (``ragged_row``); they are not
        among the records.
    """

    file: str
    columns: tuple[str, ...]
    labels: dict[str, Labels]
    numbers: dict[str, Numbers]
    rows: Rows
    sha256: Future[str]
    padded: dict[str, Padded] = field(default_factory=dict)
    ragged: tuple[Problem, ...] = ()

    def __len__(self) -> int:
        """Return the number of records."""
        return len(self.rows)


@dataclass(frozen=True)
class _Ragged:
    """A CSV record with another number of fields than the header: its line and its fields."""

    line: int
    fields: list[str]


@dataclass(frozen=True)
class _Body:
    labels: dict[str, Labels]
    numbers: dict[str, Numbers]
    rows: Rows
    padded: dict[str, Padded] = field(default_factory=dict)
    ragged: tuple[_Ragged, ...] = ()


def _problem(rule: Rule, path: Path, message: str, **place: Any) -> Problem:
    return Problem(rule, str(path), message, **place)


def read_table(
    path: Path,
    data: DataSpec,
    *,
    required: Iterable[str],
    text: Iterable[str] = (),
    optional: Iterable[str] = (),
    both: Iterable[str] = (),
    wide: bool = False,
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
        Columns read as text whatever they look like (identifiers: ``"001"`` stays ``"001"``);
        every other column is read as numbers.
    optional : iterable of str
        Columns kept when present.
    both : iterable of str
        Columns read as text (in ``labels``) and also parsed as numbers by the one rule (in
        ``numbers``): a long file's value column when some endpoint's values are text (binary).
    wide : bool
        Whether the file is wide (one row per subject): its bound on the loader's memory is then
        ``LOAD_MEMORY_FACTOR_WIDE`` times its size, else ``LOAD_MEMORY_FACTOR_LONG`` (docs/limits.md).

    Returns
    -------
    table : RawTable or None
        None when the file cannot be used; the problems say why. A CSV whose bound on the
        loader's memory (``LOAD_MEMORY_BASE`` + the layout's factor times its size, docs/limits.md) exceeds the
        memory left (:func:`~trialkit._io._memory.available_memory`) is refused before it is read
        (``too_large``).
    problems : list of Problem
    """
    needed = list(dict.fromkeys(required))
    suffix = path.suffix.lower()
    refused = check_input(path, "data file")  # a folder, FIFO, device or link loop is never opened for reading
    if refused is not None:
        return None, [refused]
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
    if kind == "excel":
        try:
            sheet_refused = sheet_problems(path, data)
        except Exception as exc:  # not a workbook
            return None, [_problem(Rule.UNREADABLE_FILE, path, f"cannot read as {kind}: {_short(exc)}")]
        if sheet_refused:
            return None, sheet_refused
    if kind == "csv":
        refused = _memory_problem(path, wide=wide)
        if refused is not None:
            return None, [refused]
    try:
        header = read_header(path, kind, data)
    except Exception as exc:  # every parser failure becomes a problem naming the file
        return None, [_problem(Rule.UNREADABLE_FILE, path, f"cannot read as {kind}: {_short(exc)}")]
    missing = [c for c in needed if c not in header]
    if missing:
        return None, [_missing_column(path, c, header, kind, data) for c in missing]
    wanted = needed + [c for c in dict.fromkeys(optional) if c in header and c not in needed]
    text_cols = [c for c in dict.fromkeys([*text, *both]) if c in wanted]
    both_cols = [c for c in dict.fromkeys(both) if c in wanted]
    try:
        if kind == "csv":
            content = path.read_bytes()
            body = _read_csv(content, header, data, wanted, text_cols, both_cols)
            # the bytes hashed are the bytes parsed; hashing them (hashlib releases the GIL) waits
            # for the parse, which keeps every core busy, and overlaps the checks that follow
            digest = in_background(sha256_bytes, content)
        else:
            body = _read_other(path, kind, data, wanted, text_cols, both_cols)
            digest = in_background(sha256_file, path)
    except SheetProblems as cells:  # formula cells without a value, error cells: each named
        return None, cells.problems
    except Exception as exc:
        return None, [_problem(Rule.UNREADABLE_FILE, path, f"cannot read as {kind}: {_short(exc)}")]
    ragged = tuple(_ragged_problem(path, r, header, data) for r in body.ragged)
    if len(body.rows) == 0:
        return None, list(ragged) or [_problem(Rule.EMPTY_FILE, path, "the file has a header but no data rows.")]
    return RawTable(str(path), tuple(wanted), body.labels, body.numbers, body.rows, digest, body.padded, ragged), []


def _memory_problem(path: Path, *, wide: bool) -> Problem | None:
    """Refuse, before reading, a CSV whose bound (``LOAD_MEMORY_BASE`` + its factor × size) exceeds the memory left."""
    factor, name = (
        (LOAD_MEMORY_FACTOR_WIDE, "LOAD_MEMORY_FACTOR_WIDE")
        if wide
        else (LOAD_MEMORY_FACTOR_LONG, "LOAD_MEMORY_FACTOR_LONG")
    )
    size = path.stat().st_size
    need = LOAD_MEMORY_BASE + size * factor
    available = _memory.available_memory()
    if available.bytes is None or need <= available.bytes:
        return None
    return _problem(
        Rule.TOO_LARGE,
        path,
        f"the file has {size:,} bytes; loading it takes up to {factor} times that "
        f"and {LOAD_MEMORY_BASE:,} bytes more "
        f"({need:,} bytes: {name} = {factor}, LOAD_MEMORY_BASE), "
        f"and only {available.bytes:,} bytes are available "
        f"({available.source}). Run it where more memory is free.",
    )


def _ragged_problem(path: Path, record: _Ragged, header: list[str], data: DataSpec) -> Problem:
    """Name a CSV line whose number of fields differs from the header's (the subject: the field at its column)."""
    width, n = len(header), len(record.fields)
    at = header.index(data.subject) if data.subject in header else -1
    subject = (record.fields[at].strip() or None) if 0 <= at < n else None
    written = data.delimiter.join(record.fields)
    return _problem(
        Rule.RAGGED_ROW,
        path,
        f"line {record.line} has {n} field{'s' if n != 1 else ''}; the header has {width}. Every line needs one "
        f"field per column (a value holding {data.delimiter!r} must be in double quotes); the line is not read.",
        row=record.line,
        subject=subject,
        value=written if len(written) <= 200 else written[:199] + "…",
    )


def in_background(task: Callable[..., T], *args: Any) -> Future[T]:
    """Start ``task(*args)`` in a thread of its own and return its future result.

    The thread ends with the task; nothing waits for it unless the result is asked for.
    """
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(task, *args)
    finally:
        pool.shutdown(wait=False)


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


def read_header(path: Path, kind: str, data: DataSpec) -> list[str]:
    """Return the column names of a data file of the given kind (a reader name from :data:`FORMATS`).

    Raises
    ------
    Exception
        Whatever the format's reader raises for a file it cannot read.
    """
    if kind == "csv":
        with path.open("r", encoding=data.encoding, newline="") as fh:
            first = fh.readline()
        if not first.strip():
            raise ValueError("the first line (the header) is empty")
        return [str(c) for c in next(csv.reader(io.StringIO(first), delimiter=data.delimiter))]
    if kind == "excel":
        return read_sheet_header(path, data)
    if kind == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    _, meta = _statistics_reader(kind)(str(path), metadataonly=True)
    return list(meta.column_names)


def _statistics_reader(kind: str) -> Callable[..., Any]:
    """Return the pyreadstat reader of an SPSS or SAS file."""
    import pyreadstat

    readers: dict[str, Callable[..., Any]] = {
        "spss": pyreadstat.read_sav,
        "xport": pyreadstat.read_xport,
        "sas7bdat": pyreadstat.read_sas7bdat,
    }
    return readers[kind]


def _read_csv(
    content: bytes, header: list[str], data: DataSpec, columns: list[str], text_cols: list[str], both: list[str]
) -> _Body:
    """Read a CSV's columns with Arrow, or with the line-true reader when Arrow's reading could differ."""
    if _is_utf8(data.encoding):
        utf8 = content
    else:  # Arrow reads UTF-8: the text, decoded as declared (undecodable bytes raise), is handed over as UTF-8
        utf8 = content.decode(data.encoding).encode()
    fast = _read_csv_arrow(content, header, data, columns, text_cols, both, utf8=utf8)
    return fast if fast is not None else _read_csv_lines(content, data, columns, text_cols, both)


def _read_csv_lines(content: bytes, data: DataSpec, columns: list[str], text_cols: list[str], both: list[str]) -> _Body:
    """Read a CSV record by record with Python's csv module: the line-true reader.

    Each record's row is the line it starts on, whatever quoted line breaks came before; a blank
    line counts and is dropped; a record whose field count differs from the header's is set aside
    with its line (a ``ragged_row`` problem; a short or long line is never padded or cut) and the
    other records are read. The cells are then converted as the fast reader converts text
    (:func:`_text_body`). Python's csv module refuses a field longer than 131,072 characters,
    which no identifier or number is.

    Raises
    ------
    UnicodeDecodeError
        Bytes that are not text in ``data.encoding``.
    """
    import pyarrow as pa

    text = content.decode(data.encoding)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=data.delimiter))
    if not records:
        raise ValueError("the file has no header")
    names, body = records[0], records[1:]
    width = len(names)
    if text.count("\n") + (not text.endswith("\n")) == len(records):
        rows = np.arange(2, len(body) + 2)  # no record spans lines: each is one line
    else:
        rows = _record_lines(text, data.delimiter)
    ragged: list[_Ragged] = []
    if any(len(record) != width for record in body):
        blank = [""] * width  # a blank line: empty cells (dropped when empty is a missing-value code)
        kept = np.ones(len(body), dtype=bool)
        for i, record in enumerate(body):
            if len(record) != width:
                if record:
                    ragged.append(_Ragged(int(rows[i]), record))
                    kept[i] = False
                else:
                    body[i] = blank
        if ragged:
            body = [record for record, k in zip(body, kept.tolist(), strict=True) if k]
            rows = rows[kept]
    cells = list(zip(*body, strict=True)) if body else [() for _ in names]
    table = pa.table({c: pa.array(cells[names.index(c)], type=pa.string()) for c in columns})
    read = _text_body(table, rows, data, text_cols, None, both)
    return _Body(read.labels, read.numbers, read.rows, read.padded, tuple(ragged))


def _record_lines(text: str, delimiter: str) -> Rows:
    """Return the line each record (after the header) starts on, when some record spans lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader)
    rows, line = [], reader.line_num
    for _ in reader:
        rows.append(line + 1)
        line = reader.line_num
    return np.array(rows, dtype=np.int64)


def _read_other(
    path: Path, kind: str, data: DataSpec, columns: list[str], text_cols: list[str], both: list[str]
) -> _Body:
    if kind == "excel":
        frame, rows = read_columns(path, data, columns)
        return _body(frame, rows, data, text_cols, both, drop_blank=True)
    if kind == "parquet":
        frame = _parquet_frame(path, columns, numbers=[c for c in columns if c not in text_cols or c in both])
    else:
        frame, _ = _statistics_reader(kind)(str(path), usecols=columns)
    return _body(frame[columns], np.arange(1, len(frame) + 1), data, text_cols, both, drop_blank=False)


def _parquet_frame(path: Path, columns: list[str], *, numbers: list[str]) -> pd.DataFrame:
    """Return the columns of a Parquet file as the values it stores, each Arrow type read the one way.

    - integers of every width, signed or not, and floats of every width are numbers; an integer
      column with nulls keeps its integers exact (an identifier of 19 digits stays its digits);
    - decimals (``decimal128``, ``decimal256``) are the decimal text they store, read by the one
      rule for numbers (so ``12.50`` is 12.5, as in a CSV);
    - a null is missing; a floating-point NaN in a number column is not a number (as ``nan`` in a
      CSV), never a missing value;
    - a dictionary-encoded (categorical) column is read as its values;
    - booleans, dates and times are not numbers (as in a spreadsheet); as identifiers they are
      their text.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=columns)
    frame: dict[str, pd.Series] = {}
    for c in columns:
        column = table[c]
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if pa.types.is_decimal(column.type):
            column = column.cast(pa.string())
        if pa.types.is_floating(column.type) and c in numbers and pc.any(pc.is_nan(column)).as_py():
            values = np.asarray(pc.cast(column, pa.float64()).to_numpy(), dtype=np.float64).astype(object)
            values[np.asarray(pc.fill_null(pc.is_nan(column), False).to_numpy())] = "NaN"  # read as text: refused
            values[np.asarray(column.is_null().to_numpy())] = None
            frame[c] = pd.Series(values, dtype=object)
            continue
        frame[c] = pd.Series(
            column.to_pandas(integer_object_nulls=True, date_as_object=True, timestamp_as_object=True),
            copy=False,
        )
    return pd.DataFrame(frame)


def _body(
    frame: pd.DataFrame, rows: Rows, data: DataSpec, text_cols: list[str], both: list[str], *, drop_blank: bool
) -> _Body:
    """Labels and numbers from a frame of raw columns (Excel, Parquet, SPSS, SAS).

    With ``drop_blank``, rows whose every cell is missing are dropped; their row numbers stay
    counted.
    """
    if drop_blank:
        blank = frame.isna().all(axis=1).to_numpy()
        if blank.any():
            # keep row numbers true to the file: blank lines count, then are dropped
            frame, rows = frame.loc[~blank].reset_index(drop=True), rows[~blank]
    labels: dict[str, Labels] = {}
    padded: dict[str, Padded] = {}
    for c in frame.columns:
        if c in text_cols:
            labels[c], found = _labels_of_values(frame[c])
            if found is not None:
                padded[c] = found
    numbers = {
        c: parse_numbers(frame[c], decimal=data.decimal, missing=data.missing)
        for c in frame.columns
        if c not in text_cols or c in both
    }
    return _Body(labels, numbers, rows, padded)


def _labels_of_values(column: pd.Series) -> tuple[Labels, Padded | None]:
    """Labels from a column of a spreadsheet or statistics file, and its entries written with blanks around them."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    distinct = list(uniques)
    labels = Labels.from_coded(np.asarray(codes), distinct)
    # a text read other than as written: blanks around it (text_of strips as str.strip does)
    written = [isinstance(u, str) and u.strip() != u and bool(u.strip()) for u in distinct]
    if not any(written):
        return labels, None
    texts = tuple(str(u) for u, w in zip(distinct, written, strict=True) if w)
    position = np.full(len(distinct) + 1, -1, dtype=np.int32)
    position[np.flatnonzero(written)] = np.arange(len(texts), dtype=np.int32)
    return labels, Padded(np.take(position, np.asarray(codes)), texts)


def _is_utf8(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    except LookupError:
        return False


def _read_csv_arrow(
    content: bytes,
    header: list[str],
    data: DataSpec,
    columns: list[str],
    text_cols: list[str],
    both: list[str],
    *,
    utf8: bytes,
) -> _Body | None:
    """Parse a CSV with Arrow's multi-threaded reader; None when the line-true reader must read it.

    Arrow reads identifiers as text and numbers as float64, with no type inference (a
    hexadecimal ``0x1A`` is not taken for 26). The result is the one :func:`_read_csv_lines`
    would give, row numbers included, because Arrow's is used only when:

    - the bytes are valid text in the declared encoding (``utf8`` is that text as UTF-8, which
      Arrow reads), with a UTF-8 byte-order mark only if the encoding is ``utf-8-sig``
      (otherwise the mark belongs to the first name);
    - the header has no repeated name;
    - every line has a cell for every column (or is blank);
    - every numeric cell is a missing-value code or a finite number in the grammar of
      :data:`~trialkit._values.NUMBER_PATTERN` (text, ``nan`` and ``inf`` are problems, which
      the line-true reader reports with the text as written);
    - no numeric cell reads as the number of a missing-value code (``" -99"`` padded with blanks
      is missing, as codes are compared after stripping);
    - no value spans lines: without a quote character in the file none can, otherwise the
      records are counted against the lines. Blank lines are read as empty records, so each
      record's position gives its line.
    """
    codec = codecs.lookup(data.encoding).name
    if utf8.startswith(_BOM) and codec != "utf-8-sig":
        return None
    if utf8 is content and len(content) and int(np.frombuffer(content, dtype=np.uint8).max()) >= 0x80:
        try:  # not ASCII: the whole file must be UTF-8, unused columns included, as for the line-true reader
            content.decode("utf-8")
        except UnicodeDecodeError:
            return None
    content = utf8
    if len(set(header)) != len(header):
        return None
    table = _arrow_table(content, data, columns, text_cols, numbers_as_text=False)
    numbers = None if table is None or _may_underflow(content) else _arrow_numbers(table, data, columns, text_cols)
    if table is None or numbers is None:
        # text (or nan, inf, a padded missing-value code) in a number column: read the column as
        # text and apply the one rule for numbers written as text, as the line-true reader does
        table = _arrow_table(content, data, columns, text_cols, numbers_as_text=True)
        if table is None:
            return None
    if b'"' in content and table.num_rows != content.count(b"\n") + (not content.endswith(b"\n")) - 1:
        return None  # a quoted value spans lines (or lines end in a lone CR): rows are not lines
    return _text_body(table, np.arange(2, table.num_rows + 2), data, text_cols, numbers, both)


def _may_underflow(content: bytes) -> bool:
    """Return whether the text holds an exponent of -100 or below (``1e-400``, which Arrow would read as 0).

    Arrow cannot tell ``0`` from a non-zero number too small for a double; the one rule for numbers
    refuses the latter, so such a file's numbers are read as text by that rule.
    """
    if b"e-" not in content and b"E-" not in content:
        return False
    return re.search(rb"[eE]-0*[1-9][0-9]{2}", content) is not None


def _text_body(
    table: pa.Table,
    rows: Rows,
    data: DataSpec,
    text_cols: list[str],
    numbers: dict[str, Numbers] | None,
    both: list[str],
) -> _Body:
    """Labels and numbers from the cells of a CSV as Arrow read them (or the csv module, then Arrow).

    Identifiers are text as written; number columns are float64 already (``numbers``) or text
    parsed here by the one rule (so are the columns in ``both``, also read as text). Lines that
    are blank, or hold only missing-value codes, count in the row numbers and are then dropped.
    """
    if numbers is None:
        numbers = {c: _text_numbers(table[c], data) for c in table.column_names if c not in text_cols}
    if both:
        numbers = {**numbers, **{c: _text_numbers(table[c], data) for c in both}}
    with ThreadPoolExecutor(max_workers=2) as pool:  # Arrow's kernels release the GIL: a column per core
        read = list(pool.map(lambda c: _labels(table[c], data.missing), text_cols))
    labels = {c: labels for c, (labels, _, _) in zip(text_cols, read, strict=True)}
    padded = {c: p for c, (_, _, p) in zip(text_cols, read, strict=True) if p is not None}
    missing_cells = [m for _, m, _ in read] + [_missing_numbers(table[c], data) for c in numbers]
    if all(m is not None for m in missing_cells):
        blank = np.logical_and.reduce([m for m in missing_cells if m is not None])
        if blank.any():
            keep = ~blank
            labels = {c: v.take(keep) for c, v in labels.items()}
            numbers = {c: v.take(keep) for c, v in numbers.items()}
            padded = {c: v.take(keep) for c, v in padded.items()}
            rows = rows[keep]
    return _Body(labels, numbers, rows, padded)


def _arrow_table(
    content: bytes, data: DataSpec, columns: list[str], text_cols: list[str], *, numbers_as_text: bool
) -> pa.Table | None:
    """Parse with Arrow: identifiers as text as written, numbers as float64 (or as text); None when it cannot."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    text = set(text_cols)
    try:
        return pacsv.read_csv(
            pa.BufferReader(content),
            parse_options=pacsv.ParseOptions(delimiter=data.delimiter, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                include_columns=columns,
                column_types={c: pa.string() if c in text or numbers_as_text else pa.float64() for c in columns},
                null_values=list(data.missing),
                strings_can_be_null=False,  # text is kept as written: missing codes are found per distinct text
                decimal_point=data.decimal,
                check_utf8=False,  # the whole file was checked, unused columns included
            ),
        )
    except pa.ArrowException:  # a line of another length, text in a number column, a value too long, ...
        return None


def _arrow_numbers(
    table: pa.Table, data: DataSpec, columns: list[str], text_cols: list[str]
) -> dict[str, Numbers] | None:
    """Return the number columns Arrow read as float64; None when one holds what the text rule rejects or misses.

    Arrow's float64 grammar is :data:`~trialkit._values.NUMBER_PATTERN` (after trimming blanks)
    plus ``nan`` and ``inf``; a finite value is the same double the text rule gives.
    """
    numbers: dict[str, Numbers] = {}
    coded = _numbers_of(data.missing, data.decimal)
    for c in columns:
        if c in text_cols:
            continue
        values = np.asarray(table[c].to_numpy(), dtype=np.float64)
        if np.count_nonzero(np.isfinite(values)) != len(values) - table[c].null_count:
            return None  # nan or inf written out, or a number too large
        if coded and np.isin(values, coded).any():
            return None  # perhaps a missing-value code padded with blanks
        numbers[c] = Numbers(values, np.zeros(len(values), dtype=bool))
    return numbers


def _text_numbers(column: pa.ChunkedArray, data: DataSpec) -> Numbers:
    """Parse a number column read as text by the one rule (a cell equal to a missing-value code is missing)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = column.combine_chunks()
    codes = pa.array(list(data.missing), type=pa.string())
    return parse_number_text(
        pc.if_else(pc.is_in(cells, value_set=codes), pa.scalar(None, pa.string()), cells),
        decimal=data.decimal,
        missing=data.missing,
    )


def _missing_numbers(column: pa.ChunkedArray, data: DataSpec) -> Mask | None:
    """Return where a number column holds a missing-value code as written (None when nowhere)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_floating(column.type):
        return np.asarray(column.is_null().to_numpy(), dtype=bool) if column.null_count else None
    coded = np.asarray(
        pc.is_in(column, value_set=pa.array(list(data.missing), type=pa.string())).to_numpy(), dtype=bool
    )
    return coded if coded.any() else None


def _numbers_of(codes: Iterable[str], decimal: str) -> list[float]:
    """Return the missing-value codes that are numbers, as numbers."""
    import re

    pattern = re.compile(NUMBER_PATTERN)
    out = []
    for code in codes:
        text = code.strip()
        if decimal == ",":
            if "." in text:
                continue
            text = text.replace(",", ".")
        if pattern.match(text):
            out.append(float(text))
    return out


#: the characters Python's ``str.strip()`` removes, so that Arrow trims identifiers exactly as
#: :func:`~trialkit._values.text_of` does
_WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


def _run_starts(values: pa.Array) -> npt.NDArray[np.int64]:
    """Return where each run of equal entries starts."""
    import pyarrow.compute as pc

    if len(values) < 2:
        return np.zeros(len(values), dtype=np.int64)
    change = pc.indices_nonzero(pc.not_equal(values[1:], values[:-1]))
    starts = np.zeros(len(change) + 1, dtype=np.int64)
    starts[1:] = np.asarray(change.to_numpy(), dtype=np.int64) + 1
    return starts


def _encode(values: pa.Array) -> tuple[npt.NDArray[np.int32], pa.Array]:
    """Return each entry's position in a table of the distinct entries, and the table.

    The distinct entries of the first rows are looked up first (cheaper than hashing every
    entry into a growing table); entries not among them, when few, are encoded on their own.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(values) > 4 * _SAMPLE:
        sample = pc.unique(values[:_SAMPLE])
        sample = sample.take(pc.array_sort_indices(sample))  # sorted: the positions are then the final codes
        found = pc.index_in(values, value_set=sample)
        if found.null_count == 0:
            return np.asarray(found.to_numpy(), dtype=np.int32), sample
        if found.null_count * 10 < len(values):
            where = np.flatnonzero(np.asarray(found.is_null().to_numpy(zero_copy_only=False)))
            rest = pc.dictionary_encode(values.take(pa.array(where)))
            # a copy: Arrow hands its buffer over read-only, and the codes of the rest are written into it
            codes = np.array(pc.fill_null(found, 0).to_numpy(), dtype=np.int32)
            codes[where] = len(sample) + np.asarray(rest.indices.to_numpy(), dtype=np.int32)
            return codes, pa.concat_arrays([sample, rest.dictionary])
    encoded = pc.dictionary_encode(values)
    return np.asarray(encoded.indices.to_numpy(), dtype=np.int32), encoded.dictionary


def _labels(column: pa.ChunkedArray, missing: Iterable[str]) -> tuple[Labels, Mask | None, Padded | None]:
    """Labels from a text column: each distinct text is worked on once, in Arrow.

    Long files usually hold a subject's (or a visit's) records one after the other: when the
    first records show such runs, each run is encoded once and its code repeated. Distinct
    texts equal to a missing-value code are missing; the others are trimmed (blank is missing),
    merged and sorted; each record's code is then one gather through that table.

    Returns
    -------
    labels : Labels
    is_code : ndarray of bool or None
        Whether each entry is a missing-value code (as written); None when none is.
    padded : Padded or None
        The entries written with blanks around a text (not a code, not blank); None when none is.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    values = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    lengths = None
    if len(values) > 1 and len(_run_starts(values[:_SAMPLE])) * 2 <= min(len(values), _SAMPLE):
        starts = _run_starts(values)
        values = values.take(pa.array(starts))
        lengths = np.diff(starts, append=len(column))
    indices, raw = _encode(values)
    texts = pc.utf8_trim(raw, characters=_WHITESPACE)
    codes_written = pc.is_in(raw, value_set=pa.array(list(missing), type=pa.string()))
    if not pc.any(codes_written).as_py() and texts.equals(raw) and pc.min(pc.binary_length(texts)).as_py() != 0:
        # the usual case: no code, nothing to trim, no blank: the dictionary's texts are distinct
        order = np.asarray(pc.array_sort_indices(texts).to_numpy())
        distinct = texts.take(order)
        lookup = None if np.array_equal(order, np.arange(len(order))) else np.empty(len(texts), dtype=np.int32)
        if lookup is not None:
            lookup[order] = np.arange(len(texts), dtype=np.int32)
        is_code = None
        padded_text = None
    else:
        # a text read other than as written: blanks around it (a code or a blank entry is missing instead)
        padded_text = np.asarray(
            pc.and_(
                pc.and_(pc.not_equal(texts, raw), pc.invert(codes_written)), pc.greater(pc.binary_length(texts), 0)
            ).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
        texts = pc.if_else(codes_written, pa.scalar("", pa.string()), texts)
        distinct = pc.unique(texts)
        distinct = distinct.filter(pc.greater(pc.binary_length(distinct), 0))
        distinct = distinct.take(pc.array_sort_indices(distinct))
        lookup = np.asarray(pc.fill_null(pc.index_in(texts, value_set=distinct), -1).to_numpy(), dtype=np.int32)
        is_code = np.asarray(codes_written.to_numpy(zero_copy_only=False), dtype=bool)
    codes = indices if lookup is None else np.take(lookup, indices)
    coded = None if is_code is None or not is_code.any() else np.take(is_code, indices)
    padded = None
    if padded_text is not None and padded_text.any():
        position = np.full(len(padded_text), -1, dtype=np.int32)
        position[np.flatnonzero(padded_text)] = np.arange(int(padded_text.sum()), dtype=np.int32)
        written = tuple(str(t) for t in raw.filter(pa.array(padded_text)).to_pylist())
        padded = Padded(np.take(position, indices), written)
    if lengths is not None:
        codes = np.repeat(codes, lengths)
        coded = None if coded is None else np.repeat(coded, lengths)
        padded = None if padded is None else Padded(np.repeat(padded.code, lengths), padded.written)
    return Labels(codes, tuple(distinct.to_pylist()), sorted_used=True), coded, padded
