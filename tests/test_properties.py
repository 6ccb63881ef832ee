"""Property: whatever bytes a CSV holds, loading gives a Trial or a ValidationError, nothing else."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from conftest import base_spec, small_wide, write_spec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trialkit as tk

HEADER = list(small_wide().columns)
CELL = st.one_of(
    st.sampled_from(
        [
            "",
            "NA",
            ".",
            "S001",
            "S002",
            "active",
            "placebo",
            "activ",
            "M",
            "F",
            "12",
            "-3",
            "1,5",
            "<5",
            "ND",
            "inf",
            "nan",
            "1e400",
            "28",
            "29",
            "12.5",
            "\ufeff",
            '"',
            "a\nb",
            ";",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10, 2000).map(str),
    st.text(max_size=6),
)


def _csv_line(cells: list[str]) -> str:
    return ",".join(cells)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.one_of(st.just(HEADER), st.lists(st.sampled_from(HEADER + ["x", "subject"]), max_size=10)),
    rows=st.lists(st.lists(CELL, min_size=0, max_size=10), max_size=8),
    raw=st.binary(max_size=40),
    use_raw=st.booleans(),
)
def test_random_csv_content_gives_a_trial_or_a_validation_error(header, rows, raw, use_raw) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        path = folder / "trial.csv"
        if use_raw:
            path.write_bytes(raw)
        else:
            path.write_text(
                "\n".join([_csv_line(header)] + [_csv_line(r) for r in rows]) + "\n",
                encoding="utf-8",
                errors="surrogatepass",
            )
        spec = write_spec(folder, base_spec())
        try:
            trial = tk.load(spec)
        except tk.ValidationError as exc:
            assert exc.problems and all(p.message for p in exc.problems)
        else:
            assert isinstance(trial, tk.Trial) and len(trial.subjects) >= 4
    finally:
        shutil.rmtree(folder)
