"""Every input path that is not a regular file is a clear problem at once: never a hang, a traceback or an OOM.

Each case injects the fault for real (a FIFO made with ``os.mkfifo``, a symbolic-link loop, a Unix
socket, ``/dev/zero``) and runs under a deadline, so that a regression fails instead of hanging the
suite; the device cases run in a child process with a memory limit, so that a regression that reads
``/dev/zero`` to the end fails there instead of exhausting the machine.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import base_spec, small_wide, write_frame, write_spec

import trialkit as tk
from trialkit._input import check_input, read_input
from trialkit._limits import MANIFEST_BYTES, TOML_BYTES, TOML_DEPTH
from trialkit._provenance import read_manifest
from trialkit._toml import nesting_depth, read_toml
from trialkit.reproduce.published import read_published

#: seconds any one case may take before it counts as a hang (each takes milliseconds)
DEADLINE = 10.0
ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def deadline(seconds: float = DEADLINE) -> Iterator[None]:
    """Fail the test with TimeoutError when the block runs longer than ``seconds`` (a blocking open included)."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"no answer within {seconds} s: the input gate let a hang through")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _problem(call: Callable[[], object]) -> tk.Problem:
    """Run ``call`` under the deadline; return the one problem of the ValidationError it must raise."""
    with deadline(), pytest.raises(tk.ValidationError) as caught:
        call()
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


# -- hostile paths, made for real -------------------------------------------------------------


def _fifo(folder: Path, name: str) -> Path:
    path = folder / name
    os.mkfifo(path)
    return path


def _folder(folder: Path, name: str) -> Path:
    path = folder / name
    path.mkdir()
    return path


def _loop(folder: Path, name: str) -> Path:
    path = folder / name
    os.symlink(path.name, path)  # a link to itself
    return path


def _socket(folder: Path, name: str) -> Path:
    path = folder / name
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()  # the socket file stays
    return path


def _nul(folder: Path, name: str) -> Path:
    return folder / f"st\x00{name}"


def _long_name(folder: Path, name: str) -> Path:
    return folder / ("x" * 300 + name)


def _absent(folder: Path, name: str) -> Path:
    return folder / "absent" / name


