"""Memory and time of loading a long and a wide CSV, and of counting complete subjects, against same-run baselines.

For a long and a wide trial of about ``--megabytes`` MB each (benchmarks/big_trial.py), prints

* the peak resident set of a fresh process loading it (``VmHWM`` less the resident set once
  imports are done), as a multiple of the file's size, beside ``LOAD_MEMORY_FACTOR_LONG``/``_WIDE`` (the bound
  the loader states, docs/limits.md) and beside the same multiple for ``pandas.read_csv(path)``;
* the wall-clock time of ``trialkit.load`` as a ratio to ``pandas.read_csv(path)`` timed in the
  same rounds (median and min-max over the rounds);
* the time of ``subject_counts`` (what ``trialkit validate`` prints: subjects complete per arm
  and visit) against the per-subject ``groupby.apply`` it replaces, on the wide trial.

    python benchmarks/bench_load_memory.py [--megabytes 50] [--rounds 5]

For the 1 GB figures of the closing note, write the files with big_trial.py under /tmp and run
``/usr/bin/time -v prlimit --as=8000000000 trialkit validate /tmp/.../study.toml``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
from bench_load import time_rounds
from big_trial import write_trial

import trialkit as tk
from trialkit._limits import LOAD_MEMORY_FACTOR_LONG, LOAD_MEMORY_FACTOR_WIDE
from trialkit._summary import subject_counts

_PEAK = """
import sys
{imports}
def status(key):
    return int(open("/proc/self/status").read().split(key + ":")[1].split()[0]) * 1024
before = status("VmRSS")
{call}
print(status("VmHWM") - before)
"""


def peak_increase(imports: str, call: str) -> int:
    """Return how far running ``call`` (after ``imports``) raises a fresh process's peak resident set, in bytes."""
    script = _PEAK.format(imports=imports, call=call)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


def counts_by_apply(trial: tk.Trial | SimpleNamespace) -> pd.DataFrame:
    """Count complete subjects with a Python call per subject (the implementation replaced; the baseline)."""
    d = trial.data
    complete = (
        d.groupby(["arm", "visit", "subject"], observed=True)["value"]
        .apply(lambda v: bool(v.notna().all()))
        .rename("complete")
        .reset_index()
    )
    g = complete.groupby(["arm", "visit"], observed=True)["complete"]
    out = pd.DataFrame({"n_randomised": g.size(), "n_complete": g.sum()}).reset_index()
    return out.astype({"n_randomised": "int64", "n_complete": "int64"})


def _ratios(values: list[float], base: list[float]) -> str:
    ratios = [v / b for v, b in zip(values, base, strict=True)]
    return f"{statistics.median(ratios):6.2f} [{min(ratios):.2f}-{max(ratios):.2f}]"


def main() -> None:
    """Write the trials, measure and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--subjects", type=int, default=20_000, help="subjects of the counts comparison")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(
            f"bounds: LOAD_MEMORY_FACTOR_LONG = {LOAD_MEMORY_FACTOR_LONG}, "
            f"LOAD_MEMORY_FACTOR_WIDE = {LOAD_MEMORY_FACTOR_WIDE}; {args.rounds} rounds; medians [min-max]"
        )
        for layout in ("long", "wide"):
            spec = write_trial(Path(tmp) / layout, layout, args.megabytes * 1e6)
            csv = spec.parent / "trial.csv"
            size = csv.stat().st_size
            trial = tk.load(spec)  # warm-up, and a check that the file is valid
            times, _ = time_rounds(
                {"pandas.read_csv(path)": partial(pd.read_csv, csv), "trialkit.load(spec)": partial(tk.load, spec)},
                args.rounds,
            )
            ours = peak_increase("import trialkit as tk", f"tk.load({str(spec)!r})")
            theirs = peak_increase("import pandas as pd", f"pd.read_csv({str(csv)!r})")
            base = times["pandas.read_csv(path)"]
            print(f"\n{layout}: {size / 1e6:.0f} MB CSV, {len(trial.subjects):,} subjects, {len(trial.data):,} cells")
            bound = LOAD_MEMORY_FACTOR_WIDE if layout == "wide" else LOAD_MEMORY_FACTOR_LONG
            print(
                f"  peak memory increase / file size: trialkit.load {ours / size:.1f} (bound {bound}), "
                f"pandas.read_csv {theirs / size:.1f}; ratio trialkit/pandas {ours / theirs:.2f}"
            )
            for name, values in times.items():
                print(
                    f"  {name:24s} {statistics.median(values):7.2f}s   ratio to pandas.read_csv {_ratios(values, base)}"
                )
            if layout == "wide":
                _counts(trial, args.subjects, args.rounds)


def _counts(trial: tk.Trial, n_subjects: int, rounds: int) -> None:
    """Time the complete-subject counts, now and by the per-subject apply, on the first ``n_subjects`` subjects."""
    d = trial.data
    first = d["subject"].cat.codes.to_numpy() < n_subjects
    part = SimpleNamespace(data=d[first].assign(subject=d["subject"][first].cat.remove_unused_categories()))
    contenders = {"per-subject apply (before)": counts_by_apply, "subject_counts (now)": subject_counts}
    wall, _ = time_rounds({name: partial(count, part) for name, count in contenders.items()}, rounds)
    pd.testing.assert_frame_equal(subject_counts(part), counts_by_apply(part))  # type: ignore[arg-type]
    before = wall["per-subject apply (before)"]
    print(f"\ncomplete subjects per arm and visit (what `validate` prints), {n_subjects:,} subjects of the wide trial:")
    for name, values in wall.items():
        print(f"  {name:28s} {statistics.median(values):7.3f}s   ratio to before {_ratios(values, before)}")


if __name__ == "__main__":
    main()
