"""The CONSORT 2010 flow diagram: an SVG whose boxes count participants as the data do, split into one column per arm.

Every count is recomputed here from the data file the trial was loaded from (pandas on the wide frame), not
from trialkit's flow counts, and compared with the text of the drawn boxes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import LONG_DATA
from consort_trials import LONG, REASONS, SCRIPT, TD, four_arm_trial, reasons_trial, with_reasons
from longitudinal_trial import three_arm_wide

import trialkit as tk
from trialkit._report._consort import Box, Diagram, Line, consort_svg
from trialkit._report._flow import consort_counts, flow_counts
from trialkit._report._report import render_html

SVG = "{http://www.w3.org/2000/svg}"
WHEN = "2024-01-02T03:04:05Z"


# ------------------------------------------------------------------------------------------ reading the drawing


def diagram_of(html: str) -> ET.Element:
    """Return the CONSORT diagram of a report page, parsed as XML (it must be well-formed)."""
    found = re.findall(r'<svg[^>]*class="consort".*?</svg>', html, re.S)
    assert len(found) == 1
    return ET.fromstring(found[0])


def boxes(root: ET.Element) -> dict[tuple[str, str | None], str]:
    """Return each box's text (lines joined by one space), by (``data-box``, ``data-arm``)."""
    return {
        (g.get("data-box"), g.get("data-arm")): " ".join(" ".join(g.itertext()).split())
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "consort-box"
    }


def rect_of(root: ET.Element, kind: str, arm: str | None) -> tuple[float, float, float, float]:
    for g in root.iter(f"{SVG}g"):
        if g.get("data-box") == kind and g.get("data-arm") == arm:
            r = g.find(f"{SVG}rect")
            x, y, w, h = (float(r.get(k)) for k in ("x", "y", "width", "height"))
            return x, y, w, h
    raise AssertionError(f"no {kind} box for {arm}")


def lines(root: ET.Element, cls: str) -> list[tuple[float, float, float, float]]:
    return [
        tuple(float(el.get(k)) for k in ("x1", "y1", "x2", "y2"))
        for el in root.iter(f"{SVG}line")
        if el.get("class") == cls
    ]


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def with_column(tmp_path_factory):
    """Load the three-arm longitudinal trial with a discontinuation_reason column; its results and report page."""
    folder = tmp_path_factory.mktemp("reasons")
    trial = reasons_trial(folder)
    results = tk.analyze(trial)
    return trial, results, render_html(trial, results, generated=WHEN), with_reasons(three_arm_wide())


@pytest.fixture(scope="module")
def without_column(tmp_path_factory):
    folder = tmp_path_factory.mktemp("no_reasons")
    trial = four_arm_trial(folder, reasons=False)
    results = tk.analyze(trial)
    return trial, results, render_html(trial, results, generated=WHEN)


# ------------------------------------------------------------------------------------------ the counts


