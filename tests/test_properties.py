"""Properties of loading a CSV, whatever bytes it holds.

- Loading gives a Trial or a ValidationError, nothing else.
- The fast reader (Arrow) and the line-true reader (pandas, every column as text) give the same
  Trial or the same problem table: the fast reader is used only when it reads what the other would.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from conftest import base_spec, small_wide, write_spec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trialkit as tk
from trialkit._io import _files

HEADER = list(small_wide().columns)
CELL = st.one_of(
    st.sampled_from(
        [
            "",
            "NA",
            ".",
            "S001",
            "S002",
            "active",
            "placebo",
            "activ",
            "M",
            "F",
            "12",
            "-3",
            "1,5",
            "<5",
            "ND",
            "inf",
            "nan",
            "1e400",
            "28",
            "29",
            "12.5",
            "\ufeff",
            '"',
            "a\nb",
            ";",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10, 2000).map(str),
    st.text(max_size=6),
)


def _csv_line(cells: list[str]) -> str:
    return ",".join(cells)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.one_of(st.just(HEADER), st.lists(st.sampled_from(HEADER + ["x", "subject"]), max_size=10)),
    rows=st.lists(st.lists(CELL, min_size=0, max_size=10), max_size=8),
    raw=st.binary(max_size=40),
    use_raw=st.booleans(),
)
def test_random_csv_content_gives_a_trial_or_a_validation_error(header, rows, raw, use_raw) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        path = folder / "trial.csv"
        if use_raw:
            path.write_bytes(raw)
        else:
            path.write_text(
                "\n".join([_csv_line(header)] + [_csv_line(r) for r in rows]) + "\n",
                encoding="utf-8",
                errors="surrogatepass",
            )
        spec = write_spec(folder, base_spec())
        try:
            trial = tk.load(spec)
        except tk.ValidationError as exc:
            assert exc.problems and all(p.message for p in exc.problems)
        else:
            assert isinstance(trial, tk.Trial) and len(trial.subjects) >= 4
    finally:
        shutil.rmtree(folder)


# --- fast reader == line-true reader ------------------------------------------------------------

SUBJECTS = ("S001", "S002", "S003", "S004", "S005", "S006")
ENDPOINT_CODES = ("isi", "sleep_time")
VISIT_CODES = ("baseline", "week8")
#: text that tempts a CSV reader: numbers it could take differently, identifiers it could trim
ODD_VALUES = (
    "",
    "NA",
    ".",
    "-99",
    " -99",
    "-99.0",
    "0x1A",
    "0X10",
    "1_000",
    "1e400",
    "-1e400",
    "1e-400",
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    " 12 ",
    "\t7",
    "+3",
    ".5",
    "5.",
    "1e1",
    "1,5",
    "1.5",
    "<5",
    "12.50000000000000000001",
    "0.1000000000000000055511151231257827",
    "١٢",
    '"12"',
    '"1\n2"',
    '""',
)
ODD_LABELS = (
    "",
    " ",
    "NA",
    " S001",
    "S001 ",
    '"S002"',
    '"S,3"',
    'S"4',
    '"S"5',
    '"S6" ',
    "activ",
    "week 8",
    "ISI",
    '"a\nb"',
    '"a\r\nb"',
    "é",
    "a\x00",
    "\x1cS001",
    "S002\u3000",
    "\u00a0",
)


def _value_text(value: float, decimal: str) -> str:
    return (repr(value) if value != int(value) else str(int(value))).replace(".", decimal)


@st.composite
def long_csv(draw: st.DrawFn) -> tuple[bytes, dict[str, Any]]:
    """Draw a long CSV (subject, arm, visit, endpoint, value, age) and its spec: valid, then perturbed."""
    delimiter, decimal = draw(st.sampled_from([(",", "."), (";", ","), ("\t", ".")]))
    missing = draw(st.sampled_from([("", "NA", "."), ("NA",), ("", "-99"), ("",)]))
    subjects = SUBJECTS[: draw(st.integers(4, len(SUBJECTS)))]
    rows: list[list[str]] = []
    for k, subject in enumerate(subjects):
        arm = "active" if k % 2 else "placebo"
        age = str(draw(st.integers(60, 80)))
        for visit in VISIT_CODES:
            for endpoint in ENDPOINT_CODES:
                value = draw(st.integers(0, 28) if endpoint == "isi" else st.floats(0, 1440).map(lambda v: round(v, 2)))
                rows.append([subject, arm, visit, endpoint, _value_text(value, decimal), age])
    rows = draw(st.permutations(rows)) if draw(st.booleans()) else rows
    for _ in range(draw(st.sampled_from([0, 0, 1, 2, 4]))):  # perturb cells
        i, j = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, 5))
        rows[i][j] = draw(st.sampled_from(ODD_VALUES if j in (4, 5) else ODD_LABELS))
    if draw(st.integers(0, 3)) == 0:
        rows.append(list(rows[draw(st.integers(0, len(rows) - 1))]))  # a duplicate record
    lines = [delimiter.join(["subject", "arm", "visit", "endpoint", "value", "age"])]
    lines += [delimiter.join(r) for r in rows]
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):  # blank lines, or a short or long row
        odd_line = draw(st.sampled_from(["", " ", "S001", delimiter * 5, delimiter * 6, lines[-1] + delimiter]))
        lines.insert(draw(st.integers(1, len(lines))), odd_line)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    encoding = draw(st.sampled_from(["utf-8-sig", "utf-8", "latin-1"]))
    content = (b"\xef\xbb\xbf" if draw(st.integers(0, 3)) == 0 else b"") + text.encode(encoding, errors="replace")
    if draw(st.integers(0, 9)) == 0:
        content += b"\xff"  # not UTF-8
    spec = base_spec(data={"delimiter": delimiter, "decimal": decimal, "missing": list(missing), "encoding": encoding})
    spec["analysis"] = {"covariates": ["age"]}
    spec["data"] = {
        **spec["data"],
        "format": "long",
        "subject": "subject",
        "path": "trial.csv",
        "visit": "visit",
        "endpoint": "endpoint",
        "value": "value",
    }
    del spec["data"]["pattern"]
    return content, spec


def _outcome(spec: Path) -> tuple[str, Any]:
    try:
        trial = tk.load(spec)
    except tk.ValidationError as exc:
        return "problems", exc.table
    return "trial", trial


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=long_csv())
def test_fast_and_line_true_csv_readers_give_the_same_trial_or_problems(case, monkeypatch) -> None:
    content, spec_dict = case
    folder = Path(tempfile.mkdtemp())
    try:
        (folder / "trial.csv").write_bytes(content)
        spec = write_spec(folder, spec_dict)
        fast = _outcome(spec)
        with monkeypatch.context() as patch:
            patch.setattr(_files, "_read_csv_arrow", lambda *args, **kwargs: None)
            line_true = _outcome(spec)
        assert fast[0] == line_true[0], (fast, line_true)
        if fast[0] == "problems":
            pd.testing.assert_frame_equal(fast[1], line_true[1])
        else:
            pd.testing.assert_frame_equal(fast[1].data, line_true[1].data, check_exact=True)
            pd.testing.assert_frame_equal(fast[1].subjects, line_true[1].subjects, check_exact=True)
            assert fast[1].inputs == line_true[1].inputs
    finally:
        shutil.rmtree(folder)


def test_a_plain_csv_takes_the_fast_reader(tmp_path, monkeypatch) -> None:
    # the property above proves nothing if the fast reader always declined
    rows = [
        f"S00{k},{'active' if k % 2 else 'placebo'},{v},{e},{k},{60 + k}"
        for k in range(1, 7)
        for v in VISIT_CODES
        for e in ENDPOINT_CODES
    ]
    (tmp_path / "trial.csv").write_text("subject,arm,visit,endpoint,value,age\n" + "\n".join(rows) + "\n")
    spec = base_spec()
    spec["analysis"] = {"covariates": ["age"]}
    spec["data"] = {
        "format": "long",
        "subject": "subject",
        "path": "trial.csv",
        "visit": "visit",
        "endpoint": "endpoint",
        "value": "value",
    }
    arrow, bodies = _files._read_csv_arrow, []
    monkeypatch.setattr(
        _files, "_read_csv_arrow", lambda *args, **kwargs: bodies.append(arrow(*args, **kwargs)) or bodies[-1]
    )
    trial = tk.load(write_spec(tmp_path, spec))
    assert len(bodies) == 1 and bodies[0] is not None
    assert trial.data["value"].notna().all() and len(trial.subjects) == 6
