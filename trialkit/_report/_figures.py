"""The report's figures, drawn with matplotlib in one style and returned as inline SVG text.

No pyplot and no global state: each figure is a :class:`matplotlib.figure.Figure` drawn inside
``rc_context(STYLE)`` and written by the SVG backend. The SVG is deterministic (fixed hash salt per
figure, no date, text kept as text with ``svg.fonttype = 'none'``) and every user string (arm,
endpoint, visit labels, units) reaches it as matplotlib text, which the SVG writer escapes; maths
parsing is off, so a ``$`` in a label is only a dollar sign.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from trialkit._report._mmrm_words import mmrm_wording
from trialkit._spec import Endpoint
from trialkit._trial import Trial
from trialkit.analysis._results import Results

if TYPE_CHECKING:  # matplotlib is imported when a report is drawn, not when trialkit is
    import xml.etree.ElementTree as ET

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

__all__ = [
    "Figure",
    "OKABE_ITO",
    "arm_colours",
    "change_figures",
    "forest_figure",
    "means_figures",
    "mmrm_figures",
    "proportion_figures",
    "rate_figures",
]

#: Okabe & Ito (2008) colour-blind-safe palette; the control arm is drawn in its grey
OKABE_ITO = ("#E69F00", "#0072B2", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
CONTROL_GREY = "#7F7F7F"
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
PANELS_PER_FIGURE = 12
COLUMNS = 3
WIDTH_IN = 6.9  # A4 text width at 18 mm margins

# typed loosely: matplotlib's stubs key rc_context by a literal per setting
STYLE: Any = {
    "svg.fonttype": "none",
    "svg.hashsalt": "trialkit",
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 7.5,
    "axes.titlesize": 8,
    "axes.titleweight": "bold",
    "axes.labelsize": 7.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#E5E5E5",
    "grid.linewidth": 0.6,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "lines.linewidth": 1.3,
    "lines.markersize": 4.5,
    "figure.dpi": 72,
    # an axis reads 10-18, never 1.0-1.8 with a "1e1" offset a reader can miss
    "axes.formatter.useoffset": False,
}


@dataclass(frozen=True)
class Figure:
    """One figure of the report: an id (used for anchors), its inline SVG and its caption."""

    id: str
    svg: str
    caption: str


def arm_colours(arms: tuple[str, ...]) -> dict[str, str]:
    """Colour per arm: grey for the control arm (listed first), Okabe–Ito colours for the others."""
    return {a: CONTROL_GREY if i == 0 else OKABE_ITO[(i - 1) % len(OKABE_ITO)] for i, a in enumerate(arms)}


def _and(items: list[str]) -> str:
    """Return ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _marker(i: int) -> str:
    return MARKERS[i % len(MARKERS)]


def _wrap(text: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(str(text), width, break_long_words=True)) or " "


_SVG_NS, _XLINK_NS = "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"
_HREF = f"{{{_XLINK_NS}}}href"
_REF = re.compile(r"url\(#([^)]+)\)")
_LONG_DECIMAL = re.compile(r"(\d+\.\d\d)\d+")
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

    Drop metadata and the stylesheet (a <style> in inline SVG would apply to the whole page), drop
    ids nothing refers to (matplotlib repeats ``axes_1`` etc. in every figure), turn ``style``
    declarations into presentation attributes, unwrap groups left without attributes and round
    coordinates to 0.01 pt.
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


