"""Loading in memory proportional to the data: the bound, the refusal before reading, and the counts at scale.

The bound (``LOAD_MEMORY_BASE`` + ``LOAD_MEMORY_FACTOR_LONG`` or ``_WIDE`` times a CSV's size,
docs/limits.md) is checked on files of
about 20 MB loaded in a fresh process (its peak resident set, ``VmHWM``, less its resident set
once trialkit is imported); the refusal by replacing the reader of the memory available.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import LONG_DATA, base_spec, small_wide, write_frame, write_spec

import trialkit as tk
from trialkit._io import _memory
from trialkit._io._memory import Available, available_memory
from trialkit._limits import LOAD_MEMORY_BASE, LOAD_MEMORY_FACTOR_LONG, LOAD_MEMORY_FACTOR_WIDE
from trialkit._summary import subject_counts

#: the size of the files the bound is checked on
MEGABYTES_20 = 20_000_000


def _subjects(n: int) -> np.ndarray:
    return np.char.add("S", np.char.zfill(np.arange(n).astype(str), 7))


#: ten endpoints at two visits: a wide row holds 20 values (a trial's usual shape)
ENDPOINT_IDS = tuple(f"e{j}" for j in range(10))
VISITS = ("baseline", "week8")


def _spec(folder: Path, data: dict[str, str], covariates: list[str]) -> Path:
    endpoints = [{"id": e, "range": [-1000, 1000]} for e in ENDPOINT_IDS]
    spec = base_spec(endpoints=endpoints)
    spec["analysis"] = {"covariates": covariates, "categorical": [c for c in covariates if c == "sex"]}
    spec["data"] = data
    return write_spec(folder, spec)


def _values(rng: np.random.Generator, n: int) -> np.ndarray:
    values = np.round(rng.normal(50, 10, n), 2)
    values[rng.random(n) < 0.02] = np.nan
    return values


def _wide_file(folder: Path, n: int) -> Path:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "subject_id": _subjects(n),
            "arm": np.where(np.arange(n) % 2 == 0, "active", "placebo"),
            "age": rng.integers(60, 76, n),
            "sex": np.where(rng.random(n) < 0.5, "F", "M"),
            **{f"{e}_{v}": _values(rng, n) for e in ENDPOINT_IDS for v in VISITS},
        }
    )
    frame.to_csv(folder / "trial.csv", index=False)
    return _spec(
        folder,
        {"format": "wide", "subject": "subject_id", "path": "trial.csv", "pattern": "{endpoint}_{visit}"},
        ["age", "sex"],
    )


def _long_file(folder: Path, n: int) -> Path:
    rng = np.random.default_rng(4)
    cells = [(e, v) for e in ENDPOINT_IDS for v in VISITS]
    frame = pd.DataFrame(
        {
            "subject_id": np.repeat(_subjects(n), len(cells)),
            "arm": np.repeat(np.where(np.arange(n) % 2 == 0, "active", "placebo"), len(cells)),
            "visit": np.tile([v for _, v in cells], n),
            "endpoint": np.tile([e for e, _ in cells], n),
            "value": _values(rng, n * len(cells)),
        }
    )
    frame.to_csv(folder / "trial.csv", index=False)
    return _spec(folder, LONG_DATA, [])


_MEASURE = """
import sys
import trialkit as tk

def status(key):
    text = open("/proc/self/status").read()
    return int(text.split(key + ":")[1].split()[0]) * 1024

before = status("VmRSS")
tk.load(sys.argv[1])
print(status("VmHWM") - before)
"""


def _peak_increase(spec: Path) -> int:
    """Return the bytes by which loading ``spec`` raised the peak resident set of a fresh process."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(spec)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak memory is read from /proc (Linux)")
@pytest.mark.parametrize(("layout", "writer", "n"), [("wide", _wide_file, 140_000), ("long", _long_file, 30_000)])
def test_loading_a_csv_stays_within_the_stated_multiple_of_its_size(
    tmp_path: Path, layout: str, writer: object, n: int
) -> None:
    assert callable(writer)
    spec = writer(tmp_path, n)
    size = (tmp_path / "trial.csv").stat().st_size
    assert 15_000_000 < size < 25_000_000, f"the {layout} file should be about 20 MB"
    increase = _peak_increase(spec)
    factor = LOAD_MEMORY_FACTOR_WIDE if layout == "wide" else LOAD_MEMORY_FACTOR_LONG
    assert increase <= LOAD_MEMORY_BASE + factor * size, f"{layout}: {increase / size:.1f} times the file's size"


