"""The reproduction section as a journal would print it, fitting a 720 px window and the PDF page.

The primary outcome first, labels not ids, one p style, the columns explained, the data note once, and
by-construction verdicts neutral.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from test_report import CHROMIUM, CHROMIUM_ARGS, _require_chromium

import trialkit as tk
from trialkit._format import format_p
from trialkit._report._reproduction_view import reproduction_view
from trialkit.reproduce import BY_CONSTRUCTION, DATA_KINDS, reproduce
from trialkit.reproduce.audit import AuditFlag, TableFlag

WHEN = "2024-01-02T03:04:05Z"
LEFT, RIGHT = 18 / 25.4 * 72, 595.28 - 18 / 25.4 * 72  # the A4 text block (report.css), PDF points
SLACK = 0.5
#: a p-value as the report shows every computed one
P_STYLE = re.compile(r"^(<0\.001|>0\.999|[01]\.\d{3}|–)$")


class _Section(HTMLParser):
    """The reproduction table's rows (attributes and ``{data-col: text}``), caption, and the section's visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inside = 0
        self.text: list[str] = []
        self.rows: list[tuple[dict, dict[str, str]]] = []
        self.caption: list[str] = []
        self.cell: tuple[str, list[str]] | None = None
        self.in_caption = False
        self.headers: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and a.get("id") == "reproduction":
            self.inside = 1
        if not self.inside:
            return
        if tag == "tr" and "data-outcome" in a:
            self.rows.append((a, {}))
        if tag in ("td", "th") and "data-col" in a:
            self.cell = (str(a["data-col"]), [])
            if tag == "th":
                self.headers.append(str(a["data-col"]))
        if tag == "caption":
            self.in_caption = True

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            col, text = self.cell
            if tag == "td":
                self.rows[-1][1][col] = " ".join("".join(text).split())
            self.cell = None
        if tag == "caption":
            self.in_caption = False
        if tag == "section" and self.inside:
            self.inside = 0

    def handle_data(self, data):
        if not self.inside:
            return
        self.text.append(data)
        if self.cell is not None:
            self.cell[1].append(data)
        if self.in_caption:
            self.caption.append(data)


def read(html: str) -> _Section:
    p = _Section()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def abbasi(tmp_path_factory):
    trial = tk.load(tk.datasets.study_spec("abbasi2012"))
    results = tk.analyze(trial)
    table = reproduce(tk.datasets.published("abbasi2012"), trial, results=results).table
    html, pdf = tk.report(trial, results, tmp_path_factory.mktemp("repro"), reproduction=table, generated=WHEN)
    return trial, table, html, pdf


def test_the_primary_outcome_comes_first_by_its_label(abbasi) -> None:
    trial, table, html, _ = abbasi
    section = read(html.read_text(encoding="utf-8"))
    outcomes = [a["data-outcome"] for a, _ in section.rows]
    primary = trial.spec.primary_endpoint
    assert outcomes[0] == primary.id and section.rows[0][1]["outcome"] == primary.label
    # the others in the published order
    assert outcomes[1:] == [o for o in table["outcome"] if o != primary.id]
    labels = {e.id: e.label for e in trial.spec.endpoints}
    assert [cells["outcome"] for _, cells in section.rows] == [labels[o] for o in outcomes]


def test_no_outcome_id_reaches_the_reader(abbasi) -> None:
    trial, table, html, _ = abbasi
    visible = " ".join("".join(read(html.read_text(encoding="utf-8")).text).split())
    labels = {e.id: e.label for e in trial.spec.endpoints}
    # an id that is a word of its label ("renin" in "Serum renin") is no id shown; "sleep_time" or "isi" would be
    ids = [o for o in table["outcome"] if o.lower() not in labels[o].lower()]
    assert "isi" in ids and "sleep_time" in ids
    for outcome in ids:
        assert not re.search(rf"\b{re.escape(outcome)}\b", visible), outcome
    assert "student_change" not in visible and "Student t-test on change" in visible


def test_every_p_is_in_one_style(abbasi) -> None:
    _, table, html, _ = abbasi
    rows = read(html.read_text(encoding="utf-8")).rows
    by_outcome = table.set_index("outcome")
    for attrs, cells in rows:
        row = by_outcome.loc[attrs["data-outcome"]]
        for col in ("p_recomputed", "p_ancova"):
            assert P_STYLE.match(cells[col]) and cells[col] == format_p(row[col]), (attrs, col, cells[col])
        # the published p as printed, in the same style: no space after "<"
        published = cells["p_published"]
        assert re.fullmatch(r"<?[01]\.\d+", published) and published == row["p_published"].replace(" ", "")
    assert any(cells["p_published"] == "<0.001" for _, cells in rows)


