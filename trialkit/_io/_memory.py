"""The memory a process may still use: the least of what the machine, the process's limit and its cgroup allow.

:func:`available_memory` is read before a data file is loaded, so that a file whose bound
(``LOAD_MEMORY_FACTOR_LONG`` or ``_WIDE`` times its size, docs/limits.md) does not fit is refused with a message
instead of exhausting the machine or being killed part-way.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Available", "available_memory"]

_PROC = Path("/proc")
_CGROUP = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Available:
    """Bytes of memory the process may still use, and what sets that figure.

    Attributes
    ----------
    bytes : int or None
        None when no source could be read (not Linux): nothing is refused then.
    source : str
        What limits it, as a reader would name it (``"MemAvailable"``, ``"RLIMIT_AS"``,
        ``"cgroup memory.max"``).
    """

    bytes: int | None
    source: str


def _meminfo_available(proc: Path) -> int | None:
    """Return MemAvailable of /proc/meminfo in bytes (None when absent)."""
    try:
        for line in (proc / "meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _address_space_left(proc: Path) -> int | None:
    """Return RLIMIT_AS less the address space already mapped (None when there is no limit)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    used = 0
    try:
        for line in (proc / "self" / "status").read_text().splitlines():
            if line.startswith("VmSize:"):
                used = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        used = 0
    return max(soft - used, 0)


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max" (cgroup v2): no limit


def _cgroup_left(proc: Path, root: Path) -> int | None:
    """Return the least room left under the memory limits of the process's cgroup and its parents (v2 and v1)."""
    try:
        lines = (proc / "self" / "cgroup").read_text().splitlines()
    except OSError:
        return None
    left: list[int] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, where = parts
        if controllers == "":  # v2: memory.max and memory.current
            base, limit_name, usage_name = root, "memory.max", "memory.current"
        elif "memory" in controllers.split(","):  # v1: memory.limit_in_bytes and memory.usage_in_bytes
            base, limit_name, usage_name = root / "memory", "memory.limit_in_bytes", "memory.usage_in_bytes"
        else:
            continue
        folder = base / where.lstrip("/")
        while True:  # a parent's limit binds too
            limit = _read_int(folder / limit_name)
            if limit is not None and limit < 1 << 60:  # v1 writes "no limit" as a huge number
                used = _read_int(folder / usage_name) or 0
                left.append(max(limit - used, 0))
            if folder == base or base not in folder.parents:
                break
            folder = folder.parent
    return min(left) if left else None


def available_memory(proc: Path = _PROC, cgroup: Path = _CGROUP) -> Available:
    """Return the memory this process may still use: the least of MemAvailable, RLIMIT_AS and the cgroup's limit.

    Parameters
    ----------
    proc, cgroup : Path
        Where the proc and cgroup file systems are mounted (other folders in tests).

    Returns
    -------
    Available
        The bytes (MemAvailable of /proc/meminfo; RLIMIT_AS less the address space already
        mapped; the cgroup's ``memory.max`` (v1: ``memory.limit_in_bytes``) less its usage) and
        which of them is the least.
    """
    found = {
        "MemAvailable": _meminfo_available(proc),
        "RLIMIT_AS": _address_space_left(proc),
        "cgroup memory.max": _cgroup_left(proc, cgroup),
    }
    known = {name: value for name, value in found.items() if value is not None}
    if not known:
        return Available(None, "unknown")
    source = min(known, key=lambda name: known[name])
    return Available(known[source], source)
