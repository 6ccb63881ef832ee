"""``trialkit power``: simulation from a design (files, backends, bad input) and the formula mode.

The Dask tests start a real ``dask scheduler`` and two ``dask worker`` processes from the
virtualenv of this interpreter, importing this tree (PYTHONPATH), and compare ``power.csv`` with a
local run byte for byte.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import trialkit as tk
from trialkit._cli._power_options import PARAMETERS
from trialkit._provenance import sha256_bytes, sha256_file
from trialkit.cli import main

DESIGN = tk.datasets.study_spec("abbasi2012").with_name("design.toml")
#: small and quick: two sizes, two endpoints, a few hundred replicates
SMALL = ["--n", "10,16", "--trials", "300", "--seed", "3", "--endpoints", "isi,renin"]
FILES = ["MANIFEST.json", "power.csv", "power_curve.svg"]


def _power(*args: str | Path) -> int:
    return main(["power", *(str(a) for a in args)])


def _serial_csv() -> bytes:
    design = tk.read_design(DESIGN)
    sim = tk.power.simulate(design, [10, 16], trials=300, seed=3, endpoints=["isi", "renin"], scheduler="serial")
    return sim.to_csv()


# -- simulation ---------------------------------------------------------------------------------------


def test_a_simulation_writes_power_csv_the_figure_and_a_manifest(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert _power(DESIGN, *SMALL, "--workers", "2", "--out", out) == 0
    assert sorted(p.name for p in out.iterdir()) == FILES
    assert (out / "power.csv").read_bytes() == _serial_csv()
    assert (out / "power_curve.svg").read_text(encoding="utf-8").startswith("<svg")
    manifest = json.loads((out / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["generator"] == "trialkit.power"
    assert manifest["design"] == {"path": DESIGN.as_posix(), "sha256": sha256_file(DESIGN)}
    assert (manifest["seed"], manifest["trials"], manifest["n_per_arm"]) == (3, 300, [10, 16])
    assert (manifest["endpoints"], manifest["analyses"], manifest["alpha"]) == (["isi", "renin"], ["ancova"], 0.05)
    assert manifest["files"] == {name: sha256_bytes((out / name).read_bytes()) for name in FILES[1:]}
    assert manifest["command"].startswith("trialkit power ") and "--n 10,16" in manifest["command"]
    assert set(manifest["versions"]) >= {"python", "trialkit", "numpy"}
    printed = capsys.readouterr()
    assert printed.err == ""  # no display: stderr is not a terminal
    table = printed.out
    # labels, not ids: the endpoint's and the analysis's words, then one power per size
    labels = {"Insomnia Severity Index": "isi", "Serum renin": "renin"}
    rows = {
        labels[label]: line.split()[-2:]
        for line in table.splitlines()
        for label in labels
        if line.startswith(label + " ") and "ANCOVA on baseline" in line
    }
    assert sorted(rows) == ["isi", "renin"]
    assert "isi " not in table
    power = tk.power.simulate(
        tk.read_design(DESIGN), [10, 16], trials=300, seed=3, endpoints=["isi", "renin"], scheduler="serial"
    ).table
    for endpoint, cells in rows.items():
        expected = power.loc[power["endpoint"] == endpoint, "power"]
        assert cells == [f"{p:.3f}" for p in expected]
    assert "n = 10" in table and "n = 16" in table and f"wrote {out / 'power.csv'}" in table


def test_the_number_of_local_workers_does_not_change_a_byte(tmp_path: Path) -> None:
    for workers in ("1", "2", "3"):
        assert _power(DESIGN, *SMALL, "--workers", workers, "--out", tmp_path / workers, "-q") == 0
    csvs = {(tmp_path / w / "power.csv").read_bytes() for w in ("1", "2", "3")}
    assert csvs == {_serial_csv()}


def test_the_same_command_twice_gives_the_same_files(tmp_path: Path) -> None:
    for run in ("a", "b"):
        assert _power(DESIGN, *SMALL, "--out", tmp_path / run, "-q") == 0
    for name in FILES[1:]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    first, second = (json.loads((tmp_path / run / "MANIFEST.json").read_text(encoding="utf-8")) for run in "ab")
    assert first.pop("command").replace(str(tmp_path / "a"), "") == second.pop("command").replace(
        str(tmp_path / "b"), ""
    )
    assert first == second


def test_the_progress_bar_counts_tasks_on_a_terminal_without_a_thread_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    from rich.live import _RefreshThread

    simulate = tk.power.simulate
    threads: list[bool] = []

    def counting(*args, progress, **kwargs):
        def observed(done: int, total: int) -> None:
            threads.append(any(isinstance(t, _RefreshThread) for t in threading.enumerate()))
            if progress is not None:  # None with --quiet
                progress(done, total)

        return simulate(*args, progress=observed, **kwargs)

    monkeypatch.setattr(tk.power, "simulate", counting)
    assert _power(DESIGN, *SMALL, "--workers", "2", "--out", tmp_path / "out", "-q") == 0
    assert stderr.getvalue() == ""  # --quiet: no display
    assert _power(DESIGN, *SMALL, "--workers", "2", "--out", tmp_path / "out2") == 0
    shown = stderr.getvalue()
    total = len(threads) // 2
    assert f"{total}/{total}" in shown and "Simulating" in shown
    assert not any(threads)  # no thread of Rich's ran while the worker processes were forked


def test_a_design_with_problems_exits_2_and_lists_them(tmp_path: Path, capsys) -> None:
    design = tmp_path / "design.toml"
    design.write_text(DESIGN.read_text(encoding="utf-8").replace("[study]", "[study]\nbogus_key = 1", 1))
    assert _power(design, *SMALL, "--out", tmp_path / "out") == 2
    assert "bogus_key" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n", "1,10"], "--n must be a comma-separated list of integers >= 2 (subjects per arm); got '1,10' ('1')"),
        (["--n", "10,x"], "got '10,x' ('x')"),
        (["--n", "10", "--trials", "0"], "--trials must be an integer >= 1; got '0'"),
        (["--n", "10", "--seed", "-1"], "--seed must be an integer >= 0; got '-1'"),
        (["--n", "10", "--workers", "0"], "--workers must be an integer >= 1; got '0'"),
        (["--n", "10", "--alpha", "x"], "--alpha must be a finite number; got 'x'"),
        (["--n", "10", "--analyses", "foo"], "`analyses` names 'foo', which is not an analysis"),
        (["--n", "10", "--endpoints", "isi,nope"], "`endpoints` names ['nope'], not endpoints of the design"),
        (["--n", "10", "--dask", "localhost:8786"], "--dask must be the address of a Dask scheduler"),
        (["--n", "10", "--dask", "tcp://h:1", "--workers", "2"], "--workers counts local processes"),
        (["--n", "10", "--test", "t", "--sd", "2"], "--test, --sd belong to the formula mode"),
        (["--trials", "10"], "--n is required with a DESIGN"),
    ],
)
def test_bad_simulation_arguments_exit_2_naming_the_value_and_write_nothing(
    args: list[str], message: str, tmp_path: Path, capsys
) -> None:
    assert _power(DESIGN, *args, "--out", tmp_path / "out") == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_every_bad_option_is_named_at_once(tmp_path: Path, capsys) -> None:
    assert _power(DESIGN, "--n", "1", "--trials", "0", "--seed", "x", "--out", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "--n must" in err and "--trials must" in err and "--seed must" in err


def test_an_analysis_with_no_endpoint_of_its_type_is_refused(tmp_path: Path, capsys) -> None:
    design = Path(__file__).resolve().parents[1] / "docs" / "examples" / "sleep-diary-design.toml"
    assert _power(design, "--n", "10", "--analyses", "ancova", "--out", tmp_path / "out") == 2
    assert "analysis 'ancova'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_simulation_needs_out(capsys) -> None:
    assert _power(DESIGN, "--n", "10") == 2
    assert "--out is required with a DESIGN" in capsys.readouterr().err


def test_an_output_that_is_the_design_file_is_refused(tmp_path: Path, capsys) -> None:
    design = tmp_path / "MANIFEST.json"
    shutil.copyfile(DESIGN, design)
    assert _power(design, *SMALL, "--out", tmp_path, "--force") == 2
    assert "is the design file" in capsys.readouterr().err
    assert design.read_bytes() == DESIGN.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["MANIFEST.json"]


def test_a_folder_that_is_not_empty_needs_force(tmp_path: Path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert _power(DESIGN, *SMALL, "--out", tmp_path) == 2
    assert "pass --force" in capsys.readouterr().err
    assert _power(DESIGN, *SMALL, "--out", tmp_path, "--force", "-q") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*FILES, "notes.txt"])


def test_a_folder_whose_manifest_records_other_files_is_refused_even_with_force(tmp_path: Path, capsys) -> None:
    # generated data: their MANIFEST.json vouches for them, and --force must not replace it
    assert main(["simulate", str(DESIGN), "--seed", "1", "--out", str(tmp_path), "-q"]) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    capsys.readouterr()
    assert _power(DESIGN, *SMALL, "--out", tmp_path, "--force") == 2
    err = capsys.readouterr().err
    assert "MANIFEST.json' records other files (magnesium.csv, placebo.csv, study.toml)" in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    # an earlier power run's folder is rewritten
    out = tmp_path / "power"
    assert _power(DESIGN, *SMALL, "--out", out, "-q") == 0
    assert _power(DESIGN, *SMALL, "--out", out, "--force", "-q") == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_an_unreachable_dask_scheduler_exits_2_within_seconds_and_writes_nothing(tmp_path: Path, capsys) -> None:
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{_free_port()}"
    start = time.monotonic()
    assert _power(DESIGN, *SMALL, "--dask", address, "--out", tmp_path / "out") == 2
    assert time.monotonic() - start < 15
    assert f"could not reach the Dask scheduler at {address}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# -- a real Dask cluster: a scheduler and two workers, each its own process ---------------------------------


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End a process this module started, and the processes it started (its own session)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``dask scheduler`` and two ``dask worker`` processes on this machine; yield the address."""
    distributed = pytest.importorskip("distributed")
    dask = Path(sys.executable).with_name("dask")
    if not dask.exists():
        pytest.skip(f"no dask command beside {sys.executable}")
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    tree = str(Path(tk.__file__).resolve().parents[1])  # the workers import this tree's trialkit
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [tree, os.environ.get("PYTHONPATH")]))}
    started: list[subprocess.Popen[bytes]] = []

    def start(logs: contextlib.ExitStack, *args: str) -> None:
        log = logs.enter_context(open(folder / f"{len(started)}.log", "wb"))
        started.append(subprocess.Popen([str(dask), *args], stdout=log, stderr=log, env=env, start_new_session=True))

    def scheduler_address() -> str | None:
        try:  # the file may be half written
            return str(json.loads(scheduler_file.read_text(encoding="utf-8"))["address"])
        except (OSError, ValueError, KeyError):
            return None

    with contextlib.ExitStack() as logs:
        try:
            start(
                logs,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--scheduler-file",
                str(scheduler_file),
                "--no-dashboard",
            )
            deadline = time.monotonic() + 60
            while (address := scheduler_address()) is None:
                if time.monotonic() > deadline or started[0].poll() is not None:
                    pytest.fail(f"the Dask scheduler did not start: {(folder / '0.log').read_text()}")
                time.sleep(0.2)
            for _ in range(2):
                start(logs, "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard")
            with distributed.Client(address, timeout=30, set_as_default=False) as client:
                client.wait_for_workers(2, timeout=90)
                # the bundled study of the workers' trialkit: in this tree, not in the installed package
                imported = client.run(tk.datasets.study_spec, "abbasi2012")
            assert set(imported.values()) == {tk.datasets.study_spec("abbasi2012")}, imported
            yield address
        finally:
            for process in reversed(started):
                _stop(process)


