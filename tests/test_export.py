"""The one writer of outputs (trialkit._export.write_files): all or nothing, under injected faults."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import trialkit._export as export
from trialkit import TrialkitError
from trialkit._export import INCOMPLETE_MARKER, incomplete_files, incomplete_set_problems, write_files

OLD = {"a.csv": b"old a\n", "b.csv": b"old b\n", "c.json": b"old c\n"}
NEW = {"a.csv": b"new a\n", "b.csv": b"new b\n", "c.json": b"new c\n"}


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry under ``folder`` (hidden ones too), with the bytes of each file."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in folder.rglob("*")}


def _fail_on(monkeypatch: pytest.MonkeyPatch, name: str, exc: BaseException, *, after: int = 1) -> None:
    """Make ``os.<name>`` as the writer calls it raise ``exc`` from its ``after + 1``-th call on."""
    real = getattr(os, name)
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) > after:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(export.os, name, failing)


def _fail_writing(monkeypatch: pytest.MonkeyPatch, exc: BaseException, *, after: int = 1) -> None:
    """Make writing the ``after + 1``-th file raise ``exc``, for a new folder and for an existing one alike."""
    real_new, real_fdopen = export._write_new, export.os.fdopen
    count = []

    def write_new(path, data, mode):
        count.append(path)
        if len(count) > after:
            raise exc
        real_new(path, data, mode)

    def fdopen(fd, *args, **kwargs):
        count.append(fd)
        if len(count) > after:
            os.close(fd)
            raise exc
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(export, "_write_new", write_new)
    monkeypatch.setattr(export.os, "fdopen", fdopen)


def test_a_new_folder_appears_whole_with_the_usual_permissions(tmp_path) -> None:
    out = tmp_path / "made" / "out"
    paths = write_files(out, NEW)
    assert paths == [out / name for name in NEW]
    assert _snapshot(tmp_path) == {"made": None, "made/out": None, **{f"made/out/{k}": v for k, v in NEW.items()}}
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((out / "a.csv").stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~mask


@pytest.mark.parametrize(
    ("code", "said"),
    [
        (errno.ENOSPC, "the disk is full (ENOSPC)"),
        (errno.EDQUOT, "the disk quota is used up (EDQUOT)"),
        (errno.EROFS, "the file system is read-only (EROFS)"),
        (errno.EACCES, "permission denied (EACCES)"),
    ],
)
def test_a_write_error_into_a_new_folder_leaves_nothing(code, said, tmp_path, monkeypatch) -> None:
    _fail_writing(monkeypatch, OSError(code, os.strerror(code)))
    out = tmp_path / "made" / "out"
    with pytest.raises(TrialkitError) as caught:
        write_files(out, NEW)
    message = str(caught.value)
    assert message.startswith(f"cannot write the files into {str(out)!r}: {said}; nothing was written")
    assert _snapshot(tmp_path) == {}  # no folder, no parent made for it, no temporary folder


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EIO])
def test_a_write_error_into_an_existing_folder_keeps_the_old_set(code, tmp_path, monkeypatch) -> None:
    write_files(tmp_path / "out", OLD)
    (tmp_path / "out" / "mine.txt").write_text("mine\n")
    before = _snapshot(tmp_path)
    _fail_writing(monkeypatch, OSError(code, os.strerror(code)), after=2)
    with pytest.raises(TrialkitError, match=r"nothing was written \(the folder is as it was\)"):
        write_files(tmp_path / "out", NEW)
    assert _snapshot(tmp_path) == before


def test_ctrl_c_while_writing_leaves_nothing_and_goes_on(tmp_path, monkeypatch) -> None:
    write_files(tmp_path / "kept", OLD)
    before = _snapshot(tmp_path)
    _fail_writing(monkeypatch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        write_files(tmp_path / "new", NEW)
    with pytest.raises(KeyboardInterrupt):
        write_files(tmp_path / "kept", NEW)
    assert _snapshot(tmp_path) == before


def test_ctrl_c_during_the_renames_is_held_until_the_set_is_complete(tmp_path, monkeypatch) -> None:
    write_files(tmp_path / "out", OLD)
    real = os.replace
    seen_marker = []

    def replace(src, dst):
        seen_marker.append((tmp_path / "out" / INCOMPLETE_MARKER).exists())
        if Path(dst).name == "a.csv":
            signal.raise_signal(signal.SIGINT)  # Ctrl-C after the marker, before the first file is in place
        real(src, dst)

    monkeypatch.setattr(export.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        write_files(tmp_path / "out", NEW)
    assert _snapshot(tmp_path / "out") == NEW  # the whole new set, and no marker left
    assert seen_marker == [False, True, True, True]  # the marker was there during every rename of a file
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_failure_between_renames_leaves_the_set_marked(tmp_path, monkeypatch) -> None:
    write_files(tmp_path / "out", OLD)
    _fail_on(monkeypatch, "replace", OSError(errno.EIO, "Input/output error"), after=2)  # marker, a.csv
    with pytest.raises(
        TrialkitError, match=f"the folder now holds an incomplete set of files, listed in {INCOMPLETE_MARKER}"
    ):
        write_files(tmp_path / "out", NEW)
    monkeypatch.undo()
    files = _snapshot(tmp_path / "out")
    assert {k: v for k, v in files.items() if k != INCOMPLETE_MARKER} == {**OLD, "a.csv": b"new a\n"}
    assert incomplete_files(tmp_path / "out") == ("a.csv", "b.csv", "c.json")
    [problem] = incomplete_set_problems(tmp_path / "out")
    assert problem.rule == "unreadable_file" and problem.file == str(tmp_path / "out" / INCOMPLETE_MARKER)
    assert "incomplete set of files (a.csv, b.csv, c.json)" in problem.message
    # a set that would leave a listed file as it is does not clear the marker: refused
    with pytest.raises(TrialkitError, match=r"this run would not replace c\.json"):
        write_files(tmp_path / "out", {"a.csv": b"x\n", "b.csv": b"y\n"})
    # the whole set again: complete, marker gone
    write_files(tmp_path / "out", NEW)
    assert _snapshot(tmp_path / "out") == NEW
    assert incomplete_files(tmp_path / "out") is None and incomplete_set_problems(tmp_path / "out") == []


def test_one_file_into_an_existing_folder_is_one_rename_and_needs_no_marker(tmp_path, monkeypatch) -> None:
    (tmp_path / "problems.csv").write_text("stale\n")
    real = os.replace
    calls = []
    monkeypatch.setattr(export.os, "replace", lambda src, dst: (calls.append(Path(dst).name), real(src, dst)))
    write_files(tmp_path, {"problems.csv": b"rule\n"})
    assert calls == ["problems.csv"]
    assert _snapshot(tmp_path) == {"problems.csv": b"rule\n"}


def test_a_folder_reached_through_a_symbolic_link_keeps_the_link(tmp_path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    write_files(tmp_path / "link", NEW)
    assert (tmp_path / "link").is_symlink()
    assert _snapshot(tmp_path / "real") == NEW


@pytest.mark.parametrize("name", ["", "..", "sub/a.csv", INCOMPLETE_MARKER])
def test_names_that_are_not_plain_file_names_are_refused(name, tmp_path) -> None:
    with pytest.raises(TrialkitError, match="give a plain file name"):
        write_files(tmp_path / "out", {name: b"x"})
    assert not (tmp_path / "out").exists()


#: a child process that writes the new set and is killed (SIGKILL: nothing can clean up) at ``KILL``
_KILLED = textwrap.dedent(
    """
    import os, signal, sys
    import trialkit._export as export
    folder, where = sys.argv[1], sys.argv[2]
    real = getattr(os, where)
    calls = []
    def killing(*args):
        calls.append(args)
        if where == "rename":  # before the folder is renamed into place
            os.kill(os.getpid(), signal.SIGKILL)
        real(*args)
        if len(calls) == 2:  # after the marker and the first file
            os.kill(os.getpid(), signal.SIGKILL)
    setattr(export.os, where, killing)
    export.write_files(folder, {"a.csv": b"new a\\n", "b.csv": b"new b\\n", "c.json": b"new c\\n"})
    """
)


def _killed(folder: Path, where: str) -> None:
    run = subprocess.run([sys.executable, "-c", _KILLED, str(folder), where], capture_output=True, timeout=60)
    assert run.returncode == -signal.SIGKILL, run.stderr


def test_a_process_killed_between_renames_leaves_the_set_marked(tmp_path) -> None:
    write_files(tmp_path / "out", OLD)
    _killed(tmp_path / "out", "replace")
    files = {k: v for k, v in _snapshot(tmp_path / "out").items() if not k.startswith(".trialkit-")}
    assert files.pop(INCOMPLETE_MARKER) is not None
    assert files == {**OLD, "a.csv": b"new a\n"}  # a mix of two runs ...
    assert incomplete_files(tmp_path / "out") == ("a.csv", "b.csv", "c.json")  # ... that says so
    assert "Command: " in (tmp_path / "out" / INCOMPLETE_MARKER).read_text()


def test_a_process_killed_before_the_folder_is_renamed_leaves_no_folder(tmp_path) -> None:
    _killed(tmp_path / "out", "rename")
    assert not (tmp_path / "out").exists()  # only a hidden temporary folder beside it
    assert [p.name.startswith(export.TEMPORARY_PREFIX) for p in tmp_path.iterdir()] == [True]


def test_one_file_beside_a_marked_set_is_written_and_the_marker_stays(tmp_path, monkeypatch) -> None:
    write_files(tmp_path / "out", OLD)
    _fail_on(monkeypatch, "replace", OSError(errno.EIO, "Input/output error"), after=2)
    with pytest.raises(TrialkitError):
        write_files(tmp_path / "out", NEW)
    monkeypatch.undo()
    write_files(tmp_path / "out", {"problems.csv": b"rule\n"})  # not one of the set: left as it is
    assert (tmp_path / "out" / "problems.csv").read_bytes() == b"rule\n"
    assert incomplete_files(tmp_path / "out") == ("a.csv", "b.csv", "c.json")


def test_simulation_to_files_never_writes_over_its_design_file(tmp_path) -> None:
    import shutil

    import trialkit as tk

    design = tmp_path / "study.toml"  # the design, named like the spec that simulate writes
    shutil.copy(Path(__file__).parents[1] / "docs" / "examples" / "sleep-diary-design.toml", design)
    before = _snapshot(tmp_path)
    sim = tk.simulate(tk.read_design(design), seed=1)
    with pytest.raises(TrialkitError, match=f"{str(design)!r} is the design file"):
        sim.to_files(tmp_path, design_path=design)
    os.link(design, tmp_path / "linked.toml")
    with pytest.raises(TrialkitError, match="is the design file"):
        sim.to_files(tmp_path, design_path=tmp_path / "linked.toml")
    (tmp_path / "linked.toml").unlink()
    assert _snapshot(tmp_path) == before


def test_a_file_of_an_earlier_set_that_this_set_lacks_is_removed_with_the_set(tmp_path) -> None:
    write_files(tmp_path, {"a.csv": b"1\n", "optional.csv": b"old\n", "mine.txt": b"kept\n"})
    written = write_files(tmp_path, {"a.csv": b"2\n"}, removes=["optional.csv", "absent.csv", "a.csv"])
    assert written == [tmp_path / "a.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "mine.txt"]  # other files are the user's
    assert (tmp_path / "a.csv").read_bytes() == b"2\n"


def test_analyze_into_an_earlier_set_removes_the_optional_tables_this_run_does_not_write(small_trial_dir) -> None:
    import trialkit as tk

    out = small_trial_dir.parent / "out"
    res = tk.analyze(tk.load(small_trial_dir))
    assert res.tipping_point.empty  # no tipping-point analysis in this spec
    out.mkdir()
    (out / "tipping_point.csv").write_text("from an earlier run\n")
    res.to_files(out)
    assert not (out / "tipping_point.csv").exists()
    assert not (out / INCOMPLETE_MARKER).exists()
