"""A CSV line with more or fewer fields than the header: a problem naming the file and the line, by both readers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import LONG_DATA, base_spec, small_wide, to_long, write_spec

import trialkit as tk
from trialkit._io import _files
from trialkit.cli import main


def _both_readers(spec: Path, monkeypatch) -> pd.DataFrame:
    """Return the problem table, after checking that the fast and the line-true CSV readers give the same one."""
    tables = []
    for fast in (True, False):
        with monkeypatch.context() as patch:
            if not fast:
                patch.setattr(_files, "_read_csv_arrow", lambda *args, **kwargs: None)
            with pytest.raises(tk.ValidationError) as info:
                tk.load(spec)
        tables.append(info.value.table)
    pd.testing.assert_frame_equal(tables[0], tables[1])
    return tables[0]


def _write(folder: Path, lines: list[str], newline: str = "\n") -> bytes:
    content = (newline.join(lines) + newline).encode()
    (folder / "trial.csv").write_bytes(content)
    return content


def test_every_ragged_line_is_named_and_the_other_lines_are_checked(tmp_path, monkeypatch) -> None:
    lines = small_wide().to_csv(index=False).splitlines()
    lines[3] += ",9"  # line 4: one field too many (S003)
    lines[7] = ",".join(lines[7].split(",")[:5])  # line 8: too few (S007)
    lines[9] = lines[9].replace(",placebo,", ",placbo,")  # line 10: an undeclared arm, still found
    content = _write(tmp_path, lines)
    table = _both_readers(write_spec(tmp_path, base_spec()), monkeypatch)
    assert table[["rule", "row", "subject"]].values.tolist() == [
        ["ragged_row", 4, "S003"],
        ["ragged_row", 8, "S007"],
        ["unknown_arm", 10, "S009"],
    ]
    assert table["column"].isna().tolist() == [True, True, False]
    assert table["file"].unique().tolist() == [str(tmp_path / "trial.csv")]
    assert table["value"].tolist()[:2] == [lines[3], lines[7]]
    assert "line 4 has 9 fields; the header has 8" in table["message"].iloc[0]
    assert "line 8 has 5 fields; the header has 8" in table["message"].iloc[1]
    assert (tmp_path / "trial.csv").read_bytes() == content


def test_lines_are_counted_as_an_editor_shows_them(tmp_path, monkeypatch) -> None:
    wide = small_wide().astype({"sex": object})
    wide.loc[0, "sex"] = "F\nand more"  # a quoted value over two lines: S002 starts on line 4
    lines = wide.to_csv(index=False).splitlines()
    lines.insert(5, "")  # a blank line 6 counts too
    lines[7] += ";"  # S004, now on line 8, with a stray delimiter: ragged with a semicolon file
    text = "\r\n".join(line.replace(",", ";") for line in lines) + "\r\n"
    (tmp_path / "trial.csv").write_bytes(text.encode())
    spec = base_spec(data={"delimiter": ";"})
    spec["covariates"] = {}
    table = _both_readers(write_spec(tmp_path, spec), monkeypatch)
    assert table[["rule", "row", "subject"]].values.tolist() == [["ragged_row", 8, "S005"]]
    assert "a value holding ';' must be in double quotes" in table["message"].item()


def test_a_ragged_line_in_a_long_file(tmp_path, monkeypatch) -> None:
    lines = to_long(small_wide()).to_csv(index=False).splitlines()
    lines[12] = lines[12] + ",extra"
    _write(tmp_path, lines)
    spec = base_spec()
    spec["data"] = {**LONG_DATA}
    table = _both_readers(write_spec(tmp_path, spec), monkeypatch)
    assert table[["rule", "row", "subject"]].values.tolist() == [["ragged_row", 13, "S003"]]


def test_a_file_of_ragged_lines_only_names_each_line(tmp_path, monkeypatch) -> None:
    lines = small_wide().head(2).to_csv(index=False).splitlines()
    _write(tmp_path, [lines[0], lines[1] + ",1", lines[2] + ",2"])
    table = _both_readers(write_spec(tmp_path, base_spec()), monkeypatch)
    assert table[["rule", "row"]].values.tolist() == [["ragged_row", 2], ["ragged_row", 3]]


def test_the_cli_exits_2_and_writes_a_row_per_ragged_line(tmp_path, capsys) -> None:
    lines = small_wide().to_csv(index=False).splitlines()
    lines[5] += ","
    lines[6] += ","
    _write(tmp_path, lines)
    problems = tmp_path / "problems.csv"
    assert main(["validate", str(write_spec(tmp_path, base_spec())), "--problems", str(problems)]) == 2
    err = capsys.readouterr().err
    assert "2 problems found" in err and "[ragged_row]" in err and "row 6" in err
    table = pd.read_csv(problems, dtype={"row": "Int64"})
    assert table[["rule", "row", "subject"]].values.tolist() == [["ragged_row", 6, "S005"], ["ragged_row", 7, "S006"]]


def test_no_partial_output_when_a_line_is_ragged(tmp_path, capsys) -> None:
    lines = small_wide().to_csv(index=False).splitlines()
    lines[2] += ",x"
    _write(tmp_path, lines)
    out = tmp_path / "out"
    assert main(["analyze", str(write_spec(tmp_path, base_spec())), "--out", str(out)]) == 2
    assert "[ragged_row]" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
