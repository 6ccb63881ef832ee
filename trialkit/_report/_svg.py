"""A matplotlib figure as inline SVG: deterministic, inert, and with what each number is as ``data-*`` attributes.

No pyplot and no global state: figures are :class:`matplotlib.figure.Figure` objects written by the
SVG backend inside :func:`trialkit._report._theme.theme`. The text is deterministic (a hash salt per
figure, no date, text kept as text) and every user string (arm, endpoint, visit labels, units)
reaches it as matplotlib text, which the SVG writer escapes.

An artist marked with :func:`tag` keeps its facts in the SVG as ``data-*`` attributes (the ids of
the endpoint, arm and visit of a number): readers see labels, tests find a number by what it is.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure as MplFigure

__all__ = ["Figure", "new_figure", "svg_text", "tag", "xml_text"]


@dataclass(frozen=True)
class Figure:
    """One figure of the report: an id (used for anchors), its inline SVG and its caption."""

    id: str
    svg: str
    caption: str


_SVG_NS, _XLINK_NS = "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"
_HREF = f"{{{_XLINK_NS}}}href"
_REF = re.compile(r"url\(#([^)]+)\)")
_LONG_DECIMAL = re.compile(r"(\d+\.\d\d)\d+")
#: the prefix of a gid holding data attributes (:func:`tag`); matplotlib writes a gid as a group's id
_DATA = "tk-data?"
_DATA_KEY = re.compile(r"[a-z][a-z0-9-]*")
#: attributes holding coordinates only: rounded to 0.01 pt (text content is never touched)
_GEOMETRY = frozenset({"d", "x", "y", "x1", "x2", "y1", "y2", "width", "height", "transform", "points"})
_DROP = frozenset({f"{{{_SVG_NS}}}metadata", f"{{{_SVG_NS}}}style"})
#: properties matplotlib writes in ``style`` that SVG also takes as presentation attributes; as
#: attributes they are not parsed again as the page's CSS (which does not know them)
_PRESENTATION = frozenset(
    {
        "fill",
        "fill-opacity",
        "fill-rule",
        "stroke",
        "stroke-width",
        "stroke-opacity",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-dasharray",
        "stroke-dashoffset",
        "opacity",
        "font-size",
        "font-family",
        "font-weight",
        "font-style",
        "text-anchor",
        "dominant-baseline",
        "clip-path",
    }
)


#: characters XML 1.0 does not allow (C0 controls but tab and line ends, surrogates, U+FFFE, U+FFFF)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    r"""Return ``text`` with every character XML cannot hold replaced by U+FFFD (the replacement character).

    A label that passed validation may still hold such a character (a lone surrogate decoded from a
    file, U+FFFE): the figure's XML step and the page's UTF-8 must not fail on it, and a reader sees
    that a character was there. Other text, U+2028 included, is kept as it is.

    >>> xml_text("a\ufffeb\ud800c\u2028d") == "a\ufffdb\ufffdc\u2028d"
    True
    """
    return _NOT_XML.sub("\ufffd", text)


def tag(artist: Artist, **data: str) -> None:
    """Mark ``artist`` so that its SVG group carries ``data-<key>="value"`` for every item of ``data``.

    Keys are lower-case words (``kind``, ``endpoint``, ``arm``, ``visit``; ``_`` becomes ``-``);
    values are any text (escaped by the SVG writer).
    """
    artist.set_gid(_DATA + urlencode([(k.replace("_", "-"), str(v)) for k, v in data.items()]))


def _data_attributes(el: ET.Element) -> None:
    """Turn a group id written by :func:`tag` into ``data-*`` attributes."""
    gid = el.attrib.get("id", "")
    if not gid.startswith(_DATA):
        return
    del el.attrib["id"]
    for key, value in parse_qsl(gid[len(_DATA) :], keep_blank_values=True):
        if _DATA_KEY.fullmatch(key):
            el.attrib[f"data-{key}"] = value


def _style_to_attributes(el: ET.Element) -> None:
    style = el.attrib.get("style")
    if style is None:
        return
    kept = []
    for declaration in style.split(";"):
        name, sep, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            continue
        if name in _PRESENTATION and name not in el.attrib:
            el.attrib[name] = value
        else:
            kept.append(f"{name}: {value}")
    if kept:
        el.attrib["style"] = "; ".join(kept)
    else:
        del el.attrib["style"]


def _clean(root: ET.Element) -> None:
    """Make matplotlib's SVG fit to inline.

    Drop metadata and the stylesheet (a <style> in inline SVG would apply to the whole page), turn
    tagged group ids into ``data-*`` attributes, drop ids nothing refers to (matplotlib repeats
    ``axes_1`` etc. in every figure), turn ``style`` declarations into presentation attributes,
    unwrap groups left without attributes and round coordinates to 0.01 pt.
    """
    referenced: set[str] = set()
    for el in root.iter():
        for key, value in el.attrib.items():
            if key == _HREF and value.startswith("#"):
                referenced.add(value[1:])
            referenced.update(_REF.findall(value))

    def visit(el: ET.Element) -> None:
        children: list[ET.Element] = []
        for child in list(el):
            if child.tag in _DROP:
                continue
            visit(child)
            _data_attributes(child)
            if child.attrib.get("id") is not None and child.attrib["id"] not in referenced:
                del child.attrib["id"]
            _style_to_attributes(child)
            for key in _GEOMETRY & child.attrib.keys():
                child.attrib[key] = _LONG_DECIMAL.sub(r"\1", child.attrib[key])
            if child.tag == f"{{{_SVG_NS}}}g" and not child.attrib and not (child.text or "").strip():
                children.extend(child)
            else:
                children.append(child)
        for child in list(el):
            el.remove(child)
        el.extend(children)

    visit(root)


def _renumber(root: ET.Element, prefix: str) -> None:
    """Name the ids left (clip paths, markers) ``<prefix>-d1``, ``<prefix>-d2`` ... in document order.

    matplotlib names them by a hash of their coordinates, which differ between runs in the last
    digits (the layout's solver adds in an order that varies): named by their order, the same figure
    gives the same text; the prefix (the figure's id) keeps them unique in the page.
    """
    names = {el.attrib["id"]: f"{prefix}-d{k + 1}" for k, el in enumerate(e for e in root.iter() if "id" in e.attrib)}
    if not names:
        return
    for el in root.iter():
        for key, value in list(el.attrib.items()):
            if key == "id":
                el.attrib[key] = names[value]
            elif key == _HREF and value.startswith("#") and value[1:] in names:
                el.attrib[key] = "#" + names[value[1:]]
            elif "url(#" in value:
                el.attrib[key] = _REF.sub(lambda m: f"url(#{names.get(m.group(1), m.group(1))})", value)


def _xml_safe_texts(fig: MplFigure) -> None:
    """Replace, in every text of ``fig`` and its fixed tick labels, the characters XML cannot hold (:func:`xml_text`).

    matplotlib's font code cannot lay out a lone surrogate, and the SVG could not hold it.
    """
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    for text in fig.findobj(Text):
        if isinstance(text, Text):
            text.set_text(xml_text(text.get_text()))
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            formatter = axis.get_major_formatter()
            if isinstance(formatter, FixedFormatter):
                formatter.seq = [xml_text(str(label)) for label in formatter.seq]
            elif isinstance(formatter, FuncFormatter):  # labels given with the ticks (``set_xticks(ticks, labels)``)
                formatter.func = _xml_safe_labels(formatter.func)


def _xml_safe_labels(func: Callable[..., object]) -> Callable[..., str]:
    """Return ``func`` (a tick formatter's function) with :func:`xml_text` applied to what it returns."""

    def safe(*args: object) -> str:
        return xml_text(str(func(*args)))

    return safe


def svg_text(fig: MplFigure, salt: str) -> str:
    """Return the figure as an ``<svg>`` element to inline in HTML (no XML prologue, metadata or CSS).

    ``salt`` is the figure's id: it seeds matplotlib's hashes (the same figure gives the same text)
    and names the caption the SVG is labelled by. Call inside :func:`trialkit._report._theme.theme`.
    """
    from matplotlib import rc_context

    _xml_safe_texts(fig)
    buf = io.StringIO()
    with rc_context({"svg.hashsalt": f"trialkit-{salt}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    ET.register_namespace("", _SVG_NS)
    ET.register_namespace("xlink", _XLINK_NS)
    root = ET.fromstring(xml_text(buf.getvalue()).encode("utf-8"))
    _clean(root)
    _renumber(root, salt)
    for key in ("width", "height"):  # the page's CSS sizes the figure; the viewBox keeps its shape
        root.attrib.pop(key, None)
    # matplotlib's stylesheet set round joins; as inherited presentation attributes they stay inside the figure
    root.attrib.update(
        {
            "class": "figure",
            "role": "img",
            "aria-labelledby": f"{salt}-caption",
            "stroke-linejoin": "round",
            "stroke-linecap": "butt",
        }
    )
    return ET.tostring(root, encoding="unicode", short_empty_elements=True) + "\n"


def new_figure(width: float, height: float) -> MplFigure:
    """Return an empty figure of ``width`` × ``height`` inches laid out by matplotlib's constrained layout."""
    from matplotlib.figure import Figure as MplFigure

    return MplFigure(figsize=(width, height), layout="constrained")