def test_the_columns_are_explained_and_the_data_note_is_said_once(abbasi) -> None:
    _, table, html, _ = abbasi
    text = html.read_text(encoding="utf-8")
    section = read(text)
    visible = " ".join("".join(section.text).split())
    assert f"over the family of the {len(table)} published outcomes (not over this report's endpoints)" in visible
    assert "Holm's step-down" in visible and "Benjamini–Hochberg" in visible
    caption = " ".join("".join(section.caption).split())
    assert caption.count(DATA_KINDS["calibrated"]) == 1 and visible.count(DATA_KINDS["calibrated"]) == 1
    assert "holds by construction" in caption and "not as agreement" in caption
    assert "data" not in section.headers and all("data" not in cells for _, cells in section.rows)
    # no table-level p when no per-arm table is published: the column is left out
    assert table["table_p_value"].isna().all() and "table_p_value" not in section.headers


def test_verdicts_that_hold_by_construction_are_neutral(abbasi) -> None:
    _, table, html, _ = abbasi
    text = html.read_text(encoding="utf-8")
    rows = read(text).rows
    assert table["reason"].str.startswith(BY_CONSTRUCTION).all()
    assert {a["class"] for a, _ in rows} == {"verdict-construction"}
    assert "10 of them by construction" in " ".join("".join(read(text).text).split())
    # the view marks by construction only what the reason says; other verdicts keep their colour
    individual = table.assign(data=DATA_KINDS["individual"], reason="re-analysed individual data")
    view = reproduction_view(individual)
    assert {r["status"] for r in view["rows"]} == {"good"} and view["by_construction"] == 0


def test_flags_are_lettered_footnotes_with_their_meaning(abbasi) -> None:
    _, table, html, _ = abbasi
    text = html.read_text(encoding="utf-8")
    flags = [f for f in (*AuditFlag, *TableFlag) if table[f.column].any()]
    notes = re.search(r'<ul class="note flag-notes" id="reproduction-flags">(.*?)</ul>', text, re.S).group(1)
    marks = dict(
        re.findall(r'<li data-flag="([a-z])"><span class="flag-mark">\1</span> <strong>([^<]*)</strong>', notes)
    )
    assert list(marks.values()) == [f.label for f in flags]
    letter = {f.label: m for m, f in zip(marks, flags, strict=True)}
    for attrs, cells in read(text).rows:
        row = table.loc[table["outcome"] == attrs["data-outcome"]].iloc[0]
        expected = [letter[f.label] for f in flags if row[f.column]]
        assert cells["flags"] == ", ".join(expected), attrs


def test_a_table_of_another_shape_is_shown_whole_by_its_labels() -> None:
    spec = tk.load(tk.datasets.study_spec("abbasi2012")).spec
    table = pd.DataFrame({"outcome": ["sleep_time", "isi"], "p": [0.5, 0.01], "verdict": ["reproduced", "x"]})
    view = reproduction_view(table, spec)
    assert [c["header"] for c in view["columns"]] == ["Outcome", "P", "Verdict"]
    assert [r["cells"][0]["text"] for r in view["rows"]] == ["Sleep time (sleep log)", "Insomnia Severity Index"]
    assert [r["status"] for r in view["rows"]] == ["good", "other"]


def test_the_table_fits_a_720_px_window(abbasi, tmp_path) -> None:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    _, _, html, _ = abbasi
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            for width in (720, 1280):
                context = browser.new_context(viewport={"width": width, "height": 900})
                page = context.new_page()
                page.goto(html.resolve().as_uri(), wait_until="load")
                assert page.evaluate("document.documentElement.scrollWidth") == width
                sticking_out = page.evaluate(
                    "[...document.querySelectorAll('#reproduction *')]"
                    ".filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)"
                    ".map(e => e.tagName)"
                )
                assert sticking_out == [], width
                colour = page.evaluate(
                    "getComputedStyle(document.querySelector('#reproduction-table tbody td.verdict')).color"
                )
                assert colour != "rgb(0, 107, 60)"  # by construction: not the green of agreement
                page.locator("#reproduction").screenshot(path=str(tmp_path / f"reproduction-{width}.png"))
                context.close()
        finally:
            browser.close()


def test_the_table_stays_inside_the_pdf_text_block(abbasi) -> None:
    import pdfplumber

    _, _, _, pdf = abbasi
    with pdfplumber.open(pdf) as doc:
        start = next(k for k, p in enumerate(doc.pages) if p.search("Reproduction of the published results"))
        end = next(k for k in range(start, len(doc.pages)) if doc.pages[k].search("Flags raised by the audit"))
        seen = ""
        for k in range(start, end + 1):
            page = doc.pages[k]
            top = page.search("Reproduction of the published results")[0]["top"] if k == start else 0
            chars = [c for c in page.chars if c["top"] >= top]
            seen += "".join(c["text"] for c in chars)
            outside = [c["text"] for c in chars if c["x0"] < LEFT - SLACK or c["x1"] > RIGHT + SLACK]
            assert outside == [], k
        assert "Flags" in seen and "Verdict" in seen
