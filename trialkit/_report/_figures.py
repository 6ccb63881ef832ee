"""The report's figures of values over visits and of change: one panel per endpoint, drawn in one theme.

Every figure is a matplotlib figure drawn inside :func:`._theme.theme` and returned as inline SVG
(:mod:`._svg`). Readers see labels (arms, visits, endpoints with their unit); ids stay in the SVG's
``data-*`` attributes. Under every panel of values over visits a table gives, per arm, the number
of participants with a value at each visit, aligned with the visit ticks. A log-scale endpoint is
drawn on a logarithmic axis (geometric means, back-transformed intervals, ratios to baseline).
The forest plot is in :mod:`._forest`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from trialkit._labels import with_unit
from trialkit._report._forest import forest_figure
from trialkit._report._mmrm_words import mmrm_wording
from trialkit._report._svg import Figure, new_figure, svg_text, tag
from trialkit._report._theme import (
    OKABE_ITO,
    WIDTH_IN,
    arm_colours,
    fit,
    glyph,
    marker,
    panel_width,
    set_value_axis,
    text_width,
    theme,
    value_scale,
    wrap,
)
from trialkit._spec import Endpoint
from trialkit._trial import Trial
from trialkit.analysis._results import Results

if TYPE_CHECKING:  # matplotlib is imported when a report is drawn, not when trialkit is
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

__all__ = [
    "COLUMNS",
    "Figure",
    "OKABE_ITO",
    "PANELS_PER_FIGURE",
    "POINTS_PER_ARM",
    "arm_colours",
    "change_figures",
    "forest_figure",
    "means_figures",
    "mmrm_figures",
    "observed_counts",
    "proportion_figures",
    "rate_figures",
]

PANELS_PER_FIGURE = 12
#: panels of a figure with the numbers observed under each: three rows fill an A4 page
PANELS_WITH_NUMBERS = 9
COLUMNS = 3
LEGEND_IN = 0.35  # the arms' legend above the panels
PANEL_IN = 1.95  # a panel: title, plotting area, visit labels
TABLE_ROW_IN = 0.13  # a row (arm) of the numbers under a panel
TABLE_HEAD_IN = 0.2  # the heading of those numbers and the space around them
TABLE_TEXT_PT = 6.5
SPREAD = 0.08  # distance between the arms' estimates at a visit, in visits
TITLE_PT = 8  # the panels' titles (axes.titlesize)
TICK_LINE_IN = 7 * 1.2 / 72  # a line of tick labels (7 pt, 1.2 line spacing), in inches
#: participants of an arm above which a change panel draws the arm's box only, not one point each: the
#: figure's size is then bounded whatever the trial's size (a point is a hundred bytes of SVG)
POINTS_PER_ARM = 200


def _grid(n: int) -> tuple[int, int]:
    cols = min(COLUMNS, n)
    return math.ceil(n / cols), cols


def chunk_sizes(n: int, most: int) -> list[int]:
    """Split ``n`` panels into as few figures of at most ``most`` as there must be, as even as can be.

    >>> chunk_sizes(10, 9), chunk_sizes(10, 12), chunk_sizes(12, 9), chunk_sizes(19, 9), chunk_sizes(2, 9)
    ([5, 5], [10], [6, 6], [7, 7, 5], [2])
    """
    per = math.ceil(n / math.ceil(n / most)) if n else 0
    sizes = []
    while n > 0:
        sizes.append(min(per, n))
        n -= sizes[-1]
    return sizes


def _chunks(items: list[Endpoint], most: int) -> list[list[Endpoint]]:
    out, start = [], 0
    for size in chunk_sizes(len(items), most):
        out.append(items[start : start + size])
        start += size
    return out


def _shift(i: int, n_arms: int) -> float:
    """Return the sideways offset of the ``i``-th arm's estimate at a visit (arms side by side)."""
    return (i - (n_arms - 1) / 2) * SPREAD if n_arms > 1 else 0.0


