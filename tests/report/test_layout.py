"""The bundled trial's report as a reader sees it: inside the page, inside a 720 px window, in words.

The report is made by the command a user runs (``trialkit report ... --published abbasi2012``),
then read back from the PDF's glyph coordinates (pdfplumber) and from headless Chromium.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import trialkit as tk

ROOT = Path(__file__).resolve().parents[2]
ABBASI = ROOT / "data" / "synthetic" / "abbasi2012" / "study.toml"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
MM = 72 / 25.4  # PDF points per millimetre
#: the page and its margins as the stylesheet sets them (report.css, @page): A4, 20/18/18/18 mm
PAGE_WIDTH, LEFT, RIGHT = 210 * MM, 18 * MM, 18 * MM
#: a glyph may touch the text block's edge by this much: WeasyPrint positions text to 1/64 pt, and an
#: italic overhang or a rule's half line width can reach past its box by less than a point
EDGE = 1.0


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("layout") / "report"
    done = subprocess.run(
        [sys.executable, "-m", "trialkit.cli", "report", str(ABBASI), "--out", str(out), "--published", "abbasi2012"],
        capture_output=True,
        text=True,
        env={"SOURCE_DATE_EPOCH": "1700000000", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return out


def test_no_text_or_drawing_leaves_the_pdf_text_block(made: Path) -> None:
    import pdfplumber

    outside: list[str] = []
    with pdfplumber.open(made / "report.pdf") as pdf:
        assert len(pdf.pages) > 5
        for number, page in enumerate(pdf.pages, 1):
            assert abs(float(page.width) - PAGE_WIDTH) < 1, "the report is typeset on A4"
            for word in page.extract_words():
                if word["x0"] < LEFT - EDGE or word["x1"] > PAGE_WIDTH - RIGHT + EDGE:
                    outside.append(f"page {number}: {word['text']!r} at x {word['x0']:.0f}–{word['x1']:.0f} pt")
            for kind in ("lines", "rects", "curves"):
                for shape in getattr(page, kind):
                    if shape["x0"] < LEFT - EDGE or shape["x1"] > PAGE_WIDTH - RIGHT + EDGE:
                        outside.append(f"page {number}: a {kind[:-1]} at x {shape['x0']:.0f}–{shape['x1']:.0f} pt")
    assert outside == [], "\n".join(outside[:20])


def _chromium():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/system-deps.sh --browser (Debian's chromium)")
    from playwright.sync_api import sync_playwright

    return sync_playwright()


@pytest.mark.parametrize("width", [720, 1280])
def test_the_html_fits_the_window_with_no_column_cut_off(made: Path, width: int) -> None:
    with _chromium() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
            page.goto((made / "report.html").resolve().as_uri(), wait_until="load")
            assert page.evaluate("document.documentElement.scrollWidth") == width
            sticking_out = page.evaluate(
                "[...document.querySelectorAll('body *')]"
                ".filter(e => e.getBoundingClientRect().width > 0)"
                ".filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)"
                ".map(e => e.tagName + '#' + e.id + '.' + e.className)"
            )
            assert sticking_out == [], sticking_out[:10]
            # a table inside a scrolling box fits the window but cuts its columns off: none may scroll
            clipped = page.evaluate(
                "[...document.querySelectorAll('body *')]"
                ".filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')"
                ".map(e => e.tagName + '#' + e.id + '.' + e.className)"
            )
            assert clipped == [], clipped[:10]
        finally:
            browser.close()


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z0-9]+", text)}


def test_no_endpoint_visit_arm_or_covariate_id_reaches_the_reader(made: Path) -> None:
    spec = tk.read_spec(ABBASI)
    ids = {e.id for e in spec.endpoints} | set(spec.visits.order) | set(spec.arms.levels)
    ids |= set(spec.analysis.covariates) | {spec.study.id, spec.data.subject, "fas", "completers"}
    labels = [e.label for e in spec.endpoints] + [spec.arms.label(a) for a in spec.arms.levels]
    labels += [spec.visits.label(v) for v in spec.visits.order] + [spec.study.title]
    labels += [spec.covariate(c).label for c in spec.analysis.covariates]
    # an id that is also a word of a label ("placebo", "melatonin") is the label's word, not a leak
    leaking = sorted(i for i in ids if i.lower() not in _words(" ".join(labels)))
    assert {"isi", "week8", "sleep_time", "fas", "abbasi2012"} <= set(leaking)
    with _chromium() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.goto((made / "report.html").resolve().as_uri(), wait_until="load")
            # the provenance section quotes the spec and the files as they are: ids there are the point
            text = page.evaluate(
                "(() => { const b = document.body.cloneNode(true);"
                " b.querySelectorAll('#provenance, style, script').forEach(e => e.remove());"
                " return b.innerText; })()"
            )
        finally:
            browser.close()
    found = {
        i: m.group(0) for i in leaking if (m := re.search(rf"(?<![A-Za-z0-9_]){re.escape(i)}(?![A-Za-z0-9_])", text))
    }
    assert found == {}, found
