"""Run the tasks of a power simulation on a Dask distributed cluster (``scheduler="tcp://HOST:PORT"``).

The scheduler and its workers are the user's (``dask scheduler``, ``dask worker ADDRESS``); the
workers must be able to import the same trialkit. Every task is submitted at once under a key of
its own (``pure=False``), progress is reported as tasks finish, and the results come back in task
order: a task's random numbers depend on its key (n, endpoint, chunk) alone, so the result is the
one a local run gives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from trialkit._errors import TrialkitError

__all__ = ["CONNECT_TIMEOUT", "run_on_dask"]

#: seconds to wait for the scheduler before saying it cannot be reached
CONNECT_TIMEOUT = 5


def _distributed() -> Any:
    """Import ``distributed`` (the optional extra ``dask``), or say how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise TrialkitError(
            "running a power simulation on a Dask cluster needs the package `distributed`, which is not "
            f"installed ({exc}); install it with: pip install 'trialkit[dask]'."
        ) from None
    return distributed


def _describe(task: object) -> str:
    """Name a task by its size, endpoint and chunk (the key of its seed), or by its repr."""
    fields = ("n", "endpoint", "chunk")
    if all(hasattr(task, name) for name in fields):
        return ", ".join(f"{name} = {getattr(task, name)!r}" for name in fields)
    return repr(task)


def _check_address(distributed: Any, address: str) -> None:
    """Refuse an address no scheduler can have (an unknown scheme, no port) before a client is made.

    A client made on such an address fails in its constructor and then hangs for seconds at exit,
    closing itself; an in-process scheduler's ``inproc://`` address has no port and is let through.
    """
    if address.startswith("inproc://"):
        return
    try:
        distributed.comm.get_address_host_port(address)
    except ValueError as exc:
        raise TrialkitError(
            f"{address!r} is not the address of a Dask scheduler ({exc}); give one such as tcp://127.0.0.1:8786."
        ) from None


def _probe(distributed: Any, address: str) -> str | None:
    """Return why ``address`` is not a Dask scheduler answering within ``CONNECT_TIMEOUT`` s, or None if it is.

    ``Client(timeout=...)`` bounds the TCP connection but not what follows: a service that accepts
    the connection and is not a scheduler (a web server, the dashboard's port, an SSH banner) can
    keep its handshake waiting for tens of seconds, or send bytes the protocol reads as a length of
    exabytes, and a client that failed half-made waits again at exit to close itself. So the address
    is first asked for its identity on a bare connection, in a thread with its own event loop (the
    caller may be running one, as a notebook does), under one deadline for everything.
    """
    import asyncio

    async def identity() -> object:
        comm = await distributed.comm.connect(address, timeout=CONNECT_TIMEOUT)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    outcome: dict[str, object] = {}

    def ask() -> None:
        try:
            outcome["reply"] = asyncio.run(asyncio.wait_for(identity(), CONNECT_TIMEOUT))
        except Exception as exc:  # whatever a service that is not a scheduler makes the exchange raise
            outcome["error"] = exc

    thread = threading.Thread(target=ask, name="trialkit-dask-probe", daemon=True)
    thread.start()
    thread.join(CONNECT_TIMEOUT + 1)
    reply, error = outcome.get("reply"), outcome.get("error")
    if isinstance(reply, dict) and reply.get("type") == "Scheduler":
        return None
    if isinstance(error, TimeoutError | asyncio.TimeoutError) or (reply is None and error is None):
        return "no answer of a Dask scheduler"
    if error is not None:
        return str(error) or type(error).__name__
    return "the service there is not a Dask scheduler"


def _connect(distributed: Any, address: str) -> Any:
    _check_address(distributed, address)
    reason = None if address.startswith("inproc://") else _probe(distributed, address)
    if reason is None:
        try:
            return distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except Exception as exc:  # the scheduler went away between the two connections, say
            reason = str(exc) or type(exc).__name__
    raise TrialkitError(
        f"could not reach the Dask scheduler at {address}: {reason} (waited {CONNECT_TIMEOUT} s); "
        "start one with `dask scheduler` and give its address (tcp://HOST:PORT)."
    )


def run_on_dask(
    function: Callable[[Any], Any],
    tasks: Sequence[Any],
    address: str,
    progress: Callable[[int, int], None] | None,
) -> list[Any]:
    """Return ``[function(task) for task in tasks]`` computed on the Dask scheduler at ``address``.

    Parameters
    ----------
    function : callable
        A pure function of one task; it is sent to the workers with cloudpickle.
    tasks : sequence
        The tasks, picklable.
    address : str
        The scheduler's address, such as ``tcp://127.0.0.1:8786``.
    progress : callable, optional
        ``progress(done, total)`` after each finished task.

    Returns
    -------
    list
        The results, in the order of ``tasks``.

    Raises
    ------
    TrialkitError
        When ``distributed`` is not installed, the scheduler cannot be reached within
        :data:`CONNECT_TIMEOUT` seconds, or a task fails (the message names the task).
    """
    distributed = _distributed()
    client = _connect(distributed, address)
    futures: list[Any] = []
    try:
        # pure=False: each submission gets a fresh key, so two runs sharing a cluster never share results
        futures = client.map(function, list(tasks), pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        results: list[Any] = [None] * len(futures)
        done = 0
        for future in distributed.as_completed(futures, loop=client.loop):
            i = index[future.key]
            if future.status != "finished":
                error = future.exception() if future.status == "error" else None
                cause = f"{type(error).__name__}: {error}" if error is not None else f"the task was {future.status}"
                raise TrialkitError(
                    f"task {i + 1} of {len(futures)} ({_describe(tasks[i])}) failed on the Dask cluster at "
                    f"{address}: {cause}."
                )
            results[i] = future.result()
            done += 1
            if progress is not None:
                progress(done, len(futures))
        return results
    finally:
        if futures:
            client.cancel(futures)  # after Ctrl-C or a failed task, the cluster stops working for this run
        client.close()
