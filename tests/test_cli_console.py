"""What the command line shows: nothing with --quiet, plain text in a pipe, progress only on a terminal."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import base_spec, small_wide, write_frame, write_spec

import trialkit as tk
from trialkit.cli import main

SCRIPT = Path(sys.executable).with_name("trialkit")
DESIGN = Path(__file__).parents[1] / "docs" / "examples" / "sleep-diary-design.toml"
BUNDLED = str(tk.datasets.study_spec("abbasi2012"))
#: the stages `trialkit analyze` shows for the bundled trial, in order
ANALYZE_STAGES = [
    "Loading and checking data",
    "Analyses per visit (ANCOVA)",
    "MMRM",
    "Multiple imputation",
    "Responder sweep",
    "Table 1",
    "Writing files",
]


def _command(command: str, spec: Path, out: Path) -> list[str]:
    if command == "validate":
        return ["validate", str(spec)]
    if command == "reproduce":
        return ["reproduce", "abbasi2012", "--out", str(out)]
    if command == "simulate":
        return ["simulate", str(DESIGN), "--seed", "1", "--out", str(out)]
    return [command, str(spec), "--out", str(out)]


@pytest.mark.parametrize(
    ("command", "flag"),
    [("validate", "-q"), ("summary", "--quiet"), ("analyze", "-q"), ("reproduce", "--quiet"), ("simulate", "-q")],
)
def test_quiet_prints_nothing_on_success(command, flag, small_trial_dir, tmp_path, capsys) -> None:
    spec = Path(BUNDLED) if command == "analyze" else small_trial_dir  # the small trial's analysis has a failure
    out = tmp_path / "out"
    assert main([*_command(command, spec, out), flag]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    if command != "validate":
        assert any(out.iterdir())  # the work is done all the same


def test_quiet_keeps_the_exit_code_of_a_failed_analysis(small_trial_dir, tmp_path, capsys) -> None:
    assert main(["analyze", str(small_trial_dir), "--out", str(tmp_path / "out"), "-q"]) == 1
    assert capsys.readouterr().out == ""


def test_quiet_still_reports_errors(tmp_path, capsys) -> None:
    wide = small_wide()
    wide.loc[1, "arm"] = "actve"
    write_frame(wide, tmp_path / "trial.csv")
    problems = tmp_path / "problems.csv"
    assert main(["validate", str(write_spec(tmp_path, base_spec())), "-q", "--problems", str(problems)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "1 problem found:" in captured.err and "[unknown_arm]" in captured.err
    assert f"1 problem written to {problems}" in captured.err
    assert main(["summary", str(tmp_path / "missing.toml"), "--quiet"]) == 2
    assert "the study spec does not exist" in capsys.readouterr().err


def test_every_command_has_quiet() -> None:
    for command in ("validate", "summary", "analyze", "report", "reproduce", "simulate"):
        with pytest.raises(SystemExit):
            main([command, "-h"])


def test_captured_output_has_no_progress_display(capsys) -> None:
    assert main(["analyze", BUNDLED]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "\x1b" not in captured.out and "Analyses per visit" not in captured.out


# ------------------------------------------------------------------------------------------ real processes


@pytest.mark.parametrize(
    ("command", "first"),
    [
        ("validate", f"{BUNDLED}: valid"),
        ("summary", "Study abbasi2012:"),
        ("reproduce", "Reproduction of abbasi2012"),
    ],
)
def test_a_pipe_into_head_ends_without_a_traceback(command, first, tmp_path) -> None:
    """As test_cli's test of ``analyze | head`` (which also checks the files written)."""
    subject = "abbasi2012" if command == "reproduce" else BUNDLED
    done = subprocess.run(
        f"'{SCRIPT}' {command} '{subject}' | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.startswith(first), done.stdout
    assert done.stdout.count("\n") == 1
    assert done.stderr == "", done.stderr


@pytest.mark.parametrize("command", ["validate", "summary", "analyze", "reproduce"])
def test_a_reader_gone_before_the_first_line_changes_neither_files_nor_exit_code(command, tmp_path) -> None:
    """The pipe is closed before the command prints: every write fails with EPIPE, and none shows."""
    out = tmp_path / "out"
    args = [str(SCRIPT), *_command(command, Path(BUNDLED), out)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait() == 0
    assert "Traceback" not in err and "BrokenPipeError" not in err and err == ""
    if command != "validate":
        assert any(out.iterdir())


def _read_terminal(fd: int, process: subprocess.Popen[bytes]) -> bytes:
    """Read what a process writes to the terminal ``fd`` until it ends."""
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the process closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    return b"".join(chunks)


def _on_a_terminal(args: list[str]) -> tuple[str, str, int]:
    """Run ``args`` with stderr on a pseudo-terminal and stdout into a pipe; return both texts and the exit code.

    The environment asks for colour and a 40-column page: a pipe must get neither.
    """
    import pty

    main_fd, terminal = pty.openpty()
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "40", "TTY_COMPATIBLE": "1"}
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=terminal, env=env)
    os.close(terminal)
    shown = _read_terminal(main_fd, process).decode()
    assert process.stdout is not None
    out = process.stdout.read().decode()
    code = process.wait()
    os.close(main_fd)
    return shown, out, code


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_progress_shows_the_stages_on_a_terminal_and_stdout_stays_plain(tmp_path) -> None:
    shown, out, code = _on_a_terminal([str(SCRIPT), "analyze", BUNDLED, "--out", str(tmp_path / "out")])
    assert code == 0
    positions = [shown.find(stage) for stage in ANALYZE_STAGES]
    assert -1 not in positions, shown
    assert positions == sorted(positions)
    assert shown.endswith("\x1b[2K")  # transient: the display is erased when the command ends
    # stdout: plain text, no escape codes, nothing cut or wrapped to the 40 columns asked for
    assert out.startswith("Study abbasi2012:") and "\x1b" not in out and "Analyses per visit" not in out
    lines = out.splitlines()
    assert max(len(line) for line in lines) > 100
    row = next(line for line in lines if line.startswith("Early-morning awakening "))
    assert "difference in LS means (min)" in row and row.endswith("21 vs 22")
    assert all(line == line.rstrip() for line in lines)


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_quiet_shows_no_progress_on_a_terminal() -> None:
    assert _on_a_terminal([str(SCRIPT), "validate", BUNDLED, "-q"]) == ("", "", 0)
