"""The folders and files a command writes, checked before it does any work.

A folder to write into may be missing (it is created); an existing one must be a writable folder
holding no folder where a file is to go, and empty unless ``--force`` is given: a command never
mixes its files into a folder that holds other things (an earlier run's, or the data) unless asked.
A path under ``/proc`` or ``/sys``, or with a name longer than its file system allows, is refused
(:func:`trialkit._cli._paths.path_problem`), and so is a folder that an interrupted run left marked
incomplete, unless this run replaces every file the marker lists.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from trialkit._cli._paths import path_problem
from trialkit._errors import TrialkitError

__all__ = ["check_file", "check_folder"]


def _folder_problem(path: Path, files: Sequence[str] = ()) -> str | None:
    """Say what makes ``path`` unusable as a folder to write into; None when nothing does.

    The folder may be missing (it is created); then its nearest existing ancestor must be a
    writable folder. An existing folder must be writable, and none of ``files`` in it may be a folder.
    """
    if path.exists():
        if not path.is_dir():
            return "exists and is not a folder"
        if not os.access(path, os.W_OK | os.X_OK):
            return "is a folder that is not writable"
        for name in files:
            if (path / name).is_dir():
                return f"holds a folder {name!r} where the file {name} is to be written"
        return None
    if path.is_symlink():
        return "is a broken symbolic link"
    for ancestor in path.absolute().parents:
        if ancestor.is_symlink() and not ancestor.exists():
            return f"cannot be created: {str(ancestor)!r} is a broken symbolic link"
        if not ancestor.exists():
            continue
        if not ancestor.is_dir():
            return f"cannot be created: {str(ancestor)!r} is a file, not a folder"
        if not os.access(ancestor, os.W_OK | os.X_OK):
            return f"cannot be created: the folder {str(ancestor)!r} is not writable"
        return None
    return None


def _is_empty(path: Path) -> bool:
    """Whether ``path`` is missing or an empty folder."""
    if not path.is_dir():
        return not path.exists()
    with os.scandir(path) as entries:
        return next(entries, None) is None


def check_folder(path: Path, option: str, files: Sequence[str] = (), *, force: bool = False) -> None:
    """Refuse, before any work, a folder to write into that cannot be one, or holds anything without ``force``.

    ``option`` names the folder in the message (``--out``, or ``the report folder`` for a default);
    ``files`` are the names the command writes there. Raises TrialkitError naming the folder.
    """
    from trialkit._export import INCOMPLETE_MARKER, incomplete_files  # not at the top: it imports pandas

    for where in (path, *(path / name for name in files)):
        problem = path_problem(where)
        if problem is not None:
            raise TrialkitError(f"{option} {str(where)!r} {problem}.")
    earlier = incomplete_files(path) if path.is_dir() else None
    if earlier is not None and (not earlier or not set(earlier) <= set(files)):
        raise TrialkitError(
            f"{option} {str(path)!r} holds an incomplete set of files left by an interrupted run "
            f"({INCOMPLETE_MARKER} there lists them), which this command would not replace; "
            f"check or delete those files and {INCOMPLETE_MARKER}, or choose an empty or new folder."
        )
    problem = _folder_problem(path, files)
    if problem is not None:
        raise TrialkitError(
            f"{option} {str(path)!r} {problem}; give a folder to write into (it is created when missing)."
        )
    if not force and not _is_empty(path):
        marked = f" (holding an incomplete set of files: see {INCOMPLETE_MARKER} there)" if earlier is not None else ""
        raise TrialkitError(
            f"{option} {str(path)!r} is a folder that is not empty{marked}; pass --force to write into it "
            "(the files of the command's set are replaced, or removed when this run does not write them; other files "
            "are left as they are), or choose an empty or new folder."
        )


def check_file(path: Path, option: str) -> None:
    """Refuse, before any work, a file to write that cannot be written: a folder, a device, a path under a file."""
    problem = path_problem(path)
    if problem is not None:
        raise TrialkitError(f"{option} {str(path)!r} {problem}.")
    if path.is_dir():
        raise TrialkitError(f"{option} {str(path)!r} is a folder; give the path of a CSV file to write.")
    if path.exists() and not path.is_file():
        raise TrialkitError(f"{option} {str(path)!r} exists and is not a regular file; give the path of a CSV file.")
    problem = _folder_problem(path.parent)
    if problem is not None:
        raise TrialkitError(f"{option} {str(path)!r} cannot be written: its folder {str(path.parent)!r} {problem}.")
