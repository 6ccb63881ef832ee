"""Regenerate the bundled abbasi2012 data: simulated from design.toml, calibrated to the published p's.

Usage, from the repository root::

    .venv/bin/python data/synthetic/abbasi2012/make_calibrated.py --seed 20120104 --out data/synthetic/abbasi2012

Reads ``design.toml`` (every scale assumption) and ``data/published/abbasi2012.toml`` (the published
p-values and directions), calls :func:`trialkit.reproduce.reconstruct.reconstruct` and writes
``magnesium.csv``, ``placebo.csv``, ``study.toml`` and ``MANIFEST.json`` (with the calibration
targets and the achieved p-values) via :func:`trialkit._write.write_simulation`. See README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trialkit._errors import TrialkitError
from trialkit._simulate import read_design
from trialkit._write import MANIFEST, write_simulation
from trialkit.reproduce.published import read_published
from trialkit.reproduce.reconstruct import Reconstruction, reconstruct, targets_from_published

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
DESIGN = HERE / "design.toml"
PUBLISHED = ROOT / "data" / "published" / "abbasi2012.toml"

#: first seed counting up from FIRST_CANDIDATE whose calibrated values all lie in their ranges
SEED = 20120104
FIRST_CANDIDATE = 20120101
SEED_RULE = (
    f"the first seed counting up from {FIRST_CANDIDATE} for which every calibrated week-8 value "
    "lies inside its endpoint's range (reconstruct raises otherwise)"
)

#: total sleep time is published as "no significant difference" (P = 0.37) without a direction;
#: a p below 1 needs a non-zero difference. ASSUMED: longer with magnesium, the direction of the
#: "sleep time" result and of the pooled +16 min of Mah & Pitre 2021.
ASSUMED_DIRECTIONS = {"total_sleep_time": +1}


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def build(seed: int = SEED) -> Reconstruction:
    """The calibrated reconstruction of the bundled design for ``seed`` (no file is written)."""
    targets = targets_from_published(read_published(PUBLISHED), assumed_directions=ASSUMED_DIRECTIONS)
    return reconstruct(read_design(DESIGN), targets, seed)


def calibration_record(rec: Reconstruction) -> dict[str, Any]:
    """The ``calibration`` block of MANIFEST.json: the test, and target vs achieved per endpoint."""
    keys = (
        "reported",
        "target_p",
        "direction",
        "direction_published",
        "n_treatment",
        "n_control",
        "difference",
        "estimate",
        "std_error",
        "df",
        "statistic",
        "p_value",
        "reproduced",
        "note",
    )
    outcomes = {}
    for c in rec.calibrations:
        row = {k: getattr(c, k) for k in keys}
        outcomes[c.endpoint] = {k: (float(v) if isinstance(v, float) else v) for k, v in row.items()}
    return {
        "test": rec.test,
        "contrast": f"{rec.treatment} - {rec.control}",
        "scale": "change from baseline; change of the natural log for melatonin, cortisol and renin",
        "seed_rule": SEED_RULE,
        "assumed_directions": ASSUMED_DIRECTIONS,
        "outcomes": outcomes,
    }


def write(out_dir: str | Path, seed: int = SEED, *, command: str | None = None) -> list[Path]:
    """Build the calibrated data for ``seed`` and write it with its manifest into ``out_dir``.

    Raises
    ------
    TrialkitError
        When an endpoint does not reproduce its published p (nothing is written then).
    """
    rec = build(seed)
    failed = [c.endpoint for c in rec.calibrations if not c.reproduced]
    if failed:
        raise TrialkitError(f"not reproduced with seed {seed}: {', '.join(failed)}; nothing written.")
    if command is None:
        command = shlex.join(
            ["python", _relative(Path(__file__)), "--seed", str(seed), "--out", _relative(Path(out_dir))]
        )
    paths = write_simulation(rec.simulation, out_dir, design_path=DESIGN, seed=seed, command=command)
    manifest_path = Path(out_dir) / MANIFEST
    written = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest = {
        "generator": "data/synthetic/abbasi2012/make_calibrated.py (trialkit.simulate draws, "
        "calibrated by trialkit.reproduce.reconstruct)",
        "study": written["study"],
        "seed": written["seed"],
        "design": {"path": _relative(DESIGN), "sha256": written["design"]["sha256"]},
        "published": {"path": _relative(PUBLISHED), "sha256": hashlib.sha256(PUBLISHED.read_bytes()).hexdigest()},
        "command": written["command"],
        "files": written["files"],
        "calibration": calibration_record(rec),
        "versions": written["versions"],
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8", newline="\n")
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED, help=f"simulation seed (default {SEED})")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: this folder)")
    args = parser.parse_args(argv)
    try:
        paths = write(args.out, args.seed)
    except TrialkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
