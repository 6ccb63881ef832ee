"""The power curve: a panel per endpoint, a line and Monte Carlo band per analysis and arm, read from the SVG.

The simulations are built by hand (a table of powers) so that every number the figure should show
is known; one small real simulation checks that the figure takes what ``tk.power.simulate`` returns.
"""

from __future__ import annotations

import dataclasses
import math
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

import trialkit as tk
from trialkit._design import ArmDesign, Design
from trialkit._report._power_curve import power_curve_svg
from trialkit.power import ANALYSES, PowerSimulation
from trialkit.power._simulation import COLUMNS

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def design() -> Design:
    return tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml"))


def text_of(svg: str) -> str:
    """Return the text drawn in the figure, in document order (the SVG's <title> is not drawn)."""
    root = ET.fromstring(svg)
    for title in root.findall(f"{SVG}title"):
        root.remove(title)
    return " ".join(" ".join(root.itertext()).split())


def tagged(svg: str, **data: str) -> list[ET.Element]:
    return [g for g in ET.fromstring(svg).iter() if all(g.attrib.get(f"data-{k}") == v for k, v in data.items())]


def simulation(
    design: Design, endpoints: list[str], arms: list[str], sizes: list[int], trials: int = 1000
) -> PowerSimulation:
    """Return a simulation whose power rises with n: 1 - exp(-n / (10 (e + 1) (a + 1))) for endpoint e, arm a."""
    rows = []
    for n in sizes:
        for e, endpoint in enumerate(endpoints):
            for a, arm in enumerate(arms):
                p = 1 - math.exp(-n / (10 * (e + 1) * (a + 1)))
                mcse = math.sqrt(p * (1 - p) / trials)
                rows.append((n, endpoint, "ancova", p, mcse, trials, arm, n * (len(arms) + 1), 0))
    table = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    return PowerSimulation(design, seed=20120, trials=trials, alpha=0.05, n_per_arm=tuple(sizes), table=table)


def test_same_simulation_same_bytes(design: Design) -> None:
    sim = simulation(design, ["isi", "serum_magnesium"], ["magnesium"], [10, 20, 40])
    first = power_curve_svg(sim)
    assert first == power_curve_svg(sim)
    assert first == power_curve_svg(dataclasses.replace(sim, table=sim.table.copy()))
    root = ET.fromstring(first)  # well-formed XML, fit to stand alone as power_curve.svg: a size and a title
    assert root.attrib["width"].endswith("pt") and root.attrib["height"].endswith("pt")
    title = root.find(f"{SVG}title")
    assert title is not None and root.attrib["aria-labelledby"] == title.attrib["id"]


def test_a_panel_per_endpoint_with_labels_trials_and_seed(design: Design) -> None:
    ids = [ep.id for ep in design.endpoints]
    sim = simulation(design, ids, ["magnesium"], [10, 20, 40], trials=2500)
    svg = power_curve_svg(sim)
    text = text_of(svg)
    panels = tagged(svg, kind="panel")
    assert [p.attrib["data-endpoint"] for p in panels] == ids  # the design's order
    for ep in design.endpoints:
        assert ep.label in text
    for ep in design.endpoints:
        if "_" in ep.id:
            assert ep.id not in text  # labels, not ids
    assert ANALYSES["ancova"].label in text
    assert "2,500 trials per size" in text and "seed 20120" in text
    assert "80%" in text and "90%" in text and "100%" in text and "0%" in text
    assert "Participants randomised per arm" in text
    assert "Magnesium" not in text  # two arms: one comparison, no arm legend needed


def test_line_holds_the_powers_and_a_band(design: Design) -> None:
    sim = simulation(design, ["isi"], ["magnesium"], [10, 20, 40])
    svg = power_curve_svg(sim)
    (line,) = tagged(svg, kind="power-curve", arm="magnesium", analysis="ancova")
    assert line.attrib["data-n"] == "10 20 40"
    expected = sim.table.sort_values("n_per_arm")["power"]
    assert [float(v) for v in line.attrib["data-power"].split()] == pytest.approx(list(expected), abs=1e-6)
    assert len(tagged(svg, kind="band", arm="magnesium")) == 1


def test_one_size_draws_an_interval(design: Design) -> None:
    svg = power_curve_svg(simulation(design, ["isi"], ["magnesium"], [23]))
    assert len(tagged(svg, kind="band")) == 1
    assert tagged(svg, kind="power-curve")[0].attrib["data-n"] == "23"
    assert text_of(svg).startswith("23 ")  # the one size simulated is the x axis's one tick


