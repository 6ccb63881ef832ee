"""Nothing misread: the readers under hostile input.

- The two CSV readers (Arrow's, and the line-true csv-module reader) accept exactly the same
  numbers: a property test feeds the same bytes to both and compares labels, numbers, rows and
  problems; the divergences once found (hexadecimal, ``1e-400`` read as 0, ...) are named cases.
- xlsx: formula cells without a stored value and error cells are ``formula_cell`` problems naming
  the cell; a missing sheet lists the sheets; an inflated workbook is refused from its zip
  directory; a directory that lies about a part's size cannot inflate it; row numbers out of range
  are unreadable; a cell far to the right does not widen what is read.
- Parquet: every Arrow number type is a number (decimals as the decimal text they store); a NaN is
  not a number; booleans and dates are not numbers.
"""

from __future__ import annotations

import csv
import decimal
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import base_spec, small_wide, write_frame, write_spec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trialkit as tk
from trialkit._io import _excel, _files
from trialkit._limits import XLSX_SHEET_BYTES
from trialkit._spec import DataSpec

# ---------------------------------------------------------------- CSV: one rule, two readers


def _both_readers(content: bytes, data: DataSpec, both: list[str]) -> tuple[Any, Any]:
    """Read id, x, y with the fast reader (falling back as it does) and with the line-true reader."""
    first = content.decode(data.encoding).split("\n")[0]
    header = next(csv.reader(io.StringIO(first.lstrip("\ufeff")), delimiter=data.delimiter))
    columns, text = ["id", "x", "y"], ["id", *both]
    fast = _files._read_csv(content, header, data, columns, text, both)
    line_true = _files._read_csv_lines(content, data, columns, text, both)
    return _seen(fast), _seen(line_true)


def _seen(body: Any) -> dict[str, Any]:
    """Return what a reader gave, in comparable form: numbers (bad entries as written), labels, rows, problems."""
    numbers = {
        c: (
            np.nan_to_num(n.values, nan=-0.5).tolist(),
            n.bad.tolist(),
            None if n.raw is None else [str(v) for v in n.raw[n.bad]],
        )
        for c, n in body.numbers.items()
    }
    labels = {c: [v.text(i) for i in range(len(v))] for c, v in body.labels.items()}
    padded = {c: (p.code.tolist(), p.written) for c, p in body.padded.items()}
    return {
        "numbers": numbers,
        "labels": labels,
        "rows": body.rows.tolist(),
        "padded": padded,
        "ragged": [(r.line, r.fields) for r in body.ragged],
    }


NUMBER_LIKE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(allow_nan=False).map(lambda f: format(f, ".17g")),
    st.integers(-(10**25), 10**25).map(str),
    st.integers(0, 2**64).map(hex),
    st.from_regex(r"\A[ \t+\-]{0,2}[0-9]{0,3}[.,]?[0-9]{0,3}([eEdD][+\-]?[0-9]{0,4})?[ \t]{0,2}\Z"),
    st.sampled_from(
        [
            "NA",
            ".",
            "",
            " ",
            "-99",
            " -99",
            "-99.0",
            "inf",
            "-Infinity",
            "+nan",
            "1_000",
            "\u22125",
            "\uff11\uff12",
            "\u00a05",
            "5\u3000",
            "\u0663",
            "0b101",
            "1e-400",
            "-7E-0400",
            "4.9e-324",
            "1.8e308",
            "0x1p3",
            "\v5",
            "5\x00",
            '"5"',
            '" 5 "',
            '"NA"',
        ]
    ),
    st.text(alphabet="0123456789.,eE+- \t\u00a0xXabcdf_\u2212", max_size=6),
)


