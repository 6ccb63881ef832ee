"""Read the columns a layout needs from one sheet of an .xlsx workbook, cell by cell.

An .xlsx file is a zip of XML parts. Before anything is parsed, the parts' inflated sizes are
read from the zip directory and their total is held to :data:`~trialkit._limits.XLSX_SHEET_BYTES`
(the XML of every sheet is scanned when a workbook is opened, not only the sheet read). A
directory that understates a part's size cannot get past the limit either: Python's zip reader
never inflates a member beyond the size the directory gives, and a member cut short fails its
checksum, so the file is unreadable rather than large.

Cells are read as the spreadsheet stored them, in the columns asked for only (a row is never
widened to the sheet's last column): numbers, text, booleans and dates as they are, a formula
cell as the value the spreadsheet computed and stored with it. A formula cell without a stored
value, and a cell holding an error value (``#DIV/0!``, ``#N/A``, ...), is a ``formula_cell``
problem naming the cell: it is never read as missing.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._errors import Problem, Rule, closest
from trialkit._limits import XLSX_SHEET_BYTES
from trialkit._spec import DataSpec
from trialkit._values import UNDERFLOW_PATTERN

__all__ = ["LAST_ROW", "SheetProblems", "read_columns", "read_header", "sheet_problems"]

#: the last row of a sheet (Excel's limit); a row numbered beyond it is not a valid workbook
LAST_ROW = 1_048_576
_UNDERFLOW = re.compile(UNDERFLOW_PATTERN)


class SheetProblems(Exception):
    """The cells of a sheet that hold no value to read (formulas without a stored value, errors)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} cell(s) without a value")
        self.problems = list(problems)


def sheet_problems(path: Path, data: DataSpec) -> list[Problem]:
    """Return why the sheet ``data.sheet`` of a workbook cannot be read: too large, or absent.

    The sizes come from the zip directory (nothing is inflated); the sheet's existence from the
    workbook's list of sheets. An empty list means the sheet can be read.

    Raises
    ------
    Exception
        Whatever the zip or workbook reader raises for a file that is not a workbook.
    """
    with zipfile.ZipFile(path) as archive:
        parts = [i for i in archive.infolist() if i.filename.lower().endswith((".xml", ".rels", ".vml"))]
    total = sum(i.file_size for i in parts)
    if total > XLSX_SHEET_BYTES:
        largest = sorted(parts, key=lambda i: i.file_size, reverse=True)[:3]
        shown = ", ".join(f"{i.filename} ({i.file_size:,} bytes)" for i in largest)
        return [
            Problem(
                Rule.TOO_LARGE,
                str(path),
                f"the workbook's sheets inflate to {total:,} bytes of XML (largest parts: {shown}); trialkit reads "
                f"at most XLSX_SHEET_BYTES = {XLSX_SHEET_BYTES:,} bytes. Save the data as CSV or Parquet, "
                "or keep only the data sheet in the workbook.",
                value=f"{total:,} bytes",
            )
        ]
    workbook = _open(path)
    try:
        titles = [ws.title for ws in workbook.worksheets]
    finally:
        workbook.close()
    if _position(data.sheet, titles) is not None:
        return []
    listed = ", ".join(f"{t!r} ({i})" for i, t in enumerate(titles)) or "none"
    near = closest(data.sheet, titles) if isinstance(data.sheet, str) else []
    hint = f" Closest: {', '.join(map(repr, near))}." if near else ""
    what = f"no sheet named {data.sheet!r}" if isinstance(data.sheet, str) else f"no sheet at position {data.sheet}"
    return [
        Problem(
            Rule.INVALID_VALUE,
            str(path),
            f"`data.sheet` = {data.sheet!r}: the workbook has {what}.{hint} Its sheets are {listed}; give "
            "`data.sheet` as a sheet's name or its position counted from 0.",
            value=str(data.sheet),
        )
    ]


