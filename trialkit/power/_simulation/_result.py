"""The result of a power simulation: power and its Monte Carlo SE per size, endpoint, analysis and comparison."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from trialkit._design import Design

__all__ = ["COLUMNS", "PowerSimulation"]

#: the columns of :attr:`PowerSimulation.table` and of ``power.csv``, in order
COLUMNS = ("n_per_arm", "endpoint", "analysis", "power", "mcse", "trials", "arm", "n_total", "failed")


@dataclass(frozen=True, eq=False)
class PowerSimulation:
    """Simulated power of a design at each sample size, for each endpoint, analysis and arm against control.

    Attributes
    ----------
    design : Design
        The design simulated.
    seed : int
        The seed of every task's ``SeedSequence``.
    trials : int
        Replicate trials per sample size.
    alpha : float
        Two-sided significance level of every test.
    n_per_arm : tuple of int
        The control arm's sizes simulated (each other arm follows the design's allocation).
    table : DataFrame
        One row per size x endpoint x analysis x arm compared with control, columns
        :data:`COLUMNS`: ``n_per_arm`` (control arm's size), ``endpoint`` (id), ``analysis``
        (name), ``power`` (share of replicates rejecting), ``mcse`` (its Monte Carlo SE,
        ``sqrt(power (1 - power) / trials)``), ``trials``, ``arm`` (the arm compared with control),
        ``n_total`` (subjects randomised over all arms), ``failed`` (replicates whose analysis
        could not be fitted; counted as not rejecting).
    """

    design: Design
    seed: int
    trials: int
    alpha: float
    n_per_arm: tuple[int, ...]
    table: pd.DataFrame

    def to_csv(self) -> bytes:
        r"""Return ``power.csv``: :attr:`table` with power and mcse to 6 decimals, UTF-8, ``\n`` line ends.

        The same design, sizes, trials and seed give the same bytes on any backend.
        """
        lines = [",".join(COLUMNS)]
        for row in self.table.itertuples(index=False):
            lines.append(
                f"{row.n_per_arm},{row.endpoint},{row.analysis},{row.power:.6f},{row.mcse:.6f},"
                f"{row.trials},{row.arm},{row.n_total},{row.failed}"
            )
        return ("\n".join(lines) + "\n").encode("utf-8")


def power_table(rows: Sequence[tuple[int, str, str, int, int, str, int, int]]) -> pd.DataFrame:
    """Return the table from (n, endpoint, analysis, rejections, trials, arm, n_total, failed) rows."""
    records = []
    for n, endpoint, analysis, rejections, trials, arm, n_total, failed in rows:
        p = rejections / trials
        records.append((n, endpoint, analysis, p, math.sqrt(p * (1.0 - p) / trials), trials, arm, n_total, failed))
    return pd.DataFrame.from_records(records, columns=list(COLUMNS))