@st.composite
def number_csv(draw: st.DrawFn) -> tuple[bytes, DataSpec, list[str]]:
    """Draw a CSV of an identifier and two number columns, in any delimiter, decimal mark and encoding."""
    delimiter, decimal_mark = draw(st.sampled_from([(",", "."), (";", ","), ("\t", "."), (";", ".")]))
    missing = draw(st.sampled_from([("", "NA", "."), ("NA",), ("", "-99"), ("",), ("-99.0",), ("1e1",)]))
    lines = [delimiter.join(["id", "x", "y"])]
    for i in range(draw(st.integers(1, 5))):
        cells = [draw(NUMBER_LIKE), draw(NUMBER_LIKE)]
        cells = [f'"{c}"' if delimiter in c and not c.startswith('"') else c for c in cells]
        lines.append(delimiter.join([f"S{i}", *cells]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    encoding = draw(st.sampled_from(["utf-8-sig", "utf-8", "latin-1"]))
    try:
        content = text.encode(encoding)
    except UnicodeEncodeError:
        content, encoding = text.encode("utf-8"), "utf-8"
    data = DataSpec(
        format="wide", subject="id", delimiter=delimiter, decimal=decimal_mark, missing=missing, encoding=encoding
    )
    return content, data, draw(st.sampled_from([[], ["y"]]))


@settings(max_examples=250, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=number_csv())
def test_both_csv_readers_accept_exactly_the_same_numbers(case: tuple[bytes, DataSpec, list[str]]) -> None:
    content, data, both = case
    fast, line_true = _both_readers(content, data, both)
    assert fast == line_true


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0x10", None),
        ("0x1C", None),
        ("0xFFFFFFFFFFFFFFFF", None),
        ("0X1a", None),
        ("1_000", None),
        ("inf", None),
        ("-Infinity", None),
        ("nan", None),
        ("\u22125", None),  # a minus sign that is not the ASCII hyphen-minus
        ("\uff11\uff12", None),  # full-width digits
        ("\u0663", None),  # an Arabic-Indic digit
        ("1e400", None),  # too large for a double
        ("1e-400", None),  # non-zero, too small for a double: never read as 0
        ("-2.5E-0999", None),
        ("0x1p3", None),
        ("1d5", None),
        ("+5", 5.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e5", 1e5),
        (" 5 ", 5.0),
        ("\u00a05", 5.0),  # blanks are any Unicode white space, as str.strip removes
        ("00012", 12.0),
        ("0e-999", 0.0),  # zero written as zero
        ("-0", 0.0),
        ("4.9e-324", 5e-324),  # the smallest double: held, not zero (analyses judge its magnitude)
    ],
)
def test_a_number_cell_reads_the_same_in_both_csv_readers(text: str, value: float | None) -> None:
    content = f"id,x,y\nS1,{text},1\nS2,2,3\n".encode()
    fast, line_true = _both_readers(content, DataSpec(format="wide", subject="id"), [])
    assert fast == line_true
    values, bad, raw = fast["numbers"]["x"]
    if value is None:
        assert bad == [True, False] and raw == [text]
    else:
        assert bad == [False, False] and values[0] == value


def test_a_number_too_small_for_a_double_is_a_problem_not_zero(tmp_path: Path) -> None:
    frame = small_wide().astype({"sleep_time_week8": object})
    frame.loc[4, "sleep_time_week8"] = "1e-400"
    write_frame(frame, tmp_path / "trial.csv")
    with pytest.raises(tk.ValidationError) as caught:
        tk.load(write_spec(tmp_path, base_spec()))
    table = caught.value.table
    assert table[["rule", "row", "column", "value"]].values.tolist() == [
        ["non_numeric", 6, "sleep_time_week8", "1e-400"]
    ]


# ---------------------------------------------------------------- xlsx


def _workbook(path: Path, rows: list[list[Any]], *, sheets: tuple[str, ...] = ("Data",)) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheets[0]
    for row in rows:
        ws.append(row)
    for name in sheets[1:]:
        wb.create_sheet(name).append(["note"])
    wb.save(path)
    return path


def _rewrite_sheet(path: Path, edit: Any) -> None:
    """Apply ``edit`` to the first sheet's XML inside the workbook (the zip is rewritten)."""
    with zipfile.ZipFile(path) as source:
        parts = {i.filename: source.read(i.filename) for i in source.infolist()}
    name = "xl/worksheets/sheet1.xml"
    parts[name] = edit(parts[name].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for filename, content in parts.items():
            target.writestr(filename, content)


def _trial_workbook(tmp_path: Path) -> tuple[Path, Path]:
    frame = small_wide()
    path = write_frame(frame, tmp_path / "trial.xlsx")
    spec = write_spec(tmp_path, base_spec(data={"path": "trial.xlsx"}))
    return path, spec


def _load_problems(spec: Path) -> list[list[Any]]:
    with pytest.raises(tk.ValidationError) as caught:
        tk.load(spec)
    return caught.value.table[["rule", "row", "column", "value", "message"]].values.tolist()


def test_formula_cells_without_a_stored_value_are_problems_naming_each_cell(tmp_path: Path) -> None:
    path, spec = _trial_workbook(tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    header = [c.value for c in ws[1]]
    column = header.index("isi_week8") + 1
    letter = openpyxl.utils.get_column_letter(column)
    ws.cell(row=3, column=column, value="=1/0")
    ws.cell(row=5, column=column, value=f"={letter}3+100")
    wb.save(path)  # openpyxl writes formulas without computing them: no stored value
    problems = _load_problems(spec)
    assert [p[:4] for p in problems] == [
        ["formula_cell", 3, "isi_week8", "=1/0"],
        ["formula_cell", 5, "isi_week8", f"={letter}3+100"],
    ]
    assert f"cell {letter}3 holds the formula =1/0 without a stored value" in problems[0][4]
    assert f"cell {letter}5" in problems[1][4]


def test_a_formula_with_a_stored_value_reads_that_value(tmp_path: Path) -> None:
    path, spec = _trial_workbook(tmp_path)
    expected = tk.load(spec).data
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    column = [c.value for c in ws[1]].index("isi_week8") + 1
    stored = ws.cell(row=2, column=column).value
    ref = f"{openpyxl.utils.get_column_letter(column)}2"
    wb.close()

    def with_formula(xml: str) -> str:  # as a spreadsheet program saves it: the formula and its result
        return re.sub(
            rf'<c r="{ref}"([^>]*)><v>[^<]*</v></c>', rf'<c r="{ref}"\1><f>10+{stored}-10</f><v>{stored}</v></c>', xml
        )

    _rewrite_sheet(path, with_formula)
    assert "<f>" in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    np.testing.assert_array_equal(tk.load(spec).data["value"].to_numpy(), expected["value"].to_numpy())


@pytest.mark.parametrize("error", ["#DIV/0!", "#N/A", "#VALUE!"])
@pytest.mark.parametrize("formula", ["<f>1/0</f>", ""])
def test_an_error_cell_is_a_problem_never_missing(tmp_path: Path, error: str, formula: str) -> None:
    path, spec = _trial_workbook(tmp_path)
    _rewrite_sheet(
        path,
        lambda xml: re.sub(r'<c r="F5"[^>]*><v>[^<]*</v></c>', f'<c r="F5" t="e">{formula}<v>{error}</v></c>', xml),
    )
    problems = _load_problems(spec)
    assert [p[:4] for p in problems] == [["formula_cell", 5, "isi_week8", error]]
    assert problems[0][4].startswith(f"cell F5{' (formula =1/0)' if formula else ''} holds the error value {error}")


def test_an_error_cell_in_a_column_not_read_is_no_problem(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "t.xlsx", [["id", "x", "notes"], ["S1", 1, "a"], ["S2", 2, "b"]])
    _rewrite_sheet(path, lambda xml: re.sub(r'<c r="C2"[^>]*>.*?</c>', '<c r="C2" t="e"><v>#REF!</v></c>', xml))
    table, problems = _files.read_table(path, DataSpec(format="wide", subject="id"), required=["id", "x"], text=["id"])
    assert problems == [] and table is not None
    assert table.numbers["x"].values.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("sheet", "said"),
    [
        (99, "`data.sheet` = 99: the workbook has no sheet at position 99."),
        (-1, "`data.sheet` = -1: the workbook has no sheet at position -1."),
        ("data", "`data.sheet` = 'data': the workbook has no sheet named 'data'. Closest: 'Data'."),
        ("Results", "`data.sheet` = 'Results': the workbook has no sheet named 'Results'."),
    ],
)
def test_a_sheet_the_workbook_lacks_is_a_problem_listing_its_sheets(tmp_path: Path, sheet: Any, said: str) -> None:
    _workbook(tmp_path / "trial.xlsx", [["subject_id"], ["S1"]], sheets=("Data", "Notes"))
    spec = write_spec(tmp_path, base_spec(data={"path": "trial.xlsx", "sheet": sheet}))
    problems = _load_problems(spec)
    assert len(problems) == 1 and problems[0][0] == "invalid_value"
    assert problems[0][4].startswith(said)
    assert "Its sheets are 'Data' (0), 'Notes' (1)" in problems[0][4]


def test_a_sheet_by_name_or_position_is_read(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Data"
    for row in (["id", "x"], ["S1", 1]):
        wb.active.append(row)
    notes = wb.create_sheet("Notes")
    for row in (["id", "x"], ["S9", 9]):
        notes.append(row)
    wb.save(path)
    for sheet, x in (("Data", 1.0), (0, 1.0), ("Notes", 9.0), (1, 9.0)):
        data = DataSpec(format="wide", subject="id", sheet=sheet)
        table, problems = _files.read_table(path, data, required=["id", "x"], text=["id"])
        assert problems == [] and table is not None and table.numbers["x"].values.tolist() == [x], sheet


def _bomb(path: Path, inflated: int) -> Path:
    """Write a valid workbook whose sheet is padded with white space to ``inflated`` bytes of XML."""
    _workbook(path, [["id", "x"], ["S1", 1]])
    with zipfile.ZipFile(path) as source:
        parts = {i.filename: source.read(i.filename) for i in source.infolist()}
    xml = parts["xl/worksheets/sheet1.xml"]
    at = xml.index(b"<sheetData>")
    parts["xl/worksheets/sheet1.xml"] = xml[:at] + b" " * (inflated - len(xml)) + xml[at:]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for filename, content in parts.items():
            target.writestr(filename, content)
    return path


def test_a_workbook_that_inflates_over_the_limit_is_refused_before_parsing(tmp_path: Path, monkeypatch) -> None:
    path = _bomb(tmp_path / "t.xlsx", XLSX_SHEET_BYTES + 1)
    assert path.stat().st_size < XLSX_SHEET_BYTES // 100  # a small file ...
    monkeypatch.setattr(_excel, "_open", lambda *a: pytest.fail("the workbook was opened"))
    table, problems = _files.read_table(path, DataSpec(format="wide", subject="id"), required=["id"], text=["id"])
    assert table is None and [p.rule for p in problems] == [tk.Rule.TOO_LARGE]
    message = problems[0].message
    assert "xl/worksheets/sheet1.xml" in message and f"XLSX_SHEET_BYTES = {XLSX_SHEET_BYTES:,} bytes" in message


def test_a_workbook_just_under_the_limit_is_read(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(_excel, "XLSX_SHEET_BYTES", 200_000)
    path = _bomb(tmp_path / "t.xlsx", 180_000)  # with the workbook's other parts, just under 200,000
    table, problems = _files.read_table(path, DataSpec(format="wide", subject="id"), required=["id", "x"], text=["id"])
    assert problems == [] and table is not None and table.numbers["x"].values.tolist() == [1.0]


def test_a_zip_directory_that_understates_a_sheet_cannot_inflate_it(tmp_path: Path) -> None:
    path = _bomb(tmp_path / "t.xlsx", 5_000_000)
    content = bytearray(path.read_bytes())
    # rewrite the sheet's inflated size (local header and central directory) to 2,000 bytes
    size = (5_000_000).to_bytes(4, "little")
    assert content.count(size) == 2
    content = content.replace(size, (2_000).to_bytes(4, "little"))
    path.write_bytes(bytes(content))
    table, problems = _files.read_table(path, DataSpec(format="wide", subject="id"), required=["id"], text=["id"])
    assert table is None and [p.rule for p in problems] == [tk.Rule.UNREADABLE_FILE]


@pytest.mark.parametrize("number", ["1048577", "99999999999999"])
def test_a_row_beyond_the_last_row_of_a_sheet_is_unreadable(tmp_path: Path, number: str) -> None:
    path = _workbook(tmp_path / "t.xlsx", [["id", "x"], ["S1", 1]])
    _rewrite_sheet(
        path, lambda xml: xml.replace('<row r="2">', f'<row r="{number}">').replace('r="A2"', f'r="A{number}"')
    )
    table, problems = _files.read_table(path, DataSpec(format="wide", subject="id"), required=["id"], text=["id"])
    assert table is None and [p.rule for p in problems] == [tk.Rule.UNREADABLE_FILE]
    assert "beyond the last row of a sheet (1,048,576)" in problems[0].message


def test_a_cell_in_the_last_column_does_not_widen_what_is_read(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "t.xlsx", [["id", "x"], ["S1", 1], ["S2", 2]])
    _rewrite_sheet(path, lambda xml: xml.replace('</row><row r="3">', '<c r="XFD2"><v>1</v></c></row><row r="3">'))
    table, problems = _files.read_table(path, DataSpec(format="wide", subject="id"), required=["id", "x"], text=["id"])
    assert problems == [] and table is not None and table.numbers["x"].values.tolist() == [1.0, 2.0]


def test_rows_skipped_in_the_sheet_keep_their_numbers(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "t.xlsx", [["id", "x"], ["S1", 1], ["S2", "oops"]])
    _rewrite_sheet(
        path,
        lambda xml: xml.replace('<row r="3">', '<row r="7">').replace('r="A3"', 'r="A7"').replace('r="B3"', 'r="B7"'),
    )
    table, problems = _files.read_table(path, DataSpec(format="wide", subject="id"), required=["id", "x"], text=["id"])
    assert problems == [] and table is not None
    assert table.rows.tolist() == [2, 7]  # the empty rows 3..6 are blank (missing everywhere) and dropped
    assert table.numbers["x"].bad.tolist() == [False, True]


def test_excel_numbers_follow_the_one_rule(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "t.xlsx", [["id", "x"], ["S1", 1], ["S2", "0x10"], ["S3", " 2.5 "], ["S4", -99], ["S5", True]]
    )
    _rewrite_sheet(path, lambda xml: xml.replace('<c r="B2" t="n"><v>1</v>', '<c r="B2" t="n"><v>1E-400</v>'))
    data = DataSpec(format="wide", subject="id", missing=("", "NA", "-99"))
    table, problems = _files.read_table(path, data, required=["id", "x"], text=["id"])
    assert problems == [] and table is not None
    x = table.numbers["x"]
    assert np.nan_to_num(x.values, nan=-1).tolist() == [-1, -1, 2.5, -1, -1]
    assert x.bad.tolist() == [True, True, False, False, True]  # 1E-400, hex, ok, the code -99, a boolean


def test_a_date_and_a_date_no_calendar_holds_are_not_numbers_nor_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in (["id", "x"], ["S1", 1e10], ["S2", 45000], ["S3", 2]):
        ws.append(row)
    for cell in (ws["B2"], ws["B3"]):
        cell.number_format = "yyyy-mm-dd"
    wb.save(path)
    table, problems = _files.read_table(path, DataSpec(format="wide", subject="id"), required=["id", "x"], text=["id"])
    assert problems == [] and table is not None
    assert table.numbers["x"].bad.tolist() == [True, True, False]
    assert str(table.numbers["x"].raw[0]) == "date serial 10000000000 out of range"


# ---------------------------------------------------------------- Parquet


def test_every_arrow_number_type_is_a_number(tmp_path: Path) -> None:
    d = decimal.Decimal
    columns = {
        "id": pa.array([9007199254740993, None, 3], pa.int64()),
        "d128": pa.array([d("12.50"), None, d("-1.25")], pa.decimal128(10, 2)),
        "d256": pa.array([d("1"), d("2E+30"), None], pa.decimal256(50, 0)),
        "i8": pa.array([1, -2, None], pa.int8()),
        "u16": pa.array([1, 65535, None], pa.uint16()),
        "u64": pa.array([2**64 - 1, 0, None], pa.uint64()),
        "f16": pa.array(np.array([1.5, 2, 3], dtype=np.float16), pa.float16()),
        "f32": pa.array([0.5, None, 1], pa.float32()),
        "cat": pa.array(["1.5", "2", None]).dictionary_encode(),
    }
    pq.write_table(pa.table(columns), tmp_path / "t.parquet")
    table, problems = _files.read_table(
        tmp_path / "t.parquet", DataSpec(format="wide", subject="id"), required=list(columns), text=["id"]
    )
    assert problems == [] and table is not None
    got = {c: np.nan_to_num(n.values, nan=-1).tolist() for c, n in table.numbers.items()}
    assert got == {
        "d128": [12.5, -1, -1.25],
        "d256": [1.0, 2e30, -1],
        "i8": [1.0, -2.0, -1],
        "u16": [1.0, 65535.0, -1],
        "u64": [float(2**64 - 1), 0.0, -1],
        "f16": [1.5, 2.0, 3.0],
        "f32": [0.5, -1, 1.0],
        "cat": [1.5, 2.0, -1],
    }
    assert not any(n.bad.any() for n in table.numbers.values())
    ids = table.labels["id"]
    assert [ids.text(i) for i in range(3)] == ["9007199254740993", None, "3"]  # exact, though the column has a null


def test_a_parquet_nan_booleans_and_dates_are_not_numbers(tmp_path: Path) -> None:
    columns = {
        "id": pa.array(["S1", "S2", "S3"]),
        "f": pa.array([float("nan"), None, 1.0], pa.float64()),
        "b": pa.array([True, None, False]),
        "day": pa.array([1, None, 3], pa.date32()),
    }
    pq.write_table(pa.table(columns), tmp_path / "t.parquet")
    table, problems = _files.read_table(
        tmp_path / "t.parquet", DataSpec(format="wide", subject="id"), required=list(columns), text=["id"]
    )
    assert problems == [] and table is not None
    assert {c: n.bad.tolist() for c, n in table.numbers.items()} == {
        "f": [True, False, False],
        "b": [True, False, True],
        "day": [True, False, True],
    }


def test_a_parquet_decimal_endpoint_loads_like_its_csv_twin(tmp_path: Path) -> None:
    frame = small_wide()
    write_frame(frame, tmp_path / "trial.csv")
    expected = tk.load(write_spec(tmp_path, base_spec())).data
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in ("sleep_time_baseline", "sleep_time_week8", "isi_baseline", "isi_week8"):
        at = table.schema.get_field_index(name)
        table = table.set_column(at, name, table[name].cast(pa.decimal128(12, 2)))
    pq.write_table(table, tmp_path / "trial.parquet")
    got = tk.load(write_spec(tmp_path, base_spec(data={"path": "trial.parquet"}))).data
    np.testing.assert_array_equal(got["value"].to_numpy(), expected["value"].to_numpy())
