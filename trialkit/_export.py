r"""Writing outputs: the one writer every output goes through, and the encodings of tables.

:func:`write_files` writes a set of files all or nothing. A new folder is written whole as a hidden
temporary folder beside it and renamed into place in one step. Into a folder that exists, each file
is first written in full to a hidden temporary file there; only then are they renamed into place,
one by one, while a visible marker (:data:`INCOMPLETE_MARKER`) says that the set is incomplete. A
failure (a full disk, a read-only file system, Ctrl-C, SIGTERM) leaves the previous files as they
were and no temporary file behind; only a kill that cannot be caught (SIGKILL, a power cut) between
two renames leaves the marker, naming the files that may mix two runs. Tables are encoded by
:func:`csv_bytes` (UTF-8, ``\n`` line ends, full float precision, spreadsheet-safe text) and
documents by :func:`json_bytes`.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from trialkit._errors import Problem, Rule, TrialkitError

__all__ = [
    "FORMULA_PREFIXES",
    "INCOMPLETE_MARKER",
    "TEMPORARY_PREFIX",
    "csv_bytes",
    "frame_records",
    "incomplete_files",
    "incomplete_set_problems",
    "json_bytes",
    "neutralise_cells",
    "write_files",
]

#: a text cell starting with one of these is run as a formula by spreadsheet programs
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` in which text cells a spreadsheet would run as a formula start with ``'``.

    Only text is changed; numbers (including negative ones) stay numbers.

    Examples
    --------
    >>> neutralise_cells(pd.DataFrame({"a": ["=1+1", "ok"], "b": [-1, 2]})).to_dict("list")
    {'a': ["'=1+1", 'ok'], 'b': [-1, 2]}
    """
    out = frame.copy()
    for c in out.columns:
        dtype = out[c].dtype
        if (
            pd.api.types.is_object_dtype(dtype)
            or pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
        ):
            out[c] = out[c].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v)
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    r"""Encode a table as CSV: UTF-8, ``\n`` line ends, full float precision, formula-like text neutralised."""
    text: str = neutralise_cells(frame).to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is pd.NA:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return value


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows of ``frame`` as dicts with JSON-safe values (NaN and NA become None)."""
    records: list[dict[str, Any]] = [_jsonable(r) for r in frame.astype(object).to_dict("records")]
    return records


def json_bytes(document: Mapping[str, Any]) -> bytes:
    """Encode a document as indented UTF-8 JSON, keys in their order, NaN as null, ending in a newline."""
    text = json.dumps(_jsonable(dict(document)), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return text.encode("utf-8")


#: the visible file that says a folder holds an incomplete set of files (see :func:`write_files`)
INCOMPLETE_MARKER = "INCOMPLETE-trialkit.txt"
#: the names of the temporary files and folders of :func:`write_files` start with this
TEMPORARY_PREFIX = ".trialkit-"
_MARKER_HEADER = "Files of the set (each may be from this run or from an earlier one):"

#: what an error writing a file means, and what to do about it
_WRITE_ERRORS = {
    errno.ENOSPC: ("the disk is full", "free some space or write elsewhere"),
    errno.EDQUOT: ("the disk quota is used up", "free some space or write elsewhere"),
    errno.EROFS: ("the file system is read-only", "write elsewhere"),
    errno.EACCES: ("permission denied", "write to a folder you may write to"),
    errno.EPERM: ("the operation is not permitted", "write to a folder you may write to"),
    errno.ENAMETOOLONG: ("a name is too long for the file system", "choose a shorter path"),
    errno.EFBIG: ("a file is too large for the file system", "write elsewhere"),
    errno.EIO: ("an input/output error of the device", "write elsewhere"),
}


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_error(folder: Path, exc: OSError, *, incomplete: bool) -> TrialkitError:
    """Return the error for ``exc`` met while writing into ``folder``: what happened, what is left, what to do."""
    code = exc.errno if exc.errno is not None else 0
    reason, advice = _WRITE_ERRORS.get(code, (exc.strerror or str(exc), "write elsewhere"))
    name = f" ({errno.errorcode[code]})" if code in errno.errorcode else ""
    if incomplete:
        left = f"the folder now holds an incomplete set of files, listed in {INCOMPLETE_MARKER} there"
    else:
        left = "nothing was written (the folder is as it was)"
    return TrialkitError(f"cannot write the files into {str(folder)!r}: {reason}{name}; {left}; {advice}.")


def incomplete_files(folder: str | Path) -> tuple[str, ...] | None:
    """Return the files an interrupted :func:`write_files` left incomplete in ``folder``; None when none did.

    An interrupted run is one whose :data:`INCOMPLETE_MARKER` is still there; a marker whose list
    cannot be read gives an empty tuple (the whole folder is then in doubt).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> incomplete_files(folder) is None
    True
    """
    marker = Path(folder) / INCOMPLETE_MARKER
    try:
        text = marker.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError:
        return ()
    _, _, listed = text.partition(_MARKER_HEADER + "\n")
    names = []
    for line in listed.splitlines():
        if not line.startswith("  "):
            break
        names.append(line.strip())
    return tuple(names)


def incomplete_set_problems(folder: str | Path) -> list[Problem]:
    """Return an ``unreadable_file`` problem when ``folder`` holds a set of files an interrupted run left incomplete.

    Data that :func:`write_files` was replacing when it was killed may mix two runs: they are not
    read (see :func:`incomplete_files`).
    """
    names = incomplete_files(folder)
    if names is None:
        return []
    marker = Path(folder) / INCOMPLETE_MARKER
    listed = f" ({', '.join(names)})" if names else ""
    return [
        Problem(
            Rule.UNREADABLE_FILE,
            str(marker),
            f"the folder holds an incomplete set of files{listed}, left by a run that was stopped while it "
            f"replaced them: they may mix two runs; write them again, or delete {INCOMPLETE_MARKER} "
            "once you know they belong together.",
        )
    ]


def _marker_text(names: list[str]) -> str:
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv and sys.argv[0] else "(unknown)"
    return (
        "trialkit was replacing the files below in this folder when it was stopped, between two renames:\n"
        "they may mix files of this run with files of an earlier one.\n"
        f"Command: {command}\n"
        f"{_MARKER_HEADER}\n" + "".join(f"  {name}\n" for name in names) + "\n"
        "Run the command again (with --force) to write the whole set; this file is removed when it succeeds.\n"
    )


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) and SIGTERM until the block ends, then deliver them; only in the main thread.

    A handler runs only in the main thread, so elsewhere nothing is held (and nothing needs to be:
    a signal then interrupts the main thread, not this block).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        if handler is not None:  # None: a handler set outside Python, which could not be put back
            previous[signum] = handler
            signal.signal(signum, lambda number, _frame: received.append(number))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for number in dict.fromkeys(received):
            signal.raise_signal(number)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    with open(path, "xb") as fh:
        fh.write(data)
    os.chmod(path, mode)


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return those created, outermost first."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    return missing[::-1]


def _write_new_folder(target: Path, contents: Mapping[str, bytes], mode: int) -> None:
    """Write ``contents`` as the new folder ``target``: a temporary folder beside it, renamed in one step."""
    created = _make_parents(target.parent)
    try:
        temporary = Path(tempfile.mkdtemp(dir=target.parent, prefix=TEMPORARY_PREFIX))
        try:
            for name, data in contents.items():
                _write_new(temporary / name, data, mode)
            os.chmod(temporary, 0o777 & ~_umask())
            os.rename(temporary, target)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
    except BaseException:
        for folder in reversed(created):  # only the folders made for this set, and only while empty
            try:
                folder.rmdir()
            except OSError:
                break
        raise


def _write_into_folder(folder: Path, contents: Mapping[str, bytes], mode: int, removes: Sequence[str] = ()) -> None:
    """Write ``contents`` into the existing ``folder``: temporary files there, renamed under a marker.

    ``removes`` are files of an earlier set that this one does not include: removed under the same marker.
    """
    names = list(contents)
    removes = [name for name in removes if name not in contents and (folder / name).is_file()]
    earlier = incomplete_files(folder)
    if earlier is not None and len(names) == 1 and earlier and names[0] not in earlier:
        earlier = None  # one file beside the marked set (a problem table): one rename, the marker stays
    elif earlier is not None and not set(earlier) <= set(names):
        left = sorted(set(earlier) - set(names)) if earlier else ["(unknown)"]
        raise TrialkitError(
            f"the folder {str(folder)!r} holds an incomplete set of files from an interrupted run "
            f"({INCOMPLETE_MARKER} there lists them): this run would not replace {', '.join(left)}; "
            f"check or delete those files and {INCOMPLETE_MARKER}, or write elsewhere."
        )
    # one rename is one step: nothing to mark
    marked = len(names) + len(removes) > 1 or earlier is not None
    pending: list[tuple[Path, Path]] = []
    committing = False
    try:
        for name, data in contents.items():
            fd, temporary = tempfile.mkstemp(dir=folder, prefix=TEMPORARY_PREFIX, suffix=".tmp")
            pending.append((Path(temporary), folder / name))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(temporary, mode)
        with _signals_deferred():
            if marked:
                fd, temporary = tempfile.mkstemp(dir=folder, prefix=TEMPORARY_PREFIX, suffix=".tmp")
                pending.append((Path(temporary), folder / INCOMPLETE_MARKER))
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(_marker_text(names))
                os.chmod(temporary, mode)
                os.replace(temporary, folder / INCOMPLETE_MARKER)
            committing = True
            for temporary_path, target in pending[: len(names)]:
                os.replace(temporary_path, target)
            for name in removes:
                (folder / name).unlink(missing_ok=True)
            if marked:
                (folder / INCOMPLETE_MARKER).unlink()
            committing = False
    except OSError as exc:
        raise _write_error(folder, exc, incomplete=committing) from exc
    finally:
        for temporary_path, _ in pending:
            temporary_path.unlink(missing_ok=True)


def write_files(folder: str | Path, contents: Mapping[str, bytes], *, removes: Sequence[str] = ()) -> list[Path]:
    """Write ``contents`` (file name -> bytes) into ``folder``, all or nothing.

    Parameters
    ----------
    folder : str or Path
        Created (with its parents) when missing.
    contents : mapping of str to bytes
        File names inside ``folder`` (plain names, no folders) and their complete contents.
    removes : sequence of str, optional
        Names of files that belong to the command's set but not to this run's (an optional table
        an earlier run wrote): removed, when present, in the same step as the set is put in place,
        so that the folder never shows an earlier run's file as this run's.

    Returns
    -------
    list of Path
        The files written, in the order of ``contents``.

    Raises
    ------
    TrialkitError
        When the files cannot be written (a full disk, a read-only file system, no permission, a
        name too long): the message names the folder and the cause, and nothing is written.

    Notes
    -----
    A missing folder is written whole as a hidden temporary folder beside it (``.trialkit-*``,
    on the same file system) and renamed into place in one step: it appears complete or not at
    all. A folder that exists is never replaced (it may be a mount point or someone's working
    folder): every file is written to a hidden temporary file in it, and only when all are written
    are they renamed over their targets, one by one. With more than one file, a visible marker
    :data:`INCOMPLETE_MARKER` listing the files is put there before the first rename and removed
    after the last, so a set left incomplete by a kill between two renames says so; Ctrl-C and
    SIGTERM are held while the renames run. A marker left by an earlier run is removed only by a
    run that writes every file it lists (any other run is refused). On any failure and on Ctrl-C
    the temporary files are removed, and so are the folders made for the set. Files get the usual
    permissions (0666 less the umask), not the 0600 of a temporary file.
    """
    out = Path(folder)
    for name in contents:
        if not name or name in (".", "..", INCOMPLETE_MARKER) or "/" in name or os.sep in name:
            raise TrialkitError(f"cannot write a file named {name!r}: give a plain file name.")
    mode = 0o666 & ~_umask()
    try:
        if not out.exists() and not out.is_symlink():
            _write_new_folder(out, contents, mode)
        else:
            _write_into_folder(out, contents, mode, removes)
    except OSError as exc:
        raise _write_error(out, exc, incomplete=False) from exc
    return [out / name for name in contents]