def read_header(path: Path, data: DataSpec) -> list[str]:
    """Return the column names of the sheet: the texts of its first row's non-empty cells.

    Raises
    ------
    Exception
        A file that is not a workbook, or a sheet it does not have.
    """
    workbook = _open(path)
    try:
        for number, cells in _rows(workbook, data.sheet):
            if number > 1:
                break
            return list(_names(cells))
        return []
    finally:
        workbook.close()


def read_columns(path: Path, data: DataSpec, columns: Sequence[str]) -> tuple[pd.DataFrame, npt.NDArray[np.int64]]:
    """Return the cells of ``columns`` below the header, and each record's row in the sheet.

    Cells are numbers, text, booleans or dates as stored; an empty cell is ``""`` and a cell
    (or a number) equal to a missing-value code is missing (None). Rows after the last one
    holding a value are not records; rows within the data that the file skips are records of
    empty cells, as a spreadsheet shows them.

    Raises
    ------
    SheetProblems
        Formula cells without a stored value, or error cells, in ``columns`` (all of them).
    Exception
        A file that is not a workbook.
    """
    codes = set(data.missing)
    numeric_codes = set(_number_codes(data.missing))
    workbook = _open(path)
    position: dict[str, int] = {}
    cells_of: list[list[object]] = [[] for _ in columns]
    rows: list[int] = []
    last_with_data = 0
    problems: list[Problem] = []
    try:
        expected = 2
        for number, cells in _rows(workbook, data.sheet):
            if number == 1:
                names = _names(cells)
                for c in columns:
                    if c in names and c not in position:
                        position[c] = names[c]
                continue
            for skipped in range(expected, number):  # rows absent from the file: empty, as a spreadsheet shows them
                rows.append(skipped)
                for values in cells_of:
                    values.append(_empty(codes))
            expected = number + 1
            by_column = {cell["column"]: cell for cell in cells}
            rows.append(number)
            if any(cell["value"] not in (None, "") or "formula" in cell for cell in cells):
                last_with_data = len(rows)  # rows after the last one holding a value are not records
            for values, c in zip(cells_of, columns, strict=True):
                cell = by_column.get(position.get(c, -1))
                if cell is None:
                    values.append(_empty(codes))
                    continue
                problem = _cell_problem(path, c, cell)
                if problem is not None:
                    problems.append(problem)
                    values.append(None)
                    continue
                values.append(_value(cell["value"], codes, numeric_codes))
    finally:
        workbook.close()
    if problems:
        raise SheetProblems(problems)
    frame = pd.DataFrame(
        {c: pd.Series(v[:last_with_data], dtype=object) for c, v in zip(columns, cells_of, strict=True)}
    )
    return frame, np.asarray(rows[:last_with_data], dtype=np.int64)


def _open(path: Path) -> Any:
    from openpyxl import load_workbook

    with warnings.catch_warnings():  # openpyxl warns about parts it does not read (extensions, data validation)
        warnings.simplefilter("ignore")
        return load_workbook(path, read_only=True, data_only=True, keep_links=False)


def _position(sheet: str | int, titles: list[str]) -> int | None:
    """Return the position of the sheet ``sheet`` names (a title, or a position from 0); None when none."""
    if isinstance(sheet, bool):
        return None
    if isinstance(sheet, str):
        return titles.index(sheet) if sheet in titles else None
    return sheet if 0 <= sheet < len(titles) else None