def test_few_sizes_are_the_ticks(design: Design) -> None:
    svg = power_curve_svg(simulation(design, ["isi"], ["magnesium"], [10, 20, 30, 40, 60]))
    assert text_of(svg).startswith("10 20 30 40 60 ")


def test_three_arms_a_line_per_arm_with_arm_labels(design: Design) -> None:
    arms = (
        ArmDesign("placebo", 20, label="Placebo"),
        ArmDesign("low", 20, label="Magnesium 250 mg"),
        ArmDesign("high", 20, label="Magnesium 500 mg"),
    )
    three = dataclasses.replace(design, arms=arms, control="placebo")
    svg = power_curve_svg(simulation(three, ["isi", "melatonin"], ["low", "high"], [10, 30]))
    text = text_of(svg)
    assert "Magnesium 250 mg vs Placebo" in text and "Magnesium 500 mg vs Placebo" in text
    for endpoint in ("isi", "melatonin"):
        panel = tagged(svg, kind="panel", endpoint=endpoint)[0]
        lines = [g.attrib["data-arm"] for g in panel.iter() if g.attrib.get("data-kind") == "power-curve"]
        assert lines == ["low", "high"]
    colours = {
        arm: {el.attrib.get("stroke") for el in tagged(svg, kind="power-curve", arm=arm)[0].iter()} - {None}
        for arm in ("low", "high")
    }
    assert colours["low"] != colours["high"]


def test_hostile_labels_are_escaped(design: Design) -> None:
    hostile = '<script>alert("x")</script> & </svg>'
    endpoints = tuple(dataclasses.replace(ep, label=hostile) if ep.id == "isi" else ep for ep in design.endpoints)
    arms = tuple(dataclasses.replace(a, label="<b>" + a.label) for a in design.arms)
    arms = (*arms, ArmDesign("extra", 10, label="<img src=x onerror=alert(1)>"))
    bad = dataclasses.replace(design, endpoints=endpoints, arms=arms)
    svg = power_curve_svg(simulation(bad, ["isi"], ["magnesium", "extra"], [10, 20]))
    assert "<script" not in svg and "<img" not in svg and "<b>" not in svg
    root = ET.fromstring(svg)  # still one well-formed SVG
    assert root.tag == f"{SVG}svg"
    text = text_of(svg)
    assert "<script>" in text  # shown as text
    assert "<img src=x onerror=alert(1)>" in text


def test_takes_a_real_simulation(design: Design) -> None:
    sim = tk.power.simulate(design, [12, 24], trials=200, endpoints=["isi"], seed=3, scheduler="serial")
    svg = power_curve_svg(sim)
    (line,) = tagged(svg, kind="power-curve")
    assert [float(v) for v in line.attrib["data-power"].split()] == pytest.approx(list(sim.table["power"]), abs=1e-6)
    assert "seed 3" in text_of(svg)


def test_two_analyses_of_one_comparison_differ_in_colour(design: Design) -> None:
    sim = simulation(design, ["isi"], ["magnesium"], [10, 20])
    other = sim.table.assign(analysis="other", power=sim.table["power"] / 2)
    sim = dataclasses.replace(sim, table=pd.concat([sim.table, other], ignore_index=True))
    svg = power_curve_svg(sim)
    strokes = [
        {el.attrib.get("stroke") for el in tagged(svg, kind="power-curve", analysis=a)[0].iter()} - {None}
        for a in ("ancova", "other")
    ]
    assert strokes[0] and strokes[1] and strokes[0] != strokes[1]
    text = text_of(svg)
    assert ANALYSES["ancova"].label in text and "other" in text  # an analysis without a label: its name


@pytest.mark.parametrize("arms", [["placebo", "active"], ["placebo", "low", "high"]])
def test_every_line_of_every_analysis_is_drawn_its_own_way(arms: list[str]) -> None:
    # colour, dash and marker together tell every analysis x arm apart, for every analysis there is
    from trialkit._report._power_curve import _styles, legend_columns

    others = arms[1:]
    lines = [(name, arm) for name in ANALYSES for arm in others]
    colours = {arm: f"#00000{i}" for i, arm in enumerate(arms)}
    styles = _styles(lines, others, colours)
    assert len(set(styles.values())) == len(lines)
    # long entries take two legend columns, short ones three
    assert legend_columns(["ANCOVA on baseline", "t-test"]) == 3
    assert legend_columns(["t-test on change from baseline, high vs placebo", "t-test"]) == 2
