"""Run the tasks of a power simulation on a Dask distributed cluster (placeholder until the backend lands)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from trialkit._errors import TrialkitError

__all__ = ["run_on_dask"]


def run_on_dask(function: Callable[[Any], Any], tasks: Sequence[Any], address: str, progress: Any) -> list[Any]:
    """Return ``[function(task) for task in tasks]`` computed on the Dask scheduler at ``address``."""
    raise TrialkitError(f"the Dask backend is not available yet; got scheduler {address!r}.")
