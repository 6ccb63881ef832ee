"""Draw a CONSORT 2010 flow diagram as inline SVG: boxes, connecting lines, arrowheads and the split by arm.

The diagram is laid out here, not by a browser: every line of text is measured with the metrics of
the report's font (DejaVu Sans, through matplotlib's FreeType binding) and wrapped to its box, so
the drawing is the same in the HTML and the PDF and scales as one picture (``viewBox``) to the
width of the page or window. Stages run down the page — Enrolment, Allocation, Follow-up,
Analysis — named in a band at the left; under *Randomised* the line splits into one column per arm,
whatever the number of arms. The SVG is built as an element tree, so every text (arm labels,
reasons from the data) reaches it as character data that the serializer escapes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # matplotlib is imported when a report is drawn, not when trialkit is
    from matplotlib.ft2font import FT2Font

__all__ = ["Box", "Diagram", "Line", "consort_svg"]

_SVG_NS = "http://www.w3.org/2000/svg"
FONT_FAMILY = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
FONT = 11.0  # font size (user units; the viewBox is about as wide as the page's text block in CSS px)
LEADING = 14.0  # baseline to baseline
PAD_X, PAD_Y = 7.0, 7.0  # inside a box
INDENT = 9.0  # a list item under its heading
GUTTER = 20.0  # the stage band at the left
GUTTER_GAP = 10.0  # between the band and the boxes
COLUMN_GAP = 14.0
ROW_GAP = 28.0  # between stages: room for the arrows
MIN_COLUMN = 150.0  # narrower columns widen the drawing (it then scales down as a whole)
MAX_COLUMN = 250.0  # with few arms the columns stay this narrow, centred under Randomised
WIDTH = 660.0
ENROLMENT_WIDTH = 300.0
#: wider than measured by this factor: another sans-serif the browser may fall back on
SAFETY = 1.06
#: the units a line breaks between: a count ("n = 12") or a run of non-blanks
_WORDS = re.compile(r"\bn = \S+|\S+")
INK, MUTED, RULE, BAND = "#1a1a1a", "#5a5a5a", "#1a1a1a", "#e3eef8"


@dataclass(frozen=True)
class Line:
    """One paragraph of a box: wrapped to the box's width when drawn.

    Attributes
    ----------
    text : str
    bold : bool
    indent : bool
        A list item under the line before it.
    muted : bool
        Secondary text (grey).
    """

    text: str
    bold: bool = False
    indent: bool = False
    muted: bool = False


@dataclass(frozen=True)
class Box:
    """A box of the diagram: its lines, what it counts (``kind``) and its arm (for ``data-*`` attributes).

    ``kind`` is one of ``assessed``, ``randomised``, ``allocated``, ``followup``, ``analysed``.
    """

    lines: tuple[Line, ...]
    kind: str
    arm: str | None = None
    centred: bool = False


@dataclass(frozen=True)
class Diagram:
    """The boxes of a CONSORT flow diagram: enrolment, then one column per arm.

    Attributes
    ----------
    enrolment : tuple of Box
        Drawn one under the other, centred (assessed for eligibility, randomised); the last one
        splits into the arms.
    arms : tuple of tuple of Box
        Per arm, control first: its allocation, follow-up and analysis boxes.
    stages : tuple of str
        The names of the four stages (Enrolment, Allocation, Follow-up, Analysis).
    title : str
        The drawing's accessible title.
    """

    enrolment: tuple[Box, ...]
    arms: tuple[tuple[Box, Box, Box], ...]
    stages: tuple[str, str, str, str] = ("Enrolment", "Allocation", "Follow-up", "Analysis")
    title: str = "CONSORT 2010 flow diagram"


class _Measure:
    """Text widths in user units, from the advance widths of DejaVu Sans (regular and bold) at :data:`FONT`."""

    def __init__(self) -> None:
        from matplotlib.font_manager import FontProperties, findfont
        from matplotlib.ft2font import FT2Font

        self.fonts: dict[bool, FT2Font] = {}
        for bold in (False, True):
            font = FT2Font(findfont(FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal")))
            font.set_size(FONT, 72)  # 72 dpi: one point is one user unit
            self.fonts[bold] = font
        self.widths: dict[tuple[str, bool], float] = {}

    def char(self, c: str, bold: bool) -> float:
        key = (c, bold)
        if key not in self.widths:
            from matplotlib.ft2font import LoadFlags

            font = self.fonts[bold]
            if font.get_char_index(ord(c)) == 0:  # not in the font: the browser's fallback, taken as a full em
                self.widths[key] = FONT
            else:
                self.widths[key] = font.load_char(ord(c), flags=LoadFlags.NO_HINTING).linearHoriAdvance / 65536
        return self.widths[key]

    def __call__(self, text: str, bold: bool = False) -> float:
        return SAFETY * sum(self.char(c, bold) for c in text)


def _wrap(text: str, width: float, measure: _Measure, bold: bool) -> list[str]:
    """Break ``text`` into lines no wider than ``width``: at spaces, and inside a word longer than a line.

    A count (``n = 12``) is never split.
    """
    lines: list[str] = []
    current = ""
    for word in _WORDS.findall(text):
        candidate = f"{current} {word}" if current else word
        if measure(candidate, bold) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        start, cut = 0, _fitting(word, 0, width, measure, bold)
        while cut < len(word):  # a word longer than the line: cut it where it fills the line
            lines.append(word[start:cut])
            start, cut = cut, _fitting(word, cut, width, measure, bold)
        current = word[start:]
    if current or not lines:
        lines.append(current)
    return lines


def _fitting(word: str, start: int, width: float, measure: _Measure, bold: bool) -> int:
    """Return the end of the longest piece of ``word`` from ``start`` no wider than ``width`` (one character at least).

    One pass over the piece, so a long word is cut in time linear in its length.
    """
    total = 0.0
    for k in range(start, len(word)):
        total += measure.char(word[k], bold)
        if SAFETY * total > width:
            return max(k, start + 1)
    return len(word)


@dataclass(frozen=True)
class _Placed:
    """A box with its wrapped lines, ready to draw: ``(text, bold, muted, x offset)`` per line."""

    box: Box
    rows: tuple[tuple[str, bool, bool, float], ...]

    @property
    def height(self) -> float:
        return 2 * PAD_Y + LEADING * len(self.rows) - (LEADING - FONT)


def _place(box: Box, width: float, measure: _Measure) -> _Placed:
    rows: list[tuple[str, bool, bool, float]] = []
    for line in box.lines:
        indent = INDENT if line.indent else 0.0
        for text in _wrap(line.text, width - 2 * PAD_X - indent, measure, line.bold):
            rows.append((text, line.bold, line.muted, indent))
    return _Placed(box, tuple(rows))


def _sub(parent: ET.Element, tag: str, attrib: dict[str, str] | None = None, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{_SVG_NS}}}{tag}", attrib or {})
    if text is not None:
        el.text = text
    return el


def _n(value: float) -> str:
    """Write a coordinate as short, stable text."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _draw_box(parent: ET.Element, placed: _Placed, x: float, y: float, width: float, height: float) -> None:
    attrib = {"class": "consort-box", "data-box": placed.box.kind}
    if placed.box.arm is not None:
        attrib["data-arm"] = placed.box.arm
    group = _sub(parent, "g", attrib)
    _sub(
        group,
        "rect",
        {
            "x": _n(x),
            "y": _n(y),
            "width": _n(width),
            "height": _n(height),
            "fill": "#ffffff",
            "stroke": RULE,
            "stroke-width": "1",
        },
    )
    centred = placed.box.centred
    top = y + (height - placed.height) / 2 if centred else y  # a centred box centres its text both ways
    text = _sub(group, "text", {"x": _n(x + width / 2 if centred else x + PAD_X), "y": _n(top + PAD_Y + FONT * 0.8)})
    if centred:
        text.set("text-anchor", "middle")
    for k, (line, bold, muted, indent) in enumerate(placed.rows):
        span = _sub(text, "tspan", text=line)
        span.set("x", _n(x + width / 2 if centred else x + PAD_X + indent))
        if k:
            span.set("dy", _n(LEADING))
        if bold:
            span.set("font-weight", "bold")
        if muted:
            span.set("fill", MUTED)


