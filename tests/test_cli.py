"""The command line: exit codes, printed problems, files written whole or not at all."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import base_spec, small_wide, write_frame, write_spec

import trialkit as tk
from trialkit.cli import main


def test_validate_ok_prints_counts(small_trial_dir, capsys) -> None:
    assert main(["validate", str(small_trial_dir)]) == 0
    out = capsys.readouterr().out
    assert "valid — 10 subjects (placebo 5, active 5)" in out


def test_validate_bad_input_exits_2_and_lists_every_problem(tmp_path, capsys) -> None:
    wide = small_wide().astype({"isi_week8": object})
    wide.loc[0, "isi_week8"] = "ND"
    wide.loc[1, "arm"] = "actve"
    write_frame(wide, tmp_path / "trial.csv")
    spec = write_spec(tmp_path, base_spec())
    problems = tmp_path / "problems.csv"
    assert main(["validate", str(spec), "--problems", str(problems)]) == 2
    err = capsys.readouterr().err
    assert "2 problems found" in err and "[non_numeric]" in err and "[unknown_arm]" in err
    table = pd.read_csv(problems)
    assert sorted(table["rule"]) == ["non_numeric", "unknown_arm"]
    assert f"all 2 problems written to {problems}" in err
    # fixed, the same command replaces the stale table with an empty one
    write_frame(small_wide(), tmp_path / "trial.csv")
    assert main(["validate", str(spec), "--problems", str(problems)]) == 0
    assert list(pd.read_csv(problems).columns) == ["rule", "file", "row", "subject", "column", "value", "message"]
    assert pd.read_csv(problems).empty


def test_one_problem_is_said_in_the_singular(tmp_path, capsys) -> None:
    wide = small_wide()
    wide.loc[1, "arm"] = "actve"
    write_frame(wide, tmp_path / "trial.csv")
    problems = tmp_path / "problems.csv"
    assert main(["validate", str(write_spec(tmp_path, base_spec())), "--problems", str(problems)]) == 2
    err = capsys.readouterr().err
    assert "1 problem found:" in err and f"1 problem written to {problems}" in err


def test_bad_spec_exits_2(tmp_path, capsys) -> None:
    spec = write_spec(tmp_path, base_spec(study={"alfa": 0.1}))
    assert main(["validate", str(spec)]) == 2
    assert "did you mean 'alpha'" in capsys.readouterr().err


def test_summary_writes_tables(small_trial_dir, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["summary", str(small_trial_dir), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["counts.csv", "missing.csv", "summary.csv"]
    summary = pd.read_csv(out / "summary.csv")
    row = summary.query("endpoint == 'isi' and visit == 'week8' and arm == 'active' and quantity == 'value'")
    assert row["n"].item() == 4 and row["n_missing"].item() == 1
    assert "Endpoint summaries" in capsys.readouterr().out


def test_summary_on_bad_input_writes_nothing(tmp_path) -> None:
    wide = small_wide()
    wide.loc[0, "isi_week8"] = 99.0
    write_frame(wide, tmp_path / "trial.csv")
    out = tmp_path / "out"
    assert main(["summary", str(write_spec(tmp_path, base_spec())), "--out", str(out)]) == 2
    assert not out.exists()


def test_spreadsheet_formulas_in_labels_are_neutralised(tmp_path) -> None:
    wide = small_wide()
    wide["arm"] = wide["arm"].map({"active": "=cmd|' /C calc'!A0", "placebo": "placebo"})
    write_frame(wide, tmp_path / "trial.csv")
    spec = base_spec(arms={"levels": ["placebo", "=cmd|' /C calc'!A0"]})
    out = tmp_path / "out"
    assert main(["summary", str(write_spec(tmp_path, spec)), "--out", str(out)]) == 0
    text = (out / "counts.csv").read_text()
    assert "'=cmd" in text and "\n=cmd" not in text and ",=cmd" not in text


def test_console_script_runs_as_a_process(small_trial_dir) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "trialkit.cli", "validate", str(small_trial_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_reproduce_bundled_trial_writes_verdicts(tmp_path, capsys) -> None:
    out = tmp_path / "rep"
    assert main(["reproduce", "abbasi2012", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("reproduced") >= 10 and "counter-intuitive direction" in printed
    table = pd.read_csv(out / "reproduction.csv")
    assert len(table) == 10 and set(table["verdict"]) == {"reproduced"}
    assert (out / "reproduction.txt").read_text().startswith("Reproduction of abbasi2012")


def test_reproduce_without_data_is_an_abstract_audit(tmp_path) -> None:
    published = tmp_path / "copy.toml"
    from pathlib import Path

    published.write_text((Path(__file__).parents[1] / "data" / "published" / "abbasi2012.toml").read_text())
    assert main(["reproduce", str(published), "--out", str(tmp_path / "o")]) == 0
    assert set(pd.read_csv(tmp_path / "o" / "reproduction.csv")["verdict"]) == {"not_assessable"}


def test_reproduce_bad_inputs_exit_2(tmp_path, capsys) -> None:
    assert main(["reproduce", "abbasi2013"]) == 2
    assert "did you mean 'abbasi2012'" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('[trial]\nid = "x"\n[[outcomes]]\nid = "a"\np = "1.3"\n')
    assert main(["reproduce", str(bad)]) == 2
    assert "outcomes[0]" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ output paths


def _snapshot(folder) -> dict:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in folder.rglob("*")}


@pytest.mark.parametrize("command", ["summary", "analyze", "report", "reproduce"])
def test_out_that_is_an_existing_file_exits_2_before_any_work(command, small_trial_dir, tmp_path, capsys) -> None:
    target = tmp_path / "taken"
    target.write_text("not a folder\n")
    before = _snapshot(tmp_path)
    subject = "abbasi2012" if command == "reproduce" else str(small_trial_dir)
    assert main([command, subject, "--out", str(target)]) == 2
    captured = capsys.readouterr()
    assert f"error: --out {str(target)!r} exists and is not a folder" in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""  # refused before loading or analysing anything
    assert _snapshot(tmp_path) == before  # nothing written, the file untouched


@pytest.mark.parametrize("command", ["summary", "analyze", "reproduce"])
def test_out_under_a_file_or_with_a_folder_in_place_of_an_output_exits_2(
    command, small_trial_dir, tmp_path, capsys
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x\n")
    subject = "abbasi2012" if command == "reproduce" else str(small_trial_dir)
    assert main([command, subject, "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert str(blocker / "sub") in err and f"{str(blocker)!r} is a file, not a folder" in err
    folder = tmp_path / "out"
    (folder / ("reproduction.csv" if command == "reproduce" else "counts.csv")).mkdir(parents=True)
    before = _snapshot(tmp_path)
    assert main([command, subject, "--out", str(folder)]) == 2
    captured = capsys.readouterr()
    assert str(folder) in captured.err and "holds a folder" in captured.err and captured.out == ""
    assert _snapshot(tmp_path) == before


def test_problems_path_that_cannot_be_a_file_exits_2_and_writes_nothing(tmp_path, capsys) -> None:
    spec = write_spec(tmp_path, base_spec(study={"alfa": 0.1}))  # bad input: problems would be written
    folder = tmp_path / "problems_dir"
    folder.mkdir()
    blocker = tmp_path / "blocker"
    blocker.write_text("x\n")
    before = _snapshot(tmp_path)
    assert main(["validate", str(spec), "--problems", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"error: --problems {str(folder)!r} is a folder" in err and "problems found" not in err
    assert main(["validate", str(spec), "--problems", str(blocker / "missing" / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert f"--problems {str(blocker / 'missing' / 'p.csv')!r} cannot be written" in err
    assert "Traceback" not in err and "problems found" not in err
    assert _snapshot(tmp_path) == before
    # a missing folder that can be made is made, as for --out
    target = tmp_path / "new" / "p.csv"
    assert main(["validate", str(spec), "--problems", str(target)]) == 2
    assert target.is_file()


# ------------------------------------------------------------------------------------------ calibrated data

CALIBRATED = "calibrated reconstruction (synthetic)"
BY_CONSTRUCTION = "by construction: the data were calibrated to the published p; "


def test_reproduce_on_calibrated_data_says_the_match_is_by_construction(tmp_path, capsys) -> None:
    out = tmp_path / "rep"
    assert main(["reproduce", "abbasi2012", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "the data are a calibrated synthetic reconstruction" in printed
    assert "no independent confirmation" in printed
    table = pd.read_csv(out / "reproduction.csv")
    assert set(table["verdict"]) == {"reproduced"}
    assert set(table["data"]) == {CALIBRATED}
    assert table["reason"].str.startswith(BY_CONSTRUCTION).all()
    assert "calibrated synthetic reconstruction" in (out / "reproduction.txt").read_text()


def test_reproduce_on_data_without_a_calibration_manifest_is_individual_data(tmp_path, capsys) -> None:
    from pathlib import Path

    spec = Path(__file__).parent / "reference" / "analyses" / "abbasi2012" / "study.toml"
    out = tmp_path / "rep"
    assert main(["reproduce", "abbasi2012", "--data", str(spec), "--out", str(out)]) == 0
    assert "calibrated synthetic reconstruction" not in capsys.readouterr().out
    table = pd.read_csv(out / "reproduction.csv")
    assert set(table["data"]) == {"individual data"}
    assert not table["reason"].str.startswith("by construction").any()


def test_report_published_section_marks_calibrated_data(tmp_path, capsys) -> None:
    from pathlib import Path

    spec = Path(__file__).parents[1] / "data" / "synthetic" / "abbasi2012" / "study.toml"
    out = tmp_path / "report"
    assert main(["report", str(spec), "--out", str(out), "--published", "abbasi2012", "--xlsx"]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="reproduction">') :]
    section = section[: section.index("</section>")]
    assert 'id="reproduction-calibrated"' in section and "by construction" in section
    # the data note is said once, in the caption, not on every row
    assert 'data-col="data"' not in section and section.count(CALIBRATED) == 1
    assert section.index(CALIBRATED) < section.index("<thead>")
    from openpyxl import load_workbook

    sheet = load_workbook(out / "results.xlsx")["reproduction"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert {r[header.index("data")] for r in rows} == {CALIBRATED}
    assert all(r[header.index("reason")].startswith(BY_CONSTRUCTION) for r in rows)


def test_baseline_p_values_only_when_the_spec_asks(tmp_path) -> None:
    write_frame(small_wide(), tmp_path / "trial.csv")
    plain, asked = tmp_path / "plain", tmp_path / "asked"
    # exit 1: the small trial's responder odds ratio has a zero cell (a listed failure)
    assert main(["analyze", str(write_spec(tmp_path, base_spec())), "--out", str(plain)]) == 1
    assert not (plain / "baseline_p.csv").exists()
    spec = write_spec(tmp_path, base_spec(analysis={"table1_p_values": True}), name="asked.toml")
    assert main(["analyze", str(spec), "--out", str(asked)]) == 1
    table = pd.read_csv(asked / "baseline_p.csv")
    assert table["variable"].tolist() == ["age", "sex", "isi", "sleep_time"]
    assert table["p_value"].between(0, 1).all()


def test_a_reader_that_stops_early_loses_no_file_and_sees_no_traceback(tmp_path: Path) -> None:
    spec = tk.datasets.study_spec("abbasi2012")
    script = Path(sys.executable).with_name("trialkit")
    done = subprocess.run(
        f"'{script}' analyze '{spec}' --out '{tmp_path / 'out'}' | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert done.stdout.startswith("Study abbasi2012: ") and done.stdout.count("\n") == 1
    assert done.stderr == ""  # no traceback, no "Exception ignored" at exit
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        n for n in tk.analysis.RESULT_FILES if n != "baseline_p.csv"
    )


def test_analyze_prints_the_primary_result_under_each_missing_data_assumption(tmp_path, capsys) -> None:
    assert main(["analyze", str(tk.datasets.study_spec("abbasi2012")), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    block = out.split("under each assumption about missing values")[1].split("\n\n")[0]
    lines = [line.split(",")[0].split(" (")[0] for line in block.strip().splitlines()[3:-1]]
    assert lines == ["ANCOVA", "MMRM", "Multiple imputation"] + ["Multiple imputation"] * 2 + ["Tipping point"]
    assert (tmp_path / "tipping_point.csv").exists() and (tmp_path / "missing_pattern.csv").exists()


def test_no_command_prints_the_help_and_exits_0(capsys) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: trialkit")
    for command in ("validate", "summary", "analyze", "report", "reproduce", "simulate"):
        assert command in out


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version_flag(flag: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main([flag])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"trialkit {tk.__version__}"


def test_every_option_has_help() -> None:
    from trialkit.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            if not isinstance(action, argparse._HelpAction):
                assert action.help, f"{name} {action.dest}"
