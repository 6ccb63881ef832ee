"""Batches built by hand for the kernel tests: replicate trials with a fixed or a random dropout pattern."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from trialkit.power._simulation._batch import Batch

__all__ = ["batch", "complete_cases", "count_values", "fixed_dropout", "normal_values", "random_dropout"]


def batch(
    values: npt.NDArray[np.float64],
    sizes: tuple[int, ...],
    observed: npt.NDArray[np.bool_] | None = None,
    baseline: int | None = 0,
    primary: int = 1,
) -> Batch:
    """Return a Batch of ``values`` (T, N, V), arms of ``sizes`` (control first), everything observed by default."""
    if observed is None:
        observed = np.ones((1, *values.shape[1:]), dtype=bool)
    arm = np.repeat(np.arange(len(sizes)), sizes)
    return Batch(np.ascontiguousarray(values, dtype=np.float64), observed, arm, sizes, baseline, primary)


def normal_values(
    rng: np.random.Generator, sizes: tuple[int, ...], trials: int, effects: tuple[float, ...], rho: float = 0.5
) -> npt.NDArray[np.float64]:
    """Return (T, N, 2) baseline and primary values: correlation ``rho``, arm ``j`` shifted by ``effects[j]``."""
    n = sum(sizes)
    x = rng.standard_normal((trials, n))
    y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((trials, n)) + np.repeat(effects, sizes)
    return np.stack([10.0 + 2.0 * x, 20.0 + 3.0 * y], axis=2)


def count_values(
    rng: np.random.Generator, sizes: tuple[int, ...], trials: int, rates: tuple[float, ...]
) -> npt.NDArray[np.float64]:
    """Return (T, N, 2) Poisson counts (many ties), baseline and primary, arm ``j`` at ``rates[j]``."""
    lam = np.repeat(rates, sizes)
    base = rng.poisson(2.0, (trials, sum(sizes)))
    return np.stack([base, rng.poisson(lam, (trials, sum(sizes)))], axis=2).astype(np.float64)


def fixed_dropout(sizes: tuple[int, ...], lost: tuple[int, ...], visits: int = 2) -> npt.NDArray[np.bool_]:
    """Return the (1, N, V) pattern: the last ``lost[j]`` subjects of arm ``j`` miss every visit after the first."""
    observed = np.ones((1, sum(sizes), visits), dtype=bool)
    start = 0
    for size, gone in zip(sizes, lost, strict=True):
        observed[0, start + size - gone : start + size, 1:] = False
        start += size
    return observed


def random_dropout(
    rng: np.random.Generator, trials: int, n: int, share: float, visits: int = 2
) -> npt.NDArray[np.bool_]:
    """Return a (T, N, V) pattern: each subject misses the visits after the first with probability ``share``."""
    observed = np.ones((trials, n, visits), dtype=bool)
    observed[:, :, 1:] = (rng.random((trials, n)) >= share)[:, :, None]
    return observed


def complete_cases(b: Batch, t: int, visits: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    """Return the subjects of replicate ``t`` observed at every one of ``visits``."""
    observed = b.observed[0 if b.observed.shape[0] == 1 else t]
    keep: npt.NDArray[np.bool_] = np.all(observed[:, list(visits)], axis=1)
    return keep
