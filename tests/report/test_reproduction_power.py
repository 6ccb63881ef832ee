"""The reproduction section's "Power of the design": which design, the numbers shown, and how they read.

The design is found only beside data its manifest vouches for (the bundled 2012 trial); the table
shows labels, the power as a percentage with one decimal and sizes as whole numbers, "–" for an
outcome the design gives no effect; it fits a 720 px window.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from test_report import CHROMIUM, CHROMIUM_ARGS, _require_chromium

import trialkit as tk
from trialkit._format import MISSING
from trialkit._report._report import _environment, render_html
from trialkit._report._reproduction_view import design_power_view, reproduction_view, study_design
from trialkit.reproduce import reproduce

WHEN = "2024-01-02T03:04:05Z"
NUMBER_COLUMNS = ("n80", "n80_randomised", "n90", "n90_randomised")


class _PowerTable(HTMLParser):
    """The design-power table's rows: ``data-endpoint`` and ``{data-power: text}``, and its visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[tuple[str, dict[str, str]]] = []
        self.inside = False
        self.cell: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == "design-power-table":
            self.inside = True
        if self.inside and tag == "tr" and "data-endpoint" in a:
            self.rows.append((str(a["data-endpoint"]), {}))
        if self.inside and tag == "td" and "data-power" in a:
            self.cell = (str(a["data-power"]), [])

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.rows[-1][1][self.cell[0]] = " ".join("".join(self.cell[1]).split())
            self.cell = None
        if tag == "table":
            self.inside = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[1].append(data)