def test_a_dask_cluster_gives_the_bytes_of_a_local_run(dask_cluster: str, tmp_path: Path) -> None:
    assert _power(DESIGN, *SMALL, "--out", tmp_path / "local", "-q") == 0
    assert _power(DESIGN, *SMALL, "--dask", dask_cluster, "--out", tmp_path / "dask", "-q") == 0
    assert (tmp_path / "dask" / "power.csv").read_bytes() == (tmp_path / "local" / "power.csv").read_bytes()
    manifest = json.loads((tmp_path / "dask" / "MANIFEST.json").read_text(encoding="utf-8"))
    assert f"--dask {dask_cluster}" in manifest["command"]


# -- formula mode -------------------------------------------------------------------------------------------


def _values(out: str) -> dict[str, str]:
    """Read the printed quantity/value table: the last word of each line is the value."""
    rows = {}
    for line in out.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) == 2:
            rows[cells[0]] = cells[1]
    return rows


def test_the_sample_size_is_that_of_tk_power(capsys) -> None:
    args = ["--test", "ancova", "--effect", "5", "--sd", "10", "--rho", "0.6", "--power", "0.8", "--dropout", "0.1"]
    assert _power(*args) == 0
    size = tk.power.sample_size("ancova", effect=5, sd=10, rho=0.6, power=0.8, dropout=0.1)
    rows = _values(capsys.readouterr().out)
    assert rows["total to enrol"] == str(size.total)
    assert rows["power achieved (analysed)"] == f"{size.power:.4f}"
    assert rows["n per arm to enrol (control first)"] == ", ".join(str(n) for n in size.n_per_arm)
    assert rows["n per arm analysed"] == ", ".join(str(n) for n in size.n_analysed)


