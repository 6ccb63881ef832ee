"""Snapshot the bundled synthetic 2012 trial into one wide CSV for the R reference analyses.

Run from the repository root (before ``Rscript tests/reference/analyses/make_reference.R``):

    .venv/bin/python tests/reference/analyses/snapshot_abbasi2012.py

Reads ``data/synthetic/abbasi2012/{study.toml, placebo.csv, magnesium.csv}`` and writes
``tests/reference/analyses/abbasi2012/{trial.csv, study.toml}``:

* ``trial.csv``: the per-arm files stacked (control arm first, then the other arms in the order
  of ``[data.files]``), with an ``arm`` column inserted after the subject column. Every value is
  copied as text, byte for byte (no parsing, no reformatting: "0.80" stays "0.80").
* ``study.toml``: the source spec with ``[arms]`` given ``column = "arm"`` and ``levels``
  (control first) and ``[data]`` reading ``trial.csv`` (wide, pattern ``{endpoint}_{visit}``).
  Every other line (study, visits, endpoints, analysis) is kept verbatim.

Only the standard library is used; the sources are never modified.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

SOURCE = Path("data/synthetic/abbasi2012")
TARGET = Path("tests/reference/analyses/abbasi2012")


def _lines(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8")
    if text.startswith("\ufeff") or "\r" in text or '"' in text:
        raise SystemExit(f"{path}: unexpected BOM, CR or quote; the text copy assumes plain CSV")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def main() -> None:
    spec_text = (SOURCE / "study.toml").read_text(encoding="utf-8")
    spec = tomllib.loads(spec_text)
    control = spec["arms"]["control"]
    files = spec["data"]["files"]
    subject = spec["data"]["subject"]
    arms = [control] + [a for a in files if a != control]

    header = None
    out: list[str] = []
    for arm in arms:
        lines = _lines(SOURCE / files[arm])
        cols = lines[0].split(",")
        if cols[0] != subject:
            raise SystemExit(f"{files[arm]}: first column is {cols[0]!r}, expected {subject!r}")
        if "arm" in cols:
            raise SystemExit(f"{files[arm]}: already has an 'arm' column")
        if header is None:
            header = lines[0]
            out.append(",".join([cols[0], "arm"] + cols[1:]))
        elif lines[0] != header:
            raise SystemExit(f"{files[arm]}: header differs from the first file's")
        for line in lines[1:]:
            cells = line.split(",")
            if len(cells) != len(cols):
                raise SystemExit(f"{files[arm]}: row with {len(cells)} cells: {line!r}")
            out.append(",".join([cells[0], arm] + cells[1:]))
    TARGET.mkdir(parents=True, exist_ok=True)
    (TARGET / "trial.csv").write_bytes(("\n".join(out) + "\n").encode("utf-8"))

    # study.toml: same text, [arms] and [data] rewritten for the single wide file
    body = re.sub(
        r"(?ms)^\[arms\]\n.*?(?=^\[)",
        '[arms]\ncolumn = "arm"\ncontrol = "{}"\nlevels = [{}]\n\n'.format(control, ", ".join(f'"{a}"' for a in arms)),
        spec_text,
        count=1,
    )
    body = re.sub(
        r"(?ms)^\[data\]\n.*\Z",
        f'[data]\nformat = "wide"\nsubject = "{subject}"\npath = "trial.csv"\npattern = "{{endpoint}}_{{visit}}"\n',
        body,
        count=1,
    )
    body = "\n".join(line for line in body.split("\n") if not line.startswith("#")).lstrip("\n")
    digests = ", ".join(
        f"{name} {hashlib.sha256((SOURCE / name).read_bytes()).hexdigest()[:16]}"
        for name in ["study.toml"] + [files[a] for a in arms]
    )
    head = (
        "# Snapshot of data/synthetic/abbasi2012 (SYNTHETIC data, not the trial's records) for the\n"
        "# R reference analyses; written by tests/reference/analyses/snapshot_abbasi2012.py.\n"
        f"# Source SHA-256 (first 16 hex): {digests}\n\n"
    )
    (TARGET / "study.toml").write_text(head + body, encoding="utf-8")

    new = tomllib.loads(head + body)
    old = spec
    for key in ("study", "visits", "endpoints", "analysis"):
        assert new[key] == old[key], key
    print(f"wrote {TARGET}/trial.csv ({len(out) - 1} subjects) and {TARGET}/study.toml")


if __name__ == "__main__":
    main()