def observed_counts(trial: Trial) -> dict[tuple[str, str, str], int]:
    """Return the number of participants with a value, per ``(endpoint, arm, visit)``: the numbers under the panels.

    A participant counts at a visit when the value of the endpoint there is not missing.
    """
    counts = trial.missing_counts()
    return {
        (str(e), str(a), str(v)): int(n)
        for e, a, v, n in counts[["endpoint", "arm", "visit", "n_observed"]].itertuples(index=False)
    }


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


def _legend(fig: MplFigure, trial: Trial, *, line: bool) -> None:
    from matplotlib.lines import Line2D

    arms = trial.arms
    colours = arm_colours(arms)
    handles = [
        Line2D([], [], color=colours[a], marker=marker(i), linestyle="-" if line else "none", markersize=5)
        for i, a in enumerate(arms)
    ]
    labels = [wrap(trial.spec.arms.label(a), 40) for a in arms]
    fig.legend(handles, labels, loc="outside upper center", ncols=min(len(arms), 4))


def _table_lines(trial: Trial) -> int:
    """Return the lines of the longest arm label beside the numbers under a panel (labels wrap at 22 characters)."""
    return max(len(wrap(trial.spec.arms.label(a), 22).splitlines()) for a in trial.arms)


def _panels(fig: MplFigure, n: int, *, table_rows: int) -> list[tuple[Axes, Axes | None, int]]:
    """Lay out ``n`` panels in :data:`COLUMNS` columns, each with a table axes of ``table_rows`` rows under it.

    Returns ``(panel, table or None, column)`` per panel; cells past ``n`` are not drawn.
    """
    rows, cols = _grid(n)
    if table_rows == 0:
        axes = fig.subplots(rows, cols, squeeze=False)
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        return [(ax, None, k % cols) for k, ax in enumerate(axes.flat[:n])]
    grid = fig.add_gridspec(2 * rows, cols, height_ratios=[PANEL_IN - 0.55, TABLE_ROW_IN * table_rows] * rows)
    out: list[tuple[Axes, Axes | None, int]] = []
    for k in range(n):
        r, c = divmod(k, cols)
        out.append((fig.add_subplot(grid[2 * r, c]), fig.add_subplot(grid[2 * r + 1, c]), c))
    return out


def _panel_width(trial: Trial, columns: int, *, numbers: bool) -> float:
    """Return the width, in points, a panel's title may take: its share of the text width less its axis labels.

    With the numbers observed under the panels, the first column also holds the arm labels.
    """
    left = 0.0
    if numbers:
        labels = [line for a in trial.arms for line in wrap(trial.spec.arms.label(a), 22).splitlines()]
        left = max(text_width(line, TABLE_TEXT_PT) for line in labels) + 12  # and the marker beside them
    return panel_width(columns, left=left)


