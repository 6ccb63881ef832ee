"""What the command line shows: results on stdout, the progress of long stages on stderr.

On stdout, text and tables are drawn by Rich: with colour and at the terminal's width in a
terminal, as plain text (no escape codes, nothing cut to a width) in a pipe or a file. The
progress display goes to stderr and only to a terminal: a pipe, a file or a test's captured
output never sees it. A reader that closes the pipe early (``trialkit analyze ... | head``) ends
the printout, not the command: the files are written and the exit code stays what it was.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table

__all__ = ["Column", "Printer", "silence_stdout", "stages"]

#: the width of the page in a pipe or a file: wide enough that Rich never wraps or cuts a table
PLAIN_WIDTH = 10_000


@dataclass(frozen=True)
class Column:
    """One column of a printed table: its heading and whether its cells are numbers (right-aligned)."""

    heading: str
    numeric: bool = False


def silence_stdout() -> None:
    """Send the rest of stdout to the null device: its reader went away (CPython's advice on SIGPIPE).

    Python ignores SIGPIPE and raises BrokenPipeError instead; without this, the flush at exit
    would raise again and print a traceback.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _console(terminal: bool) -> Console:
    """Return a console for stdout: Rich's terminal output, or plain text on a page too wide to wrap."""
    # spec and data text (labels, file names) is shown as it is: no markup, emoji codes or highlighting
    if terminal:
        return Console(file=sys.stdout, markup=False, emoji=False, highlight=False)
    return Console(
        file=sys.stdout,
        force_terminal=False,
        color_system=None,
        width=PLAIN_WIDTH,
        markup=False,
        emoji=False,
        highlight=False,
    )


class Printer:
    """The command's printout on stdout; nothing at all with ``quiet``.

    Everything is written through :meth:`line` and :meth:`table`, which stop writing (without an
    error) once the reader of a pipe has gone.
    """

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.terminal = sys.stdout.isatty()
        self._closed = False
        self._console = _console(self.terminal)

    def line(self, text: str = "") -> None:
        """Print one line (or several, joined by newlines) as it is."""
        self._write(text)

    def table(self, title: str, columns: Sequence[Column], rows: Sequence[Sequence[str]], note: str = "") -> None:
        """Print a table under a blank line and its title, with a note under it when given."""
        if self.quiet or self._closed:
            return
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
        for c in columns:
            # numbers are never broken over lines; words wrap in a narrow terminal
            table.add_column(c.heading, justify="right" if c.numeric else "left", no_wrap=c.numeric)
        for row in rows:
            table.add_row(*row)
        self._write("")
        self._write(title)
        self._write(self._render(table).rstrip("\n"))
        if note:
            self._write(note)

    def _render(self, renderable: RenderableType) -> str:
        with self._console.capture() as captured:
            self._console.print(renderable)
        text = captured.get()
        if self.terminal:
            return text
        return "\n".join(line.rstrip() for line in text.splitlines())  # cells padded to the column: trim

    def _write(self, text: str) -> None:
        if self.quiet or self._closed:
            return
        try:
            sys.stdout.write(text + "\n")
        except BrokenPipeError:
            self._closed = True
            silence_stdout()


def _ignore(stage: str) -> None:
    """Ignore a stage name: no progress display."""


@contextmanager
def stages(*, show: bool) -> Iterator[Callable[[str], None]]:
    """Yield a function that shows the name of the stage now running, on stderr, while the block runs.

    The display (a spinner, the stage and the time since the start) is transient: it is erased
    when the block ends. It is drawn only when ``show`` and stderr is a terminal; otherwise the
    function does nothing.
    """
    if not show or not sys.stderr.isatty():
        yield _ignore
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(file=sys.stderr, markup=False, emoji=False, highlight=False)
    # stdout is not redirected into the display: the results are printed after it ends
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        redirect_stdout=False,
        refresh_per_second=4,  # a spinner, not an animation: little CPU taken from the work
    ) as progress:
        task = progress.add_task("", total=None, visible=False)  # drawn from the first stage on

        def show_stage(stage: str) -> None:
            progress.update(task, description=stage, visible=True, refresh=True)

        yield show_stage
