"""``tk.power.simulate``: the power of a design's analyses at several sample sizes, by simulation."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np

from trialkit._checks import check_alpha, check_instance, check_integer
from trialkit._design import Design
from trialkit._errors import TrialkitError
from trialkit._limits import POWER_SIZES, POWER_TRIALS, SIMULATE_SUBJECTS_PER_ARM
from trialkit.power._simulation._analyses import ANALYSES, default_analysis
from trialkit.power._simulation._engine import Progress, check_scheduler, execute
from trialkit.power._simulation._model import TrialModel, trial_model
from trialkit.power._simulation._result import PowerSimulation, power_table
from trialkit.power._simulation._tasks import TaskCounts, plan, run_task

__all__ = ["simulate"]


def _guarded(check: object, problems: list[str]) -> object:
    try:
        return check() if callable(check) else check
    except TrialkitError as error:
        problems.append(str(error))
        return None


def _sizes(n_per_arm: object, model: TrialModel, problems: list[str]) -> tuple[int, ...]:
    if isinstance(n_per_arm, np.ndarray) and n_per_arm.ndim == 1:
        n_per_arm = n_per_arm.tolist()
    if isinstance(n_per_arm, str | bytes) or not isinstance(n_per_arm, Sequence) or not n_per_arm:
        problems.append(f"`n_per_arm` must be a non-empty sequence of integers >= 2; got {n_per_arm!r}.")
        return ()
    sizes = []
    for value in n_per_arm:
        n = _guarded(partial(check_integer, value, "n_per_arm", 2), problems)
        if isinstance(n, int):
            largest = max(model.sizes(n))  # the other arms follow the design's allocation
            if largest > SIMULATE_SUBJECTS_PER_ARM:
                arm = model.arms[model.sizes(n).index(largest)]
                problems.append(
                    f"`n_per_arm` = {n:,} gives arm {arm!r} {largest:,} subjects; a power simulation draws at "
                    f"most {SIMULATE_SUBJECTS_PER_ARM:,} per arm (SIMULATE_SUBJECTS_PER_ARM, docs/limits.md)."
                )
            sizes.append(n)
    if len(sizes) != len(set(sizes)):
        problems.append(f"`n_per_arm` must not repeat a size; got {list(n_per_arm)!r}.")
    if len(sizes) > POWER_SIZES:
        problems.append(
            f"`n_per_arm` holds {len(sizes):,} sizes; a power simulation takes at most {POWER_SIZES:,} "
            "(POWER_SIZES, docs/limits.md)."
        )
    return tuple(sorted(sizes))


def _plan_endpoints(
    model: TrialModel, endpoints: object, analyses: object, problems: list[str]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Return (endpoint id, analyses) for each endpoint simulated; every problem goes to ``problems``."""
    ids = tuple(ep.id for ep in model.endpoints)
    if endpoints is None:
        chosen = ids
    elif isinstance(endpoints, str | bytes) or not isinstance(endpoints, Sequence) or not endpoints:
        problems.append(f"`endpoints` must be a non-empty sequence of endpoint ids; got {endpoints!r}.")
        return ()
    else:
        unknown = [e for e in endpoints if not isinstance(e, str) or e not in ids]
        if unknown:
            problems.append(
                f"`endpoints` names {unknown!r}, not endpoints of the design; its endpoints: {', '.join(ids)}."
            )
        chosen = tuple(e for e in ids if e in [x for x in endpoints if isinstance(x, str)])
    has_baseline = model.baseline is not None
    if analyses is None:
        out = []
        for e in chosen:
            name = default_analysis(model.endpoint(e).type, has_baseline)
            if name is None:
                problems.append(f"endpoint {e!r} ({model.endpoint(e).type}) has no analysis to simulate.")
            else:
                out.append((e, (name,)))
        return tuple(out)
    if isinstance(analyses, str | bytes) or not isinstance(analyses, Sequence) or not analyses:
        problems.append(f"`analyses` must be a non-empty sequence of analysis names; got {analyses!r}.")
        return ()
    names = []
    for name in analyses:
        if not isinstance(name, str) or name not in ANALYSES:
            problems.append(f"`analyses` names {name!r}, which is not an analysis; analyses: {', '.join(ANALYSES)}.")
        elif name not in names:
            names.append(name)
    for name in names:
        a = ANALYSES[name]
        if a.needs_baseline and not has_baseline:
            problems.append(f"analysis {name!r} adjusts for the baseline, but the design has no baseline visit.")
        elif not any(model.endpoint(e).type in a.types for e in chosen):
            problems.append(
                f"analysis {name!r} analyses {' or '.join(a.types)} endpoints; the design has none among "
                f"{', '.join(chosen)}."
            )
    planned = tuple(
        (e, applies)
        for e in chosen
        if (applies := tuple(n for n in names if model.endpoint(e).type in ANALYSES[n].types))
    )
    if endpoints is not None and names:  # an endpoint asked for by name is never dropped in silence
        for e in sorted(set(chosen) - {e for e, _ in planned}, key=chosen.index):
            problems.append(
                f"endpoint {e!r} ({model.endpoint(e).type}) is named in `endpoints`, but none of the analyses "
                f"{', '.join(names)} analyses {model.endpoint(e).type} endpoints."
            )
    return planned


