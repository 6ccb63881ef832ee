"""The command line: exit codes, printed problems, files written whole or not at all."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from conftest import base_spec, small_wide, write_frame, write_spec
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
    done = subprocess.run([sys.executable, "-m", "trialkit.cli", "validate", str(small_trial_dir)],
                          capture_output=True, text=True, check=False)
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
    assert set(pd.read_csv(tmp_path / "o" / "reproduction.csv")["verdict"]) == {"not assessable"}


def test_reproduce_bad_inputs_exit_2(tmp_path, capsys) -> None:
    assert main(["reproduce", "abbasi2013"]) == 2
    assert "did you mean 'abbasi2012'" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('[trial]\nid = "x"\n[[outcomes]]\nid = "a"\np = "1.3"\n')
    assert main(["reproduce", str(bad)]) == 2
    assert "outcomes[0]" in capsys.readouterr().err
