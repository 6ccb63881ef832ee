"""The page around the results: synthetic-data banner, title block and running header, [study] block, harms.

The PDF checks read each page's text with pdfplumber: the running header is the text above the top
margin (20 mm), the banner is in it on every page.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from conftest import base_spec, small_wide, write_frame, write_spec

import trialkit as tk
from trialkit._report._page import running_title
from trialkit._report._report import pdf_bytes, render_html

WHEN = "2024-01-02T03:04:05Z"
BANNER = "Synthetic data: not the trial's records"
#: the top page margin of report.css (@page margin-top), in PostScript points
TOP_MARGIN = 20 / 25.4 * 72
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
LONG_TITLE = (
    "Effect of an evening dose of oral magnesium oxide on sleep quality in elderly adults with insomnia "
    "(a randomised double-blind trial)"
)


class _Text(HTMLParser):
    """The visible text of each element with an id (svg, style and script skipped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str | None] = []
        self.by_id: dict[str, list[str]] = {}
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("meta", "br", "link", "img", "input"):
            return
        a = dict(attrs)
        self.stack.append(a.get("id") or (f"class:{a['class']}" if a.get("class") else None))
        if tag in ("svg", "style", "script"):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("svg", "style", "script"):
            self.skip -= 1
        if self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        for key in self.stack:
            if key is not None:
                self.by_id.setdefault(key, []).append(data)


def text_of(html: str, key: str) -> str:
    """Return the visible text of the element with id ``key`` (or ``class:NAME``), whitespace collapsed."""
    parser = _Text()
    parser.feed(html)
    return " ".join("".join(parser.by_id.get(key, [])).split())


def _trial(folder: Path, **study: Any) -> tk.Trial:
    write_frame(small_wide(), folder / "trial.csv")
    spec = base_spec(study={"id": "small_trial_x", "title": "Small trial", **study})
    return tk.load(write_spec(folder, spec))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[tk.Trial, str, bytes]:
    trial = _trial(tmp_path_factory.mktemp("synthetic"), title=LONG_TITLE, synthetic=True)
    html = render_html(trial, tk.analyze(trial), generated=WHEN)
    return trial, html, pdf_bytes(html)


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[tk.Trial, str, bytes]:
    trial = _trial(tmp_path_factory.mktemp("real"))
    html = render_html(trial, tk.analyze(trial), generated=WHEN)
    return trial, html, pdf_bytes(html)


@pytest.fixture(scope="module")
def bundled() -> tuple[tk.Trial, str]:
    trial = tk.load(tk.datasets.study_spec("abbasi2012"))
    return trial, render_html(trial, tk.analyze(trial), generated=WHEN)


def pages(pdf: bytes, tmp_path: Path) -> list[tuple[str, str]]:
    """Return (running header, whole text) of each page: the header is the text above the top margin."""
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    out = []
    with pdfplumber.open(path) as document:
        for page in document.pages:
            header = page.crop((0, 0, page.width, TOP_MARGIN)).extract_text() or ""
            out.append((" ".join(header.split()), " ".join((page.extract_text() or "").split())))
    return out


# ------------------------------------------------------------------------------------------ the banner


def test_the_banner_is_on_every_pdf_page_of_synthetic_data_and_on_none_otherwise(synthetic, real, tmp_path) -> None:
    on = pages(synthetic[2], tmp_path)
    assert len(on) >= 4  # the report breaks before the figures, methods and provenance
    for number, (header, _) in enumerate(on, 1):
        assert BANNER in header, number
    off = pages(real[2], tmp_path)
    assert len(off) >= 4
    for number, (header, text) in enumerate(off, 1):
        assert "ynthetic" not in text and header.endswith("Trial report"), number


def test_the_html_banner_says_synthetic_only_when_the_spec_does(synthetic, real) -> None:
    assert text_of(synthetic[1], "synthetic-banner") == BANNER
    assert '<body class="synthetic">' in synthetic[1]
    assert 'id="synthetic-banner"' not in real[1] and "ynthetic" not in text_of(real[1], "class:title-block")


