"""The stage names ``analyze`` and ``report`` hand to a progress callback (the command line's display)."""

from __future__ import annotations

import pandas as pd
import pytest

import trialkit as tk
from trialkit._cli._console import stages

BUNDLED = tk.datasets.study_spec("abbasi2012")


def test_analyze_names_each_stage_in_order_and_the_results_do_not_change() -> None:
    trial = tk.load(BUNDLED)
    seen: list[str] = []
    res = tk.analyze(trial, progress=seen.append)
    assert seen == ["Analyses per visit (ANCOVA)", "MMRM", "Multiple imputation", "Responder sweep", "Table 1"]
    pd.testing.assert_frame_equal(res.table, tk.analyze(trial).table)


def test_analyze_names_the_models_of_the_endpoint_types_and_skips_stages_that_do_not_run(small_trial_dir) -> None:
    seen: list[str] = []
    tk.analyze(tk.load(small_trial_dir), progress=seen.append, analyses=["ancova"], sweep=False)
    assert seen == ["Analyses per visit (ANCOVA)", "Table 1"]


def test_report_names_each_stage_in_order(small_trial_dir, tmp_path) -> None:
    trial = tk.load(small_trial_dir)
    res = tk.analyze(trial)
    seen: list[str] = []
    tk.report(trial, res, tmp_path, pdf=False, xlsx=True, progress=seen.append)
    assert seen == ["Checking counts", "Tables", "Figures", "Writing HTML", "Spreadsheet"]


@pytest.mark.parametrize("call", ["analyze", "report"])
def test_a_progress_that_is_not_a_function_is_refused(call, small_trial_dir, tmp_path) -> None:
    trial = tk.load(small_trial_dir)
    with pytest.raises(tk.TrialkitError, match="`progress` must be a function of a stage name; got 'MMRM'"):
        if call == "analyze":
            tk.analyze(trial, progress="MMRM")  # type: ignore[arg-type]
        else:
            tk.report(trial, tk.analyze(trial), tmp_path / "out", pdf=False, progress="MMRM")  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def test_the_display_is_off_when_stderr_is_not_a_terminal(capsys) -> None:
    with stages(show=True) as stage:
        stage("Loading and checking data")
    assert capsys.readouterr() == ("", "")
