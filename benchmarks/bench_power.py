"""Power by simulation: simulated ANCOVA trials per second, against a per-trial statsmodels loop in the same run.

The trial is the ISI endpoint of the 2012 design (trialkit/datasets/abbasi2012/design.toml): 23
per arm (n = 46), baseline and week 8, 1 + 2 subjects lost after baseline, ANCOVA on the baseline.

Printed:

(a) trials per second of ``tk.power.simulate(design, [23], trials, analyses=["ancova"])`` — every
    draw and every fit — in this process (``scheduler="serial"``) and on local processes
    (``scheduler=None``, one per usable core), the median of ``--rounds`` runs;
(b) the baseline: a per-trial loop that draws the same trial with NumPy, fits
    ``statsmodels.api.OLS(y, [1, arm, baseline]).fit()`` and reads the arm coefficient's p-value,
    over ``--loop-trials`` trials (median of ``--rounds`` runs);
(c) the ratios (a) / (b), and the two powers (they estimate the same number: they must agree
    within Monte Carlo error);
(d) the wall time of a grid of 19 sizes (10, 12, ..., 46 per arm) x 25,000 trials = 475,000
    simulated trials, ANCOVA on the ISI, on local processes (median of ``--rounds`` runs).

    python benchmarks/bench_power.py [--trials 500000] [--loop-trials 3000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import statsmodels.api as sm

import trialkit as tk
from trialkit.power._simulation._model import trial_model

GRID_SIZES = list(range(10, 47, 2))  # 19 sizes
GRID_TRIALS = 25_000


def _design() -> tk.Design:
    return tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml"))


def _cpu() -> float:
    """Return the CPU seconds of this process and of its finished children (the local workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_simulate(design: tk.Design, trials: int, scheduler: str | None, seed: int) -> tuple[float, float, float]:
    """Return (wall seconds, CPU seconds, power) of one simulation of ``trials`` ANCOVA trials at 23 per arm."""
    cpu, start = _cpu(), time.perf_counter()
    sim = tk.power.simulate(
        design, [23], trials=trials, seed=seed, analyses=["ancova"], endpoints=["isi"], scheduler=scheduler
    )
    return time.perf_counter() - start, _cpu() - cpu, float(sim.table.power.iloc[0])


def run_loop(design: tk.Design, trials: int, seed: int) -> tuple[float, float, float]:
    """Return (wall seconds, CPU seconds, power) of the per-trial loop: draw, fit OLS by statsmodels, test the arm."""
    model = trial_model(design)
    isi = model.endpoint("isi")
    sizes = model.sizes(23)
    lost = model.dropouts(sizes)
    arm = np.repeat(np.arange(len(sizes)), sizes)
    analysed = np.concatenate([np.arange(size) < size - gone for size, gone in zip(sizes, lost, strict=True)])
    loc, scale = isi.loc[arm], isi.scale[arm]
    rng = np.random.default_rng(seed)
    rejections = 0
    cpu, start = _cpu(), time.perf_counter()
    for _ in range(trials):
        values = loc + scale * (rng.standard_normal((arm.size, 2)) @ isi.cholesky.T)
        x, y = values[analysed, 0], values[analysed, 1]
        design_matrix = np.column_stack([np.ones(x.size), arm[analysed], x])
        fit = sm.OLS(y, design_matrix).fit()
        rejections += int(fit.pvalues[1] < model.alpha)
    return time.perf_counter() - start, _cpu() - cpu, rejections / trials


def run_grid(design: tk.Design, seed: int) -> float:
    """Return the seconds of the 19 sizes x 25,000 trials grid on local processes."""
    start = time.perf_counter()
    tk.power.simulate(
        design, GRID_SIZES, trials=GRID_TRIALS, seed=seed, analyses=["ancova"], endpoints=["isi"], scheduler=None
    )
    return time.perf_counter() - start


def main() -> None:
    """Run the rounds and print the medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=500_000, help="simulated trials per run of (a)")
    parser.add_argument("--loop-trials", type=int, default=3_000, help="trials per run of the statsmodels loop")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each measurement (medians are printed)")
    args = parser.parse_args()
    design = _design()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"ISI of the 2012 design, 23 per arm (n = 46, 43 analysed), ANCOVA; {cores} usable core(s)")
    run_simulate(design, 20_000, "serial", 0)  # warm up: imports, first allocations
    wall: dict[str, list[float]] = {"serial": [], "local": [], "loop": []}
    cpu: dict[str, list[float]] = {"serial": [], "local": [], "loop": []}
    powers: dict[str, float] = {}
    grid = []
    for r in range(args.rounds):  # alternate the measurements, so that a change in machine load hits all of them
        runs: tuple[tuple[str, int, Callable[[], tuple[float, float, float]]], ...] = (
            ("serial", args.trials, partial(run_simulate, design, args.trials, "serial", r + 1)),
            ("local", args.trials, partial(run_simulate, design, args.trials, None, r + 1)),
            ("loop", args.loop_trials, partial(run_loop, design, args.loop_trials, r + 1)),
        )
        for name, trials, run in runs:
            seconds, cpu_seconds, powers[name] = run()
            wall[name].append(trials / seconds)
            cpu[name].append(trials / cpu_seconds)
        grid.append(run_grid(design, r + 1))
    med = {name: statistics.median(v) for name, v in wall.items()}
    med_cpu = {name: statistics.median(v) for name, v in cpu.items()}
    print("trials per second of wall time (and per CPU second: what one core does, whatever the machine's load)")
    print(f"(a) tk.power.simulate, serial:          {med['serial']:10,.0f}  ({med_cpu['serial']:10,.0f} per CPU s)")
    print(f"    tk.power.simulate, local processes: {med['local']:10,.0f}  ({med_cpu['local']:10,.0f} per CPU s)")
    print(f"(b) statsmodels OLS loop:               {med['loop']:10,.0f}  ({med_cpu['loop']:10,.0f} per CPU s)")
    print(f"    medians of {args.rounds} runs of {args.trials:,} trials (a) and {args.loop_trials:,} trials (b)")
    print(
        f"(c) ratio serial / loop: {med['serial'] / med['loop']:,.0f} x (per CPU s: "
        f"{med_cpu['serial'] / med_cpu['loop']:,.0f} x); local processes / loop: {med['local'] / med['loop']:,.0f} x"
    )
    print(
        f"    power (last round): simulate {powers['serial']:.4f} (MCSE {np.sqrt(0.25 / args.trials):.4f}), "
        f"loop {powers['loop']:.4f} (MCSE {np.sqrt(powers['loop'] * (1 - powers['loop']) / args.loop_trials):.4f})"
    )
    total = len(GRID_SIZES) * GRID_TRIALS
    g = statistics.median(grid)
    print(
        f"(d) grid {len(GRID_SIZES)} sizes x {GRID_TRIALS:,} = {total:,} trials, local processes: "
        f"{g:.2f} s ({total / g:,.0f} trials/s; runs: {', '.join(f'{v:.2f}' for v in grid)} s)"
    )
    print(f"load average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())} ({cores} cores)")


if __name__ == "__main__":
    main()