def _line(parent: ET.Element, x1: float, y1: float, x2: float, y2: float, cls: str = "consort-line") -> None:
    """Draw a connector (stroke as presentation attributes: a ``<style>`` in inline SVG would style the whole page)."""
    attrib = {"x1": _n(x1), "y1": _n(y1), "x2": _n(x2), "y2": _n(y2), "class": cls, "stroke": RULE}
    _sub(parent, "line", attrib | {"stroke-width": "1"})


def _arrow(parent: ET.Element, x: float, top: float, bottom: float) -> None:
    """Draw a vertical line from ``top`` to ``bottom`` ending in an arrowhead (a path, not a marker)."""
    _line(parent, x, top, x, bottom - 6)
    _sub(
        parent,
        "path",
        {
            "d": f"M{_n(x - 4)},{_n(bottom - 7)} L{_n(x + 4)},{_n(bottom - 7)} L{_n(x)},{_n(bottom)} Z",
            "class": "consort-head",
            "fill": RULE,
        },
    )


def _stage(parent: ET.Element, name: str, top: float, bottom: float) -> None:
    group = _sub(parent, "g", {"class": "consort-stage", "data-stage": name})
    _sub(
        group,
        "rect",
        {"x": "0", "y": _n(top), "width": _n(GUTTER), "height": _n(bottom - top), "rx": "3", "fill": BAND},
    )
    cx, cy = GUTTER / 2, (top + bottom) / 2
    _sub(
        group,
        "text",
        {
            "x": _n(cx),
            "y": _n(cy),
            "dy": _n(FONT * 0.35),
            "text-anchor": "middle",
            "font-weight": "bold",
            "transform": f"rotate(-90 {_n(cx)} {_n(cy)})",
        },
        name,
    )


