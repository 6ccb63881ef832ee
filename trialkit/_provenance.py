"""Provenance: what made an output — input hashes, package versions, the seed's manifest, the command.

The one place where trialkit hashes inputs, reads package versions and reads the ``MANIFEST.json``
that vouches for synthetic data; every output (results, reports, simulated data, reproductions)
records its provenance through these functions, so that two outputs of the same run agree.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from trialkit._errors import TrialkitError, ValidationError
from trialkit._input import read_input
from trialkit._limits import MANIFEST_BYTES

__all__ = [
    "ANALYSIS_PACKAGES",
    "MANIFEST",
    "Manifest",
    "command_line",
    "read_manifest",
    "relative_inputs",
    "relative_path",
    "sha256_bytes",
    "sha256_file",
    "versions",
]

#: the file beside generated data that records its seed, command and the SHA-256 of every file
MANIFEST = "MANIFEST.json"
#: the packages whose versions determine the numbers of an analysis
ANALYSIS_PACKAGES = ("trialkit", "numpy", "pandas", "scipy", "statsmodels")

_CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    """Return the SHA-256 of ``data`` as 64 lowercase hex digits.

    Examples
    --------
    >>> sha256_bytes(b"")[:16]
    'e3b0c44298fc1c14'
    """
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """Return the SHA-256 of a file's bytes (hex), read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def versions(packages: Iterable[str] = ANALYSIS_PACKAGES, *, python: bool = False) -> dict[str, str]:
    """Return the installed version of each package (``"not installed"`` when absent), in the order given.

    ``python=True`` puts the Python version first under the key ``"python"``.
    """
    out = {"python": platform.python_version()} if python else {}
    for package in packages:
        try:
            out[package] = version(package)
        except PackageNotFoundError:  # pragma: no cover - trialkit and its dependencies are installed
            out[package] = "not installed"
    return out


def relative_path(path: str | os.PathLike[str], base: str | os.PathLike[str]) -> str:
    """Return ``path`` relative to the folder ``base``, with ``/`` separators.

    Both are resolved first (a relative path against the current folder, symbolic links followed),
    so the result names the same file when used from ``base`` whatever the links on the way; it
    climbs with ``..`` when the file is outside ``base``.

    Examples
    --------
    >>> relative_path("/data/trial/arm_a.csv", "/data/trial")
    'arm_a.csv'
    >>> relative_path("/data/published/x.toml", "/data/trial")
    '../published/x.toml'
    """
    return Path(os.path.relpath(Path(path).resolve(), Path(base).resolve())).as_posix()


def command_line(
    argv: str | Sequence[str | os.PathLike[str]] | None, *, base: str | os.PathLike[str] | None = None
) -> str | None:
    """Return the command that made an output as one shell-quoted line (None when unknown).

    Parameters
    ----------
    argv : str or sequence of (str or path), optional
        The command's words. A path object (``pathlib.Path``) is a file or folder argument: with
        ``base`` it is written relative to ``base``, so that the line runs in that folder from any
        checkout. Text is a word, quoted as given. A str ``argv`` is returned as it is.
    base : str or path, optional
        The folder the line is to be run in (the study spec's folder, for the report).

    Examples
    --------
    >>> command_line(["trialkit", "report", "my study.toml"])
    "trialkit report 'my study.toml'"
    >>> command_line(["trialkit", "report", Path("/s/study.toml"), "--out", Path("/s/out")], base="/s")
    'trialkit report study.toml --out out'
    """
    if argv is None or isinstance(argv, str):
        return argv
    words = [
        (relative_path(word, base) if base is not None else os.fspath(word)) if isinstance(word, os.PathLike) else word
        for word in argv
    ]
    return shlex.join(words)


def relative_inputs(
    inputs: Iterable[tuple[str, str]], *, base: str | os.PathLike[str] | None = None
) -> list[dict[str, str]]:
    """Return inputs as ``{"path", "sha256"}`` with paths relative to ``base`` (default: the first input's folder).

    The first input is the study spec; paths relative to its folder keep a provenance record
    independent of where the project was checked out (the hash is the identity).
    """
    pairs = list(inputs)
    if not pairs:
        return []
    folder = Path(pairs[0][0]).resolve().parent if base is None else Path(base)
    return [{"path": relative_path(path, folder), "sha256": digest} for path, digest in pairs]


@dataclass(frozen=True)
class Manifest:
    """A ``MANIFEST.json`` beside generated data: what made the files, and their hashes.

    Attributes
    ----------
    path : Path
        The manifest file.
    seed : int or None
        The seed the data were generated with.
    command : str or None
        The command that generated them.
    files : mapping of str to str
        SHA-256 of each file, by file name (relative to the manifest's folder).
    calibrated : bool
        Whether the data were calibrated to published p-values (the manifest has a
        ``calibration.outcomes.<id>.target_p`` entry): a reproduction of those p-values then
        holds by construction.
    design_sha256 : str or None
        SHA-256 of the design file the data were generated from (``design.sha256``), when recorded.
    """

    path: Path
    seed: int | None
    command: str | None
    files: Mapping[str, str]
    calibrated: bool
    design_sha256: str | None = None

    def vouches_for(self, inputs: Iterable[tuple[str, str]]) -> bool:
        """Whether every ``(path, sha256)`` is a file in the manifest's folder with the recorded hash."""
        folder = self.path.resolve().parent
        return all(
            Path(path).resolve().parent == folder and self.files.get(Path(path).name) == digest
            for path, digest in inputs
        )


def _calibrated(document: Mapping[str, Any]) -> bool:
    calibration = document.get("calibration")
    outcomes = calibration.get("outcomes") if isinstance(calibration, dict) else None
    return isinstance(outcomes, dict) and any(isinstance(o, dict) and "target_p" in o for o in outcomes.values())


def read_manifest(folder: str | Path) -> Manifest | None:
    """Read the ``MANIFEST.json`` in ``folder``; None when there is none.

    Raises
    ------
    TrialkitError
        When the file exists but is not a regular file of at most ``MANIFEST_BYTES`` bytes
        (docs/limits.md) holding a JSON object: what it says (seed, calibration) must not be guessed.
    """
    path = Path(folder) / MANIFEST
    if not os.path.lexists(path):
        return None
    try:  # through the input gate: a FIFO, a device or a huge file is refused, never read without bound
        document = json.loads(
            read_input(path, "manifest", limit=MANIFEST_BYTES, limit_name="MANIFEST_BYTES").decode("utf-8")
        )
    except ValidationError as exc:
        raise TrialkitError(f"cannot read {str(path)!r}: {exc.problems[0].message}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: arrays nested 100,000 deep
        what = "it nests arrays or objects too deep" if isinstance(exc, RecursionError) else str(exc)
        raise TrialkitError(
            f"cannot read {str(path)!r} ({what}); it records how the data beside it were made."
        ) from None
    if not isinstance(document, dict):
        raise TrialkitError(f"{str(path)!r} is not a JSON object; it records how the data beside it were made.")
    files = document.get("files")
    seed = document.get("seed")
    command = document.get("command")
    return Manifest(
        path=path,
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        command=command if isinstance(command, str) else None,
        files={str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {},
        calibrated=_calibrated(document),
        design_sha256=_design_sha256(document),
    )


def _design_sha256(document: Mapping[str, Any]) -> str | None:
    design = document.get("design")
    digest = design.get("sha256") if isinstance(design, dict) else None
    return digest if isinstance(digest, str) else None