def rows_of(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _PowerTable()
    parser.feed(html)
    return parser.rows


def section(view: dict) -> str:
    return _environment().get_template("sections/reproduction.html.j2").render(reproduction=view)


@pytest.fixture(scope="module")
def trial() -> tk.Trial:
    return tk.load(tk.datasets.study_spec("abbasi2012"))


@pytest.fixture(scope="module")
def power(trial):
    design = study_design(trial)
    assert design is not None
    return tk.power.design_power(design)


@pytest.fixture(scope="module")
def table(trial):
    return reproduce(tk.datasets.published("abbasi2012"), trial).table


def test_the_bundled_trial_has_its_design(trial) -> None:
    design = study_design(trial)
    expected = tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml"))
    assert design is not None and design.study_id == "abbasi2012"
    assert [e.id for e in design.endpoints] == [e.id for e in expected.endpoints]


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "abbasi2012"
    shutil.copytree(tk.datasets.study_spec("abbasi2012").parent, folder)
    return folder


def test_no_design_without_a_design_file_or_a_manifest_that_vouches_for_the_data(tmp_path) -> None:
    folder = _copy(tmp_path)
    assert study_design(tk.load(folder / "study.toml")) is not None  # a faithful copy keeps its design
    (folder / "design.toml").unlink()
    assert study_design(tk.load(folder / "study.toml")) is None
    other = _copy(tmp_path / "edited")
    csv = other / "placebo.csv"
    csv.write_text(csv.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # the data are no longer the generated
    assert study_design(tk.load(other / "study.toml")) is None
    bare = _copy(tmp_path / "bare")
    (bare / "MANIFEST.json").unlink()
    assert study_design(tk.load(bare / "study.toml")) is None


def test_a_design_other_than_the_one_the_manifest_records_is_not_used(tmp_path) -> None:
    folder = _copy(tmp_path)
    design = folder / "design.toml"
    design.write_text(design.read_text(encoding="utf-8").replace("n = 23", "n = 40", 1), "utf-8")
    assert study_design(tk.load(folder / "study.toml")) is None
    unrecorded = _copy(tmp_path / "unrecorded")
    manifest = unrecorded / "MANIFEST.json"
    document = json.loads(manifest.read_text(encoding="utf-8"))
    del document["design"]
    manifest.write_text(json.dumps(document), encoding="utf-8")
    assert study_design(tk.load(unrecorded / "study.toml")) is None


def test_the_view_shows_labels_percent_and_whole_numbers(trial, power, table) -> None:
    view = reproduction_view(table, trial.spec, design=power)["power"]
    rows = view["rows"]
    # the primary outcome first, then the reproduction table's (published) order
    primary = trial.spec.primary_endpoint.id
    assert [r["outcome"] for r in rows] == [primary, *[o for o in table["outcome"] if o != primary]]
    labels = {e.id: e.label for e in trial.spec.endpoints}
    assert [r["label"] for r in rows] == [labels[r["outcome"]] for r in rows]
    by_id = power.table.set_index("endpoint")
    for r in rows:
        expected = by_id.loc[r["outcome"]]
        assert re.fullmatch(r"\d{1,3}\.\d%", r["power"]) and r["power"] == f"{100 * expected['power']:.1f}%"
        for column in NUMBER_COLUMNS:
            value = expected[column]
            assert r[column] == (MISSING if value is None else str(value)), (r["outcome"], column)
    isi = rows[0]
    assert (isi["power"], isi["n80"], isi["n80_randomised"], isi["n90"], isi["n90_randomised"]) == (
        "69.2%",
        "28",
        "30",
        "37",
        "40",
    )
    null = next(r for r in rows if r["outcome"] == "total_sleep_time")
    assert null["power"] == "5.0%" and null["null"] and all(null[c] == MISSING for c in NUMBER_COLUMNS)
    assert view["null"] == ["Total sleep time"]
    assert view["analysed"] == "22 analysed in Placebo and 21 in Magnesium 500 mg/day"
    assert view["dropout"] == "6.5%" and not view["arms"]


def test_the_section_says_where_the_numbers_come_from(trial, power, table) -> None:
    html = section(reproduction_view(table, trial.spec, design=power))
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Power of the design" in text
    assert "assumed in the study's design file (not the published results)" in text
    assert "ANCOVA on baseline" in text and "without a multiplicity adjustment" in text
    assert "80% and 90% power" in text and "6.5% dropout" in text
    assert "The design assumes no effect on Total sleep time" in text
    assert [e for e, _ in rows_of(html)][0] == "isi"
    for _, cells in rows_of(html):
        assert set(cells) == {"outcome", "power", *NUMBER_COLUMNS}
    assert "isi" not in re.findall(r"\w+", text)  # labels, not ids


def test_no_power_table_without_a_design(trial, table) -> None:
    html = section(reproduction_view(table, trial.spec))
    assert "design-power" not in html and "Power of the design" not in html


def test_labels_are_escaped(trial, power, table) -> None:
    design = power.design
    hostile = '<script>alert("x")</script>'
    endpoints = tuple(dataclasses.replace(e, label=hostile) if e.id == "isi" else e for e in design.endpoints)
    arms = tuple(dataclasses.replace(a, label="<b>" + (a.label or a.id)) for a in design.arms)
    bad = tk.power.design_power(dataclasses.replace(design, endpoints=endpoints, arms=arms))
    html = section(reproduction_view(table, None, design=bad))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;Placebo" in html


def test_three_arms_get_an_arm_column(power) -> None:
    design = power.design
    extra = dataclasses.replace(design.arms[0], id="high", label="Magnesium 1000 mg/day", prefix="HI")
    endpoints = tuple(
        dataclasses.replace(
            e,
            mean={**e.mean, "high": e.mean["magnesium"]},
            sd={**e.sd, "high": e.sd["magnesium"]},
        )
        for e in design.endpoints
    )
    three = tk.power.design_power(dataclasses.replace(design, arms=(*design.arms, extra), endpoints=endpoints))
    view = design_power_view(three)
    assert view["arms"] and len(view["rows"]) == 2 * len(design.endpoints)
    assert {r["arm"] for r in view["rows"]} == {"Magnesium 500 mg/day", "Magnesium 1000 mg/day"}
    html = (
        _environment()
        .get_template("sections/reproduction.html.j2")
        .render(reproduction={**reproduction_view(pd.DataFrame({"outcome": ["isi"], "verdict": ["x"]})), "power": view})
    )
    assert 'data-power="arm"' in html and "Magnesium 1000 mg/day" in html


def test_the_report_shows_it_and_it_fits_a_720_px_window(trial, table, tmp_path) -> None:
    html = render_html(trial, tk.analyze(trial), reproduction=table, generated=WHEN)
    rows = rows_of(html)
    assert [e for e, _ in rows][0] == "isi" and len(rows) == len(trial.spec.endpoints)
    assert rows[0][1]["power"] == "69.2%"
    page_file = tmp_path / "report.html"
    page_file.write_text(html, encoding="utf-8")
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            for width in (720, 1280):
                context = browser.new_context(viewport={"width": width, "height": 900})
                page = context.new_page()
                page.goto(page_file.resolve().as_uri(), wait_until="load")
                assert page.evaluate("document.documentElement.scrollWidth") == width
                sticking_out = page.evaluate(
                    "[...document.querySelectorAll('#design-power-table *')]"
                    ".filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)"
                    ".map(e => e.tagName)"
                )
                assert sticking_out == [], width
                context.close()
        finally:
            browser.close()