#: path maker -> (rule, words the message must hold)
HOSTILE: dict[str, tuple[Callable[[Path, str], Path], str, str]] = {
    "fifo": (_fifo, "not_a_file", "named pipe (FIFO)"),
    "folder": (_folder, "not_a_file", "is a folder"),
    "symlink loop": (_loop, "not_a_file", "loop of symbolic links"),
    "socket": (_socket, "not_a_file", "socket"),
    "NUL in the path": (_nul, "not_a_file", "NUL character"),
    "name over the OS limit": (_long_name, "not_a_file", "longer than this system allows"),
    "absent": (_absent, "file_not_found", "does not exist"),
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_the_gate_refuses_every_path_that_is_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    make, rule, words = HOSTILE[kind]
    path = make(tmp_path, "study.toml")
    with deadline():
        problem = check_input(path, "study spec")
    assert problem is not None and problem.rule == rule and words in problem.message, problem
    assert "\x00" not in problem.file  # a NUL is written as an escape


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_spec_path_is_one_problem_naming_it(tmp_path: Path, kind: str) -> None:
    make, rule, words = HOSTILE[kind]
    problem = _problem(lambda: tk.read_spec(make(tmp_path, "study.toml")))
    assert (problem.rule, "the study spec" in problem.message, words in problem.message) == (rule, True, True)


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_design_path_is_one_problem_naming_it(tmp_path: Path, kind: str) -> None:
    make, rule, words = HOSTILE[kind]
    problem = _problem(lambda: tk.read_design(make(tmp_path, "design.toml")))
    assert (problem.rule, "the design file" in problem.message, words in problem.message) == (rule, True, True)


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_published_results_path_is_one_problem_naming_it(tmp_path: Path, kind: str) -> None:
    make, rule, words = HOSTILE[kind]
    problem = _problem(lambda: read_published(make(tmp_path, "published.toml")))
    assert (problem.rule, "published-results file" in problem.message, words in problem.message) == (rule, True, True)


@pytest.mark.parametrize("kind", [k for k in HOSTILE if k != "NUL in the path"])
@pytest.mark.parametrize("layout", ["wide", "adam"])
def test_a_hostile_data_file_path_is_a_problem_of_the_load(tmp_path: Path, kind: str, layout: str) -> None:
    make, rule, words = HOSTILE[kind]
    spec = base_spec(data={"path": os.fspath(make(tmp_path, "trial.csv"))})
    if layout == "adam":  # ADaM looks for its arm column in the header first: the FIFO must not be opened there
        spec["data"] = {"format": "adam", "path": spec["data"]["path"], "subject": "USUBJID"}
        spec["arms"].pop("column")
        spec.pop("analysis")
    problem = next(p for p in _problems(lambda: tk.load(write_spec(tmp_path, spec))) if p.rule == rule)
    assert "the data file" in problem.message and words in problem.message


def test_a_nul_in_a_data_path_of_the_spec_is_a_control_character_of_data_path(tmp_path: Path) -> None:
    problems = _problems(lambda: tk.load(write_spec(tmp_path, base_spec(data={"path": "tri\x00al.csv"}))))
    assert [(p.rule, p.column) for p in problems] == [("control_character", "data.path")]


def _problems(call: Callable[[], object]) -> tuple[tk.Problem, ...]:
    with deadline(), pytest.raises(tk.ValidationError) as caught:
        call()
    return caught.value.problems


def test_a_file_swapped_for_a_fifo_after_the_check_is_caught_by_fstat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The open descriptor is judged: a stat that saw a regular file does not let a FIFO through."""
    import trialkit._input as gate

    regular = write_spec(tmp_path, base_spec())
    fifo = _fifo(tmp_path, "swapped.toml")
    real_stat = os.stat
    monkeypatch.setattr(gate.os, "stat", lambda p, *a, **k: real_stat(regular) if p == str(fifo) else real_stat(p))
    problem = _problem(lambda: read_toml(fifo, "study spec"))
    assert problem.rule == "not_a_file" and "named pipe (FIFO)" in problem.message


def test_permission_denied_at_the_open_is_unreadable_even_for_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fault is injected at the open, so that the case runs whoever runs the suite."""
    import errno

    import trialkit._input as gate

    path = write_spec(tmp_path, base_spec())

    def refuse(*args: Any, **kwargs: Any) -> int:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(gate.os, "open", refuse)
    problem = _problem(lambda: tk.read_spec(path))
    assert problem.rule == "unreadable_file" and problem.message == "the study spec cannot be read: permission denied."


def test_an_error_while_reading_is_unreadable_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import trialkit._input as gate

    path = write_spec(tmp_path, base_spec())

    def fail(*args: Any, **kwargs: Any) -> bytes:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(gate.os, "read", fail)
    problem = _problem(lambda: tk.read_design(path))
    assert problem.rule == "unreadable_file" and "Input/output error" in problem.message


# -- devices: in a child process with a memory limit, so that a regression cannot exhaust the machine


_DEVICE_CASES = textwrap.dedent(
    """
    import json, os, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (2_000_000_000, 2_000_000_000))
    sys.path.insert(0, sys.argv[2])
    from conftest import base_spec, write_spec
    from pathlib import Path
    import trialkit as tk
    from trialkit._provenance import read_manifest
    from trialkit.reproduce.published import read_published
    folder, out = Path(sys.argv[1]), {}
    def problems(call):
        try:
            call()
        except tk.ValidationError as exc:
            return [[p.rule.value, p.file, p.message] for p in exc.problems]
        except tk.TrialkitError as exc:
            return [["error", "", str(exc)]]
        return []
    for device in ("/dev/zero", "/dev/urandom"):
        (folder / "data.csv").unlink(missing_ok=True)
        os.symlink(device, folder / "data.csv")
        spec = base_spec(data={"path": "data.csv"})
        out[device] = {
            "spec": problems(lambda: tk.read_spec(device)),
            "design": problems(lambda: tk.read_design(device)),
            "published": problems(lambda: read_published(Path(device))),
            "data": problems(lambda: tk.load(write_spec(folder, spec))),
        }
        (folder / "MANIFEST.json").unlink(missing_ok=True)
        os.symlink(device, folder / "MANIFEST.json")
        out[device]["manifest"] = problems(lambda: read_manifest(folder))
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def device_answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[list[str]]]]:
    folder = tmp_path_factory.mktemp("devices")
    done = subprocess.run(
        [sys.executable, "-c", _DEVICE_CASES, str(folder), str(ROOT / "tests")],
        capture_output=True,
        text=True,
        timeout=60,  # a hang fails here instead of hanging the suite
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answers: dict[str, dict[str, list[list[str]]]] = json.loads(done.stdout)
    return answers


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize("role", ["spec", "design", "published", "data", "manifest"])
def test_a_device_is_never_read(device_answers: dict[str, Any], device: str, role: str) -> None:
    found = device_answers[device][role]
    assert found, f"{device} as the {role} was accepted"
    if role == "manifest":
        assert found == [["error", "", found[0][2]]] and "character device" in found[0][2]
    else:
        assert any(rule == "not_a_file" and "character device" in message for rule, _, message in found), found


# -- sizes and nesting of TOML inputs -----------------------------------------------------------


def test_a_spec_over_toml_bytes_is_too_large_and_one_at_the_limit_is_read(tmp_path: Path) -> None:
    text = write_spec(tmp_path, base_spec()).read_text(encoding="utf-8")
    padding = TOML_BYTES - len(text.encode()) - 3
    at_limit = tmp_path / "at.toml"
    at_limit.write_text(text + "#" + "x" * padding + "\n", encoding="utf-8")
    assert at_limit.stat().st_size == TOML_BYTES - 1
    at_limit.write_text(text + "#" + "x" * (padding + 1) + "\n", encoding="utf-8")
    assert at_limit.stat().st_size == TOML_BYTES
    with deadline():
        tk.read_spec(at_limit)
    over = tmp_path / "over.toml"
    over.write_text(text + "#" + "x" * (padding + 2) + "\n", encoding="utf-8")
    problem = _problem(lambda: tk.read_spec(over))
    assert (
        problem.rule == "too_large" and f"{TOML_BYTES:,} bytes" in problem.message and "TOML_BYTES" in problem.message
    )


def _deep_array(depth: int) -> str:
    return "deep = " + "[" * depth + "]" * depth + "\n"


@pytest.mark.parametrize("depth", [TOML_DEPTH + 1, 20_000])
@pytest.mark.parametrize("reader", ["spec", "design", "published"])
def test_a_deeply_nested_toml_input_is_too_large_not_a_recursion_error(tmp_path: Path, depth: int, reader: str) -> None:
    path = tmp_path / f"{reader}.toml"
    path.write_text(_deep_array(depth), encoding="utf-8")
    read = {"spec": tk.read_spec, "design": tk.read_design, "published": read_published}[reader]
    problem = _problem(lambda: read(path))
    assert problem.rule == "too_large" and f"more than {TOML_DEPTH} deep" in problem.message


def test_nesting_is_measured_on_tables_and_arrays_alike(tmp_path: Path) -> None:
    path = tmp_path / "nested.toml"
    path.write_text(_deep_array(TOML_DEPTH - 1), encoding="utf-8")  # the key's table adds none: depth 15 + 0
    assert nesting_depth(read_toml(path, "study spec")) == TOML_DEPTH - 1
    path.write_text("a = " + "{ b = " * TOML_DEPTH + "1" + " }" * TOML_DEPTH + "\n", encoding="utf-8")
    assert nesting_depth(read_toml(path, "study spec")) == TOML_DEPTH
    path.write_text("[" + ".".join(["t"] * (TOML_DEPTH + 1)) + "]\nx = 1\n", encoding="utf-8")
    problem = _problem(lambda: read_toml(path, "study spec"))
    assert problem.rule == "too_large"


def test_the_bundled_inputs_nest_well_inside_the_limit() -> None:
    specs = [tk.datasets.study_spec("abbasi2012"), tk.datasets.study_spec("abbasi2012").with_name("design.toml")]
    for path in [*specs, *(tk.datasets.published(n) for n in ("abbasi2012", "student1908"))]:
        assert nesting_depth(read_toml(path, "input")) <= TOML_DEPTH // 2, path


def test_read_input_reads_at_most_one_byte_over_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_bytes(b"x" * 100)
    assert read_input(path, "study spec", limit=100, limit_name="LIMIT") == b"x" * 100
    with pytest.raises(tk.ValidationError, match="larger than 99 bytes, the limit LIMIT"):
        read_input(path, "study spec", limit=99, limit_name="LIMIT")


# -- MANIFEST.json beside the data ---------------------------------------------------------------


def test_a_fifo_manifest_beside_the_spec_is_a_problem_of_the_load_not_a_hang(tmp_path: Path) -> None:
    write_frame(small_wide(), tmp_path / "trial.csv")
    spec = write_spec(tmp_path, base_spec())
    _fifo(tmp_path, "MANIFEST.json")
    problems = _problems(lambda: tk.load(spec))
    assert [p.rule for p in problems] == ["unreadable_file"]
    assert "MANIFEST.json" in problems[0].file and "named pipe (FIFO)" in problems[0].message


def test_a_manifest_over_its_limit_is_refused_unread(tmp_path: Path) -> None:
    (tmp_path / "MANIFEST.json").write_bytes(b" " * (MANIFEST_BYTES + 1))
    with deadline(), pytest.raises(tk.TrialkitError, match="MANIFEST_BYTES"):
        read_manifest(tmp_path)


def test_a_manifest_nested_deeper_than_json_can_parse_is_refused(tmp_path: Path) -> None:
    (tmp_path / "MANIFEST.json").write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    with deadline(), pytest.raises(tk.TrialkitError, match="nests arrays or objects too deep"):
        read_manifest(tmp_path)


def test_no_manifest_is_still_none(tmp_path: Path) -> None:
    assert read_manifest(tmp_path) is None


# -- the command line: a real process, exit 2 with the path named ---------------------------------


def test_the_cli_answers_a_fifo_spec_with_exit_2_in_a_real_process(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path, "study.toml")
    done = subprocess.run(
        [sys.executable, "-m", "trialkit.cli", "validate", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
    )
    assert done.returncode == 2, done.stderr
    assert "not_a_file" in done.stdout + done.stderr and "Traceback" not in done.stderr