def _observed_table(
    table: Axes,
    panel: Axes,
    trial: Trial,
    ep: Endpoint,
    visits: Sequence[str],
    counts: dict[tuple[str, str, str], int],
    *,
    arm_labels: bool,
) -> None:
    """Write under ``panel``, per arm, the number of participants with a value at each visit, under its tick.

    With ``arm_labels`` (the panels of the first column) the arm labels head the rows; every row
    starts with the arm's marker as a character, in its colour.
    """
    from matplotlib.ticker import NullLocator

    arms = trial.arms
    colours = arm_colours(arms)
    table.set_xlim(panel.get_xlim())
    table.set_ylim(len(arms) - 0.5, -0.5)
    for j, a in enumerate(arms):
        for x, v in enumerate(visits):
            text = table.text(x, j, str(counts.get((ep.id, a, v), 0)), ha="center", va="center", fontsize=TABLE_TEXT_PT)
            tag(text, kind="n-observed", endpoint=ep.id, arm=a, visit=v)
        table.annotate(
            glyph(j),
            (0.0, j),
            xycoords=("axes fraction", "data"),
            xytext=(-2, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=TABLE_TEXT_PT,
            color=colours[a],
        )
    table.set_yticks(range(len(arms)), [wrap(trial.spec.arms.label(a), 22) for a in arms])
    table.tick_params(axis="y", left=False, labelleft=arm_labels, pad=9, labelsize=TABLE_TEXT_PT, labelcolor="#262626")
    table.xaxis.set_major_locator(NullLocator())
    table.grid(False)
    for spine in table.spines.values():
        spine.set_visible(False)
    table.set_title("Participants with a value", loc="left", fontsize=TABLE_TEXT_PT, fontweight="normal", pad=2)


def _visit_axis(ax: Axes, trial: Trial, visits: Sequence[str]) -> None:
    ax.set_xticks(np.arange(len(visits)), [wrap(trial.spec.visits.label(v), 12) for v in visits])
    ax.set_xlim(-0.5, len(visits) - 0.5)


def _estimates(
    ax: Axes,
    trial: Trial,
    visits: Sequence[str],
    summary: Callable[[str, str], tuple[float, float, float]],
) -> None:
    """Draw one estimate with its interval per arm and visit, arms side by side (``summary(arm, visit)``)."""
    arms = trial.arms
    colours = arm_colours(arms)
    for i, a in enumerate(arms):
        m, lo, hi = (np.array(column) for column in zip(*(summary(a, v) for v in visits), strict=True))
        pos = np.arange(len(visits)) + _shift(i, len(arms))
        ax.errorbar(pos, m, yerr=[m - lo, hi - m], color=colours[a], marker=marker(i), capsize=2, elinewidth=0.9)


def _panel_figures(
    trial: Trial,
    slug: str,
    draw: Callable[[Axes, Endpoint], None],
    caption: Callable[[list[Endpoint], str], str],
    *,
    line_legend: bool,
    endpoints: Sequence[Endpoint] | None = None,
    visits: Sequence[str] | None = None,
    panel_in: float = PANEL_IN,
) -> list[Figure]:
    """Draw one panel per endpoint, :data:`PANELS_PER_FIGURE` panels a figure at most, arms in the legend.

    ``draw(ax, endpoint)`` fills one panel; ``caption(chunk, part_note)`` writes a figure's caption.
    ``endpoints`` (default: every continuous endpoint) are the panels; none: no figure. With
    ``visits`` (the panel's x axis), every panel has the numbers observed at each visit under it, and
    a figure has :data:`PANELS_WITH_NUMBERS` panels at most. ``panel_in`` is the height of a panel
    with its title and axis labels, in inches.
    """
    if endpoints is None:
        endpoints = [e for e in trial.spec.endpoints if e.type == "continuous"]
    if not endpoints:
        return []
    counts = observed_counts(trial) if visits is not None else {}
    table_rows = len(trial.arms) * _table_lines(trial) if visits is not None else 0
    table_in = TABLE_HEAD_IN + TABLE_ROW_IN * table_rows if visits is not None else 0.0
    chunks = _chunks(list(endpoints), PANELS_WITH_NUMBERS if visits is not None else PANELS_PER_FIGURE)
    out = []
    for k, chunk in enumerate(chunks):
        rows, _ = _grid(len(chunk))
        slug_k = f"fig-{slug}-{k + 1}"
        with theme():
            fig = new_figure(WIDTH_IN, LEGEND_IN + rows * (panel_in + table_in))
            panels = _panels(fig, len(chunk), table_rows=table_rows)
            width = _panel_width(trial, _grid(len(chunk))[1], numbers=visits is not None)
            for (ax, table, column), ep in zip(panels, chunk, strict=True):
                draw(ax, ep)  # the title's words; fitted to the panel here
                ax.set_title(fit(ax.get_title(loc="left"), width, TITLE_PT, bold=True), loc="left")
                tag(ax, kind="panel", endpoint=ep.id, scale=value_scale(ep))
                if table is not None and visits is not None:
                    _observed_table(table, ax, trial, ep, visits, counts, arm_labels=column == 0)
            _legend(fig, trial, line=line_legend)
            svg = svg_text(fig, slug_k)
        part_note = f" (part {k + 1} of {len(chunks)})" if len(chunks) > 1 else ""
        out.append(Figure(slug_k, svg, caption(chunk, part_note)))
    return out


def _level(alpha: float) -> str:
    return f"{100 * (1 - alpha):g}%"


#: the caption's sentence on the numbers under the panels
OBSERVED_NOTE = " Under each panel: the number of participants with a value at each visit, by arm."


def means_figures(trial: Trial, alpha: float) -> list[Figure]:
    """Mean (geometric mean on a log axis for a log-scale endpoint) ± CI over visits, by arm, a panel per endpoint."""
    spec = trial.spec
    d = trial.data
    visits = list(spec.visits.order)

    def draw(ax: Axes, ep: Endpoint) -> None:
        log = value_scale(ep) == "log"
        part = d.loc[(d["endpoint"] == ep.id).to_numpy()]

        def summary(arm: str, visit: str) -> tuple[float, float, float]:
            cell = part.loc[((part["arm"] == arm) & (part["visit"] == visit)).to_numpy(), "value"]
            return _mean_ci(cell.to_numpy(dtype="float64"), alpha, log)

        _estimates(ax, trial, visits, summary)
        _visit_axis(ax, trial, visits)
        ax.set_title(with_unit(ep.label, ep.unit), loc="left")
        ax.set_ylabel("Geometric mean" if log else "Mean")
        set_value_axis(ax, "y", value_scale(ep))

    def caption(chunk: list[Endpoint], part_note: str) -> str:
        return (
            f"Mean and {_level(alpha)} confidence interval at each visit, by arm{part_note}. "
            + (
                "Log-scale endpoints: geometric means with back-transformed intervals, on a logarithmic axis. "
                if any(value_scale(e) == "log" for e in chunk)
                else ""
            )
            + "Observed values, not adjusted; every randomised participant with a value at the visit."
            + OBSERVED_NOTE
        )

    return _panel_figures(trial, "means", draw, caption, line_legend=True, visits=visits)


def proportion_figures(trial: Trial, alpha: float) -> list[Figure]:
    """Percentage with the event and its Wilson interval at each visit, by arm, one panel per binary endpoint."""
    from trialkit.analysis._responders import wilson_interval

    d = trial.data
    visits = list(trial.spec.visits.order)

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

        _estimates(ax, trial, visits, summary)
        _visit_axis(ax, trial, visits)
        ax.set_title(ep.label, loc="left")
        ax.set_ylim(0, 100)
        ax.set_ylabel("% with the event")

    def caption(chunk: list[Endpoint], part_note: str) -> str:
        return (
            f"Percentage of participants with the event and its {_level(alpha)} Wilson score interval at each "
            f"visit, by arm{part_note}. Observed values, not adjusted; every randomised participant with a value "
            "at the visit." + OBSERVED_NOTE
        )

    endpoints = [e for e in trial.spec.endpoints if e.type == "binary"]
    return _panel_figures(trial, "proportions", draw, caption, line_legend=True, endpoints=endpoints, visits=visits)


def rate_figures(trial: Trial, alpha: float) -> list[Figure]:
    """Event rate (events / time at risk) with its exact Poisson interval at each visit, by arm, per count endpoint."""
    from trialkit._report._tables import counts_at, rate_unit
    from trialkit.analysis._counts import rate_arrays

    visits = list(trial.spec.visits.order)

    def draw(ax: Axes, ep: Endpoint) -> None:
        at = {v: counts_at(trial, ep, v) for v in visits}

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

        _estimates(ax, trial, visits, summary)
        _visit_axis(ax, trial, visits)
        ax.set_title(ep.label, loc="left")
        ax.set_ylim(bottom=0)
        ax.set_ylabel(with_unit("Rate", f"{ep.unit or 'events'} {rate_unit(ep)}"))

    def caption(chunk: list[Endpoint], part_note: str) -> str:
        return (
            f"Event rate (events over time at risk, summed over the participants of the arm) and its exact "
            f"Poisson {_level(alpha)} interval at each visit, by arm{part_note}. Observed counts, not adjusted; "
            "the interval treats the events as Poisson and is too narrow when they are overdispersed." + OBSERVED_NOTE
        )

    endpoints = [e for e in trial.spec.endpoints if e.type == "count"]
    return _panel_figures(trial, "rates", draw, caption, line_legend=True, endpoints=endpoints, visits=visits)


def mmrm_figures(trial: Trial, results: Results) -> list[Figure]:
    """MMRM LS means (geometric on a log axis for log-scale endpoints) with CIs at each post-baseline visit, by arm.

    A panel per endpoint; empty when no MMRM ran; an endpoint whose MMRM could not run has an
    empty panel saying so.
    """
    words = mmrm_wording(results)
    t = results.table
    lsmeans = t.loc[(t["analysis"] == "mmrm_lsmean").to_numpy() & (t["population"] == "fas").to_numpy()]
    if lsmeans.empty:
        return []
    visits = list(trial.spec.visits.post_baseline)

    def draw(ax: Axes, ep: Endpoint) -> None:
        part = lsmeans.loc[(lsmeans["endpoint"] == ep.id).to_numpy()]
        ax.set_title(with_unit(ep.label, ep.unit), loc="left")
        _visit_axis(ax, trial, visits)
        if part.empty:
            ax.text(0.5, 0.5, "MMRM could not run", ha="center", va="center", transform=ax.transAxes, color="#555555")
            ax.set_yticks([])
            return
        rows = {(str(a), str(v)): k for k, (a, v) in enumerate(zip(part["contrast"], part["visit"], strict=True))}
        columns = [part[c].to_numpy(dtype="float64") for c in ("estimate", "ci_low", "ci_high")]

        def summary(arm: str, visit: str) -> tuple[float, float, float]:
            k = rows.get((arm, visit))
            if k is None:
                return math.nan, math.nan, math.nan
            m, lo, hi = (float(c[k]) for c in columns)
            return m, lo, hi

        _estimates(ax, trial, visits, summary)
        log = value_scale(ep) == "log"
        ax.set_ylabel("Geometric LS mean" if log else "LS mean")
        set_value_axis(ax, "y", value_scale(ep))

    def caption(chunk: list[Endpoint], part_note: str) -> str:
        return (
            f"MMRM least-squares means with {_level(results.alpha)} confidence intervals at each post-baseline "
            f"visit, by arm{part_note}, {words['adjusted']}. The model uses {words['who']}. "
            + (
                "Log-scale endpoints: geometric LS means with back-transformed intervals, on a logarithmic axis."
                if any(value_scale(e) == "log" for e in chunk)
                else ""
            )
            + OBSERVED_NOTE
        ).replace("  ", " ")

    return _panel_figures(trial, "mmrm", draw, caption, line_legend=True, visits=visits)


def _boxes(ax: Axes, values: pd.DataFrame, arms: list[str], colours: dict[str, str], log: bool) -> None:
    """Draw the box of each arm's values (seaborn), pale under the points; quartiles of the logs on a log axis."""
    import seaborn as sns

    with warnings.catch_warnings():  # seaborn 0.13 passes matplotlib 3.11 a deprecated `vert`
        warnings.filterwarnings("ignore", message="vert: bool", category=DeprecationWarning)
        sns.boxplot(
            data=values,
            x="arm",
            y="y",
            order=arms,
            hue="arm",
            hue_order=arms,
            palette={a: _pale(colours[a]) for a in arms},
            saturation=1,
            width=0.5,
            showfliers=False,
            log_scale=(False, log),
            linecolor="#555555",
            linewidth=0.8,
            medianprops={"color": "#000000", "linewidth": 1.1},
            legend=False,
            ax=ax,
        )


def _pale(colour: str) -> str:
    """Return ``colour`` mixed with three parts of white: a box's fill under points drawn in ``colour``."""
    rgb = [int(colour[k : k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{round(0.25 * c + 0.75 * 255):02X}" for c in rgb)


def change_values(trial: Trial, ep: Endpoint) -> pd.DataFrame:
    """Return ``subject, arm, y`` at the primary visit: the change on the scale ``ep`` is analysed on.

    ``y`` is the follow-up value minus baseline, or for a log-scale endpoint the ratio follow-up /
    baseline (both positive); participants without it are left out.
    """
    spec = trial.spec
    ch = trial.changes()
    ch = ch.loc[(ch["visit"] == spec.visits.primary).to_numpy() & (ch["endpoint"] == ep.id).to_numpy()]
    if value_scale(ep) == "log":
        base, value = ch["baseline"].to_numpy(dtype="float64"), ch["value"].to_numpy(dtype="float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.where((base > 0) & (value > 0), value / base, np.nan)
    else:
        y = ch["change"].to_numpy(dtype="float64")
    out = pd.DataFrame({"subject": ch["subject"].astype(str).to_numpy(), "arm": ch["arm"].astype(str).to_numpy()})
    out["y"] = y
    return out.loc[out["y"].notna().to_numpy()].reset_index(drop=True)


def change_figures(trial: Trial) -> list[Figure]:
    """Change from baseline at the primary visit by arm, on the analysed scale: box with every participant's point.

    When an arm has more than :data:`POINTS_PER_ARM` participants the panels draw the boxes only,
    so that the figure's size does not grow with the trial.

    None without a baseline visit (there is no change); continuous endpoints only. A log-scale
    endpoint shows the ratio to baseline on a logarithmic axis (1: no change), others the
    difference (0: no change).
    """
    spec = trial.spec
    if spec.visits.baseline is None:
        return []
    arms = list(trial.arms)
    colours = arm_colours(trial.arms)
    primary, baseline = spec.visits.label(spec.visits.primary), spec.visits.label(spec.visits.baseline)
    # one rule for the whole figure (and its caption): points while no arm has more than POINTS_PER_ARM
    arm_sizes = trial.subjects["arm"].astype(str).value_counts()
    points = int(arm_sizes.max()) <= POINTS_PER_ARM if not arm_sizes.empty else True

    def draw(ax: Axes, ep: Endpoint) -> None:
        values = change_values(trial, ep)
        log = value_scale(ep) == "log"
        if not values.empty:
            _boxes(ax, values, arms, colours, log)
        rng = np.random.default_rng(20240101)  # fixed spread: the same data give the same figure
        for i, a in enumerate(arms if points else []):
            y = values.loc[(values["arm"] == a).to_numpy(), "y"].to_numpy(dtype="float64")
            ax.plot(
                i + rng.uniform(-0.12, 0.12, y.size),
                y,
                linestyle="none",
                marker=marker(i),
                markersize=3,
                color=colours[a],
                markeredgewidth=0,
                alpha=0.9,
                zorder=3,
            )
        if points:
            ax.relim()
            ax.autoscale(enable=True, axis="y")  # every point inside the axis, not only the whiskers
        ax.axhline(1.0 if log else 0.0, color="#999999", linewidth=0.7, zorder=1)
        n = {a: int((values["arm"] == a).sum()) for a in arms}
        ax.set_xticks(np.arange(len(arms)), [f"{wrap(spec.arms.label(a), 14)}\nn = {n[a]}" for a in arms])
        ax.set_xlim(-0.6, len(arms) - 0.4)
        ax.set_xlabel("")
        if log:
            ax.set_title(ep.label, loc="left")
            ax.set_ylabel(f"Ratio, {primary} / {baseline}")
        else:
            ax.set_title(with_unit(ep.label, ep.unit), loc="left")
            ax.set_ylabel("Change from baseline")
        set_value_axis(ax, "y", value_scale(ep))

    def caption(chunk: list[Endpoint], part_note: str) -> str:
        shown = (
            "one point per participant with both values (spread sideways)"
            if points
            else f"values beyond the whiskers not drawn (more than {POINTS_PER_ARM} participants in an arm)"
        )
        return (
            f"Change from {baseline} to {primary} by arm{part_note}: box = median and quartiles, whiskers to "
            f"the furthest value within 1.5 × IQR of the box, {shown}; n = participants with both values."
            + (
                f" Log-scale endpoints, as analysed: the ratio of the {primary} value to the baseline value on a "
                "logarithmic axis (1 = no change; quartiles and whiskers of the log ratio)."
                if any(value_scale(e) == "log" for e in chunk)
                else ""
            )
        )

    # arm labels under the boxes beyond two lines (with the line of n) need their room under the panels
    lines = max(len(wrap(spec.arms.label(a), 14).splitlines()) for a in arms)
    panel_in = PANEL_IN + TICK_LINE_IN * max(0, lines - 2)
    return _panel_figures(trial, "change", draw, caption, line_legend=False, panel_in=panel_in)
