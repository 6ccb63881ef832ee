"""The report's provenance block: every input with its hash, the spec as read, versions, seed and command.

Paths are relative to the study spec's folder, so the record does not depend on where the project was
checked out; the command is written to be run in that folder.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trialkit._format import format_number
from trialkit._labels import population_label
from trialkit._provenance import command_line, relative_path, sha256_file
from trialkit._provenance import versions as package_versions
from trialkit._report._missing_view import has_missing_data
from trialkit._report._tables import P_ADJUST_NAMES
from trialkit._trial import Trial
from trialkit.analysis._results import Results

__all__ = ["REPORT_PACKAGES", "provenance"]

#: libraries that drew and typeset this report (the analysis versions come from Results.provenance)
REPORT_PACKAGES = ("matplotlib", "jinja2", "weasyprint")


def _spec_path(trial: Trial) -> Path | None:
    """Return the spec file: the first input (``Trial.inputs`` lists the spec first), else ``spec.source``."""
    if trial.inputs:
        return Path(trial.inputs[0].path)
    return Path(trial.spec.source) if trial.spec.source is not None else None


def _manifest_seed(trial: Trial) -> tuple[int | None, str | None]:
    """Return the seed and generator command of synthetic data, when its manifest vouches for it.

    That is a MANIFEST.json beside the spec recording the SHA-256 of every data file read.
    """
    manifest = trial.manifest
    if manifest is None or manifest.seed is None:
        return None, None
    if not manifest.vouches_for((i.path, i.sha256) for i in trial.inputs):
        return None, None
    return manifest.seed, manifest.command


def _inputs(trial: Trial, folder: Path, published: Path | None) -> list[dict[str, str]]:
    """Return every file the report rests on, relative to the spec's folder, with its SHA-256 and role."""
    out = []
    for k, i in enumerate(trial.inputs):
        out.append(
            {"path": relative_path(i.path, folder), "sha256": i.sha256, "role": "study spec" if k == 0 else "data"}
        )
    if trial.manifest is not None and trial.manifest.path.is_file():
        out.append(
            {
                "path": relative_path(trial.manifest.path, folder),
                "sha256": sha256_file(trial.manifest.path),
                "role": "how the synthetic data were made",
            }
        )
    if published is not None:
        out.append(
            {"path": relative_path(published, folder), "sha256": sha256_file(published), "role": "published results"}
        )
    return out


def provenance(
    trial: Trial,
    results: Results,
    *,
    command: str | Sequence[str | os.PathLike[str]] | None,
    generated: str,
    published: Path | None = None,
) -> dict[str, Any]:
    """Record what made this report: inputs and their hashes, the spec, versions, seed, command and time.

    Paths are relative to the study spec's folder, and a ``command`` given as words (paths as
    ``Path``) is written to run there; a command given as one string is shown as given.
    """
    prov = results.provenance
    spec_path = _spec_path(trial)
    folder = spec_path.resolve().parent if spec_path is not None else Path.cwd()
    spec_text = None
    if spec_path is not None:
        try:
            spec_text = spec_path.read_text(encoding="utf-8")
        except OSError:
            spec_text = None
    spec_input = trial.inputs[0] if trial.inputs else None
    versions = dict(prov.get("versions", {}))
    report_versions = package_versions(REPORT_PACKAGES)
    seed = prov.get("seed")
    seed_source = "analysis" if seed is not None else None
    generator = None
    if seed is None:
        seed, generator = _manifest_seed(trial)
        seed_source = "MANIFEST.json beside the spec (synthetic data)" if seed is not None else None
    mismatched = None
    if spec_input is not None and spec_path is not None and spec_text is not None:
        try:
            mismatched = sha256_file(spec_path) != spec_input.sha256
        except OSError:
            mismatched = None
    populations = [population_label(str(p)) for p in prov.get("populations", [])]
    return {
        "inputs": _inputs(trial, folder, published),
        "spec_path": relative_path(spec_path, folder) if spec_path is not None else None,
        "spec_sha256": spec_input.sha256 if spec_input else None,
        "spec_text": spec_text if not mismatched else None,
        "spec_changed": bool(mismatched),
        "versions": versions,
        "report_versions": report_versions,
        "python": platform.python_version(),
        "seed": None if seed is None else str(seed),
        "seed_source": seed_source,
        "generator": generator,
        "command": command_line(command, base=folder),
        "command_in_spec_folder": command is not None and not isinstance(command, str),
        "generated": generated,
        "alpha": format_number(results.alpha),
        "multiplicity": P_ADJUST_NAMES.get(str(prov.get("multiplicity")), str(prov.get("multiplicity"))),
        # Dunnett's many-to-one adjustment applies with three arms or more
        "dunnett": bool(prov.get("dunnett")) and len(trial.arms) > 2,
        "populations": ", ".join(populations),
        "mi_seed": str(prov["missing_data"]["seed"]) if has_missing_data(results) else None,
    }
