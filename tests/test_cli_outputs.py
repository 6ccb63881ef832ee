"""Nothing lost: no output of a run is one of its inputs, output sets are whole, faults end in one line."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from conftest import base_spec, small_wide, write_frame, write_spec

import trialkit as tk
import trialkit._export as export
from trialkit._export import INCOMPLETE_MARKER
from trialkit.cli import main

DESIGN = Path(__file__).parents[1] / "docs" / "examples" / "sleep-diary-design.toml"


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in folder.rglob("*")}


def _refused(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], *said: str) -> str:
    """Run ``argv``; check it is refused before any work, nothing changed, the message says ``said``."""
    before = _snapshot(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err
    for words in said:
        assert words in captured.err, captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert _snapshot(tmp_path) == before
    return captured.err


# --- no output path may be an input of the run ------------------------------------------------------------


def test_validate_problems_onto_the_data_file_is_refused(small_trial_dir, tmp_path, capsys) -> None:
    data = tmp_path / "trial.csv"
    _refused(
        ["validate", str(small_trial_dir), "--problems", str(data)],
        tmp_path,
        capsys,
        f"--problems {str(data)!r} is a data file of the study spec {str(data)!r}",
        "the run would replace one of its inputs",
    )


def test_problems_onto_the_spec_is_refused(small_trial_dir, tmp_path, capsys) -> None:
    for command in ("validate", "summary", "analyze", "report"):
        _refused(
            [command, str(small_trial_dir), "--problems", str(small_trial_dir)],
            tmp_path,
            capsys,
            f"is the study spec {str(small_trial_dir)!r}",
        )


def test_problems_onto_a_broken_spec_is_refused_all_the_same(tmp_path, capsys) -> None:
    spec = tmp_path / "study.toml"
    spec.write_text("[study\nid = \n")  # not TOML: no data files to protect, but the spec itself
    _refused(["validate", str(spec), "--problems", str(spec)], tmp_path, capsys, "is the study spec")


@pytest.mark.parametrize("how", ["named", "symbolic link", "hard link"])
def test_analyze_out_onto_an_input_named_results_csv_is_refused(how, tmp_path, capsys) -> None:
    spec_dict = base_spec()
    if how == "named":
        write_frame(small_wide(), tmp_path / "results.csv")
        spec_dict["data"]["path"] = "results.csv"
    else:
        write_frame(small_wide(), tmp_path / "trial.csv")
        link = os.symlink if how == "symbolic link" else os.link
        link(tmp_path / "trial.csv", tmp_path / "results.csv")
    spec = write_spec(tmp_path, spec_dict)
    _refused(
        ["analyze", str(spec), "--out", str(tmp_path), "--force"],
        tmp_path,
        capsys,
        f"--out {str(tmp_path / 'results.csv')!r} is a data file of the study spec",
        "" if how == "named" else f"({'the same file, through a symbolic link' if how != 'hard link' else 'the same'}",
    )


def test_summary_out_onto_a_data_file_named_counts_csv_is_refused(
    small_trial_dir, tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    os.link("trial.csv", "counts.csv")
    _refused(["summary", "study.toml", "--out", ".", "--force"], tmp_path, capsys, "--out 'counts.csv' is a data file")


def test_report_xlsx_onto_an_input_is_refused(small_trial_dir, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.xlsx").symlink_to(tmp_path / "trial.csv")
    argv = ["report", str(small_trial_dir), "--out", str(out), "--xlsx", "--force"]
    _refused(argv, tmp_path, capsys, f"--out {str(out / 'results.xlsx')!r} is a data file of the study spec")


def test_the_default_report_folder_onto_an_input_is_refused(small_trial_dir, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("reports/small").mkdir(parents=True)
    Path("reports/small/report.html").symlink_to(small_trial_dir)
    _refused(["report", "study.toml", "--force"], tmp_path, capsys, "the report folder 'reports/small/report.html' is")


def test_report_problems_onto_the_published_file_is_refused(small_trial_dir, tmp_path, capsys) -> None:
    published = tmp_path / "published.toml"
    shutil.copy(tk.datasets.published("abbasi2012"), published)
    argv = ["report", str(small_trial_dir), "--published", str(published), "--problems", str(published)]
    _refused(argv, tmp_path, capsys, f"is the published-results file {str(published)!r}")


def test_simulate_out_onto_the_design_file_is_refused(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(DESIGN, "study.toml")  # a design named like the spec simulate writes
    argv = ["simulate", "study.toml", "--seed", "1", "--out", ".", "--force"]
    _refused(argv, tmp_path, capsys, "--out 'study.toml' is the design file 'study.toml'")
    shutil.move("study.toml", "placebo.csv")  # or like one of the arm files
    argv = ["simulate", "placebo.csv", "--seed", "1", "--out", ".", "--force"]
    _refused(argv, tmp_path, capsys, "--out 'placebo.csv' is the design file 'placebo.csv'")


def test_problems_among_the_out_files_is_refused(small_trial_dir, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    argv = ["analyze", str(small_trial_dir), "--out", str(out), "--problems", str(out / "results.csv")]
    _refused(argv, tmp_path, capsys, "is also a file that --out gets", "the run would write one file twice")


# --- a stale --problems file is replaced --------------------------------------------------------------------


def test_a_stale_problem_table_is_replaced_by_this_runs(small_trial_dir, tmp_path, capsys) -> None:
    problems = tmp_path / "problems.csv"
    problems.write_text("rule,file,row,subject,column,value,message\nold,old,,,,,an earlier run's\n")
    assert main(["validate", str(small_trial_dir), "--problems", str(problems), "-q"]) == 0
    assert pd.read_csv(problems).empty
    problems.write_text("EARLIER-RUN\n")
    (tmp_path / "trial.csv").write_text("not,the,columns\n1,2,3\n")
    assert main(["validate", str(small_trial_dir), "--problems", str(problems), "-q"]) == 2
    assert "EARLIER-RUN" not in problems.read_text() and len(pd.read_csv(problems)) > 0


@pytest.mark.parametrize("fault", ["Ctrl-C", "disk full"])
def test_a_run_stopped_after_its_checks_leaves_no_stale_problem_table(
    fault, small_trial_dir, tmp_path, capsys, monkeypatch
) -> None:
    problems = tmp_path / "problems.csv"
    problems.write_text("stale\n")
    if fault == "Ctrl-C":
        monkeypatch.setattr("trialkit.cli._load", lambda spec: (_ for _ in ()).throw(KeyboardInterrupt()))
    else:
        monkeypatch.setattr(export, "_write_new", lambda *a: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    out = tmp_path / "out"
    code = main(["summary", str(small_trial_dir), "--out", str(out), "--problems", str(problems), "-q"])
    err = capsys.readouterr().err
    assert code == (130 if fault == "Ctrl-C" else 2)
    if fault == "disk full":
        assert err == f"error: cannot write the files into {str(out)!r}: the disk is full (ENOSPC); " + (
            "nothing was written (the folder is as it was); free some space or write elsewhere.\n"
        )
    assert not problems.exists() and not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(export.TEMPORARY_PREFIX)]


# --- paths that cannot be written ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "where", "said"),
    [
        ("--out", "/proc/trialkit-out", "is under /proc, a file system of the kernel"),
        ("--out", "/sys/trialkit-out", "is under /sys, a file system of the kernel"),
        ("--out", "/proc/self", "is under /proc, a file system of the kernel"),
        ("--problems", "/proc/self/problems.csv", "is under /proc"),
        ("--out", "LONG", "has a name of 300 bytes, longer than the 255 its file system allows"),
        ("--problems", "LONG.csv", "has a name of 304 bytes"),
    ],
)
def test_an_output_path_that_cannot_name_a_file_is_refused(
    option, where, said, small_trial_dir, tmp_path, capsys
) -> None:
    path = str(tmp_path / where.replace("LONG", "x" * 300)) if "LONG" in where else where
    _refused(["summary", str(small_trial_dir), option, path], tmp_path, capsys, f"{option} {path!r} {said}")


def test_a_study_id_too_long_for_a_folder_name_is_refused_without_a_traceback(tmp_path, capsys, monkeypatch) -> None:
    write_frame(small_wide(), tmp_path / "trial.csv")
    spec = write_spec(tmp_path, base_spec(study={"id": "s" * 300, "title": "Long id"}))
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(spec)]) == 2
    err = capsys.readouterr().err
    # the id names the report folder: the spec's limit on ids refuses it before any folder is made
    assert "Traceback" not in err and "[too_large]" in err and "ID_CHARS" in err
    assert not Path("reports").exists() or not any(Path("reports").iterdir())


# --- Ctrl-C and SIGTERM ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signum", "code", "said"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_a_signal_while_writing_ends_in_one_line_and_leaves_nothing(
    signum, code, said, small_trial_dir, tmp_path, capsys, monkeypatch
) -> None:
    real = export._write_new
    calls = []

    def write_new(path, data, mode):
        calls.append(path)
        if len(calls) == 2:
            signal.raise_signal(signum)  # a real signal, delivered to this process by the kernel
        real(path, data, mode)

    monkeypatch.setattr(export, "_write_new", write_new)
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    out = tmp_path / "out"
    assert main(["summary", str(small_trial_dir), "--out", str(out)]) == code
    captured = capsys.readouterr()
    assert captured.err == f"{said}\n" and captured.out == ""
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(export.TEMPORARY_PREFIX)]
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers


# --- a real process killed between two renames ---------------------------------------------------------------

_KILLED_SIMULATE = textwrap.dedent(
    """
    import os, signal, sys
    import trialkit._export as export
    from trialkit.cli import main
    real, calls = os.replace, []
    def replace(src, dst):
        real(src, dst)
        calls.append(dst)
        if len(calls) == 2:  # the marker and the first file are in place: SIGKILL, which nothing can catch
            os.kill(os.getpid(), signal.SIGKILL)
    export.os.replace = replace
    main(["simulate", sys.argv[1], "--seed", "2", "--out", sys.argv[2], "--force", "-q"])
    """
)


def test_simulate_killed_between_renames_leaves_a_set_that_says_it_is_incomplete(tmp_path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["simulate", str(DESIGN), "--seed", "1", "--out", str(out), "-q"]) == 0
    first = _snapshot(out)
    run = subprocess.run(
        [sys.executable, "-c", _KILLED_SIMULATE, str(DESIGN), str(out)], capture_output=True, timeout=120
    )
    assert run.returncode == -signal.SIGKILL, run.stderr
    now = {k: v for k, v in _snapshot(out).items() if not k.startswith(export.TEMPORARY_PREFIX)}
    marker = now.pop(INCOMPLETE_MARKER)
    assert marker is not None and b"simulate" in marker
    changed = sorted(k for k in first if now[k] != first[k])
    assert len(changed) == 1  # one file of the new run among the old ones: a mix ...
    assert changed[0].encode() in marker  # ... that the marker names
    # a later run notices: without --force it is refused, naming the marker; load refuses the data
    assert main(["simulate", str(DESIGN), "--seed", "2", "--out", str(out), "-q"]) == 2
    assert f"(holding an incomplete set of files: see {INCOMPLETE_MARKER} there)" in capsys.readouterr().err
    assert main(["summary", str(out / "study.toml"), "-q"]) == 2
    assert f"{INCOMPLETE_MARKER}" in capsys.readouterr().err
    assert main(["summary", str(out / "study.toml"), "--out", str(tmp_path / "s"), "--force", "-q"]) == 2
    # running the same command again with --force writes the whole set and removes the marker
    assert main(["simulate", str(DESIGN), "--seed", "2", "--out", str(out), "--force", "-q"]) == 0
    assert INCOMPLETE_MARKER not in _snapshot(out)
    assert tk.load(out / "study.toml").manifest.seed == 2


def test_a_full_disk_while_writing_the_problem_table_is_one_more_line(
    small_trial_dir, tmp_path, capsys, monkeypatch
) -> None:
    (tmp_path / "trial.csv").write_text("not,the,columns\n1,2,3\n")
    real = export.os.fdopen

    def fdopen(fd, *args, **kwargs):
        os.close(fd)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export.os, "fdopen", fdopen)
    problems = tmp_path / "problems.csv"
    assert main(["validate", str(small_trial_dir), "--problems", str(problems)]) == 2
    monkeypatch.setattr(export.os, "fdopen", real)
    err = capsys.readouterr().err
    assert "problems found" in err and "Traceback" not in err
    assert err.endswith(
        f"error: cannot write the files into {str(tmp_path)!r}: the disk is full (ENOSPC); "
        "nothing was written (the folder is as it was); free some space or write elsewhere.\n"
    )
    assert not problems.exists()


_CTRL_C_IN_IMPORT = textwrap.dedent(
    """
    import sys
    class CtrlC:  # Ctrl-C just as pandas starts to load (the slowest part of starting a run)
        def find_spec(self, name, path=None, target=None):
            if name == "pandas":
                raise KeyboardInterrupt
    sys.meta_path.insert(0, CtrlC())
    from trialkit.cli import main
    sys.exit(main(["validate", sys.argv[1]]))
    """
)


def test_ctrl_c_while_the_libraries_load_is_one_line(small_trial_dir) -> None:
    run = subprocess.run(
        [sys.executable, "-c", _CTRL_C_IN_IMPORT, str(small_trial_dir)], capture_output=True, text=True, timeout=60
    )
    assert (run.returncode, run.stderr, run.stdout) == (130, "interrupted\n", "")