def test_the_power_is_that_of_tk_power(capsys) -> None:
    assert _power("--test", "ancova", "--effect", "5", "--sd", "10", "--rho", "0.6", "--n", "30") == 0
    expected = tk.power.power("ancova", 30, effect=5, sd=10, rho=0.6)
    assert _values(capsys.readouterr().out)["power"] == f"{expected:.4f}"


def test_one_size_per_arm_and_the_tests_options(capsys) -> None:
    args = ["--test", "t", "--effect", "4", "--sd", "10", "--arms", "2", "--multiplicity", "dunnett"]
    assert _power(*args, "--n", "30,30,30", "--alpha", "0.05") == 0
    expected = tk.power.power("t", (30, 30, 30), effect=4, sd=10, arms=2, multiplicity="dunnett")
    assert _values(capsys.readouterr().out)["power"] == f"{expected:.4f}"


def test_the_detectable_effect_is_that_of_tk_power(capsys) -> None:
    assert _power("--test", "t", "--n", "64", "--power", "0.9", "--sd", "2", "--sided", "1") == 0
    expected = tk.power.effect("t", 64, power=0.9, sd=2, sided=1)
    assert _values(capsys.readouterr().out)["effect"] == f"{expected:.6g}"


def test_proportions_and_counts_take_their_own_options(capsys) -> None:
    assert _power("--test", "proportions", "--p-control", "0.3", "--odds-ratio", "2", "--n", "80", "--strict") == 0
    expected = tk.power.power("proportions", 80, p_control=0.3, odds_ratio=2, strict=True)
    assert _values(capsys.readouterr().out)["power"] == f"{expected:.4f}"
    args = ["--rate-control", "1.2", "--effect", "0.7", "--dispersion", "0.5", "--variance-method", "2"]
    assert _power("--test", "negative_binomial", *args, "--power", "0.9") == 0
    size = tk.power.sample_size(
        "negative_binomial", rate_control=1.2, effect=0.7, dispersion=0.5, variance_method=2, power=0.9
    )
    assert _values(capsys.readouterr().out)["total to enrol"] == str(size.total)


