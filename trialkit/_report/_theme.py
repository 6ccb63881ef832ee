"""One look for every figure of the report: the theme, the arm colours and markers, and the value axes.

Every figure is drawn inside :func:`theme`, a ``matplotlib.rc_context`` holding seaborn's "ticks"
style and "paper" context under the report's own settings. Nothing is set globally: a user's
matplotlib or seaborn settings are the same before and after a report. The settings that make the
SVG deterministic and inert live here too: a fixed hash salt, no maths parsing (a ``$`` in a label
is a dollar sign), text kept as text.

A value axis is logarithmic for a log-scale endpoint (:func:`value_scale`), with ticks a reader can
read in the unit (:func:`log_ticks`), and every tick label carries the typographic minus (U+2212).
"""

from __future__ import annotations

import math
import textwrap
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from trialkit._format import format_number
from trialkit._limits import LABEL_CHARS, TEXT_CHARS
from trialkit._spec import Endpoint

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "CONTROL_GREY",
    "GLYPHS",
    "MARKERS",
    "OKABE_ITO",
    "SHOWN_CHARS",
    "STYLE",
    "WIDTH_IN",
    "arm_colours",
    "glyph",
    "log_ticks",
    "marker",
    "panel_width",
    "set_value_axis",
    "shown",
    "theme",
    "fit",
    "text_width",
    "value_scale",
    "wrap",
]