def consort_svg(diagram: Diagram, *, caption_id: str | None = None) -> str:
    """Return the diagram as an ``<svg>`` element to inline in HTML (sized by the page's CSS through its viewBox).

    Parameters
    ----------
    diagram : Diagram
        The boxes, already in words.
    caption_id : str, optional
        The id of the caption that describes the drawing (``aria-labelledby``).

    Returns
    -------
    str
        SVG text: ``g.consort-box`` groups (``data-box``, ``data-arm``) of a ``rect`` and a ``text``
        with one ``tspan`` per line; ``line.consort-line`` connectors, ``path.consort-head``
        arrowheads and ``line.consort-split``, the horizontal line under *Randomised* that the arm
        columns hang from; a ``g.consort-stage`` band per stage.

    Examples
    --------
    >>> d = Diagram(
    ...     enrolment=(Box((Line("Randomised"), Line("n = 4", bold=True)), "randomised", centred=True),),
    ...     arms=tuple(
    ...         (
    ...             Box((Line(f"Allocated to {a}"),), "allocated", a),
    ...             Box((Line("Lost: n = 0"),), "followup", a),
    ...             Box((Line("Analysed: n = 2"),), "analysed", a),
    ...         )
    ...         for a in ("A & B", "C")
    ...     ),
    ... )
    >>> svg = consort_svg(d)
    >>> svg.count('class="consort-box"'), "A &amp; B" in svg
    (7, True)
    """
    measure = _Measure()
    n_arms = len(diagram.arms)
    left = GUTTER + GUTTER_GAP
    width = max(WIDTH, left + n_arms * MIN_COLUMN + (n_arms - 1) * COLUMN_GAP)
    column = min(MAX_COLUMN, (width - left - (n_arms - 1) * COLUMN_GAP) / n_arms)
    middle = left + (width - left) / 2
    start = middle - (n_arms * column + (n_arms - 1) * COLUMN_GAP) / 2
    centres = [start + k * (column + COLUMN_GAP) + column / 2 for k in range(n_arms)]
    enrol_width = min(ENROLMENT_WIDTH, width - left)
    # the stage band must hold its rotated name: a row grows until its band (row and half a gap each side) does
    band_need = {name: measure(name, True) + 12 for name in diagram.stages}

    root = ET.Element(
        f"{{{_SVG_NS}}}svg",
        {
            "class": "consort",
            "role": "group",
            "font-family": FONT_FAMILY,
            "font-size": _n(FONT),
            "fill": INK,
        },
    )
    if caption_id is not None:
        root.set("aria-labelledby", caption_id)
    _sub(root, "title", text=diagram.title)
    stages = _sub(root, "g", {"class": "consort-stages"})
    boxes = _sub(root, "g", {"class": "consort-boxes"})
    lines = _sub(root, "g", {"class": "consort-lines"})

    # enrolment: one centred box under the other, each arrow from the one above; the band must hold
    # the stage's rotated name, so a short enrolment starts lower
    placed = [_place(b, enrol_width, measure) for b in diagram.enrolment]
    tall = sum(p.height for p in placed) + ROW_GAP * (len(placed) - 1)
    y = max(0.0, band_need[diagram.stages[0]] - tall - ROW_GAP / 2 + 3) / 2
    for k, p in enumerate(placed):
        if k:
            _arrow(lines, middle, y, y + ROW_GAP)
            y += ROW_GAP
        _draw_box(boxes, p, middle - enrol_width / 2, y, enrol_width, p.height)
        y += p.height
    split = y + ROW_GAP / 2
    _stage(stages, diagram.stages[0], 0.0, split - 3)

    # the split: down from the last enrolment box, across the arm columns, and down into each
    _line(lines, middle, y, middle, split)
    _line(lines, min(centres), split, max(centres), split, "consort-split")
    y += ROW_GAP
    for c in centres:
        _arrow(lines, c, split, y)

    for stage in range(3):
        name, last = diagram.stages[stage + 1], stage == 2
        row = [_place(boxes_of[stage], column, measure) for boxes_of in diagram.arms]
        above, below = ROW_GAP / 2 - 3, 0.0 if last else ROW_GAP / 2 - 3  # the band's reach beyond the boxes
        height = max(max(p.height for p in row), band_need[name] - above - below)
        for c, p in zip(centres, row, strict=True):
            _draw_box(boxes, p, c - column / 2, y, column, height)
        _stage(stages, name, y - above, y + height + below)
        y += height
        if not last:
            for c in centres:
                _arrow(lines, c, y, y + ROW_GAP)
            y += ROW_GAP
    root.set("viewBox", f"0 0 {_n(width)} {_n(y + 1)}")  # + 1: the bottom rule's half width
    root.set("data-arms", str(n_arms))
    ET.register_namespace("", _SVG_NS)
    return ET.tostring(root, encoding="unicode", short_empty_elements=True) + "\n"
