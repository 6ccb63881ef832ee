"""The figures of the "Missing data" section: the pattern of missing values and the tipping-point curves.

Drawn as every report figure is: matplotlib without pyplot inside :func:`._theme.theme`, returned as
inline SVG (:mod:`._svg`) with user strings as escaped text. Readers see the labels of arms, visits
and endpoints; ids stay in ``data-*`` attributes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trialkit._format import format_number
from trialkit._report._figures import COLUMNS, PANELS_PER_FIGURE
from trialkit._report._missing_view import ordered_endpoints
from trialkit._report._missing_words import RATIO_DECIMALS
from trialkit._report._svg import Figure, new_figure, svg_text, tag
from trialkit._report._theme import WIDTH_IN, arm_colours, fit, marker, panel_width, theme, wrap
from trialkit._spec import Endpoint
from trialkit._trial import Trial
from trialkit.analysis._results import Results

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["pattern_figure", "tipping_figures"]

#: the three states of a participant at a visit, drawn left to right: (column, legend text, fill, text colour)
STATES = (
    ("n_observed", "observed", "#56B4E9", "#000000"),
    ("n_intermittent", "missing, a later value observed (intermittent)", "#E69F00", "#000000"),
    ("n_monotone", "missing, no later value (left)", "#D55E00", "#FFFFFF"),
)
BAR_IN = 0.24  # height per bar of the pattern figure
P_FLOOR = 1e-12  # smallest p drawn on the logarithmic axis
LABEL_MIN_IN = 0.14  # shortest bar segment, in inches, that shows its count


def _pattern_groups(trial: Trial, pattern: pd.DataFrame) -> list[tuple[list[Endpoint], pd.DataFrame]]:
    """Group the endpoints whose counts are identical at every arm and visit, in spec order (primary first)."""
    groups: dict[tuple[Any, ...], tuple[list[Endpoint], pd.DataFrame]] = {}
    for ep in ordered_endpoints(trial):
        part = pattern.loc[(pattern["endpoint"] == ep.id).to_numpy()]
        if part.empty:
            continue
        key = tuple(
            part[["arm", "visit", "n_subjects", "n_observed", "n_intermittent", "n_monotone"]].itertuples(index=False)
        )
        groups.setdefault(key, ([], part))[0].append(ep)
    return list(groups.values())


def pattern_figure(trial: Trial, results: Results) -> Figure | None:
    """Draw, per arm and post-baseline visit, the participants observed, missing intermittently and missing for good.

    Endpoints with the same counts everywhere share a panel.
    """
    from matplotlib.patches import Patch

    pattern = results.missing_pattern
    if pattern.empty:
        return None
    spec = trial.spec
    visits = [v for v in spec.visits.post_baseline if v in set(pattern["visit"].astype(str))]
    visit = {v: spec.visits.label(v) for v in visits}
    groups = _pattern_groups(trial, pattern)
    n_endpoints = len(spec.endpoints)
    bars = [(v, a) for v in visits for a in trial.arms]
    cols = 1 if len(groups) == 1 else 2
    rows = math.ceil(len(groups) / cols)
    labels = [
        wrap(spec.arms.label(a), 18) if len(visits) == 1 else wrap(f"{spec.arms.label(a)}, {visit[v]}", 22)
        for v, a in bars
    ]
    # a bar's slot holds its label's lines (7 pt tick labels, 1.2 line spacing)
    slot_in = max(BAR_IN, max(len(label.splitlines()) for label in labels) * 7 * 1.2 / 72)
    with theme():
        fig = new_figure(WIDTH_IN, 0.55 + rows * (0.45 + slot_in * len(bars)))
        axes = fig.subplots(rows, cols, squeeze=False)
        for ax in axes.flat:
            ax.grid(True, axis="x")
            ax.grid(False, axis="y")
        for ax in axes.flat[len(groups) :]:
            ax.set_visible(False)
        total = int(pattern["n_subjects"].max())
        axis_in = WIDTH_IN / cols - 1.3  # the bars' length at full scale, less the arm labels
        for ax, (endpoints, part) in zip(axes.flat, groups, strict=False):
            n_arms = len(trial.arms)
            y = -np.array([i + 0.6 * (i // n_arms) for i in range(len(bars))])  # a gap between visits
            for yy, (v, a) in zip(y, bars, strict=True):
                hit = part.loc[(part["visit"] == v).to_numpy() & (part["arm"] == a).to_numpy()]
                if hit.empty:
                    continue
                left = 0.0
                for column, _, fill, ink in STATES:
                    n = float(hit[column].iloc[0])
                    if n <= 0:
                        continue
                    ax.barh(yy, n, left=left, height=0.7, color=fill, edgecolor="#FFFFFF", linewidth=0.6)
                    if n / total * axis_in >= LABEL_MIN_IN:  # room for the count inside the bar
                        count = ax.text(
                            left + n / 2, yy, str(int(n)), ha="center", va="center", color=ink, fontsize=6.5
                        )
                        tag(count, kind=column.removeprefix("n_"), arm=a, visit=v)
                    left += n
            ax.set_yticks(y, labels)
            ax.set_ylim(float(y.min()) - 0.6, 0.6)
            ax.set_xlim(0, total)
            ax.set_xlabel("Participants randomised")
            if len(groups) == 1 and n_endpoints > 1:
                title = (
                    f"Every endpoint (the same counts), at {visit[visits[0]]}"
                    if len(visits) == 1
                    else "Every endpoint (the same counts)"
                )
            else:
                title = "; ".join(e.label for e in endpoints) + (f", at {visit[visits[0]]}" if len(visits) == 1 else "")
            ax.set_title(fit(title, panel_width(cols) - 50, 8, bold=True), loc="left")  # arm labels: 50 pt wider
        handles = [Patch(facecolor=fill, edgecolor="none") for _, _, fill, _ in STATES]
        fig.legend(handles, [text for _, text, _, _ in STATES], loc="outside upper center", ncols=3)
        svg = svg_text(fig, "fig-missing-pattern")
    return Figure(
        "fig-missing-pattern",
        svg,
        "Missing values by arm and post-baseline visit: participants observed, missing with a later value "
        "observed (intermittent), and missing with no later value (they left). Every randomised participant; "
        + (
            "all endpoints share one panel because their counts are the same."
            if len(groups) == 1 and n_endpoints > 1
            else "endpoints with the same counts share a panel."
        ),
    )


def _tipping_panel(
    ax: Axes, ep: Endpoint, arm: str, part: pd.DataFrame, tip: pd.DataFrame, trial: Trial, alpha: float, columns: int
) -> None:
    """Draw p against the shift δ of one contrast, alpha as a dashed line, the tipping shift marked and labelled.

    ``columns`` is the number of panels across the figure (the title is fitted to the panel's width).

    The labels of alpha and of the tipping shift sit outside the plotting area (on the right, and on
    top as the tick of a secondary axis), where no curve can run through them.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    colour = arm_colours(trial.arms)[arm]
    arms = trial.spec.arms
    title = ep.label if len(trial.arms) == 2 else f"{ep.label}: {arms.label(arm)} vs {arms.label(trial.control)}"
    tag(ax, kind="tipping", endpoint=ep.id, contrast=f"{arm} - {trial.control}")
    # the title may reach over the "α = 0.05" right of the panel, which the layout makes room for
    ax.set_title(fit(title, panel_width(columns), 8, bold=True), loc="left")
    delta = part["delta"].to_numpy(dtype="float64")
    p = np.maximum(part["p_value"].to_numpy(dtype="float64"), P_FLOOR)
    ax.plot(delta, p, color=colour, marker=marker(trial.arms.index(arm)), markersize=2.5, linewidth=1.1)
    ax.axhline(alpha, color="#555555", linewidth=0.8, linestyle="--")
    ax.set_yscale("log")
    ax.set_ylim(min(float(p.min()) / 2, alpha / 5), 1.5)
    ax.yaxis.set_major_locator(LogLocator(base=10))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_number(v)))
    ax.yaxis.set_minor_formatter(NullFormatter())
    if delta.sum() < 0:  # δ = 0 (MAR) always on the left
        ax.invert_xaxis()
    ax.annotate(
        f"α = {format_number(alpha)}",
        (1.0, alpha),
        xycoords=("axes fraction", "data"),
        xytext=(2, 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=6.5,
        color="#555555",
        annotation_clip=False,
    )
    if not tip.empty:
        d, p_tip = float(tip["estimate"].iloc[0]), max(float(tip["p_value"].iloc[0]), P_FLOOR)
        ax.axvline(d, color=colour, linewidth=0.8, linestyle=":")
        ax.plot([d], [p_tip], marker="o", markersize=6, markerfacecolor="none", markeredgecolor="#000000", zorder=4)
        label = f"tipping δ = {format_number(d)}"
        if ep.scale == "log":
            label += f"\n(values × {format_number(math.exp(d), RATIO_DECIMALS)})"
        top = ax.secondary_xaxis("top")
        top.set_xticks([d], [label])
        top.tick_params(length=2, pad=1, labelsize=6.5)
        top.spines["top"].set_visible(False)
    unit = "log units" if ep.scale == "log" else (ep.unit or "endpoint units")
    ax.set_xlabel(f"Shift δ ({unit})")
    ax.set_ylabel("p-value")


def tipping_figures(trial: Trial, results: Results) -> list[Figure]:
    """Draw the tipping-point curves: p of the δ-adjusted MAR analysis against δ, a panel per endpoint and contrast."""
    grid = results.tipping_point
    if grid.empty:
        return []
    grid = grid.loc[(grid["population"] == "fas").to_numpy()]
    t = results.table
    tips = t.loc[(t["analysis"] == "tipping_point").to_numpy() & (t["population"] == "fas").to_numpy()]
    panels: list[tuple[Endpoint, str, pd.DataFrame, pd.DataFrame]] = []
    for ep in ordered_endpoints(trial):
        for a in trial.arms[1:]:
            contrast = f"{a} - {trial.control}"
            part = grid.loc[(grid["endpoint"] == ep.id).to_numpy() & (grid["contrast"] == contrast).to_numpy()]
            tip = tips.loc[(tips["endpoint"] == ep.id).to_numpy() & (tips["contrast"] == contrast).to_numpy()]
            if not part.empty:
                panels.append((ep, a, part, tip))
    if not panels:
        return []
    spec = trial.spec
    chunks = [panels[i : i + PANELS_PER_FIGURE] for i in range(0, len(panels), PANELS_PER_FIGURE)]
    out = []
    for k, chunk in enumerate(chunks):
        n_cols = min(COLUMNS, len(chunk))
        n_rows = math.ceil(len(chunk) / n_cols)
        with theme():
            fig = new_figure(WIDTH_IN, 0.2 + 2.0 * n_rows)
            axes = fig.subplots(n_rows, n_cols, squeeze=False)
            for ax in axes.flat[len(chunk) :]:
                ax.set_visible(False)
            for ax, (ep, a, part, tip) in zip(axes.flat, chunk, strict=False):
                _tipping_panel(ax, ep, a, part, tip, trial, results.alpha, n_cols)
            slug = f"fig-tipping-{k + 1}"
            svg = svg_text(fig, slug)
        note = f" (part {k + 1} of {len(chunks)})" if len(chunks) > 1 else ""
        logs = any(ep.scale == "log" for ep, _, _, _ in chunk)
        caption = (
            f"Tipping point{note}: p-value of the analysis at {spec.visits.label(spec.visits.primary)} when the "
            "values imputed under missing at random for the treated arm are shifted by δ, towards no difference; "
            f"δ = 0 (left) is the MAR analysis. Dashed line: α = {format_number(results.alpha)}. The circle marks "
            "the tipping shift, the smallest on the grid at which p ≥ α; on an endpoint not significant under MAR "
            "it is 0."
            + (
                " Log-scale endpoints: δ is a shift of the logarithms, i.e. the imputed values multiplied by exp(δ)."
                if logs
                else ""
            )
        )
        out.append(Figure(slug, svg, caption))
    return out