#: Okabe & Ito (2008) colour-blind-safe palette; the control arm is drawn in its grey
OKABE_ITO = ("#E69F00", "#0072B2", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
CONTROL_GREY = "#7F7F7F"
#: the marker of each arm in order, and the same shape as a character (tables of numbers under a panel)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
GLYPHS = ("●", "■", "▲", "◆", "▼", "✚", "✖", "★")
WIDTH_IN = 6.9  # A4 text width at 18 mm margins
VALUE_AXIS_PT = 45  # a panel's value axis: tick labels, axis label and the space around them
#: the most a figure draws of one label: two labels joined ("arm, visit"), each within the spec's limit
SHOWN_CHARS = 2 * LABEL_CHARS + 2
FONT_PT = 7.5

#: the report's settings over seaborn's style; typed loosely: matplotlib's stubs key rc_context by a literal
STYLE: Any = {
    "svg.fonttype": "none",
    "svg.hashsalt": "trialkit",
    "text.parse_math": False,
    "axes.unicode_minus": True,
    "font.family": "DejaVu Sans",
    "font.size": FONT_PT,
    "axes.titlesize": 8,
    "axes.titleweight": "bold",
    "axes.labelsize": FONT_PT,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#E5E5E5",
    "grid.linewidth": 0.6,
    "axes.edgecolor": "#555555",
    "axes.labelcolor": "#262626",
    "text.color": "#262626",
    "axes.linewidth": 0.7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "xtick.major.size": 3,
    "ytick.major.size": 3,
    "xtick.minor.size": 1.8,
    "ytick.minor.size": 1.8,
    "xtick.major.width": 0.7,
    "ytick.major.width": 0.7,
    "xtick.minor.width": 0.5,
    "ytick.minor.width": 0.5,
    "legend.fontsize": FONT_PT,
    "legend.frameon": False,
    "lines.linewidth": 1.3,
    "lines.markersize": 4.5,
    "patch.linewidth": 0.7,
    "figure.dpi": 72,
    # an axis reads 10-18, never 1.0-1.8 with a "1e1" offset a reader can miss
    "axes.formatter.useoffset": False,
}


def theme() -> AbstractContextManager[Any]:
    """Return the context every report figure is drawn and written in.

    seaborn's "ticks" style and "paper" context (scaled to the report's 7.5 pt text) under
    :data:`STYLE`, as one ``matplotlib.rc_context``: the settings end with the ``with`` block.

    >>> import matplotlib as mpl
    >>> before = dict(mpl.rcParams)
    >>> with theme():
    ...     mpl.rcParams["svg.fonttype"], mpl.rcParams["axes.unicode_minus"]
    ('none', True)
    >>> dict(mpl.rcParams) == before
    True
    """
    import matplotlib as mpl
    import seaborn as sns

    settings = {
        **sns.axes_style("ticks"),
        **sns.plotting_context("paper", font_scale=FONT_PT / 9.6),  # "paper" is 9.6 pt
        **STYLE,
    }
    return mpl.rc_context(settings)


def arm_colours(arms: tuple[str, ...]) -> dict[str, str]:
    """Colour per arm: grey for the control arm (listed first), Okabe–Ito colours for the others.

    >>> arm_colours(("placebo", "low", "high"))
    {'placebo': '#7F7F7F', 'low': '#E69F00', 'high': '#0072B2'}
    """
    return {a: CONTROL_GREY if i == 0 else OKABE_ITO[(i - 1) % len(OKABE_ITO)] for i, a in enumerate(arms)}


def marker(i: int) -> str:
    """Return the matplotlib marker of the ``i``-th arm."""
    return MARKERS[i % len(MARKERS)]


def glyph(i: int) -> str:
    """Return the ``i``-th arm's marker as a character, for text beside numbers."""
    return GLYPHS[i % len(GLYPHS)]


def shown(text: object, most: int = SHOWN_CHARS) -> str:
    """Return ``text``, cut to ``most`` characters ending in "…" when longer: what a figure draws of it.

    Validation keeps every label within ``LABEL_CHARS``; the cut bounds the layout's work on text that
    did not pass it.

    >>> shown("Placebo"), shown("x" * 10, 4)
    ('Placebo', 'xxx…')
    """
    text = str(text)
    return text if len(text) <= most else text[: most - 1] + "…"


def wrap(text: str, width: int = 34) -> str:
    """Break ``text`` into lines of at most ``width`` characters (a long word is cut); see :func:`shown`."""
    return "\n".join(textwrap.wrap(shown(text), width, break_long_words=True)) or " "


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Return the width, in points, of one line of ``text`` in the report's font at ``size`` points."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    font = FontProperties(family="DejaVu Sans", size=size, weight="bold" if bold else "normal")
    from trialkit._report._svg import xml_text

    # the text as the figure draws it (a character XML cannot hold is drawn as U+FFFD)
    width, _, _ = TextToPath().get_text_width_height_descent(xml_text(text), font, ismath=False)
    return float(width)


def panel_width(columns: int, *, left: float = 0.0, right: float = 0.0) -> float:
    """Return the width, in points, of a panel's plotting area in a figure of ``columns`` across the text width.

    An estimate (the layout decides): the text width less ``left`` (labels left of the first
    column), shared among the columns, less each panel's value axis (:data:`VALUE_AXIS_PT`) and
    ``right`` (labels right of each panel).
    """
    return (WIDTH_IN * 72 - left) / columns - VALUE_AXIS_PT - right


def fit(text: str, width: float, size: float, *, bold: bool = False) -> str:
    r"""Break ``text`` into lines at most ``width`` points wide (a word wider than a line is cut).

    matplotlib's layout leaves an axes title's width out of account: a title must fit its axes.

    >>> fit("Serum magnesium (mmol/L)", 100, 8, bold=True)
    'Serum magnesium\n(mmol/L)'
    >>> fit("Age", 100, 8)
    'Age'
    """
    lines: list[str] = []
    line = ""
    for word in shown(text, TEXT_CHARS).split():
        trial = f"{line} {word}" if line else word
        if text_width(trial, size, bold=bold) <= width:
            line = trial
            continue
        if line:
            lines.append(line)
        cut = _longest_prefix(word, width, size, bold)
        while cut < len(word):  # a word wider than the line is cut where it must be
            lines.append(word[:cut])
            word = word[cut:]
            cut = _longest_prefix(word, width, size, bold)
        line = word
    if line:
        lines.append(line)
    return "\n".join(lines) or " "


def _longest_prefix(word: str, width: float, size: float, bold: bool) -> int:
    """Return the length of the longest start of ``word`` at most ``width`` points wide (one character at least).

    The prefix doubles until it is too wide, then a bisection: a few measurements of at most twice a
    line each, whatever the word's length (measuring the whole word each time would be quadratic).
    """
    low = 1  # word[:low] is kept (at least one character)
    while low < len(word):
        longer = min(2 * low, len(word))
        if text_width(word[:longer], size, bold=bold) > width:
            break
        low = longer
    high = min(2 * low, len(word)) - 1 if low < len(word) else low  # word[:high + 1] is too wide
    while low < high:
        mid = (low + high + 1) // 2
        if text_width(word[:mid], size, bold=bold) <= width:
            low = mid
        else:
            high = mid - 1
    return low


def value_scale(endpoint: Endpoint) -> str:
    """Return the scale of the axis an endpoint's values are drawn on: ``"log"`` for a log-scale endpoint.

    The axis follows the scale the endpoint is analysed on: geometric means and ratios on a
    logarithmic axis, means and differences on a linear one.
    """
    return "log" if endpoint.scale == "log" else "linear"


#: mantissas of the ticks of a logarithmic axis, coarsest first (two significant digits at most, so that a
#: tick reads as a round number); the first giving 3 ticks in range is used
_MANTISSAS = (
    (1.0,),
    (1.0, 3.0),
    (1.0, 2.0, 5.0),
    (1.0, 1.5, 2.0, 3.0, 5.0, 7.0),
    (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0),
    (1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0, 9.0),
)


def log_ticks(low: float, high: float, *, most: int = 7) -> tuple[float, ...]:
    """Choose the labelled ticks of a logarithmic axis from ``low`` to ``high``: round numbers in the unit.

    The coarsest set of round numbers (powers of ten; then 1, 3; 1, 2, 5; ...) that puts at least
    three ticks in the range, or two for a range too narrow for three; ``most`` ticks at the
    most, thinned evenly. Non-positive or non-finite limits give no ticks.

    >>> log_ticks(0.5, 200)
    (1.0, 10.0, 100.0)
    >>> log_ticks(14, 31)
    (15.0, 20.0, 30.0)
    >>> log_ticks(250, 400)
    (250.0, 300.0, 400.0)
    >>> log_ticks(0.08, 0.4)
    (0.1, 0.15, 0.2, 0.3)
    """
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0 or high <= low:
        return ()
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    best: tuple[float, ...] = ()
    for mantissas in _MANTISSAS:
        ticks = tuple(
            t
            for e in range(first, last + 1)
            for m in mantissas
            if low <= (t := float(f"{m * 10.0**e:.6g}")) <= high  # round: 3 * 10**-1 is 0.30000000000000004
        )
        if len(ticks) >= 3:
            best = ticks
            break
        if len(ticks) > len(best):
            best = ticks
    if len(best) > most:
        step = math.ceil(len(best) / most)
        best = best[::step]
    return best


def _tick_text(value: float, _position: object = None) -> str:
    """Show a tick value through the report's one number format (U+2212 minus, no exponent)."""
    return format_number(value)


def set_value_axis(ax: Axes, which: str, scale: str) -> None:
    """Make the ``which`` ("x" or "y") axis of ``ax`` logarithmic when ``scale`` is "log"; else leave it linear.

    Call after the data are drawn: the labelled ticks (:func:`log_ticks`, numbers in the unit, not
    powers of ten) are chosen for the limits the data give; minor ticks stay unlabelled. A linear
    axis keeps matplotlib's ticks, whose minus is U+2212 under :func:`theme`.
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

    if scale != "log":
        return
    axis = ax.yaxis if which == "y" else ax.xaxis
    if which == "y":
        ax.set_yscale("log")
        low, high = ax.get_ylim()
    else:
        ax.set_xscale("log")
        low, high = ax.get_xlim()
    ticks = log_ticks(float(min(low, high)), float(max(low, high)))
    if ticks:
        axis.set_major_locator(FixedLocator(list(ticks)))
    axis.set_major_formatter(FuncFormatter(_tick_text))
    axis.set_minor_locator(LogLocator(base=10, subs=tuple(float(k) for k in range(2, 10))))
    axis.set_minor_formatter(NullFormatter())