def _svg(fig: MplFigure, salt: str) -> str:
    """Return the figure as an ``<svg>`` element to inline in HTML (no XML prologue, metadata or CSS)."""
    import xml.etree.ElementTree as ET

    from matplotlib import rc_context

    buf = io.StringIO()
    with rc_context({"svg.hashsalt": f"trialkit-{salt}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    ET.register_namespace("", _SVG_NS)
    ET.register_namespace("xlink", _XLINK_NS)
    root = ET.fromstring(buf.getvalue().encode("utf-8"))
    _clean(root)
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


def _new_figure(width: float, height: float) -> MplFigure:
    from matplotlib.figure import Figure as MplFigure

    return MplFigure(figsize=(width, height), layout="constrained")


def _grid(n: int) -> tuple[int, int]:
    cols = min(COLUMNS, n)
    return math.ceil(n / cols), cols


def _chunks(items: list[Endpoint], size: int) -> list[list[Endpoint]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def _mean_ci(x: npt.NDArray[np.float64], alpha: float, log: bool) -> tuple[float, float, float]:
    x = x[~np.isnan(x)]
    if log:
        x = np.log(x[x > 0])
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if n < 2:
        lo = hi = math.nan
    else:
        h = float(stats.t.ppf(1 - alpha / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
        lo, hi = m - h, m + h
    if log:
        return math.exp(m), math.exp(lo), math.exp(hi)
    return m, lo, hi


def _legend(fig: MplFigure, arms: Sequence[str], colours: dict[str, str], *, line: bool) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=colours[a], marker=_marker(i), linestyle="-" if line else "none", markersize=5)
        for i, a in enumerate(arms)
    ]
    fig.legend(handles, [_wrap(a, 40) for a in arms], loc="outside upper center", ncols=min(len(arms), 4))


def _panel_figures(
    trial: Trial,
    slug: str,
    draw: Callable[[Axes, Endpoint], None],
    caption: Callable[[list[Endpoint], str], str],
    *,
    line_legend: bool,
    endpoints: Sequence[Endpoint] | None = None,
) -> list[Figure]:
    """Draw one panel per endpoint, :data:`PANELS_PER_FIGURE` panels a figure, arms in the legend.

    ``draw(ax, endpoint)`` fills one panel; ``caption(chunk, part_note)`` writes a figure's caption.
    ``endpoints`` (default: every continuous endpoint) are the panels; none: no figure.
    """
    from matplotlib import rc_context

    arms = trial.arms
    colours = arm_colours(arms)
    if endpoints is None:
        endpoints = [e for e in trial.spec.endpoints if e.type == "continuous"]
    if not endpoints:
        return []
    chunks = _chunks(list(endpoints), PANELS_PER_FIGURE)
    out = []
    for k, chunk in enumerate(chunks):
        rows, cols = _grid(len(chunk))
        with rc_context(STYLE):
            fig = _new_figure(WIDTH_IN, 0.45 + 1.95 * rows)
            axes = fig.subplots(rows, cols, squeeze=False)
            for ax in axes.flat[len(chunk) :]:
                ax.set_visible(False)
            for ax, ep in zip(axes.flat, chunk, strict=False):
                draw(ax, ep)
            _legend(fig, arms, colours, line=line_legend)
            svg = _svg(fig, f"fig-{slug}-{k + 1}")
        part_note = f" (part {k + 1} of {len(chunks)})" if len(chunks) > 1 else ""
        out.append(Figure(f"fig-{slug}-{k + 1}", svg, caption(chunk, part_note)))
    return out


def means_figures(trial: Trial, alpha: float) -> list[Figure]:
    """Mean (geometric mean on the log scale) ± CI over visits, by arm, one panel per endpoint."""
    spec = trial.spec
    arms = trial.arms
    colours = arm_colours(arms)
    d = trial.data
    visits = list(spec.visits.order)
    level = f"{100 * (1 - alpha):g}%"
    span = 0.08 * (len(arms) - 1)

    def draw(ax: Axes, ep: Endpoint) -> None:
        log = ep.scale == "log"
        part = d.loc[(d["endpoint"] == ep.id).to_numpy()]
        for i, a in enumerate(arms):
            shift = (i - (len(arms) - 1) / 2) * (span / max(len(arms) - 1, 1)) if len(arms) > 1 else 0
            summaries = [
                _mean_ci(
                    part.loc[((part["arm"] == a) & (part["visit"] == v)).to_numpy(), "value"].to_numpy(dtype="float64"),
                    alpha,
                    log,
                )
                for v in visits
            ]
            m, lo, hi = (np.array(column) for column in zip(*summaries, strict=True))
            pos = np.arange(len(visits)) + shift
            ax.errorbar(pos, m, yerr=[m - lo, hi - m], color=colours[a], marker=_marker(i), capsize=2, elinewidth=0.9)
        ax.set_xticks(np.arange(len(visits)), [_wrap(v, 12) for v in visits])
        ax.set_xlim(-0.4, len(visits) - 0.6)
        ax.set_title(_wrap(ep.label), loc="left")
        unit = ep.unit or "value"
        ax.set_ylabel(f"{unit} (geometric mean)" if log else f"{unit} (mean)")

    def caption(chunk: list[Endpoint], part_note: str) -> str:
        return (
            f"Mean and {level} confidence interval at each visit, by arm{part_note}. "
            + (
                "Log-scale endpoints show geometric means with back-transformed intervals. "
                if any(e.scale == "log" for e in chunk)
                else ""
            )
            + "Observed values; every randomised subject with a value at the visit."
        )

    return _panel_figures(trial, "means", draw, caption, line_legend=True)


def _by_visit(
    trial: Trial,
    ep: Endpoint,
    ax: Axes,
    summary: Callable[[str, str], tuple[float, float, float]],
) -> None:
    """Draw one estimate with its interval per arm and visit, arms side by side (``summary(arm, visit)``)."""
    arms = trial.arms
    colours = arm_colours(arms)
    visits = list(trial.spec.visits.order)
    span = 0.08 * (len(arms) - 1)
    for i, a in enumerate(arms):
        shift = (i - (len(arms) - 1) / 2) * (span / max(len(arms) - 1, 1)) if len(arms) > 1 else 0
        m, lo, hi = (np.array(column) for column in zip(*(summary(a, v) for v in visits), strict=True))
        pos = np.arange(len(visits)) + shift
        ax.errorbar(pos, m, yerr=[m - lo, hi - m], color=colours[a], marker=_marker(i), capsize=2, elinewidth=0.9)
    ax.set_xticks(np.arange(len(visits)), [_wrap(v, 12) for v in visits])
    ax.set_xlim(-0.4, len(visits) - 0.6)
    ax.set_title(_wrap(ep.label), loc="left")


def proportion_figures(trial: Trial, alpha: float) -> list[Figure]:
    """Percentage with the event and its Wilson interval at each visit, by arm, one panel per binary endpoint."""
    from trialkit.analysis._responders import wilson_interval

    d = trial.data
    level = f"{100 * (1 - alpha):g}%"

    def draw(ax: Axes, ep: Endpoint) -> None:
        part = d.loc[(d["endpoint"] == ep.id).to_numpy()]

        def summary(arm: str, visit: str) -> tuple[float, float, float]:
            cell = part.loc[((part["arm"] == arm) & (part["visit"] == visit)).to_numpy(), "value"]
            x = cell.to_numpy(dtype="float64")
            x = x[~np.isnan(x)]
            if x.size == 0:
                return math.nan, math.nan, math.nan
            events = int(np.count_nonzero(x == 1))
            low, high = wilson_interval(events, int(x.size), alpha)
            return 100 * events / x.size, 100 * low, 100 * high

        _by_visit(trial, ep, ax, summary)
        ax.set_ylim(0, 100)
        ax.set_ylabel("% with the event")

    def caption(chunk: list[Endpoint], part_note: str) -> str:
        return (
            f"Percentage of subjects with the event and its {level} Wilson score interval at each visit, by "
            f"arm{part_note}. Observed values, not adjusted; every randomised subject with a value at the visit."
        )

    endpoints = [e for e in trial.spec.endpoints if e.type == "binary"]
    return _panel_figures(trial, "proportions", draw, caption, line_legend=True, endpoints=endpoints)


def rate_figures(trial: Trial, alpha: float) -> list[Figure]:
    """Event rate (events / time at risk) with its exact Poisson interval at each visit, by arm, per count endpoint."""
    from trialkit._report._tables import counts_at, rate_unit
    from trialkit.analysis._counts import rate_arrays

    level = f"{100 * (1 - alpha):g}%"

    def draw(ax: Axes, ep: Endpoint) -> None:
        at = {v: counts_at(trial, ep, v) for v in trial.spec.visits.order}

        def summary(arm: str, visit: str) -> tuple[float, float, float]:
            part = at[visit]
            part = part.loc[(part["arm"] == arm).to_numpy() & part["value"].notna().to_numpy()]
            if part.empty:
                return math.nan, math.nan, math.nan
            r = rate_arrays(
                part["value"].to_numpy(dtype="float64"),
                part["exposure"].to_numpy(dtype="float64"),
                arm=arm,
                alpha=alpha,
            )
            return r.estimate, r.ci_low, r.ci_high

        _by_visit(trial, ep, ax, summary)
        ax.set_ylim(bottom=0)
        ax.set_ylabel(f"{ep.unit or 'events'} {rate_unit(ep)}")

    def caption(chunk: list[Endpoint], part_note: str) -> str:
        return (
            f"Event rate (events over time at risk, summed over the subjects of the arm) and its exact Poisson "
            f"{level} interval at each visit, by arm{part_note}. Observed counts, not adjusted; the interval "
            "treats the events as Poisson and is too narrow when they are overdispersed."
        )

    endpoints = [e for e in trial.spec.endpoints if e.type == "count"]
    return _panel_figures(trial, "rates", draw, caption, line_legend=True, endpoints=endpoints)


def mmrm_figures(trial: Trial, results: Results) -> list[Figure]:
    """MMRM LS means (geometric on the log scale) with CIs at each post-baseline visit, by arm, a panel per endpoint.

    Empty when no MMRM ran; an endpoint whose MMRM could not run has an empty panel saying so.
    """
    words = mmrm_wording(results)
    t = results.table
    lsmeans = t.loc[(t["analysis"] == "mmrm_lsmean").to_numpy() & (t["population"] == "fas").to_numpy()]
    if lsmeans.empty:
        return []
    spec = trial.spec
    arms = trial.arms
    colours = arm_colours(arms)
    visits = list(spec.visits.post_baseline)
    level = f"{100 * (1 - results.alpha):g}%"
    span = 0.08 * (len(arms) - 1)

    def draw(ax: Axes, ep: Endpoint) -> None:
        part = lsmeans.loc[(lsmeans["endpoint"] == ep.id).to_numpy()]
        ax.set_title(_wrap(ep.label), loc="left")
        if part.empty:
            ax.text(0.5, 0.5, "MMRM could not run", ha="center", va="center", transform=ax.transAxes, color="#555555")
            ax.set_xticks([])
            ax.set_yticks([])
            return
        for i, a in enumerate(arms):
            shift = (i - (len(arms) - 1) / 2) * (span / max(len(arms) - 1, 1)) if len(arms) > 1 else 0
            mine = part.loc[(part["contrast"] == a).to_numpy()]
            at = {str(v): k for k, v in enumerate(mine["visit"])}
            columns = {c: mine[c].to_numpy(dtype="float64") for c in ("estimate", "ci_low", "ci_high")}
            m, lo, hi = (
                np.array([columns[c][at[v]] if v in at else math.nan for v in visits])
                for c in ("estimate", "ci_low", "ci_high")
            )
            pos = np.arange(len(visits)) + shift
            ax.errorbar(pos, m, yerr=[m - lo, hi - m], color=colours[a], marker=_marker(i), capsize=2, elinewidth=0.9)
        ax.set_xticks(np.arange(len(visits)), [_wrap(v, 12) for v in visits])
        ax.set_xlim(-0.5, len(visits) - 0.5)
        unit = ep.unit or "value"
        ax.set_ylabel(f"{unit} (geometric LS mean)" if ep.scale == "log" else f"{unit} (LS mean)")

    def caption(chunk: list[Endpoint], part_note: str) -> str:
        return (
            f"MMRM least-squares means with {level} confidence intervals at each post-baseline visit, "
            f"by arm{part_note}, {words['adjusted']}. The model uses {words['who']}. "
            + (
                "Log-scale endpoints show geometric LS means with back-transformed intervals."
                if any(e.scale == "log" for e in chunk)
                else ""
            )
        ).strip()

    return _panel_figures(trial, "mmrm", draw, caption, line_legend=True)


def change_figures(trial: Trial) -> list[Figure]:
    """Change from baseline at the primary visit by arm: box (quartiles, 1.5 IQR whiskers) plus points.

    None without a baseline visit (there is no change); continuous endpoints only.
    """
    spec = trial.spec
    if spec.visits.baseline is None:
        return []
    arms = trial.arms
    colours = arm_colours(arms)
    ch = trial.changes()
    ch = ch.loc[(ch["visit"] == spec.visits.primary).to_numpy() & ch["change"].notna().to_numpy()]
    rng = np.random.default_rng(20240101)  # fixed jitter: the same data give the same figure

    def draw(ax: Axes, ep: Endpoint) -> None:
        part = ch.loc[(ch["endpoint"] == ep.id).to_numpy()]
        data = [part.loc[(part["arm"] == a).to_numpy(), "change"].to_numpy(dtype="float64") for a in arms]
        positions = np.arange(len(arms))
        kept = [(p, x) for p, x in zip(positions, data, strict=True) if x.size]
        if kept:
            box = ax.boxplot(
                [x for _, x in kept],
                positions=[p for p, _ in kept],
                widths=0.5,
                showfliers=False,
                patch_artist=True,
                medianprops={"color": "#000000"},
                whiskerprops={"color": "#555555"},
                capprops={"color": "#555555"},
                boxprops={"edgecolor": "#555555"},
            )
            for patch, (p, _) in zip(box["boxes"], kept, strict=True):
                patch.set_facecolor(colours[arms[p]] + "40")
        for i, (p, x) in enumerate(zip(positions, data, strict=True)):
            jitter = rng.uniform(-0.12, 0.12, x.size)
            ax.plot(
                p + jitter,
                x,
                linestyle="none",
                marker=_marker(i),
                markersize=3,
                color=colours[arms[i]],
                markeredgewidth=0,
                alpha=0.85,
                zorder=3,
                clip_on=False,
            )
        ax.axhline(0, color="#999999", linewidth=0.7, zorder=1)
        ax.set_xticks(positions, [_wrap(a, 14) for a in arms])
        ax.set_xlim(-0.6, len(arms) - 0.4)
        ax.set_title(_wrap(ep.label), loc="left")
        ax.set_ylabel(f"change ({ep.unit})" if ep.unit else "change")

    def caption(chunk: list[Endpoint], part_note: str) -> str:
        return (
            f"Change from baseline to {spec.visits.primary} by arm{part_note}: box = median "
            "and quartiles, whiskers to 1.5 × IQR, one point per subject with baseline and "
            "follow-up (jittered sideways)."
            + (
                " Changes are on the measurement scale, also for log-scale endpoints."
                if any(e.scale == "log" for e in chunk)
                else ""
            )
        )

    return _panel_figures(trial, "change", draw, caption, line_legend=False)


def forest_figure(trial: Trial, results: Results) -> Figure | None:
    """Hedges' g (ANCOVA-adjusted and of change) with CIs for every endpoint at the primary visit."""
    from matplotlib import rc_context

    spec = trial.spec
    continuous = [e for e in spec.endpoints if e.type == "continuous"]
    others = [e for e in spec.endpoints if e.type != "continuous"]
    t = results.table
    sel = t.loc[
        (t["visit"] == spec.visits.primary)
        & (t["population"] == "fas")
        & t["analysis"].isin(["hedges_g_ancova", "hedges_g"])
    ]
    if sel.empty:
        return None
    contrasts = [f"{a} - {trial.control}" for a in trial.arms[1:]]
    many = len(contrasts) > 1
    rows = []
    for ep in continuous:
        for c in contrasts:
            label = ep.label if not many else f"{ep.label}: {c}"
            label = f"{_wrap(label, 38)}\n({ep.better} is better)"
            rows.append((ep.id, c, label))
    level = f"{100 * (1 - results.alpha):g}%"
    baseline = spec.visits.baseline is not None
    kinds = (
        (
            "hedges_g_ancova",
            "adjusted for baseline (ANCOVA)" if baseline else "adjusted (ANCOVA)",
            "o",
            "#0072B2",
            True,
        ),
        ("hedges_g", "of change from baseline", "s", "#D55E00", False),
    )
    with rc_context(STYLE | {"axes.grid.axis": "x", "ytick.labelsize": 7}):
        fig = _new_figure(WIDTH_IN, 0.7 + 0.42 * len(rows))
        ax = fig.subplots()
        y = np.arange(len(rows))[::-1]
        drawn = [k for k in kinds if (sel["analysis"] == k[0]).any()]
        for j, (kind, name, marker, colour, filled) in enumerate(drawn):
            shift = 0.0 if len(drawn) == 1 else (0.14 if j == 0 else -0.14)
            for yy, (ep_id, c, _) in zip(y, rows, strict=True):
                r = sel.loc[(sel["analysis"] == kind) & (sel["endpoint"] == ep_id) & (sel["contrast"] == c)]
                if r.empty:
                    continue
                est, lo, hi = (float(r[k].iloc[0]) for k in ("estimate", "ci_low", "ci_high"))
                ax.plot([lo, hi], [yy + shift] * 2, color=colour, linewidth=1.1)
                ax.plot(
                    [est],
                    [yy + shift],
                    marker=marker,
                    color=colour,
                    markersize=4.5,
                    markerfacecolor=colour if filled else "white",
                    linestyle="none",
                )
            ax.plot(
                [],
                [],
                marker=marker,
                color=colour,
                markerfacecolor=colour if filled else "white",
                label=f"Hedges' g {name}",
            )
        ax.axvline(0, color="#555555", linewidth=0.8)
        ax.set_yticks(y, [r[2] for r in rows])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_xlabel(
            f"standardised difference, {'arm' if many else trial.arms[1]} − "
            f"{trial.control} (Hedges' g, SD units) with {level} CI"
        )
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=len(drawn))
        svg = _svg(fig, "fig-forest")
    return Figure(
        "fig-forest",
        svg,
        f"Standardised effects at {spec.visits.primary} with {level} confidence intervals. "
        "Negative values mean lower values in the treated arm; whether lower is better is "
        "stated under each endpoint."
        + (" Log-scale endpoints: g on the log scale." if any(e.scale == "log" for e in continuous) else "")
        + (
            f" Standardised mean differences do not apply to {_and([e.label for e in others])}"
            f" ({_and(sorted({e.type for e in others}))}): "
            + _and(
                [
                    words
                    for kind, words in (("binary", "risk differences"), ("count", "rate ratios"))
                    if any(e.type == kind for e in others)
                ]
            )
            + " are in the tables of the primary and secondary endpoints."
            if others
            else ""
        ),
    )