def test_the_banner_stays_in_view_and_covers_no_heading_at_720_and_1280_px(synthetic, tmp_path) -> None:
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: scripts/system-deps.sh --browser installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "report.html"
    page_file.write_text(synthetic[1], encoding="utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            for width in (720, 1280):
                context = browser.new_context(viewport={"width": width, "height": 800})
                page = context.new_page()
                page.goto(page_file.as_uri() + "#methods", wait_until="load")
                assert page.evaluate("document.documentElement.scrollWidth") == width
                banner = page.locator("#synthetic-banner").bounding_box()
                heading = page.locator("#methods h2").bounding_box()
                assert banner is not None and heading is not None
                assert banner["y"] == 0 and banner["width"] <= width  # stuck to the top of the window, scrolled
                assert heading["y"] >= banner["y"] + banner["height"], width  # the heading jumped to is below it
                assert banner["height"] < 60, width  # one line, or two at most
                context.close()
        finally:
            browser.close()


# ------------------------------------------------------------------------------------------ title and header


def test_the_title_block_and_running_header_name_the_study_by_its_title_not_its_id(synthetic, real, tmp_path) -> None:
    trial, html, pdf = real
    assert text_of(html, "class:kicker") == "Trial report"
    assert "small_trial_x" not in text_of(html, "class:title-block")
    assert re.search(r"<title>Small trial — trial report</title>", html)
    for header, _ in pages(pdf, tmp_path):
        assert header.startswith("Small trial") and "small_trial_x" not in header
    # a long title: shortened in the running header (no trailing parenthesis), whole in the title block
    _, html, pdf = synthetic
    assert text_of(html, "class:title-block").startswith(f"Trial report {LONG_TITLE}")
    short = running_title(LONG_TITLE)
    assert short == "Effect of an evening dose of oral magnesium oxide on sleep…"
    for header, _ in pages(pdf, tmp_path):
        assert "small_trial_x" not in header and header.startswith(short)


def test_a_spec_without_a_title_gets_words_not_the_id(tmp_path) -> None:
    trial = _trial(tmp_path, title="")
    html = render_html(trial, tk.analyze(trial), generated=WHEN)
    assert text_of(html, "class:title-block").startswith("Trial report Small trial x")
    assert "small_trial_x" not in text_of(html, "class:title-block")


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("Short", "Short"),
        ("x" * 60, "x" * 60),
        ("A trial of things in people with a condition that needs a very long name (PILOT)", None),
        ("word " * 20, None),
    ],
)
def test_the_running_title_is_at_most_60_characters_and_ends_at_a_word(title: str, shown: str | None) -> None:
    short = running_title(title)
    assert len(short) <= 60
    if shown is not None:
        assert short == shown
    else:
        assert " ".join(title.split()).startswith(short.rstrip("…")) and not short.rstrip("…").endswith(" ")


# ------------------------------------------------------------------------------------------ [study] block


def test_the_summary_gives_registration_blinding_dose_and_duration_from_the_spec(bundled, real) -> None:
    trial, html = bundled
    study = trial.spec.study
    assert text_of(html, "class:study-description") == (
        f"Registration {study.registration}; {study.blinding}; intervention: {study.intervention}; "
        f"duration {study.duration}."
    )
    assert "<dt>Trial</dt>" in html
    # none given: no empty group
    assert "study-description" not in real[1] and "<dt>Trial</dt>" not in real[1]


def test_only_the_parts_the_spec_gives_are_shown(tmp_path) -> None:
    trial = _trial(tmp_path, duration="12 weeks", blinding="open-label")
    html = render_html(trial, tk.analyze(trial), generated=WHEN)
    assert text_of(html, "class:study-description") == "Open-label; duration 12 weeks."


def test_the_description_is_escaped(tmp_path) -> None:
    trial = _trial(tmp_path, intervention="<b>drug</b> & placebo")
    html = render_html(trial, tk.analyze(trial), generated=WHEN)
    assert "Intervention: &lt;b&gt;drug&lt;/b&gt; &amp; placebo." in html


# ------------------------------------------------------------------------------------------ harms


def test_harms_say_adverse_events_were_not_recorded(real) -> None:
    html = real[1]
    text = text_of(html, "harms")
    assert text.startswith("Harms Adverse events were not recorded in the data available to this report")
    assert "(CONSORT 2010, item 19)" in text and "no evidence that none occurred" in text
    assert '<a href="#harms">Harms</a>' in html
    # after the results, before the figures (CONSORT's order: outcomes, ancillary analyses, harms)
    assert html.index('<section id="primary"') < html.index('<section id="harms"') < html.index('<section id="figures"')
