"""The paths of a run: what it reads and what it writes, checked against each other before any work.

A command refuses to start when one of the files it writes is one of the files it reads: the same
path, the same file through a symbolic link, or a hard link to it (the same device and inode). It
also refuses an output path that cannot name a file of the user's: one under ``/proc`` or ``/sys``
(file systems of the kernel) or one with a name longer than its file system allows.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from trialkit._errors import TrialkitError

__all__ = ["KERNEL_FILE_SYSTEMS", "Input", "check_apart", "design_inputs", "path_problem", "spec_inputs"]

#: file systems of the kernel: their entries are not files, and nothing can be written there
KERNEL_FILE_SYSTEMS = ("/proc", "/sys")


@dataclass(frozen=True)
class Input:
    """A file the run reads, and what it is to the run (``the study spec``, ``a data file of the study spec``)."""

    what: str
    path: Path


def _limit(path: str, name: str, default: int) -> int:
    try:
        return os.pathconf(path, name)
    except (OSError, ValueError):
        return default


def path_problem(path: Path) -> str | None:
    """Say what keeps ``path`` from naming a file or folder to write; None when nothing does.

    Examples
    --------
    >>> path_problem(Path("/proc/out"))
    'is under /proc, a file system of the kernel where no file can be written; choose a folder on a disk'
    >>> path_problem(Path("x" * 300))[:40]
    'has a name of 300 bytes, longer than the'
    """
    resolved = os.path.realpath(path)
    for root in KERNEL_FILE_SYSTEMS:
        if resolved == root or resolved.startswith(root + "/"):
            return (
                f"is under {root}, a file system of the kernel where no file can be written; choose a folder on a disk"
            )
    absolute = os.path.abspath(path)
    existing = absolute
    while not os.path.isdir(existing) and os.path.dirname(existing) != existing:
        existing = os.path.dirname(existing)
    name_max = _limit(existing, "PC_NAME_MAX", 255)
    path_max = _limit(existing, "PC_PATH_MAX", 4096)
    for part in Path(absolute).parts:
        size = len(os.fsencode(part))
        if size > name_max:
            return (
                f"has a name of {size} bytes, longer than the {name_max} its file system allows; choose a shorter name"
            )
    size = len(os.fsencode(absolute))
    if size >= path_max:
        return f"is {size} bytes long, longer than the {path_max - 1} its file system allows; choose a shorter path"
    return None


def spec_inputs(spec: str | Path) -> list[Input]:
    """Return the files a run on the study spec ``spec`` reads: the spec, the MANIFEST.json beside it, its data.

    A spec that cannot be read has no data files to protect beyond itself (the run stops at its
    problems before it writes anything but the problem table).
    """
    from trialkit._io._spec_problems import read_spec_for_data
    from trialkit._provenance import MANIFEST

    path = Path(spec)
    found = [Input("the study spec", path), Input(f"the {MANIFEST} beside the study spec", path.parent / MANIFEST)]
    try:
        read, _ = read_spec_for_data(path)
    except (TrialkitError, OSError, RecursionError):
        read = None
    if read is not None:
        found += [Input("a data file of the study spec", source) for _, source in read.data.sources]
    return found


def design_inputs(design: str | Path) -> list[Input]:
    """Return the files ``trialkit simulate`` reads: the design file."""
    return [Input("the design file", Path(design))]


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)  # through symbolic links: the file itself
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _how(output: Path, source: Path) -> str:
    """Say how ``output`` and the input ``source`` are one file."""
    if os.path.abspath(output) == os.path.abspath(source):
        return ""
    if os.path.realpath(output) == os.path.realpath(source):
        return " (the same file, through a symbolic link or another path)"
    return " (the same file: a hard link to it)"


def check_apart(inputs: Iterable[Input], outputs: Sequence[tuple[str, Path]]) -> None:
    """Refuse, before any work, a run that would write one of its inputs, or write one file twice.

    ``outputs`` are (option, path) pairs, such as ``("--problems", Path("problems.csv"))`` and
    ``("--out", Path("out/results.csv"))``. Raises TrialkitError naming both paths.
    """
    read: dict[tuple[int, int], Input] = {}
    for source in inputs:
        key = _identity(source.path)
        if key is not None:
            read.setdefault(key, source)
    for option, output in outputs:
        key = _identity(output)
        met = read.get(key) if key is not None else None
        if met is not None:
            raise TrialkitError(
                f"{option} {str(output)!r} is {met.what} {str(met.path)!r}{_how(output, met.path)}: "
                "the run would replace one of its inputs; choose another path to write."
            )
    seen: dict[str, tuple[str, Path]] = {}
    for option, output in outputs:
        where = os.path.realpath(output)
        if where in seen and seen[where][0] != option:
            earlier, path = seen[where]
            raise TrialkitError(
                f"{earlier} {str(path)!r} is also a file that {option} gets ({str(output)!r}): "
                f"the run would write one file twice; choose another path for {earlier}."
            )
        seen.setdefault(where, (option, output))
