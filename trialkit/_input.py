"""The one gate every input file passes before trialkit reads it.

A study spec, a design file, a published-results file, a data file and a ``MANIFEST.json`` are
each opened here first. Only a regular file passes: a folder, a named pipe (FIFO), a socket, a
device such as ``/dev/zero`` or ``/dev/urandom``, a loop of symbolic links, a path holding a NUL
character or a name longer than the system allows each become a :class:`~trialkit.Problem` at
once, never a hang, a traceback or an exhausted memory.

The file is opened with ``O_NONBLOCK`` (opening a FIFO then returns at once instead of waiting
for a writer) and judged by ``fstat`` of the open descriptor, so that a file swapped for a FIFO
or a device between a check and the open is caught too. :func:`read_input` reads at most one
byte more than its limit.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from trialkit._errors import Problem, Rule, ValidationError

__all__ = ["check_input", "read_input", "shown_path"]

#: what a file that is not a regular file is, by its ``st_mode`` type
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)
_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def shown_path(path: str | os.PathLike[str]) -> str:
    r"""Return a path as a problem names it: control characters (a NUL) written as escapes.

    Examples
    --------
    >>> shown_path("data/\x00trial.csv")
    'data/\\x00trial.csv'
    """
    text = os.fspath(path)
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def _not_regular(mode: int, what: str) -> str | None:
    if stat.S_ISREG(mode):
        return None
    kind = next((name for is_kind, name in _KINDS if is_kind(mode)), "not a regular file")
    return f"the {what} is {kind}, not a regular file; trialkit reads only regular files."


def _refusal(path: str, what: str, exc: OSError) -> Problem:
    """Return the problem an ``OSError`` from finding or opening an input means."""
    code = exc.errno
    if code in (errno.ENOENT, errno.ENOTDIR):
        return Problem(Rule.FILE_NOT_FOUND, path, f"the {what} does not exist.")
    if code == errno.ELOOP:
        return Problem(Rule.NOT_A_FILE, path, f"the {what}'s path is a loop of symbolic links; it leads to no file.")
    if code == errno.ENAMETOOLONG:
        return Problem(
            Rule.NOT_A_FILE,
            path,
            f"the {what}'s path ({len(path):,} characters) or a name in it is longer than this system allows; "
            "use a shorter name.",
        )
    if code in (errno.ENXIO, errno.ENODEV):  # a socket or a device without a driver: not a file
        return Problem(Rule.NOT_A_FILE, path, f"the {what} is not a regular file; trialkit reads only regular files.")
    if code in (errno.EACCES, errno.EPERM):
        return Problem(Rule.UNREADABLE_FILE, path, f"the {what} cannot be read: permission denied.")
    return Problem(Rule.UNREADABLE_FILE, path, f"the {what} cannot be opened: {exc.strerror or exc}.")


def _open(path: str | os.PathLike[str], what: str) -> tuple[int | None, Problem | None]:
    """Open a regular file for reading; return its descriptor, or the problem that stops it."""
    shown = shown_path(path)
    text = os.fspath(path)
    if "\x00" in text:
        return None, Problem(
            Rule.NOT_A_FILE, shown, f"the {what}'s path holds a NUL character, which no file name can hold."
        )
    try:
        # stat first, so that a device or a FIFO is judged without being opened at all
        kind = _not_regular(os.stat(text).st_mode, what)
        if kind is not None:
            return None, Problem(Rule.NOT_A_FILE, shown, kind)
        fd = os.open(text, _FLAGS)
    except OSError as exc:
        return None, _refusal(shown, what, exc)
    try:
        # the descriptor is what is read: a swap for a FIFO or a device after the stat is caught here
        kind = _not_regular(os.fstat(fd).st_mode, what)
    except OSError as exc:  # pragma: no cover - fstat of an open descriptor does not fail in practice
        os.close(fd)
        return None, _refusal(shown, what, exc)
    if kind is not None:
        os.close(fd)
        return None, Problem(Rule.NOT_A_FILE, shown, kind)
    return fd, None


def check_input(path: str | os.PathLike[str], what: str) -> Problem | None:
    """Return why an input path cannot be read as a regular file, or None when it can.

    Parameters
    ----------
    path : str or path
        The input.
    what : str
        Its role in the message ("data file", "study spec", ...).

    Returns
    -------
    Problem or None
        ``file_not_found`` (absent), ``not_a_file`` (a folder, FIFO, socket, device, symbolic-link
        loop, NUL in the path, a name over the system's limit) or ``unreadable_file`` (permission
        denied); None for a regular file that opens for reading.

    Examples
    --------
    >>> check_input("/dev/zero", "data file").message
    'the data file is a character device, not a regular file; trialkit reads only regular files.'
    """
    fd, problem = _open(path, what)
    if fd is not None:
        os.close(fd)
    return problem


def read_input(path: str | os.PathLike[str], what: str, *, limit: int, limit_name: str) -> bytes:
    """Return the bytes of a regular file of at most ``limit`` bytes.

    Parameters
    ----------
    path : str or path
        The input.
    what : str
        Its role in messages ("study spec", "design file", ...).
    limit : int
        The most bytes accepted (a constant of :mod:`trialkit._limits`); at most ``limit + 1``
        bytes are ever read.
    limit_name : str
        The constant's name, quoted in the message (docs/limits.md lists it).

    Raises
    ------
    ValidationError
        With the one problem of :func:`check_input`, or ``too_large`` when the file holds more
        than ``limit`` bytes.
    """
    fd, problem = _open(path, what)
    if fd is None:
        assert problem is not None  # _open returns a descriptor or a problem
        raise ValidationError([problem])
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= limit:
            chunk = os.read(fd, min(limit + 1 - size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ValidationError([_refusal(shown_path(path), what, exc)]) from None
    finally:
        os.close(fd)
    if size > limit:
        raise ValidationError(
            [
                Problem(
                    Rule.TOO_LARGE,
                    shown_path(Path(path)),
                    f"the {what} is larger than {limit:,} bytes, the limit {limit_name} (docs/limits.md).",
                )
            ]
        )
    return b"".join(chunks)