def _rows(workbook: Any, sheet: str | int) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Yield each row the sheet's XML holds: its number and its cells, as openpyxl parses them (plus formulas).

    Raises
    ------
    ValueError
        A sheet the workbook does not have, or a row numbered beyond :data:`LAST_ROW`.
    """
    titles = [ws.title for ws in workbook.worksheets]
    at = _position(sheet, titles)
    if at is None:
        raise ValueError(f"the workbook has no sheet {sheet!r}")
    ws = workbook.worksheets[at]
    parser_class = _cell_parser()
    with ws._get_source() as source, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parser = parser_class(
            source,
            ws._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        previous = 0
        for number, cells in parser.parse():
            if not 0 < number <= LAST_ROW or number <= previous:
                raise ValueError(
                    f"row number {number} is out of order or beyond the last row of a sheet ({LAST_ROW:,})"
                )
            previous = number
            yield number, cells


def _cell_parser() -> type:
    """Return openpyxl's sheet parser, extended to keep each cell's formula and its stored number as written."""
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

    class CellParser(WorkSheetParser):
        def parse_cell(self, element: Any) -> dict[str, Any]:
            cell: dict[str, Any] = super().parse_cell(element)
            if element.find(FORMULA_TAG) is not None:
                cell["formula"] = element.findtext(FORMULA_TAG) or ""
            if cell["data_type"] == "e" and element.get("t") != "e":
                # openpyxl's stand-in for a number styled as a date that no date holds: a date, not an error
                cell["data_type"] = "d"
                cell["value"] = f"date serial {element.findtext(VALUE_TAG)} out of range"
            if cell["data_type"] == "n" and cell["value"] == 0:
                written = element.findtext(VALUE_TAG) or ""
                if _UNDERFLOW.match(written.strip()):
                    cell["value"] = written  # a non-zero number too small for a double: read as text, then refused
            return cell

    return CellParser


def _names(cells: list[dict[str, Any]]) -> dict[str, int]:
    """Return each column name of a header row and its column (the first, when a name repeats)."""
    names: dict[str, int] = {}
    for cell in cells:
        value = cell["value"]
        if value is None or value == "":
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        names.setdefault(str(value), cell["column"])
    return names


def _cell_problem(path: Path, column: str, cell: dict[str, Any]) -> Problem | None:
    """Return the problem of a cell that holds no value: an error value, or a formula never computed."""
    if cell["data_type"] != "e" and ("formula" not in cell or cell["value"] is not None):
        return None
    from openpyxl.utils import get_column_letter

    ref = f"{get_column_letter(cell['column'])}{cell['row']}"
    if cell["data_type"] == "e":
        formula = f" (formula ={cell['formula']})" if cell.get("formula") else ""
        return Problem(
            Rule.FORMULA_CELL,
            str(path),
            f"cell {ref}{formula} holds the error value {cell['value']}, not a value; correct the cell "
            "(an error is never read as missing).",
            row=int(cell["row"]),
            column=column,
            value=str(cell["value"]),
        )
    if "formula" in cell and cell["value"] is None:
        return Problem(
            Rule.FORMULA_CELL,
            str(path),
            f"cell {ref} holds the formula ={cell['formula']} without a stored value (the program that wrote "
            "the file did not compute it); open the file in a spreadsheet program and save it, or write the value "
            "itself (a formula is never read as missing).",
            row=int(cell["row"]),
            column=column,
            value=f"={cell['formula']}",
        )
    return None


def _empty(codes: set[str]) -> object:
    """Return an empty cell: missing when ``""`` is a missing-value code, else the text ``""``."""
    return None if "" in codes else ""


def _value(value: object, codes: set[str], numeric_codes: set[float]) -> object:
    """Return a cell's value as read: missing when it equals a missing-value code (text as written, or a number)."""
    if value is None:
        return _empty(codes)
    if isinstance(value, str):
        return None if value in codes else value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value in numeric_codes:
            return None
        if isinstance(value, float) and value.is_integer():
            return int(value)
    return value


def _number_codes(codes: Sequence[str]) -> list[float]:
    """Return the missing-value codes that are numbers (``"-99"``), as numbers."""
    from trialkit._values import parse_number_text

    texts = [c for c in codes if c.strip()]
    parsed = parse_number_text(texts, decimal=".", missing=())
    return [float(v) for v, bad in zip(parsed.values, parsed.bad, strict=True) if not bad and np.isfinite(v)]
