"""Regenerate the bundled abbasi2012 data: simulated from design.toml, calibrated to the published p's.

Usage, from the repository root::

    .venv/bin/python scripts/make_abbasi2012.py --seed 20120104

The bundle is ``trialkit/datasets/abbasi2012`` (``data/synthetic/abbasi2012`` in a checkout). Reads
its ``design.toml`` (every scale assumption) and the bundled ``published/abbasi2012.toml`` (the
published p-values and directions), calls :func:`trialkit.reproduce.reconstruct.reconstruct` and writes
``magnesium.csv``, ``placebo.csv``, ``study.toml`` and ``MANIFEST.json`` (with the calibration
targets and the achieved p-values) through :meth:`trialkit.Simulation.to_files`. See the bundle's
README.md. A build script of the repository, not part of the installed package.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from trialkit._errors import TrialkitError
from trialkit._provenance import sha256_file
from trialkit._simulate import read_design
from trialkit.reproduce.published import read_published
from trialkit.reproduce.reconstruct import Reconstruction, reconstruct, targets_from_published

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "trialkit" / "datasets" / "abbasi2012"
DESIGN = BUNDLE / "design.toml"
PUBLISHED = ROOT / "trialkit" / "datasets" / "published" / "abbasi2012.toml"

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

#: the repeated-measures model the bundled spec pre-specifies beside the ANCOVA (one line of its
#: [analysis]): baseline and week 8 both responses, no arm difference at baseline (constrained
#: longitudinal data analysis), so that every randomised subject with a value enters
MMRM_LINE = 'mmrm = { covariance = "us", df = "satterthwaite", baseline = "response" }'
#: the sensitivity analyses for the missing week-8 values the bundled spec pre-specifies (a table
#: after [analysis])
MISSING_DATA_TABLE = (
    "# sensitivity analyses for the participants without a week-8 value (docs/missing-data.md)\n"
    "[analysis.missing_data]\n"
    'methods = ["mi_mar", "mi_j2r", "mi_cr", "tipping_point"]\n'
    "imputations = 100\n"
    "seed = 20121104"
)


def with_mmrm(spec_toml: str) -> str:
    """Return the generated study spec with :data:`MMRM_LINE` at the end of its ``[analysis]`` table.

    :data:`MISSING_DATA_TABLE` follows that table.
    """
    head, sep, tail = spec_toml.partition("\n[analysis]\n")
    if not sep:
        raise TrialkitError("the generated study spec has no [analysis] table.")
    body, gap, rest = tail.partition("\n\n")
    return f"{head}{sep}{body}\n{MMRM_LINE}{gap}{MISSING_DATA_TABLE}{gap}{rest}"


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def build(seed: int = SEED) -> Reconstruction:
    """Build the calibrated reconstruction of the bundled design for ``seed`` (no file is written)."""
    targets = targets_from_published(read_published(PUBLISHED), assumed_directions=ASSUMED_DIRECTIONS)
    return reconstruct(read_design(DESIGN), targets, seed)


def calibration_record(rec: Reconstruction) -> dict[str, Any]:
    """Return the ``calibration`` block of MANIFEST.json: the test, and target vs achieved per endpoint."""
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
    sim = replace(rec.simulation, spec_toml=with_mmrm(rec.simulation.spec_toml))
    written = sim.manifest(design_sha256=sha256_file(DESIGN), design_path=_relative(DESIGN), command=command)
    manifest = {
        "generator": "scripts/make_abbasi2012.py (trialkit.simulate draws, "
        "calibrated by trialkit.reproduce.reconstruct)",
        "study": written["study"],
        "seed": written["seed"],
        "design": written["design"],
        "published": {"path": _relative(PUBLISHED), "sha256": sha256_file(PUBLISHED)},
        "command": written["command"],
        "files": written["files"],
        "calibration": calibration_record(rec),
        "versions": written["versions"],
    }
    paths = sim.to_files(out_dir, manifest=manifest)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate the bundled data from the command line; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED, help=f"simulation seed (default {SEED})")
    parser.add_argument("--out", type=Path, default=BUNDLE, help="output folder (default: the bundle)")
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
