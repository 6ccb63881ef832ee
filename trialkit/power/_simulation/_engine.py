"""Run the tasks of a power simulation: in this process, on local processes, or on a Dask cluster.

Every backend runs the same pure function on the same tasks and returns the results in task
order, so what is computed from them does not depend on the backend or the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TypeVar

from trialkit._errors import TrialkitError

__all__ = ["Progress", "check_scheduler", "execute"]

_SCHEDULER_RULE = (
    "`scheduler` must be None, 'processes', 'serial' or a Dask scheduler address such as "
    "'tcp://127.0.0.1:8786'; got {!r}."
)


def check_scheduler(scheduler: object) -> None:
    """Refuse a ``scheduler`` that names no backend (before any work; the address is tried later)."""
    if scheduler in (None, "processes", "serial") or (isinstance(scheduler, str) and "://" in scheduler):
        return
    raise TrialkitError(_SCHEDULER_RULE.format(scheduler))


T = TypeVar("T")
R = TypeVar("R")

#: progress(done, total): called after each finished task
Progress = Callable[[int, int], None]


def _local_workers(workers: int | None) -> int:
    if workers is not None:
        return workers
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def _serial(function: Callable[[T], R], tasks: Sequence[T], progress: Progress | None) -> list[R]:
    out = []
    for done, task in enumerate(tasks, start=1):
        out.append(function(task))
        if progress is not None:
            progress(done, len(tasks))
    return out


def _processes(function: Callable[[T], R], tasks: Sequence[T], workers: int, progress: Progress | None) -> list[R]:
    # fork where the system has it: workers start in milliseconds with trialkit already imported, and
    # a user's script needs no `if __name__ == "__main__"` guard (spawn re-imports the main module)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    results: list[R | None] = [None] * len(tasks)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: dict[Future[R], int] = {}
        done = 0
        try:
            for i, task in enumerate(tasks):
                pending[pool.submit(function, task)] = i
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    results[pending.pop(future)] = future.result()
                    done += 1
                    if progress is not None:
                        progress(done, len(tasks))
        except BaseException:
            # Ctrl-C, SIGTERM or a failed task: the queued tasks never start, so the run ends once the
            # few running now are done (leaving the pool would otherwise run every task first). The
            # futures are cancelled here: the pool's own cancel_futures is lost when the pool object
            # is collected before its manager thread acts on it.
            for future in pending:
                future.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return [r for r in results if r is not None]


def execute(
    function: Callable[[T], R],
    tasks: Sequence[T],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[R]:
    """Return ``[function(task) for task in tasks]``, computed by the backend ``scheduler`` names.

    Parameters
    ----------
    function : callable
        A pure, picklable function of one task.
    tasks : sequence
        The tasks, picklable.
    scheduler : str, optional
        None or ``"processes"``: local processes (``workers`` of them, default one per usable
        core); ``"serial"``: this process; ``"tcp://HOST:PORT"`` (or another Dask address): the
        Dask distributed scheduler there.
    workers : int, optional
        Local processes to start; ignored by ``"serial"`` and Dask.
    progress : callable, optional
        ``progress(done, total)`` after each finished task.
    """
    if scheduler == "serial" or (scheduler in (None, "processes") and _local_workers(workers) == 1):
        return _serial(function, tasks, progress)
    if scheduler in (None, "processes"):
        return _processes(function, tasks, _local_workers(workers), progress)
    if isinstance(scheduler, str) and "://" in scheduler:
        from trialkit.power._simulation._dask import run_on_dask

        return run_on_dask(function, tasks, scheduler, progress)
    raise TrialkitError(_SCHEDULER_RULE.format(scheduler))
