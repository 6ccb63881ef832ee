"""The command line's output folders: a folder that holds anything is refused before any work, unless --force."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import trialkit as tk
from trialkit.cli import main

DESIGN = Path(__file__).parents[1] / "docs" / "examples" / "sleep-diary-design.toml"


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in folder.rglob("*")}


def _command(command: str, small_trial_dir: Path, out: Path) -> list[str]:
    """Return the arguments of ``command`` writing into ``out`` (the small trial, or a bundled name, or a design)."""
    if command == "reproduce":
        return ["reproduce", "abbasi2012", "--out", str(out)]
    if command == "simulate":
        return ["simulate", str(DESIGN), "--seed", "1", "--out", str(out)]
    return [command, str(small_trial_dir), "--out", str(out)]


@pytest.mark.parametrize("command", ["summary", "analyze", "report", "reproduce", "simulate"])
def test_a_folder_that_is_not_empty_is_refused_before_any_work(command, small_trial_dir, tmp_path, capsys) -> None:
    out = tmp_path / "earlier"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    problems = tmp_path / "problems.csv"
    before = _snapshot(tmp_path)
    with_problems = ["--problems", str(problems)] if command in ("summary", "analyze", "report") else []
    assert main([*_command(command, small_trial_dir, out), *with_problems]) == 2
    captured = capsys.readouterr()
    assert f"error: --out {str(out)!r} is a folder that is not empty" in captured.err
    assert "pass --force" in captured.err and "choose an empty or new folder" in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""  # refused before loading or analysing anything
    assert _snapshot(tmp_path) == before  # nothing written: no output, no problem table


@pytest.mark.parametrize("command", ["summary", "analyze", "reproduce", "simulate"])
def test_force_writes_into_a_folder_that_is_not_empty_and_leaves_other_files(
    command, small_trial_dir, tmp_path, capsys
) -> None:
    out = tmp_path / "earlier"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    assert main([*_command(command, small_trial_dir, out), "--force"]) in (0, 1)  # 1: a listed analysis failure
    assert "error" not in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine\n"
    assert len(list(out.iterdir())) > 1


def test_an_empty_folder_needs_no_force(small_trial_dir, tmp_path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert main(["summary", str(small_trial_dir), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["counts.csv", "missing.csv", "summary.csv"]


def test_a_second_run_into_the_same_folder_needs_force(tmp_path, capsys) -> None:
    spec = str(tk.datasets.study_spec("abbasi2012"))
    out = tmp_path / "out"
    assert main(["summary", spec, "--out", str(out), "-q"]) == 0
    first = _snapshot(out)
    assert main(["summary", spec, "--out", str(out), "-q"]) == 2
    assert "is a folder that is not empty" in capsys.readouterr().err
    assert main(["summary", spec, "--out", str(out), "-q", "--force"]) == 0
    assert _snapshot(out) == first  # the same files, byte for byte


def test_the_default_report_folder_is_refused_when_it_holds_files(small_trial_dir, monkeypatch, capsys) -> None:
    monkeypatch.chdir(small_trial_dir.parent)
    folder = Path("reports") / "small"
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("an earlier report\n")
    assert main(["report", str(small_trial_dir)]) == 2
    err = capsys.readouterr().err
    assert f"error: the report folder {str(folder)!r} is a folder that is not empty" in err and "--force" in err
    assert (folder / "report.html").read_text() == "an earlier report\n"
    assert sorted(p.name for p in folder.iterdir()) == ["report.html"]


def test_force_does_not_excuse_a_folder_where_an_output_file_goes(small_trial_dir, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    (out / "counts.csv").mkdir(parents=True)
    assert main(["summary", str(small_trial_dir), "--out", str(out), "--force"]) == 2
    assert "holds a folder 'counts.csv'" in capsys.readouterr().err
    assert pd.Series([p.name for p in out.iterdir()]).tolist() == ["counts.csv"]
