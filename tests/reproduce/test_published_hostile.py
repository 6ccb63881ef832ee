"""Published-results files with numbers at the edge of the arithmetic: tiny p-values, p below a double, two subjects.

Each case edits a bundled file (Student 1908, a crossover with tables; Abbasi 2012, a parallel trial
without them) the way a user's file might hold it, and asserts either correct numbers or a message naming
the key, the file and the value (exit 2 from the command line).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import trialkit as tk
from trialkit.cli import main
from trialkit.reproduce import reproduce
from trialkit.reproduce.audit._implied import _LARGE_T, ncp_limit
from trialkit.reproduce.published import PValue, read_published

STUDENT = Path(tk.datasets.published("student1908"))
ABBASI = Path(tk.datasets.published("abbasi2012"))


def _edited(tmp_path: Path, source: Path, old: str, new: str, count: int = -1) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / f"edited_{source.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


@pytest.mark.parametrize("written", ["1e-120", "1e-300", "< 1e-300"])
def test_a_p_value_far_below_1e_100_is_audited(tmp_path, written) -> None:
    # before: "The function value at x=... is NaN; solver cannot continue" from the noncentral t
    path = _edited(tmp_path, STUDENT, 'p = "0.003"', f'p = "{written}"')
    rep = reproduce(path)
    row = rep.audit.table.iloc[0]
    t = stats.t.isf(float(written.strip("< ")) / 2, 9)
    assert row["statistic"] == pytest.approx(t, rel=1e-12)
    d = t / math.sqrt(10)
    assert row["d"] == pytest.approx(d, rel=1e-12)
    # the exact CI of d_z: the limit of the noncentral t for large t, d·√(χ²₉ quantile / 9)
    assert row["d_ci_low"] == pytest.approx(d * math.sqrt(stats.chi2.isf(0.975, 9) / 9), rel=1e-9)
    assert row["d_ci_high"] == pytest.approx(d * math.sqrt(stats.chi2.isf(0.025, 9) / 9), rel=1e-9)
    assert np.isfinite(rep.audit.outcomes[["p_holm", "p_bh"]].to_numpy(float)).all()
    assert rep.audit.outcomes["p_holm"].iloc[0] == pytest.approx(float(written.strip("< ")), rel=1e-12)


def test_the_noncentral_t_limit_joins_the_exact_inversion() -> None:
    for df in (9.0, 41.0, 400.0):
        for target in (0.025, 0.5, 0.975):
            below = ncp_limit(_LARGE_T * (1 - 1e-9), df, target)  # scipy's noncentral t
            at = ncp_limit(_LARGE_T, df, target)  # the limit
            assert at == pytest.approx(below, rel=1e-5), (df, target)
            assert ncp_limit(-_LARGE_T, df, target) == pytest.approx(-ncp_limit(_LARGE_T, df, 1 - target), rel=1e-12)


@pytest.mark.parametrize("written", ["1e-400", "< 1e-400", "1e-310", "p = 2.5e-320"])
def test_a_p_value_below_the_smallest_double_is_named_not_called_zero(tmp_path, written) -> None:
    # before: "a p-value cannot be exactly 0 (got '1e-400')" for a value that is not 0
    path = _edited(tmp_path, STUDENT, 'p = "0.003"', f'p = "{written}"', 1)
    with pytest.raises(tk.ValidationError) as caught:
        read_published(path)
    (problem,) = caught.value.problems
    assert problem.column == "outcomes[0].p" and problem.file == str(path)
    assert f"{written!r} is below the smallest p-value a double-precision number carries (2.2e-308)" in problem.message
    assert "exactly 0" not in problem.message and '"< 1e-300"' in problem.message


def test_a_p_value_of_exactly_zero_keeps_its_own_message() -> None:
    with pytest.raises(ValueError, match="cannot be exactly 0"):
        PValue.parse("0.000")
    assert PValue.parse("2.3e-308").value == 2.3e-308  # the smallest normal doubles are read as written


def test_the_command_line_names_file_key_and_value_with_exit_2(tmp_path, capsys) -> None:
    path = _edited(tmp_path, STUDENT, 'p = "0.003"', 'p = "1e-400"', 1)
    assert main(["reproduce", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "outcomes[0].p" in err and "'1e-400'" in err and "Traceback" not in err


@pytest.mark.parametrize("n", [1, 2])
def test_a_crossover_of_too_few_subjects_is_named(tmp_path, n) -> None:
    # before: "`df` must be a number > 0; got 0.0." (n = 1), "Hedges' correction needs df > 1" (n = 2)
    path = _edited(tmp_path, STUDENT, "analysed = 10", f"analysed = {n}")
    with pytest.raises(tk.TrialkitError) as caught:
        reproduce(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: `design.analysed` is {n}:")
    assert "needs at least 3 subjects" in message


def test_a_parallel_trial_of_two_subjects_is_named_on_the_command_line(tmp_path, capsys) -> None:
    path = _edited(tmp_path, ABBASI, "analysed = 43", "analysed = 2")
    assert main(["reproduce", str(path), "-q"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: `design.analysed` is 2:" in err and "magnesium 1, placebo 1" in err
    assert "Traceback" not in err


def test_a_published_arm_of_one_subject_is_named_by_its_key(tmp_path) -> None:
    path = _edited(tmp_path, ABBASI, 'n_analysed = "unavailable"', "n_analysed = 1", 1)
    path = _edited(tmp_path, path, 'n_analysed = "unavailable"', "n_analysed = 42", 1)
    with pytest.raises(tk.TrialkitError) as caught:
        reproduce(path)
    assert "`arms.magnesium.n_analysed` is 1" in str(caught.value) and str(path) in str(caught.value)
