"""Power by simulation of a count endpoint: the negative binomial and Poisson kernels per 10,000 replicates.

The trial: two arms of 50, negative binomial counts (rates 2 and 1.4 per unit time, dispersion
0.5), with a baseline visit (the baseline count enters as log1p of its rate) or without one.

Printed, medians of ``--rounds`` runs:

(a) seconds per 10,000 replicates of each kernel (``negative_binomial``, ``poisson``, and the
    ``mann_whitney`` kernel on the same batch for scale);
(b) the seconds to draw those replicates (``draw_batch``, the Gaussian copula with the negative
    binomial quantiles), in the same run;
(c) the baseline: a per-replicate loop over trialkit's own fit (``count_arrays``, the function
    ``trialkit analyze`` calls), over ``--loop-trials`` replicates, scaled to 10,000;
(d) the ratios loop / kernel and kernel / draw.

    python benchmarks/bench_power_counts.py [--rounds 5] [--loop-trials 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from trialkit.analysis._counts import count_arrays
from trialkit.power._simulation._batch import Batch
from trialkit.power._simulation._counts import negative_binomial, poisson
from trialkit.power._simulation._draw import draw_batch
from trialkit.power._simulation._mann_whitney import mann_whitney
from trialkit.power._simulation._model import EndpointModel, TrialModel

TRIALS = 10_000
SIZES = (50, 50)


def _model(baseline: bool) -> tuple[TrialModel, EndpointModel]:
    visits = 2 if baseline else 1
    rates = np.array([[2.0, 2.0], [2.0, 1.4]])[:, -visits:]
    chol = np.linalg.cholesky(np.array([[1.0, 0.5], [0.5, 1.0]])[:visits, :visits])
    endpoint = EndpointModel(
        "events", "events", "count", rates, np.ones_like(rates), chol, 0.5, np.ones(visits), "log1p"
    )
    model = TrialModel(
        arms=("control", "active"),
        arm_labels=("control", "active"),
        allocation=(1.0, 1.0),
        dropout=(0.0, 0.0),
        dropout_by_visit=None,
        visits=("baseline", "week12")[-visits:],
        baseline=0 if baseline else None,
        primary=visits - 1,
        endpoints=(endpoint,),
        alpha=0.05,
    )
    return model, endpoint


def _seconds(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _loop(batch: Batch, trials: int) -> None:
    """Fit trialkit's negative binomial model to each of the first ``trials`` replicates."""
    arm = batch.arm.astype(np.int64)
    for r in range(trials):
        y = batch.values[r, :, batch.primary]
        numeric = {} if batch.baseline is None else {"baseline": np.log1p(batch.values[r, :, batch.baseline])}
        try:
            count_arrays(
                arm, y, np.zeros(y.size), numeric, {}, arms=("c", "a"), levels={}, alpha=0.05,
                family="negative_binomial",
            )  # fmt: skip
        except ValueError:
            pass


def main() -> None:
    """Run the rounds and print the medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="runs of each measurement (medians are printed)")
    parser.add_argument("--loop-trials", type=int, default=300, help="replicates of the per-replicate loop")
    args = parser.parse_args()
    kernels = {"negative_binomial": negative_binomial, "poisson": poisson, "mann_whitney": mann_whitney}
    for baseline in (False, True):
        model, endpoint = _model(baseline)
        times: dict[str, list[float]] = {name: [] for name in (*kernels, "draw", "loop")}
        for r in range(args.rounds):  # alternate the measurements, so that a change in load hits all of them
            start = time.perf_counter()
            batch = draw_batch(model, endpoint, SIZES, TRIALS, np.random.default_rng(r))
            times["draw"].append(time.perf_counter() - start)
            for name, kernel in kernels.items():
                times[name].append(_seconds(partial(kernel, batch, 0.05)))
            times["loop"].append(_seconds(partial(_loop, batch, args.loop_trials)) * TRIALS / args.loop_trials)
        med = {name: statistics.median(v) for name, v in times.items()}
        what = "log1p baseline" if baseline else "no baseline"
        print(f"two arms of 50, NB counts (rates 2, 1.4; dispersion 0.5), {what}: seconds per {TRIALS:,} replicates")
        for name in (*kernels, "draw", "loop"):
            print(f"  {name:18s} {med[name]:8.2f}  (runs: {', '.join(f'{v:.2f}' for v in times[name])})")
        print(
            f"  ratio loop / negative_binomial kernel: {med['loop'] / med['negative_binomial']:.0f} x; "
            f"negative_binomial / draw: {med['negative_binomial'] / med['draw']:.2f}; "
            f"poisson / draw: {med['poisson'] / med['draw']:.2f}"
        )
    print(f"load average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
