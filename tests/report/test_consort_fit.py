"""The CONSORT diagram fits a 720 px window and the PDF's text block, with four arms of 60-character labels.

The window: no horizontal overflow, every line inside its box, as the browser measures them; the PDF: pdfplumber's
character coordinates.
"""

from __future__ import annotations

import pytest
from consort_trials import four_arm_trial
from test_report import CHROMIUM, CHROMIUM_ARGS, _require_chromium

import trialkit as tk

WHEN = "2024-01-02T03:04:05Z"
#: the A4 page's text block in PDF points: 18 mm side margins (report.css)
LEFT, RIGHT = 18 / 25.4 * 72, 595.28 - 18 / 25.4 * 72
#: half a point: glyph boxes are rounded in the PDF
SLACK = 0.5


@pytest.fixture(scope="module")
def four_arms(tmp_path_factory):
    folder = tmp_path_factory.mktemp("four")
    trial = four_arm_trial(folder)
    html, pdf = tk.report(trial, tk.analyze(trial), folder / "out", generated=WHEN)
    return trial, html, pdf


#: for every box, its rect and its text's bounding box (user units) and the page's widths
_MEASURE = """() => {
  const svg = document.querySelector('svg.consort');
  const boxes = [...svg.querySelectorAll('g.consort-box')].map(g => {
    const r = g.querySelector('rect').getBBox(), t = g.querySelector('text').getBBox();
    return {box: g.dataset.box, arm: g.dataset.arm || null,
            rect: [r.x, r.y, r.x + r.width, r.y + r.height], text: [t.x, t.y, t.x + t.width, t.y + t.height]};
  });
  const stages = [...svg.querySelectorAll('g.consort-stage')].map(g => {
    const r = g.querySelector('rect').getBoundingClientRect(), t = g.querySelector('text').getBoundingClientRect();
    return {rect: [r.left, r.top, r.right, r.bottom], text: [t.left, t.top, t.right, t.bottom]};
  });
  const s = svg.getBoundingClientRect();
  return {boxes, stages, svg: [s.left, s.right], client: document.documentElement.clientWidth,
          scroll: document.documentElement.scrollWidth};
}"""


def test_the_diagram_fits_narrow_and_wide_windows_and_every_line_its_box(four_arms, tmp_path) -> None:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    trial, html, _ = four_arms
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            for width in (720, 1280):
                context = browser.new_context(viewport={"width": width, "height": 900})
                page = context.new_page()
                page.goto(html.resolve().as_uri(), wait_until="load")
                seen = page.evaluate(_MEASURE)
                assert seen["scroll"] == width and seen["svg"][0] >= 0 and seen["svg"][1] <= seen["client"], width
                assert len(seen["boxes"]) == 2 + 3 * len(trial.arms)
                for b in seen["boxes"]:
                    (rx0, ry0, rx1, ry1), (tx0, ty0, tx1, ty1) = b["rect"], b["text"]
                    inside = rx0 <= tx0 and tx1 <= rx1 and ry0 <= ty0 and ty1 <= ry1
                    assert inside, (width, b)
                for s in seen["stages"]:  # each stage's name lies within its band
                    (rx0, ry0, rx1, ry1), (tx0, ty0, tx1, ty1) = s["rect"], s["text"]
                    assert rx0 - 1 <= tx0 and tx1 <= rx1 + 1 and ry0 <= ty0 and ty1 <= ry1, (width, s)
                page.locator("#flow-diagram").screenshot(path=str(tmp_path / f"consort-{width}.png"))
                context.close()
        finally:
            browser.close()


def test_the_diagram_stays_inside_the_pdf_text_block(four_arms) -> None:
    import pdfplumber

    trial, _, pdf = four_arms
    with pdfplumber.open(pdf) as doc:
        pages = [p for p in doc.pages if p.search("CONSORT 2010 flow diagram.")]
        assert len(pages) == 1
        page = pages[0]
        top = page.search("Participant flow")[0]["bottom"]
        bottom = page.search("CONSORT 2010 flow diagram.")[0]["top"]
        chars = [c for c in page.chars if top < c["top"] and c["bottom"] < bottom]
        text = "".join(c["text"] for c in chars)
        # the diagram's text is in the PDF as text, every box of it
        assert text.count("Allocated") == len(trial.arms) and text.count("Analysed") == len(trial.arms)
        assert "Enrolment" in text.replace("\n", "") or "tnemlornE" in text  # rotated: either reading order
        outside = [c["text"] for c in chars if c["x0"] < LEFT - SLACK or c["x1"] > RIGHT + SLACK]
        assert outside == []
        # and the drawing's lines and boxes too
        shapes = [*page.rects, *page.lines, *page.curves]
        drawn = [s for s in shapes if top < s["top"] and s["bottom"] < bottom]
        assert drawn and all(LEFT - SLACK <= s["x0"] and s["x1"] <= RIGHT + SLACK for s in drawn)