def test_a_csv_whose_bound_exceeds_the_memory_available_is_refused_before_it_is_read(
    small_trial_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = (small_trial_dir.parent / "trial.csv").stat().st_size
    left = LOAD_MEMORY_BASE + LOAD_MEMORY_FACTOR_WIDE * size - 1
    monkeypatch.setattr(_memory, "available_memory", lambda: Available(left, "RLIMIT_AS"))

    def never(*args: object, **kwargs: object) -> object:
        raise AssertionError("the file was read")

    monkeypatch.setattr("trialkit._io._files.read_header", never)
    monkeypatch.setattr("trialkit._io._files._read_csv", never)
    with pytest.raises(tk.ValidationError) as caught:
        tk.load(small_trial_dir)
    (problem,) = caught.value.problems
    assert problem.rule is tk.Rule.TOO_LARGE
    assert problem.file == str(small_trial_dir.parent / "trial.csv")
    assert f"the file has {size:,} bytes" in problem.message
    need = LOAD_MEMORY_BASE + LOAD_MEMORY_FACTOR_WIDE * size
    assert f"({need:,} bytes: LOAD_MEMORY_FACTOR_WIDE = {LOAD_MEMORY_FACTOR_WIDE}, LOAD_MEMORY_BASE)" in problem.message
    assert f"only {left:,} bytes are available (RLIMIT_AS)" in problem.message


def test_a_csv_whose_bound_just_fits_is_read(small_trial_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    size = (small_trial_dir.parent / "trial.csv").stat().st_size
    monkeypatch.setattr(
        _memory,
        "available_memory",
        lambda: Available(LOAD_MEMORY_BASE + LOAD_MEMORY_FACTOR_WIDE * size, "MemAvailable"),
    )
    assert len(tk.load(small_trial_dir).subjects) == 10


def test_memory_of_unknown_availability_refuses_nothing(small_trial_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_memory, "available_memory", lambda: Available(None, "unknown"))
    assert len(tk.load(small_trial_dir).subjects) == 10


def test_the_refusal_is_exit_2_with_the_message_from_the_command_line(
    small_trial_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from trialkit.cli import main

    monkeypatch.setattr(_memory, "available_memory", lambda: Available(1000, "cgroup memory.max"))
    assert main(["validate", str(small_trial_dir)]) == 2
    err = capsys.readouterr().err
    assert "[too_large]" in err and "only 1,000 bytes are available (cgroup memory.max)" in err


# --- the memory available -------------------------------------------------------------------------


def _proc(tmp_path: Path, *, available_kb: int, vm_size_kb: int, cgroup: str) -> Path:
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "meminfo").write_text(
        f"MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:   {available_kb} kB\n"
    )
    (proc / "self" / "status").write_text(f"Name:\tpython\nVmPeak:\t  999999 kB\nVmSize:\t  {vm_size_kb} kB\n")
    (proc / "self" / "cgroup").write_text(cgroup)
    return proc


def _no_address_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda which: (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def test_available_memory_is_memavailable_when_nothing_else_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_address_limit(monkeypatch)
    proc = _proc(tmp_path, available_kb=2_000_000, vm_size_kb=400_000, cgroup="0::/\n")
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "memory.max").write_text("max\n")
    assert available_memory(proc, root) == Available(2_000_000 * 1024, "MemAvailable")


def test_available_memory_is_the_address_space_left_under_rlimit_as(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda which: (1_000_000_000, resource.RLIM_INFINITY))
    proc = _proc(tmp_path, available_kb=2_000_000, vm_size_kb=400_000, cgroup="")
    assert available_memory(proc, tmp_path / "none") == Available(1_000_000_000 - 400_000 * 1024, "RLIMIT_AS")


def test_available_memory_is_the_room_left_under_the_tightest_cgroup_v2_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_address_limit(monkeypatch)
    proc = _proc(tmp_path, available_kb=20_000_000, vm_size_kb=400_000, cgroup="0::/jobs/one\n")
    root = tmp_path / "cgroup"
    (root / "jobs" / "one").mkdir(parents=True)
    (root / "jobs" / "one" / "memory.max").write_text("max\n")
    (root / "jobs" / "memory.max").write_text("3000000000\n")  # the parent's limit binds
    (root / "jobs" / "memory.current").write_text("1000000000\n")
    assert available_memory(proc, root) == Available(2_000_000_000, "cgroup memory.max")


def test_available_memory_reads_a_cgroup_v1_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_address_limit(monkeypatch)
    proc = _proc(tmp_path, available_kb=20_000_000, vm_size_kb=400_000, cgroup="4:memory:/job\n1:cpu:/job\n")
    folder = tmp_path / "cgroup" / "memory" / "job"
    folder.mkdir(parents=True)
    (folder / "memory.limit_in_bytes").write_text("1500000000\n")
    (folder / "memory.usage_in_bytes").write_text("500000000\n")
    (folder.parent / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # v1's "no limit"
    assert available_memory(proc, tmp_path / "cgroup") == Available(1_000_000_000, "cgroup memory.max")


def test_available_memory_is_unknown_without_proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_address_limit(monkeypatch)
    assert available_memory(tmp_path / "no_proc", tmp_path / "no_cgroup") == Available(None, "unknown")


# --- counts per subject, at once ------------------------------------------------------------------


def test_subjects_complete_per_arm_and_visit_match_the_definition(tmp_path: Path) -> None:
    wide = small_wide(n_per_arm=6)
    wide.loc[[0, 7], "sleep_time_baseline"] = np.nan
    wide.loc[9, ["isi_week8"]] = np.nan
    write_frame(wide, tmp_path / "trial.csv")
    trial = tk.load(write_spec(tmp_path, base_spec()))
    counts = subject_counts(trial)
    d = trial.data
    for row in counts.itertuples():
        at = d[(d["arm"] == row.arm) & (d["visit"] == row.visit)]
        complete = sum(bool(part["value"].notna().all()) for _, part in at.groupby("subject", observed=True))
        assert (row.n_randomised, row.n_complete) == (at["subject"].nunique(), complete)
    assert counts["n_complete"].tolist() == [5, 5, 5, 5]  # placebo: baseline, week8; active: baseline, week8