def test_every_box_counts_participants_as_the_data_file_does(with_column) -> None:
    trial, results, html, wide = with_column
    shown = boxes(diagram_of(html))
    spec = trial.spec
    assert shown[("randomised", None)] == f"Randomised n = {len(wide)}"
    assert shown[("assessed", None)] == "Assessed for eligibility: not recorded in the data"
    covariates = ["age", "sex"]
    ancova = results.table.loc[
        (results.table["analysis"] == "ancova")
        & (results.table["endpoint"] == "score")
        & (results.table["visit"] == "week12")
        & (results.table["population"] == "fas")
    ]
    for arm, part in wide.groupby("arm"):
        label = spec.arms.label(arm)
        assert shown[("allocated", arm)] == f"Allocated to {label} n = {len(part)}"
        # follow-up: every recorded reason with its count, then those without a value and without a reason
        reason = part["discontinuation_reason"]
        seen = part["score_week12"].notna()
        left = int(((reason != "") | ~seen).sum())
        expected = [f"Discontinued / lost to follow-up: n = {left}"]
        counts = reason[reason != ""].value_counts()
        expected += [f"{r}: n = {n}" for r, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        if (no_reason := int(((reason == "") & ~seen).sum())) > 0:
            expected.append(f"no reason recorded: n = {no_reason}")
        if (still := int(((reason != "") & seen).sum())) > 0:
            expected.append(f"of these, observed at Week 12: n = {still}")
        assert shown[("followup", arm)] == " ".join(expected)
        # analysis: the ANCOVA's n, and every other participant under the first reason that applies
        analysed = seen & part["score_baseline"].notna() & part[covariates].notna().all(axis=1)
        contrast = ancova.loc[ancova["contrast"] == f"{arm} - placebo"]
        n_results = int(contrast["n_treatment"].iloc[0]) if arm != "placebo" else int(ancova["n_control"].iloc[0])
        assert int(analysed.sum()) == n_results
        expected = [f"Analysed: n = {int(analysed.sum())}", f"Excluded from analysis: n = {int((~analysed).sum())}"]
        reasons = {
            "no value at Week 12": ~seen,
            "no baseline value": seen & part["score_baseline"].isna(),
            "Age missing": seen & part["score_baseline"].notna() & part["age"].isna(),
        }
        expected += [f"{words}: n = {int(where.sum())}" for words, where in reasons.items() if where.any()]
        assert shown[("analysed", arm)] == " ".join(expected)


def test_the_fixture_has_every_case_the_counting_rules_cover(with_column) -> None:
    """Reasons with and without follow-up, dropouts without a reason, a missing baseline and a missing covariate."""
    _, _, _, wide = with_column
    reason, seen = wide["discontinuation_reason"], wide["score_week12"].notna()
    assert ((reason != "") & seen).any() and ((reason != "") & ~seen).any() and ((reason == "") & ~seen).any()
    assert (seen & wide["score_baseline"].isna()).any() and (seen & wide["age"].isna()).any()
    assert set(REASONS.values()) <= set(reason)


def test_the_analysed_counts_are_the_flow_counts_for_every_primary_model(with_column) -> None:
    """The diagram's analysed n equals flow_counts (which check_consistency holds against the analyses)."""
    trial, _, _, _ = with_column
    flow = flow_counts(trial, ["fas", "completers"])
    for analysis, column in (("ancova", "ancova_set"), ("mmrm", "mmrm_set"), ("welch_change", "with_change")):
        for population in ("fas", "completers"):
            at = flow.loc[
                (flow["population"] == population) & (flow["endpoint"] == "score") & (flow["visit"] == "week12")
            ]
            expected = dict(zip(at["arm"], at[column], strict=True))
            counts = consort_counts(trial, analysis, population=population)
            assert {c.arm: c.analysed for c in counts} == expected, (analysis, population)
            for c in counts:
                assert sum(n for _, n in c.excluded) == c.randomised - c.analysed
                assert c.left == c.no_reason + sum(n for _, n in c.discontinued)


def test_without_a_reason_column_the_reasons_are_not_recorded(without_column) -> None:
    trial, _, html = without_column
    assert "discontinuation_reason" not in trial.subjects.columns
    shown = boxes(diagram_of(html))
    for arm in trial.arms:
        text = shown[("followup", arm)]
        n = int(re.match(r"Discontinued / lost to follow-up: n = (\d+)", text).group(1))
        assert ("reasons not recorded in the data" in text) == (n > 0)
        assert "no reason recorded" not in text
    caption = re.search(r'<figcaption id="flow-diagram-caption">(.*?)</figcaption>', html, re.S).group(1)
    assert "the data record no reasons for discontinuing" in caption


# ------------------------------------------------------------------------------------------ the drawing


def test_the_drawing_has_lines_arrowheads_and_a_split_with_one_branch_per_arm(with_column) -> None:
    trial, _, html, _ = with_column
    root = diagram_of(html)
    n = len(trial.arms)
    assert root.get("data-arms") == str(n)
    # one horizontal split under Randomised, from the first arm's column to the last
    (split,) = lines(root, "consort-split")
    x1, y1, x2, y2 = split
    assert y1 == y2 and x1 < x2
    centres = []
    for arm in trial.arms:
        x, y, w, _ = rect_of(root, "allocated", arm)
        centres.append(x + w / 2)
    assert (x1, x2) == pytest.approx((centres[0], centres[-1]), abs=0.1)  # coordinates are written to 0.1
    randomised = rect_of(root, "randomised", None)
    assert randomised[1] + randomised[3] < y1  # the split lies under the Randomised box
    # a branch per arm: a vertical line down from the split into each allocation box, ending in an arrowhead
    drops = [(a, b, c, d) for a, b, c, d in lines(root, "consort-line") if a == c and b == pytest.approx(y1)]
    assert sorted(a for a, *_ in drops) == pytest.approx(sorted(centres), abs=0.1)
    heads = [el.get("d") for el in root.iter(f"{SVG}path") if el.get("class") == "consort-head"]
    # eligibility -> randomised, the split's branches, allocation -> follow-up -> analysis in every column
    assert len(heads) == 1 + n + 2 * n
    # and the vertical line from Randomised down to the split
    assert any(
        a == c and b == pytest.approx(randomised[1] + randomised[3]) for a, b, c, d in lines(root, "consort-line")
    )
    # the stages, named in order
    stages = [g.get("data-stage") for g in root.iter(f"{SVG}g") if g.get("class") == "consort-stage"]
    assert stages == ["Enrolment", "Allocation", "Follow-up", "Analysis"]
    # no arrow characters stand in for lines
    assert not re.search("[↓→⟶]", html[html.index('<section id="flow">') : html.index("</section>")])


def test_every_number_of_arms_gets_its_column() -> None:
    for n in (2, 3, 5, 8):
        arms = tuple(f"arm {k}" for k in range(n))
        svg = consort_svg(
            Diagram(
                enrolment=(Box((Line("Randomised"),), "randomised", centred=True),),
                arms=tuple(
                    (
                        Box((Line(a),), "allocated", a),
                        Box((Line("x"),), "followup", a),
                        Box((Line("y"),), "analysed", a),
                    )
                    for a in arms
                ),
            )
        )
        root = ET.fromstring(svg)
        shown = boxes(root)
        assert [a for (kind, a) in shown if kind == "allocated"] == list(arms)
        # columns side by side, none overlapping, all inside the drawing
        x = [rect_of(root, "allocated", a) for a in arms]
        width = float(root.get("viewBox").split()[2])
        assert all(x[k][0] + x[k][2] < x[k + 1][0] for k in range(n - 1))
        assert x[0][0] > 0 and x[-1][0] + x[-1][2] <= width


def test_long_labels_wrap_inside_their_box(tmp_path: Path) -> None:
    """Four arms with 60-character labels: every line fits its box (measured with the font's advance widths)."""
    from trialkit._report._consort import FONT, PAD_X, _Measure

    trial = four_arm_trial(tmp_path)
    html = render_html(trial, tk.analyze(trial), generated=WHEN)
    root = diagram_of(html)
    measure = _Measure()
    for g in root.iter(f"{SVG}g"):
        if g.get("class") != "consort-box":
            continue
        r = g.find(f"{SVG}rect")
        x, y, w, h = (float(r.get(k)) for k in ("x", "y", "width", "height"))
        spans = list(g.iter(f"{SVG}tspan"))
        assert spans
        baseline = float(g.find(f"{SVG}text").get("y"))
        for k, span in enumerate(spans):
            baseline += float(span.get("dy", 0)) if k else 0
            width = measure(span.text or "", span.get("font-weight") == "bold")
            left = float(span.get("x")) - (
                width / 2 if g.get("data-box") in ("allocated", "randomised", "assessed") else 0
            )
            assert x + PAD_X - 0.5 <= left and left + width <= x + w - PAD_X + 0.5, span.text
            assert y < baseline - FONT * 0.8 and baseline < y + h, span.text
    labels = {a: trial.spec.arms.label(a) for a in trial.arms}
    assert all(len(label) == 60 for label in labels.values()) and LONG[:60] in labels.values()
    for arm, label in labels.items():
        allocated = boxes(root)[("allocated", arm)]
        # wrapped at spaces (or inside a word longer than a line): the words read in order
        assert allocated.replace(" ", "") == f"Allocated to {label} n = 10".replace(" ", "")


# ------------------------------------------------------------------------------------------ hostile text


def test_hostile_labels_and_reasons_stay_text(tmp_path: Path) -> None:
    trial = four_arm_trial(tmp_path)
    html = render_html(trial, tk.analyze(trial), generated=WHEN)
    section = html[html.index('<section id="flow">') : html.index("</section>", html.index('<section id="flow">'))]
    assert SCRIPT not in section and "&lt;script&gt;" in section  # escaped everywhere in the section
    root = diagram_of(html)
    names = {el.tag.split("}")[-1] for el in root.iter()}
    assert not names & {"script", "foreignObject", "a", "image"}
    assert not any(k.startswith("on") for el in root.iter() for k in el.attrib)
    text = "".join(root.itertext())
    assert "<script>alert(1)</" in text  # the hostile arm label, as text (wrapped inside the tag)

    reasons = reasons_trial(tmp_path / "r")
    html = render_html(reasons, tk.analyze(reasons), generated=WHEN)
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    shown = boxes(diagram_of(html))
    assert any(f"moved away {SCRIPT} & {TD}: n = 1" in shown[("followup", a)] for a in reasons.arms)


def test_the_counts_use_participants_not_rows_in_long_data(tmp_path: Path) -> None:
    """Long data: the reason on every row of a subject counts the subject once."""
    from conftest import write_frame, write_spec
    from longitudinal_trial import three_arm_spec

    wide = with_reasons(three_arm_wide())
    value_columns = [c for c in wide.columns if c.startswith(("score_", "pain_", "conc_"))]
    long = wide.melt(
        id_vars=["subject_id", "arm", "age", "sex", "discontinuation_reason"], value_vars=value_columns
    ).dropna(subset=["value"])
    long[["endpoint", "visit"]] = long["variable"].str.split("_", n=1, expand=True)
    write_frame(long.drop(columns="variable"), tmp_path / "trial.csv")
    spec = three_arm_spec()
    spec["data"] = {**LONG_DATA}
    trial = tk.load(write_spec(tmp_path, spec))
    from_long = consort_counts(trial, "ancova")
    from_wide = consort_counts(reasons_trial(tmp_path / "wide"), "ancova")
    assert from_long == from_wide
    stated = wide.loc[wide["discontinuation_reason"] != ""].groupby("arm").size()
    assert {c.arm: sum(n for _, n in c.discontinued) for c in from_long} == stated.reindex(
        trial.arms, fill_value=0
    ).to_dict()
    assert np.all([c.randomised == 14 for c in from_long])
    assert pd.Series([c.arm for c in from_long]).tolist() == list(trial.arms)