def test_every_parameter_of_every_test_has_an_option() -> None:
    assert set(PARAMETERS) == {name for family in tk.power.TESTS.values() for name in family.parameters}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--effect", "1", "--n", "10"], "--test is required without a DESIGN: one of t, ancova"),
        (["--test", "z", "--n", "10"], "--test must be one of t, ancova, proportions, negative_binomial; got 'z'"),
        (["--test", "t", "--effect", "1"], "give two of --n, --power and the effect"),
        (["--test", "t", "--effect", "1", "--n", "10", "--power", "0.8"], "got --n, --power, the effect"),
        (["--test", "t", "--effect", "1", "--n", "10", "--dropout", "0.1"], "--dropout applies to the sample size"),
        (["--test", "t", "--effect", "1", "--n", "10", "--rho", "0.5"], "--rho is not a parameter of --test t"),
        (["--test", "t", "--effect", "x", "--n", "10"], "--effect must be a finite number; got 'x'"),
        (["--test", "t", "--effect", "1", "--n", "1"], "--n must be a comma-separated list of integers >= 2"),
        (["--test", "t", "--effect", "1", "--n", "10", "--trials", "5"], "--trials belongs to a simulation"),
        (["--test", "t", "--effect", "0", "--n", "10"], "`effect` must be a number other than 0; got 0."),
        (["--test", "t", "--effect", "1", "--power", "1.5"], "`power` must be"),
        (["--test", "proportions", "--p-control", "0.3", "--effect", "0.1", "--n", "9", "--method", "x"], "`method`"),
    ],
)
def test_bad_formula_arguments_exit_2_with_the_message(args: list[str], message: str, capsys) -> None:
    assert _power(*args) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_the_formula_mode_writes_nothing_and_refuses_out(tmp_path: Path, capsys) -> None:
    assert _power("--test", "t", "--effect", "1", "--n", "10", "--out", tmp_path / "out") == 2
    assert "--out belongs to a simulation" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_help_lists_both_modes(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["power", "-h"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "simulation (with DESIGN)" in out and "--p-control" in out and "--dask ADDRESS" in out


def test_the_command_runs_as_a_console_script(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "trialkit.cli", "power", "--test", "t", "--effect", "0.5", "--power", "0.8"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "128" in done.stdout
