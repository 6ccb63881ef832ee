"""The forest plot: every continuous endpoint's standardised effect at the primary visit, right meaning better.

One row per endpoint (the primary first), Hedges' g adjusted for baseline (ANCOVA) and of change,
each with its confidence interval, drawn so that right favours the treated arm: the sign of an
endpoint where lower is better is reversed, and its row says so. The estimate and interval of
every mark are printed beside the row as drawn; "Favours <arm>" stands under each side of the
reference line at 0. With several treated arms, one panel per contrast against the control.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trialkit._format import format_ci, format_number
from trialkit._report._missing_words import and_list
from trialkit._report._svg import Figure, new_figure, svg_text, tag
from trialkit._report._theme import WIDTH_IN, fit, theme, wrap
from trialkit._spec import Endpoint
from trialkit._trial import Trial
from trialkit.analysis._results import Results

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["DECIMALS", "ForestRow", "forest_figure", "forest_rows"]

#: digits of a standardised difference in the text beside the rows
DECIMALS = 2
ROW_IN = 0.42  # a row (endpoint) of a panel
PANEL_EXTRA_IN = 0.85  # a panel's title, axis, "Favours" line and axis label
LEGEND_IN = 0.3
TEXT_PT = 7
TITLE_PT = 8  # a contrast's title over its panel (axes.titlesize)


@dataclass(frozen=True)
class Kind:
    """One of the estimates drawn per row: its analysis, its name in the legend and how it is drawn."""

    analysis: str
    name: str
    marker: str
    colour: str
    filled: bool


@dataclass(frozen=True)
class ForestRow:
    """One mark of the forest plot as drawn: ``estimate`` and its interval oriented so that right is better.

    ``sign`` is -1 when the endpoint's lower values are better (the results' estimate reversed), else 1.
    """

    endpoint: str
    contrast: str
    analysis: str
    sign: int
    estimate: float
    ci_low: float
    ci_high: float

    @property
    def text(self) -> str:
        """Return the estimate and interval as printed beside the row: ``0.72 (0.10 to 1.34)``."""
        return f"{format_number(self.estimate, DECIMALS)} ({format_ci(self.ci_low, self.ci_high, DECIMALS)})"


def _kinds(trial: Trial) -> tuple[Kind, ...]:
    baseline = trial.spec.visits.baseline is not None
    return (
        Kind(
            "hedges_g_ancova",
            "Hedges' g adjusted for baseline (ANCOVA)" if baseline else "Hedges' g adjusted (ANCOVA)",
            "o",
            "#0072B2",
            True,
        ),
        Kind("hedges_g", "Hedges' g of change from baseline", "s", "#D55E00", False),
    )


def _endpoints(trial: Trial) -> list[Endpoint]:
    """Return the continuous endpoints, the primary first, the others in spec order."""
    spec = trial.spec
    ordered = [spec.primary_endpoint, *(e for e in spec.endpoints if not e.primary)]
    return [e for e in ordered if e.type == "continuous"]


def forest_rows(trial: Trial, results: Results) -> list[ForestRow]:
    """Return every mark of the forest plot in drawing order: per contrast, per endpoint, per analysis.

    The estimate and interval of an endpoint where lower is better are reversed in sign, so that
    right (a positive value) always favours the treated arm.
    """
    spec = trial.spec
    t = results.table
    sel = t.loc[
        (t["visit"] == spec.visits.primary).to_numpy()
        & (t["population"] == "fas").to_numpy()
        & t["analysis"].isin([k.analysis for k in _kinds(trial)]).to_numpy()
    ]
    out = []
    for a in trial.arms[1:]:
        contrast = f"{a} - {trial.control}"
        for ep in _endpoints(trial):
            sign = -1 if ep.better == "lower" else 1
            for kind in _kinds(trial):
                r = sel.loc[
                    (sel["analysis"] == kind.analysis).to_numpy()
                    & (sel["endpoint"] == ep.id).to_numpy()
                    & (sel["contrast"] == contrast).to_numpy()
                ]
                if r.empty:
                    continue
                est, lo, hi = (sign * float(r[c].iloc[0]) for c in ("estimate", "ci_low", "ci_high"))
                out.append(ForestRow(ep.id, contrast, kind.analysis, sign, est, min(lo, hi), max(lo, hi)))
    return out


def _limit(rows: list[ForestRow]) -> float:
    """Return the half-width of the x axis: symmetric about 0, past every interval, on a step of 0.5."""
    ends = [abs(v) for r in rows for v in (r.ci_low, r.ci_high, r.estimate) if math.isfinite(v)]
    return max(0.5, math.ceil(1.08 * max(ends, default=0.5) / 0.5) * 0.5)


def _favours(ax: Axes, control: str, arm: str) -> int:
    """Write "Favours <control>" left and "Favours <arm>" right of the reference line, under the axis.

    Returns the lines the longer of the two takes (an arm label wider than half the axis is wrapped).
    """
    texts = ((f"← Favours {wrap(control, 26)}", -1, "right"), (f"Favours {wrap(arm, 26)} →", 1, "left"))
    for text, side, ha in texts:
        label = ax.annotate(
            text,
            (0.0, 0.0),
            xycoords=("data", "axes fraction"),
            xytext=(4 * side, -16),
            textcoords="offset points",
            ha=ha,
            va="top",
            fontsize=TEXT_PT,
            fontweight="bold",
            color="#262626",
            annotation_clip=False,
        )
        tag(label, kind="favours", side="right" if side > 0 else "left")
    return max(text.count("\n") + 1 for text, _, _ in texts)


def _panel(ax: Axes, trial: Trial, arm: str, rows: list[ForestRow], level: str, half: float, titled: bool) -> None:
    """Draw the rows of one contrast, the estimates printed on the right, the "Favours" texts under the axis."""
    spec = trial.spec
    kinds = {k.analysis: k for k in _kinds(trial)}
    drawn = [k for k in _kinds(trial) if any(r.analysis == k.analysis for r in rows)]
    endpoints = [e for e in _endpoints(trial) if any(r.endpoint == e.id for r in rows)]
    position = {e.id: len(endpoints) - 1 - i for i, e in enumerate(endpoints)}
    for r in rows:
        kind = kinds[r.analysis]
        j = drawn.index(kind)
        y = position[r.endpoint] + (0.0 if len(drawn) == 1 else (0.16 if j == 0 else -0.16))
        ax.plot([r.ci_low, r.ci_high], [y, y], color=kind.colour, linewidth=1.1, solid_capstyle="butt")
        ax.plot(
            [r.estimate],
            [y],
            marker=kind.marker,
            color=kind.colour,
            markersize=4.5,
            markerfacecolor=kind.colour if kind.filled else "white",
            linestyle="none",
        )
        text = ax.annotate(
            r.text,
            (1.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(6, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=TEXT_PT,
            color=kind.colour,
            annotation_clip=False,
        )
        tag(
            text,
            kind="estimate",
            endpoint=r.endpoint,
            contrast=r.contrast,
            analysis=r.analysis,
            orientation="reversed" if r.sign < 0 else "as-is",
        )
    ax.annotate(
        f"Hedges' g ({level} CI)",
        (1.0, 1.0),
        xycoords="axes fraction",
        xytext=(6, 2),
        textcoords="offset points",
        ha="left",
        va="bottom",
        fontsize=TEXT_PT,
        fontweight="bold",
        annotation_clip=False,
    )
    labels = []
    for e in endpoints:
        label = wrap(e.label, 30)
        if e.better == "lower":
            label += "\n(sign reversed: lower is better)"
        labels.append(label)
    ax.set_yticks([position[e.id] for e in endpoints], labels)
    ax.set_ylim(-0.6, len(endpoints) - 0.4)
    ax.set_xlim(-half, half)
    ax.axvline(0, color="#555555", linewidth=0.8, zorder=1)
    ax.grid(True, axis="x")
    ax.grid(False, axis="y")
    ax.tick_params(axis="y", length=0)
    lines = _favours(ax, spec.arms.label(trial.control), spec.arms.label(arm))
    # the axis label under the "Favours" lines (8.4 pt each, starting just under the tick labels)
    ax.set_xlabel("Standardised difference (Hedges' g, SD units)", labelpad=4 + 8.4 * lines)
    if titled:
        title = f"{spec.arms.label(arm)} vs {spec.arms.label(trial.control)}"
        # the axes' width, less the endpoint labels on its left and the estimates on its right (about 250 pt)
        ax.set_title(fit(title, WIDTH_IN * 72 - 250, TITLE_PT, bold=True), loc="left")
    tag(ax, kind="forest", contrast=f"{arm} - {trial.control}", scale="linear")


def forest_figure(trial: Trial, results: Results) -> Figure | None:
    """Draw Hedges' g (ANCOVA-adjusted and of change) with CIs for every continuous endpoint at the primary visit.

    None when no standardised difference was computed.
    """
    from matplotlib.lines import Line2D

    rows = forest_rows(trial, results)
    if not rows:
        return None
    level = f"{100 * (1 - results.alpha):g}%"
    treated = [a for a in trial.arms[1:] if any(r.contrast == f"{a} - {trial.control}" for r in rows)]
    half = _limit(rows)
    n_rows = [len({r.endpoint for r in rows if r.contrast == f"{a} - {trial.control}"}) for a in treated]
    kinds = [k for k in _kinds(trial) if any(r.analysis == k.analysis for r in rows)]
    with theme():
        fig = new_figure(WIDTH_IN, LEGEND_IN + sum(PANEL_EXTRA_IN + ROW_IN * n for n in n_rows))
        axes = fig.subplots(len(treated), 1, squeeze=False, gridspec_kw={"height_ratios": n_rows})
        for ax, a in zip(axes.flat, treated, strict=True):
            mine = [r for r in rows if r.contrast == f"{a} - {trial.control}"]
            _panel(ax, trial, a, mine, level, half, titled=len(treated) > 1)
        handles = [
            Line2D([], [], marker=k.marker, color=k.colour, markerfacecolor=k.colour if k.filled else "white")
            for k in kinds
        ]
        fig.legend(handles, [k.name for k in kinds], loc="outside upper center", ncols=len(kinds))
        svg = svg_text(fig, "fig-forest")
    return Figure("fig-forest", svg, _caption(trial, rows, treated, level))


def _caption(trial: Trial, rows: list[ForestRow], treated: list[str], level: str) -> str:
    spec = trial.spec
    endpoints = _endpoints(trial)
    others = [e for e in spec.endpoints if e.type != "continuous"]
    control = spec.arms.label(trial.control)
    arms = and_list([spec.arms.label(a) for a in treated])
    reversed_ = any(r.sign < 0 for r in rows)
    text = (
        f"Standardised differences (Hedges' g) at {spec.visits.label(spec.visits.primary)} with {level} "
        f"confidence intervals, {arms} against {control}. Every row is drawn so that right (a positive g) "
        f"favours {arms}"
        + (
            ": for an endpoint where lower values are better the sign is reversed, as its row says."
            if reversed_
            else "."
        )
        + " The numbers on the right are the estimates and intervals as drawn."
    )
    if any(e.scale == "log" for e in endpoints):
        text += " Log-scale endpoints: g of the logarithms."
    if others:
        kinds = and_list(sorted({e.type for e in others}))
        effects = and_list(
            [
                words
                for kind, words in (("binary", "risk differences"), ("count", "rate ratios"))
                if any(e.type == kind for e in others)
            ]
        )
        text += (
            f" Standardised mean differences do not apply to {and_list([e.label for e in others])} ({kinds}): "
            f"{effects} are in the tables of the primary and secondary endpoints."
        )
    return text