def simulate(
    design: Design,
    n_per_arm: Sequence[int],
    trials: int = 10_000,
    seed: int = 1,
    analyses: Sequence[str] | None = None,
    scheduler: str | None = None,
    *,
    endpoints: Sequence[str] | None = None,
    alpha: float | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> PowerSimulation:
    r"""Return the simulated power of a design's analyses at each sample size.

    For each size in ``n_per_arm`` (subjects randomised to control; the other arms follow the
    design's allocation) ``trials`` replicate trials of each endpoint are drawn from the design's
    model (on the analysis scale, neither rounded nor clipped; dropout as the design states it) and
    every analysis is run on all of them at once; the power is the share of replicates whose
    two-sided test of an arm against control rejects at ``alpha``, with Monte Carlo SE
    :math:`\sqrt{p(1 - p)/\text{trials}}`.

    Parameters
    ----------
    design : Design
        A design (:func:`trialkit.read_design`).
    n_per_arm : sequence of int
        Sizes of the control arm, each >= 2.
    trials : int
        Replicates per size, 1 to ``POWER_TRIALS`` (docs/limits.md).
    seed : int
        Seed (>= 0); the replicates of a size, endpoint and chunk come from the ``SeedSequence``
        child keyed by them, so the result does not depend on the backend or the number of workers.
    analyses : sequence of str, optional
        Analyses to run (:data:`trialkit.power.ANALYSES`), each on the endpoints of the types it
        analyses. By default ANCOVA for continuous endpoints (the t-test without a baseline
        visit), logistic regression for binary ones and negative binomial regression for counts.
    scheduler : str, optional
        None: local processes; ``"serial"``: this process; ``"tcp://HOST:PORT"``: a Dask
        distributed scheduler.
    endpoints : sequence of str, optional
        Endpoint ids to simulate (default: all of the design's).
    alpha : float, optional
        Two-sided significance level (default: the design's ``study.alpha``).
    workers : int, optional
        Local processes (default: one per usable core).
    progress : callable, optional
        ``progress(done, total)`` after each task.

    Returns
    -------
    PowerSimulation
        ``table``: one row per size x endpoint x analysis x arm against control.

    Raises
    ------
    TrialkitError
        Naming every bad argument at once.

    Examples
    --------
    >>> import trialkit as tk
    >>> design = tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml"))
    >>> sim = tk.power.simulate(design, [23], trials=2000, seed=1, endpoints=["isi"], scheduler="serial")
    >>> sim.table[["n_per_arm", "endpoint", "analysis", "power", "trials"]].round(2).to_string(index=False)
    ' n_per_arm endpoint analysis  power  trials\n        23      isi   ancova   0.68    2000'
    """
    check_instance(design, "design", Design, "a trialkit.Design (trialkit.read_design)")
    problems: list[str] = []
    model = trial_model(design)
    sizes = _sizes(n_per_arm, model, problems)
    trials_ = _guarded(partial(check_integer, trials, "trials", 1), problems)
    if isinstance(trials_, int) and trials_ > POWER_TRIALS:
        problems.append(f"`trials` must be at most {POWER_TRIALS:,} (POWER_TRIALS, docs/limits.md); got {trials_:,}.")
    seed_ = _guarded(partial(check_integer, seed, "seed", 0), problems)
    level = _guarded(partial(check_alpha, design.alpha if alpha is None else alpha), problems)
    if workers is not None:
        _guarded(partial(check_integer, workers, "workers", 1), problems)
    _guarded(partial(check_scheduler, scheduler), problems)
    given: object = progress  # annotations do not check what a caller passes
    if given is not None and not callable(given):
        problems.append(f"`progress` must be a function progress(done, total); got {given!r}.")
    chosen = _plan_endpoints(model, endpoints, analyses, problems)
    if problems:
        raise TrialkitError(" ".join(problems))
    assert isinstance(trials_, int) and isinstance(seed_, int) and isinstance(level, float)
    tasks = plan(model, sizes, chosen, trials_)
    counts: list[TaskCounts] = execute(
        partial(run_task, model, level, seed_), tasks, scheduler=scheduler, workers=workers, progress=progress
    )
    return PowerSimulation(design, seed_, trials_, level, sizes, power_table(_rows(model, counts)))


def _rows(model: TrialModel, counts: list[TaskCounts]) -> list[tuple[int, str, str, int, int, str, int, int]]:
    """Sum the tasks of each cell into one row per size x endpoint x analysis x arm, in plan order."""
    totals: dict[tuple[int, str, str, int], list[int]] = {}
    for c in counts:
        for name, rejections, failed in zip(c.task.analyses, c.rejections, c.failed, strict=True):
            for j, (r, f) in enumerate(zip(rejections, failed, strict=True)):
                total = totals.setdefault((c.task.n, c.task.endpoint, name, j), [0, 0, 0])
                total[0] += r
                total[1] += c.task.trials
                total[2] += f
    return [
        (n, endpoint, name, r, t, model.arms[j + 1], sum(model.sizes(n)), f)
        for (n, endpoint, name, j), (r, t, f) in totals.items()
    ]
