"""The backends of a power simulation: one process, local processes and Dask give the same numbers.

Each task is seeded by its key (n, endpoint, chunk), so ``power.csv`` is byte-identical whatever
runs the tasks; these tests cut the replicates into many small chunks (``CHUNK_VALUES`` lowered)
so that the order in which tasks finish differs between backends.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import trialkit as tk
from trialkit.power._simulation import _tasks
from trialkit.power._simulation._dask import CONNECT_TIMEOUT, run_on_dask
from trialkit.power._simulation._engine import execute
from trialkit.power._simulation._tasks import Task

DESIGN = tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml"))


def _square(x: int) -> int:
    return x * x


def _fails_on_chunk_one(task: Task) -> int:
    if task.chunk == 1:
        raise ZeroDivisionError("boom")
    return task.chunk


def _tasks_of(n: int) -> list[Task]:
    return [Task(10, "isi", ("ancova",), chunk, 5) for chunk in range(n)]


def _free_port() -> int:
    """Return a local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut each cell into chunks of a few dozen replicates: many tasks per cell."""
    monkeypatch.setattr(_tasks, "CHUNK_VALUES", 2**12)


def _csv(**backend: object) -> bytes:
    sim = tk.power.simulate(DESIGN, [10, 16], trials=300, seed=7, endpoints=["isi", "renin"], **backend)
    return sim.to_csv()


def test_the_plan_has_several_chunks_per_cell(small_chunks: None) -> None:
    from trialkit.power._simulation._model import trial_model

    tasks = _tasks.plan(trial_model(DESIGN), (10, 16), (("isi", ("ancova",)),), 300)
    assert max(t.chunk for t in tasks) >= 3


def test_local_processes_give_the_bytes_of_one_process_whatever_the_number_of_workers(small_chunks: None) -> None:
    serial = _csv(scheduler="serial")
    assert _csv(workers=2) == serial
    assert _csv(workers=3) == serial
    assert _csv(scheduler="processes", workers=1) == serial


@pytest.mark.parametrize("backend", [{"scheduler": "serial"}, {"workers": 2}])
def test_results_come_back_in_task_order_and_progress_counts_every_task(backend: dict[str, object]) -> None:
    calls: list[tuple[int, int]] = []
    out = execute(_square, list(range(20)), progress=lambda done, total: calls.append((done, total)), **backend)
    assert out == [x * x for x in range(20)]
    assert calls == [(i, 20) for i in range(1, 21)]


def test_an_unknown_scheduler_is_refused() -> None:
    with pytest.raises(tk.TrialkitError, match="`scheduler` must be None, 'processes', 'serial' or a Dask"):
        execute(_square, [1], scheduler="threads")


def test_without_distributed_installed_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed raises ImportError
    with pytest.raises(tk.TrialkitError, match=r"pip install 'trialkit\[dask\]'"):
        run_on_dask(_square, [1], "tcp://127.0.0.1:8786", None)


@pytest.mark.parametrize(
    ("address", "reason"),
    [("tcp://", "missing port number"), ("foo://1.2.3.4:5", "unknown address scheme 'foo'"), ("tcp://h:x", "'x'")],
)
def test_an_address_no_scheduler_can_have_is_refused_at_once(address: str, reason: str) -> None:
    pytest.importorskip("distributed")
    start = time.monotonic()
    with pytest.raises(tk.TrialkitError, match=f"is not the address of a Dask scheduler .*{reason}"):
        run_on_dask(_square, [1], address, None)
    assert time.monotonic() - start < CONNECT_TIMEOUT


def test_an_unreachable_scheduler_is_named_within_seconds() -> None:
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{_free_port()}"
    start = time.monotonic()
    with pytest.raises(tk.TrialkitError, match=f"could not reach the Dask scheduler at {address}: .*waited 5 s"):
        run_on_dask(_square, [1, 2], address, None)
    # the client gives up after CONNECT_TIMEOUT seconds; the rest is a loaded machine's slack
    assert time.monotonic() - start < CONNECT_TIMEOUT + 10


@pytest.fixture(params=["silent", "banner"])
def not_a_scheduler(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """Serve 127.0.0.1 with something that is not a Dask scheduler: silence, or an SSH banner."""
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)  # kept open: a silent peer never answers, and never closes
            if request.param == "banner":
                conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}", request.param
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


def test_a_service_that_is_not_a_scheduler_is_named_within_seconds(not_a_scheduler: tuple[str, str]) -> None:
    # the handshake of a client could wait tens of seconds on a silent peer, and read an SSH banner as
    # a length of exabytes (a MemoryError): both are the scheduler not being reached
    pytest.importorskip("distributed")
    address, kind = not_a_scheduler
    reason = "no answer of a Dask scheduler" if kind == "silent" else "Unable to allocate"
    start = time.monotonic()
    with pytest.raises(tk.TrialkitError, match=f"could not reach the Dask scheduler at {address}: {reason}"):
        run_on_dask(_square, [1, 2], address, None)
    assert time.monotonic() - start < CONNECT_TIMEOUT + 10


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[str]:
    """Start a Dask scheduler and two worker threads in this process (the CLI tests start real processes)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0", silence_logs=True
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_dask_returns_results_in_task_order_with_progress(local_cluster: str) -> None:
    calls: list[tuple[int, int]] = []
    out = run_on_dask(_square, list(range(12)), local_cluster, lambda done, total: calls.append((done, total)))
    assert out == [x * x for x in range(12)]
    assert calls == [(i, 12) for i in range(1, 13)]


def test_a_failing_task_on_dask_is_named_by_its_key(local_cluster: str) -> None:
    with pytest.raises(
        tk.TrialkitError, match=r"task 2 of 3 \(n = 10, endpoint = 'isi', chunk = 1\) failed .*ZeroDivisionError: boom"
    ):
        run_on_dask(_fails_on_chunk_one, _tasks_of(3), local_cluster, None)


def test_dask_gives_the_bytes_of_one_process(local_cluster: str, small_chunks: None) -> None:
    assert _csv(scheduler=local_cluster) == _csv(scheduler="serial")


def test_an_interrupted_local_run_ends_without_running_the_queued_tasks(tmp_path: Path) -> None:
    # in a child process, whose interpreter joins the pool's workers when it exits: 40 tasks of 1 s
    # on 2 workers take 20 s when all run, a few seconds when the queued ones are cancelled
    script = tmp_path / "interrupted.py"
    script.write_text(
        "import time\n"
        "from trialkit.power._simulation._engine import execute\n"
        "def slow(x):\n"
        "    time.sleep(1)\n"
        "    return x\n"
        "def progress(done, total):\n"
        "    if done == 2:\n"
        "        raise KeyboardInterrupt\n"
        "if __name__ == '__main__':\n"
        "    try:\n"
        "        execute(slow, list(range(40)), workers=2, progress=progress)\n"
        "    except KeyboardInterrupt:\n"
        "        print('interrupted')\n",
        encoding="utf-8",
    )
    start = time.monotonic()
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout == "interrupted\n"
    assert time.monotonic() - start < 15  # starting Python and importing trialkit included
