"""The tasks of a power simulation and what one task computes.

A cell is one sample size; its replicates of one endpoint are split into chunks of a fixed number
of trials (set by the size of a trial alone, never by the number of workers), and each chunk is a
task: draw the chunk's replicates, run every analysis on them, count the rejections. A task's
random numbers come from its own ``numpy.random.SeedSequence`` child, keyed by the seed, the
control arm's size, the endpoint (a hash of its id) and the chunk's index: a task gives the same
counts wherever and in whatever order it runs, so the totals are identical on any backend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trialkit.power._simulation._analyses import ANALYSES
from trialkit.power._simulation._draw import draw_batch
from trialkit.power._simulation._model import TrialModel, endpoint_key

__all__ = ["CHUNK_VALUES", "Task", "TaskCounts", "plan", "run_task"]

#: values (replicates x subjects x visits) drawn per task: 16 MiB of float64, which keeps a task's
#: arrays in memory a few times over and still gives many tasks to share among workers
CHUNK_VALUES = 2**21


@dataclass(frozen=True)
class Task:
    """One chunk of replicates of one endpoint at one sample size.

    Attributes
    ----------
    n : int
        Subjects randomised to control (the other arms follow the design's allocation).
    endpoint : str
        The endpoint id.
    analyses : tuple of str
        The analyses run on the chunk.
    chunk : int
        The chunk's index within the cell (0, 1, ...): part of its seed.
    trials : int
        Replicates in the chunk.
    """

    n: int
    endpoint: str
    analyses: tuple[str, ...]
    chunk: int
    trials: int


@dataclass(frozen=True)
class TaskCounts:
    """What one task found: per analysis, rejections and failed fits per comparison (arm vs control)."""

    task: Task
    rejections: tuple[tuple[int, ...], ...]
    failed: tuple[tuple[int, ...], ...]


def chunk_trials(model: TrialModel, n: int) -> int:
    """Return the replicates per task at control size ``n``: ``CHUNK_VALUES`` values, at least one trial."""
    values = sum(model.sizes(n)) * len(model.visits)
    return max(1, CHUNK_VALUES // values)


def plan(
    model: TrialModel, n_grid: tuple[int, ...], endpoints: tuple[tuple[str, tuple[str, ...]], ...], trials: int
) -> list[Task]:
    """Return the tasks of a simulation: per size, per endpoint (with its analyses), per chunk of replicates.

    Examples
    --------
    >>> import trialkit as tk
    >>> from trialkit.power._simulation._model import trial_model
    >>> model = trial_model(tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml")))
    >>> tasks = plan(model, (23,), (("isi", ("ancova",)),), 50_000)
    >>> [(t.chunk, t.trials) for t in tasks]
    [(0, 22795), (1, 22795), (2, 4410)]
    """
    tasks = []
    for n in n_grid:
        size = chunk_trials(model, n)
        for endpoint, analyses in endpoints:
            for chunk, start in enumerate(range(0, trials, size)):
                tasks.append(Task(n, endpoint, analyses, chunk, min(size, trials - start)))
    return tasks


def task_generator(task: Task, seed: int) -> np.random.Generator:
    """Return the generator of ``task``: the SeedSequence child keyed by (n, endpoint, chunk)."""
    key = (task.n, endpoint_key(task.endpoint), task.chunk)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def run_task(model: TrialModel, alpha: float, seed: int, task: Task) -> TaskCounts:
    """Draw the task's replicates and count each analysis's rejections and failed fits per comparison."""
    batch = draw_batch(
        model, model.endpoint(task.endpoint), model.sizes(task.n), task.trials, task_generator(task, seed)
    )
    rejections, failed = [], []
    for name in task.analyses:
        outcome = ANALYSES[name].kernel(batch, alpha)
        rejections.append(tuple(int(v) for v in outcome.reject.sum(axis=0)))
        failed.append(tuple(int(v) for v in outcome.failed.sum(axis=0)))
    return TaskCounts(task, tuple(rejections), tuple(failed))
