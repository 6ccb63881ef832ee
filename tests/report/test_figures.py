"""The report's figures, read as a reader reads them: the SVG's text and where it stands.

Every number a figure prints is compared with the data or the results table at the precision shown;
facts about a mark (its endpoint, arm, visit) are read from the ``data-*`` attributes the figures
keep for that, never from the text a reader sees, which holds labels only.
"""

from __future__ import annotations

import math
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import trialkit as tk
from trialkit._format import format_ci, format_number, parse_shown
from trialkit._report._figures import change_figures, change_values, means_figures, mmrm_figures, observed_counts
from trialkit._report._forest import DECIMALS, forest_figure, forest_rows
from trialkit._report._missing_figures import pattern_figure, tipping_figures
from trialkit._report._theme import log_ticks, theme, value_scale

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
ABBASI = ROOT / "data" / "synthetic" / "abbasi2012"
SVG = "{http://www.w3.org/2000/svg}"
MINUS = "\u2212"


# ------------------------------------------------------------------------------------------ reading an SVG


def root(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def text_of(el: ET.Element) -> str:
    return " ".join(" ".join(el.itertext()).split())


def tagged(el: ET.Element, **data: str) -> list[ET.Element]:
    """Return the groups whose ``data-*`` attributes include ``data``."""
    return [g for g in el.iter() if all(g.attrib.get(f"data-{k}") == v for k, v in data.items())]


def texts(el: ET.Element) -> list[ET.Element]:
    return [t for t in el.iter(f"{SVG}text")]


def position(t: ET.Element) -> tuple[float, float]:
    """Where a text stands on the page: its ``x, y`` attributes, or its translation (bold text)."""
    if "x" in t.attrib:
        return float(t.attrib["x"]), float(t.attrib["y"])
    x, y = re.match(r"translate\(([-\d.]+) ([-\d.]+)\)", t.attrib["transform"]).groups()
    return float(x), float(y)


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def abbasi(tmp_path_factory):
    """Load and analyse the bundled trial without its multiple imputations (which the figures tested here skip)."""
    folder = tmp_path_factory.mktemp("abbasi")
    for f in ("study.toml", "magnesium.csv", "placebo.csv"):
        shutil.copyfile(ABBASI / f, folder / f)
    spec = folder / "study.toml"
    text = spec.read_text(encoding="utf-8")
    start = text.index("[analysis.missing_data]")
    spec.write_text(text[:start] + text[text.index("[covariates.age]") :], encoding="utf-8")
    trial = tk.load(spec)
    results = tk.analyze(trial)
    return trial, results, draw(trial, results)


@pytest.fixture(scope="module")
def three_arm(tmp_path_factory):
    """Three arms, three post-baseline visits with dropout, a log-scale endpoint; labels for arms and visits."""
    from longitudinal_trial import load, three_arm_spec, three_arm_wide

    spec = three_arm_spec(missing_data={"methods": ["tipping_point"], "imputations": 5, "burn_in": 20, "seed": 3})
    spec["arms"]["labels"] = {"placebo": "Placebo", "low": "Low dose 5 mg", "high": "High dose 20 mg"}
    spec["visits"]["labels"] = {"baseline": "Day 0", "week4": "Week 4", "week8": "Week 8", "week12": "Week 12"}
    trial = load(tmp_path_factory.mktemp("three"), three_arm_wide(), spec)
    results = tk.analyze(trial)
    return trial, results, draw(trial, results)


def draw(trial, results) -> dict[str, list]:
    """Every figure of a trial, by kind (drawn once per module: drawing is the slow part)."""
    figures = {
        "means": means_figures(trial, results.alpha),
        "mmrm": mmrm_figures(trial, results),
        "change": change_figures(trial),
        "forest": [forest_figure(trial, results)],
        "pattern": [pattern_figure(trial, results)],
        "tipping": tipping_figures(trial, results),
    }
    return {kind: [f for f in found if f is not None] for kind, found in figures.items()}


# ------------------------------------------------------------------------------------------ numbers under the visits


def _check_observed(trial, figures, visits) -> int:
    """Every number under a panel is the count of observed values of its endpoint, arm and visit, under its tick."""
    d = trial.data
    checked = 0
    for fig in figures:
        svg = root(fig.svg)
        for panel in tagged(svg, kind="panel"):
            ep = panel.attrib["data-endpoint"]
            ticks = {text_of(t): position(t)[0] for t in texts(panel)}
            numbers = tagged(svg, kind="n-observed", endpoint=ep)
            assert {(g.attrib["data-arm"], g.attrib["data-visit"]) for g in numbers} == {
                (a, v) for a in trial.arms for v in visits
            }
            for g in numbers:
                arm, visit = g.attrib["data-arm"], g.attrib["data-visit"]
                cell = d.loc[(d["endpoint"] == ep) & (d["arm"] == arm) & (d["visit"] == visit), "value"]
                assert text_of(g) == str(int(cell.notna().sum())), (ep, arm, visit)
                # aligned with the visit's tick label (both are centred on the visit)
                (t,) = texts(g)
                assert t.attrib["text-anchor"] == "middle"
                assert abs(position(t)[0] - ticks[trial.spec.visits.label(visit)]) < 0.02, (ep, visit)
                checked += 1
    return checked


def test_the_numbers_under_the_means_are_the_observed_values_per_arm_and_visit(abbasi) -> None:
    trial, _, figures = abbasi
    n = _check_observed(trial, figures["means"], trial.spec.visits.order)
    assert n == 10 * 2 * 2
    # one missing week-8 value on placebo and two on magnesium: the counts differ by visit
    counts = observed_counts(trial)
    assert counts[("isi", "placebo", "baseline")] == 23 and counts[("isi", "placebo", "week8")] == 22
    assert counts[("isi", "magnesium", "week8")] == 21


def test_the_numbers_under_the_trajectories_follow_dropout_in_three_arms(three_arm) -> None:
    trial, _, figures = three_arm
    post = trial.spec.visits.post_baseline
    n = _check_observed(trial, figures["mmrm"], post)
    assert n == 3 * 3 * 3
    n = _check_observed(trial, figures["means"], trial.spec.visits.order)
    assert n == 3 * 3 * 4
    counts = observed_counts(trial)
    assert counts[("score", "low", "week4")] > counts[("score", "low", "week12")]  # they drop out
    # the arm labels head the rows of the first column, once per row of panels
    svg = root(figures["mmrm"][0].svg)
    shown = [text_of(t) for t in texts(svg)]
    # in the legend, and beside the numbers of the first panel (one row of three panels)
    assert shown.count("Low dose 5 mg") == 2 and shown.count("High dose 20 mg") == 2
    assert shown.count("Participants with a value") == 3


# ------------------------------------------------------------------------------------------ log axes


def _ticks(panel: ET.Element) -> list[tuple[float, float]]:
    """Return the labelled ticks of a panel's value axis: (value, y), read from the right-aligned numbers."""
    out = []
    for t in texts(panel):
        shown = text_of(t)
        if t.attrib.get("text-anchor") == "end" and re.fullmatch(r"[−]?\d+(\.\d+)?", shown):
            out.append((parse_shown(shown), position(t)[1]))
    return out


def _is_log_axis(ticks: list[tuple[float, float]]) -> bool:
    """Whether the tick labels stand at distances proportional to the logarithms of their values (not the values)."""
    assert len(ticks) >= 3, ticks
    (v0, y0), (v1, y1) = ticks[0], ticks[-1]
    per_unit = (y1 - y0) / (v1 - v0)
    on_line = all(abs(y - (y0 + per_unit * (v - v0))) < 0.05 for v, y in ticks)  # positions to 0.01 pt
    if v0 <= 0:  # zero or a negative value: no logarithm
        assert on_line, ticks
        return False
    per_log = (y1 - y0) / (math.log(v1) - math.log(v0))
    on_log = all(abs(y - (y0 + per_log * (math.log(v) - math.log(v0)))) < 0.05 for v, y in ticks)
    assert on_log != on_line, ticks
    return on_log


def test_log_scale_endpoints_are_drawn_on_a_log_axis_in_every_figure_of_values(abbasi) -> None:
    trial, _, figures = abbasi
    logs = {e.id for e in trial.spec.endpoints if e.scale == "log"}
    assert logs == {"melatonin", "cortisol", "renin"}
    assert {e.id for e in trial.spec.endpoints if value_scale(e) == "log"} == logs
    for kind in ("means", "mmrm", "change"):
        panels = [p for figure in figures[kind] for p in tagged(root(figure.svg), kind="panel")]
        assert len(panels) == 10
        for panel in panels:
            ep = panel.attrib["data-endpoint"]
            assert panel.attrib["data-scale"] == ("log" if ep in logs else "linear")
            ticks = _ticks(panel)
            if len(ticks) >= 3:
                assert _is_log_axis(ticks) == (ep in logs), ep
            if ep in logs:  # readable numbers in the unit, not powers of ten
                assert all(t == float(f"{t:.2g}") for t, _ in ticks), ticks


def test_log_ticks_are_round_numbers_inside_the_range() -> None:
    assert log_ticks(14, 31) == (15.0, 20.0, 30.0)
    assert log_ticks(0.5, 200) == (1.0, 10.0, 100.0)
    assert log_ticks(0.9, 1.1) == (0.9, 1.0) and log_ticks(0.95, 1.05) == (1.0,)  # too narrow for two
    assert log_ticks(-1, 10) == () and log_ticks(5, 5) == () and log_ticks(1, math.inf) == ()
    for low, high in ((0.013, 0.29), (3.3, 7.7), (250, 400), (1, 1e6), (0.5, 2.2)):
        ticks = log_ticks(low, high)
        assert 2 <= len(ticks) <= 7 and all(low <= t <= high for t in ticks), (low, high, ticks)
        assert list(ticks) == sorted(set(ticks))


def test_change_is_on_the_analysed_scale_with_its_reference(abbasi) -> None:
    trial, _, figures = abbasi
    ch = trial.changes()
    ch = ch.loc[ch["visit"] == "week8"]
    for ep in trial.spec.endpoints:
        values = change_values(trial, ep)
        mine = ch.loc[(ch["endpoint"] == ep.id) & ch["change"].notna()]
        if ep.scale == "log":
            assert np.allclose(values["y"], (mine["value"] / mine["baseline"]).to_numpy())
        else:
            assert np.allclose(values["y"], mine["change"].to_numpy())
    svg = root(figures["change"][0].svg)
    for panel in tagged(svg, kind="panel"):
        shown = [text_of(t) for t in texts(panel)]
        ep = trial.spec.endpoint(panel.attrib["data-endpoint"])
        assert ("Ratio, Week 8 / Baseline" in shown) == (ep.scale == "log")
        assert ("Change from baseline" in shown) == (ep.scale != "log")
        values = change_values(trial, ep)
        for a in trial.arms:  # n under each arm: participants with both values
            n = int((values["arm"] == a).sum())
            assert f"{trial.spec.arms.label(a)} n = {n}" in " ".join(shown) or any(
                s.endswith(f"n = {n}") for s in shown
            )
        if ep.scale == "log":
            assert _is_log_axis(_ticks(panel)) or len(_ticks(panel)) < 3


# ------------------------------------------------------------------------------------------ the forest plot


def _estimates(svg: ET.Element) -> list[tuple[ET.Element, str]]:
    return [(g, text_of(g)) for g in tagged(svg, kind="estimate")]


def test_the_forest_prints_each_estimate_as_drawn_and_orients_every_row_by_better(abbasi) -> None:
    trial, results, figures = abbasi
    (fig,) = figures["forest"]
    svg = root(fig.svg)
    t = results.table
    t = t.loc[(t["visit"] == "week8") & (t["population"] == "fas")]
    shown = _estimates(svg)
    assert len(shown) == 10 * 2
    for g, text in shown:
        ep = trial.spec.endpoint(g.attrib["data-endpoint"])
        row = t.loc[
            (t["analysis"] == g.attrib["data-analysis"])
            & (t["endpoint"] == ep.id)
            & (t["contrast"] == g.attrib["data-contrast"])
        ].iloc[0]
        sign = -1 if ep.better == "lower" else 1
        assert g.attrib["data-orientation"] == ("reversed" if sign < 0 else "as-is")
        m = re.fullmatch(r"(\S+) \((\S+) to (\S+)\)", text)
        assert m, text
        est, lo, hi = (parse_shown(x) for x in m.groups())
        low, high = sorted((sign * row["ci_low"], sign * row["ci_high"]))
        for printed, value in ((est, sign * row["estimate"]), (lo, low), (hi, high)):
            assert abs(printed - value) <= 0.5 * 10**-DECIMALS + 1e-12, (ep.id, text)
        assert text == f"{format_number(sign * row['estimate'], 2)} ({format_ci(low, high, 2)})"
        assert "-" not in text  # the minus is U+2212
    # right means better: every endpoint where magnesium looks better has a positive g as drawn
    isi = next(text for g, text in shown if g.attrib["data-endpoint"] == "isi")
    assert not isi.startswith(MINUS)  # ISI fell more on magnesium: lower is better, drawn on the right
    # rows: the primary endpoint first, then the spec's order, top to bottom
    order = []
    for g, _ in sorted(shown, key=lambda item: position(texts(item[0])[0])[1]):
        if g.attrib["data-endpoint"] not in order:
            order.append(g.attrib["data-endpoint"])
    assert order == [e.id for e in trial.spec.endpoints]
    # the rows of endpoints where lower is better say that the sign is reversed
    words = text_of(svg)
    reversed_ = [e for e in trial.spec.endpoints if e.better == "lower"]
    assert words.count("(sign reversed: lower is better)") == len(reversed_) == 4
    assert "Hedges' g (95% CI)" in words and "sign is reversed" in fig.caption


def test_the_forest_says_which_arm_each_side_favours(abbasi, three_arm) -> None:
    trial, _, figures = abbasi
    svg = root(figures["forest"][0].svg)
    left, right = (tagged(svg, kind="favours", side=s) for s in ("left", "right"))
    assert [text_of(g) for g in left] == ["← Favours Placebo"]
    assert [text_of(g) for g in right] == ["Favours Magnesium 500 mg/day →"]
    assert position(texts(left[0])[0])[0] < position(texts(right[0])[0])[0]
    trial, results, figures = three_arm
    (fig,) = figures["forest"]
    svg = root(fig.svg)
    assert [text_of(g) for g in tagged(svg, kind="favours", side="left")] == ["← Favours Placebo"] * 2
    assert [text_of(g) for g in tagged(svg, kind="favours", side="right")] == [
        "Favours Low dose 5 mg →",
        "Favours High dose 20 mg →",
    ]
    assert [g.attrib["data-contrast"] for g in tagged(svg, kind="forest")] == ["low - placebo", "high - placebo"]
    rows = forest_rows(trial, results)
    assert [r.contrast for r in rows] == ["low - placebo"] * 6 + ["high - placebo"] * 6
    assert {(r.endpoint, r.sign) for r in rows} == {("score", -1), ("pain", -1), ("conc", 1)}
    assert "Low dose 5 mg and High dose 20 mg against Placebo" in fig.caption


# ------------------------------------------------------------------------------------------ words, not codes


def _shown(figures) -> str:
    return " ".join(text_of(root(f.svg)) + " " + f.caption for f in figures if f is not None)


def _no_ids(text: str, trial) -> None:
    """No id of an arm, visit or endpoint is in ``text`` once the labels (which may contain the same words) are out."""
    spec = trial.spec
    labels = [spec.arms.label(a) for a in trial.arms] + [spec.visits.label(v) for v in spec.visits.order]
    labels += [e.label for e in spec.endpoints]
    for label in sorted(labels, key=len, reverse=True):
        text = text.replace(label, " ")
    ids = [*trial.arms, *spec.visits.order, *(e.id for e in spec.endpoints)]
    # "baseline" is also a word of the captions and axes ("change from baseline")
    for identifier in (i for i in ids if i != "baseline"):
        assert re.search(rf"\b{re.escape(identifier)}\b", text) is None, identifier


def test_figures_show_labels_not_ids_and_the_typographic_minus(abbasi, three_arm) -> None:
    for trial, _, figures in (abbasi, three_arm):
        text = _shown([f for found in figures.values() for f in found])
        _no_ids(text, trial)
        for a in trial.arms:
            assert trial.spec.arms.label(a) in text
        assert re.search(r"(?<![\w)])-\d", text) is None  # a hyphen before a number: not a minus sign
        assert "((" not in text and ") (" not in text  # no doubled parentheses: "Sleep time (sleep log), min"
    assert "Sleep time (sleep log), min" in _shown(abbasi[2]["means"])
    figures = three_arm[2]
    tipping = _shown(figures["tipping"])
    assert "Symptom score: Low dose 5 mg vs Placebo" in tipping and "at Week 12 when" in tipping
    pattern = root(figures["pattern"][0].svg)
    assert "Placebo, Week 4" in text_of(pattern) and "High dose 20 mg, Week 12" in text_of(pattern)


# ------------------------------------------------------------------------------------------ determinism, no leaks


def test_the_same_input_gives_the_same_svg_and_the_theme_leaves_matplotlib_as_it_was(abbasi) -> None:
    import matplotlib as mpl

    trial, results, figures = abbasi
    before = dict(mpl.rcParams)
    again = [f.svg for f in (*change_figures(trial), forest_figure(trial, results))]
    assert dict(mpl.rcParams) == before
    first = [f.svg for f in (*figures["change"], *figures["forest"])]
    assert first == again
    with theme():
        assert mpl.rcParams["axes.unicode_minus"] and mpl.rcParams["svg.fonttype"] == "none"
        assert not mpl.rcParams["text.parse_math"]
    assert dict(mpl.rcParams) == before
    # the ids of a figure's marks are data attributes, not element ids (no duplicates in the page)
    for svg in first:
        assert not [el for el in root(svg).iter() if "id" in el.attrib and "tk-data" in el.attrib["id"]]
