"""The power curve of a power simulation: simulated power against the control arm's size, a panel per endpoint.

Small multiples: a design has many endpoints (ten in the 2012 design) and ten curves in one panel
cannot be told apart. Each panel is one endpoint; in it one line per analysis and arm compared
with control (the arm's colour, the analysis's line style), with the Monte Carlo band
(power ± 1.96 MCSE) shaded, and dashed reference lines at 80 % and 90 % power. The power axis runs
from 0 to 1 with % ticks, the same in every panel. The subtitle says how many replicate trials
each point rests on, the seed and the significance level. Labels only (endpoint, analysis and arm
labels); ids stay in the SVG's ``data-*`` attributes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from trialkit._report._svg import new_figure, svg_text, tag
from trialkit._report._theme import OKABE_ITO, WIDTH_IN, arm_colours, fit, marker, panel_width, theme, wrap
from trialkit.power._simulation import ANALYSES, PowerSimulation

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn, not when trialkit is
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

__all__ = ["REFERENCE_POWERS", "power_curve_svg"]

#: the dashed reference lines: the powers trials are usually planned for
REFERENCE_POWERS = (0.8, 0.9)
#: half-width of the shaded band in Monte Carlo standard errors (a 95 % band)
BAND_Z = 1.96
COLUMNS = 3
PANEL_IN = 1.75
HEAD_IN = 0.55  # subtitle and a one-row legend above the panels
LEGEND_ROW_IN = 0.17  # each further row of the legend
TITLE_PT = 8
#: line styles of the analyses of a panel, in the order they first appear
Dash = tuple[float, tuple[float, ...]]
DASHES: tuple[Dash, ...] = (
    (0.0, ()),  # solid
    (0.0, (4.0, 1.5)),
    (0.0, (1.0, 1.2)),
    (0.0, (4.0, 1.5, 1.0, 1.5)),
    (0.0, (7.0, 2.0)),
    (0.0, (4.0, 1.5, 1.0, 1.5, 1.0, 1.5)),
    (0.0, (2.0, 2.0)),
    (0.0, (7.0, 1.5, 1.0, 1.5)),
)
SLUG = "fig-power-curve"
#: at most this many simulated sizes are labelled on the x axis (more: matplotlib's ticks)
MAX_SIZE_TICKS = 7


@dataclass(frozen=True)
class Style:
    """How one line is drawn: colour, dash pattern and marker."""

    colour: str
    dash: Dash
    marker: str


#: the colours of the analyses when there is one comparison: Okabe-Ito from blue, never the control's grey
ANALYSIS_COLOURS = (OKABE_ITO[1], OKABE_ITO[0], OKABE_ITO[2], OKABE_ITO[3], OKABE_ITO[4], OKABE_ITO[5])


def _styles(
    lines: list[tuple[str, str]], arm_order: list[str], colours: dict[str, str]
) -> dict[tuple[str, str], Style]:
    """Return the style of each (analysis, arm) line, in the order of ``lines``.

    One comparison with control: each analysis has its own colour, dash and marker. Several: each
    arm its report colour and marker, each analysis its dash.
    """
    analyses = list(dict.fromkeys(a for a, _ in lines))
    if len(arm_order) == 1:
        return {
            (a, arm): Style(
                ANALYSIS_COLOURS[analyses.index(a) % len(ANALYSIS_COLOURS)],
                DASHES[analyses.index(a) % len(DASHES)],
                marker(analyses.index(a) + 1),
            )
            for a, arm in lines
        }
    return {
        (a, arm): Style(colours[arm], DASHES[analyses.index(a) % len(DASHES)], marker(arm_order.index(arm) + 1))
        for a, arm in lines
    }


def _arm_label(sim: PowerSimulation, arm: str) -> str:
    for a in sim.design.arms:
        if a.id == arm:
            return a.label or a.id
    return arm


def _analysis_label(name: str) -> str:
    analysis = ANALYSES.get(name)
    return analysis.label if analysis is not None else name


def _endpoint_label(sim: PowerSimulation, endpoint: str) -> str:
    for ep in sim.design.endpoints:
        if ep.id == endpoint:
            return ep.label or ep.id
    return endpoint


def _size_ticks(sizes: tuple[int, ...]) -> tuple[int, ...]:
    """Return the simulated sizes as the x ticks when they are few and far enough apart to read; else ()."""
    if not sizes or len(sizes) > MAX_SIZE_TICKS:
        return ()
    span = max(sizes) - min(sizes)
    gaps = [b - a for a, b in zip(sizes, sizes[1:], strict=False)]
    return tuple(sizes) if not gaps or min(gaps) >= 0.08 * span else ()


def _subtitle(sim: PowerSimulation) -> str:
    return (
        f"Simulated power ({sim.trials:,} trials per size, seed {sim.seed}, two-sided \u03b1 = {sim.alpha:g}); "
        f"shaded: \u00b1 {BAND_Z} Monte Carlo SE; dashed: "
        + " and ".join(f"{100 * p:g}%" for p in REFERENCE_POWERS)
        + " power"
    )


def _panel(
    ax: Axes,
    part: pd.DataFrame,
    styles: dict[tuple[str, str], Style],
    x_limits: tuple[float, float],
    ticks: tuple[int, ...],
) -> None:
    """Draw one endpoint's curves: a line and band per (analysis, arm) of ``styles`` found in ``part``.

    ``ticks``: the sizes to label on the x axis; empty: matplotlib chooses.
    """
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    for p in REFERENCE_POWERS:
        ax.axhline(p, color="#8C8C8C", linewidth=0.7, linestyle=(0, (3, 2)), zorder=1)
    for (analysis, arm), style in styles.items():
        rows = part.loc[((part["analysis"] == analysis) & (part["arm"] == arm)).to_numpy()].sort_values("n_per_arm")
        if rows.empty:
            continue
        n = rows["n_per_arm"].to_numpy(dtype="float64")
        power = rows["power"].to_numpy(dtype="float64")
        half = BAND_Z * rows["mcse"].to_numpy(dtype="float64")
        colour = style.colour
        low, high = np.clip(power - half, 0.0, 1.0), np.clip(power + half, 0.0, 1.0)
        if n.size > 1:
            band = ax.fill_between(n, low, high, color=colour, alpha=0.22, linewidth=0, zorder=2)
            tag(band, kind="band", analysis=analysis, arm=arm)
        else:  # one size: the band is an interval
            bar = ax.vlines(n, low, high, color=colour, linewidth=2.5, alpha=0.35, zorder=2)
            tag(bar, kind="band", analysis=analysis, arm=arm)
        (line,) = ax.plot(
            n,
            power,
            color=colour,
            linestyle=style.dash,
            marker=style.marker,
            markersize=3,
            zorder=3,
            clip_on=False,  # a marker at 100 % is drawn whole
        )
        tag(
            line,
            kind="power-curve",
            analysis=analysis,
            arm=arm,
            n=" ".join(str(int(v)) for v in n),
            power=" ".join(f"{v:.6f}" for v in power),
        )
    ax.set_ylim(0.0, 1.0)
    ax.set_yticks([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_xlim(*x_limits)
    if ticks:
        ax.set_xticks(list(ticks))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))


#: characters a legend entry is wrapped at, by the number of legend columns across the figure
LEGEND_CHARS = {1: 100, 2: 48, 3: 30}


def legend_columns(labels: list[str]) -> int:
    """Return 3 legend columns when every entry fits a third of the width, else 2 (1 for one entry)."""
    if len(labels) <= 1:
        return 1
    return 3 if max(len(label) for label in labels) <= LEGEND_CHARS[3] else 2


def _rows_of(labels: list[str], columns: int) -> list[list[str]]:
    return [labels[i : i + columns] for i in range(0, len(labels), columns)]


def _legend_labels(styles: dict[tuple[str, str], Style], sim: PowerSimulation) -> list[str]:
    """Return the legend entry of each line: its analysis, its arm against control, or both."""
    analyses = list(dict.fromkeys(a for a, _ in styles))
    arms = list(dict.fromkeys(arm for _, arm in styles))
    labels = []
    for analysis, arm in styles:
        words = []
        if len(analyses) > 1 or len(arms) == 1:
            words.append(_analysis_label(analysis))
        if len(arms) > 1:
            words.append(f"{_arm_label(sim, arm)} vs {_arm_label(sim, sim.design.control)}")
        labels.append(", ".join(words))
    return labels


def _legend(fig: MplFigure, styles: dict[tuple[str, str], Style], sim: PowerSimulation) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=st.colour, linestyle=st.dash, marker=st.marker) for st in styles.values()]
    labels = _legend_labels(styles, sim)
    columns = legend_columns(labels)
    legend = fig.legend(
        handles,
        [wrap(label, LEGEND_CHARS[columns]) for label in labels],
        loc="outside upper center",
        ncols=min(len(handles), columns),
        title=wrap(_subtitle(sim), 110),
        title_fontsize=7,
    )
    legend.get_title().set_color("#404040")


def power_curve_svg(sim: PowerSimulation) -> str:
    """Return the power curve of ``sim`` as inline SVG: power against the control arm's size, a panel per endpoint.

    One line per analysis and arm compared with control, with its band of ± 1.96 Monte Carlo SE
    (``sqrt(p (1 - p) / trials)``) shaded and dashed lines at 80 % and 90 % power; the power axis
    runs from 0 % to 100 %. Endpoints are shown by label, in the design's order; the subtitle gives
    the trials per size, the seed and alpha. The same simulation gives the same bytes.
    """
    table = sim.table
    order = [ep.id for ep in sim.design.endpoints]
    endpoints = [e for e in order if e in set(table["endpoint"])] + sorted(
        set(map(str, table["endpoint"])) - set(order)
    )
    arm_order = [a.id for a in sim.design.arms if a.id != sim.design.control]
    arm_order += sorted(set(map(str, table["arm"])) - set(arm_order))
    colours = dict(arm_colours((sim.design.control, *arm_order)))
    lines = list(
        dict.fromkeys(
            (str(a), str(arm))
            for a, arm in sorted(
                table[["analysis", "arm"]].drop_duplicates().itertuples(index=False),
                key=lambda r: (
                    list(ANALYSES).index(r[0]) if r[0] in ANALYSES else len(ANALYSES),
                    str(r[0]),
                    arm_order.index(str(r[1])),
                ),
            )
        )
    )
    styles = _styles(lines, arm_order, colours)
    sizes = table["n_per_arm"].to_numpy(dtype="float64")
    low, high = (float(sizes.min()), float(sizes.max())) if sizes.size else (0.0, 1.0)
    pad = max(2.0, 0.04 * (high - low))
    x_limits = (low - pad, high + pad)

    equal = bool((table["n_total"] == table["n_per_arm"] * (len(arm_order) + 1)).all())
    x_label = "Participants randomised per arm" if equal else "Participants randomised to control"
    panels = max(len(endpoints), 1)
    cols = min(COLUMNS, panels)
    rows = math.ceil(panels / cols)
    with theme():
        # each row of the legend beyond the first adds height rather than taking it from the panels
        labels = _legend_labels(styles, sim)
        legend_rows = sum(
            max(len(wrap(label, LEGEND_CHARS[legend_columns(labels)]).splitlines()) for label in row)
            for row in _rows_of(labels, legend_columns(labels))
        )
        legend_rows = max(legend_rows, 1)
        fig = new_figure(WIDTH_IN, HEAD_IN + LEGEND_ROW_IN * (legend_rows - 1) + rows * PANEL_IN)
        if not lines:
            fig.suptitle(wrap(_subtitle(sim), 110), fontsize=7, fontweight="normal", color="#404040")
        axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
        width = panel_width(cols)
        for k, ax in enumerate(axes.flat):
            if k >= len(endpoints):
                ax.set_visible(False)
                continue
            endpoint = endpoints[k]
            part = table.loc[(table["endpoint"] == endpoint).to_numpy()]
            _panel(ax, part, styles, x_limits, _size_ticks(tuple(sorted(sim.n_per_arm))))
            ax.set_title(fit(_endpoint_label(sim, endpoint), width, TITLE_PT, bold=True), loc="left")
            tag(ax, kind="panel", endpoint=endpoint)
            if k % cols == 0:
                ax.set_ylabel("Power")
            if k >= len(endpoints) - cols:
                ax.set_xlabel(x_label)
            ax.tick_params(axis="y", labelleft=True)
        if lines:
            _legend(fig, styles, sim)
        svg = svg_text(fig, SLUG)
    return _standalone(svg, x_label)


def _standalone(svg: str, x_label: str) -> str:
    """Return ``svg`` fit to stand alone as a file: its size in points and a title that labels it.

    Inline in a page, the page's CSS sizes the figure (over the attributes) and a caption may label it.
    """
    import xml.etree.ElementTree as ET

    ns = "http://www.w3.org/2000/svg"
    ET.register_namespace("", ns)
    root = ET.fromstring(svg)
    _, _, width, height = root.get("viewBox", "0 0 0 0").split()
    root.set("width", f"{width}pt")
    root.set("height", f"{height}pt")
    title = ET.Element(f"{{{ns}}}title", {"id": f"{SLUG}-title"})
    title.text = f"Simulated power against {x_label[0].lower()}{x_label[1:]}, by endpoint"
    root.insert(0, title)
    root.set("aria-labelledby", f"{SLUG}-title")
    return ET.tostring(root, encoding="unicode", short_empty_elements=True) + "\n"
