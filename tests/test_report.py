"""Reports: numbers as in the results table, escaped user text, a self-contained page, a PDF of it."""

from __future__ import annotations

import dataclasses
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import base_spec, small_wide, write_frame, write_spec

import trialkit as tk
from trialkit import InconsistentCounts, report
from trialkit._format import format_nnt, format_nnt_ci, format_number, format_p, p_phrase, parse_shown
from trialkit._report._page import running_title
from trialkit._report._report import render_html
from trialkit.cli import main

ROOT = Path(__file__).resolve().parents[1]
ABBASI = ROOT / "data" / "synthetic" / "abbasi2012" / "study.toml"
WHEN = "2024-01-02T03:04:05Z"
SCRIPT, IMG, TD = "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "</td>"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# ------------------------------------------------------------------------------------------ helpers


class _Page(HTMLParser):
    """Every start tag with its attributes, and the text content, of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


class _Tables(HTMLParser):
    """Rows of the tables with the given ids: row attributes plus ``{data-col: cell text}``."""

    def __init__(self, ids: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.ids, self.table = ids, None
        self.rows: dict[str, list[tuple[dict, dict[str, str]]]] = {i: [] for i in ids}
        self.open: list[tuple[str, str | None, list[str]]] = []  # td/span elements: tag, data-col, text

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") in self.ids:
            self.table = a["id"]
        if self.table is None:
            return
        if tag == "tr" and "data-endpoint" in a:
            self.rows[self.table].append((a, {}))
        if tag in ("td", "span"):
            self.open.append((tag, a.get("data-col") if self.rows[self.table] else None, []))

    def handle_endtag(self, tag):
        if self.table is None:
            return
        if tag in ("td", "span") and self.open:
            _, col, text = self.open.pop()
            if col is not None:
                self.rows[self.table][-1][1][col] = " ".join("".join(text).split())
        if tag == "table":
            self.table = None

    def handle_data(self, data):
        for _, _, text in self.open:
            text.append(data)


def table_rows(html: str, *ids: str) -> dict[str, list[tuple[dict, dict[str, str]]]]:
    p = _Tables(set(ids))
    p.feed(html)
    return p.rows


_NUMBER = re.compile(r"[−-]?\d+(?:\.\d+)?")  # the report prints the typographic minus (U+2212)


def assert_shown(shown: str, value, what: str) -> None:
    """``shown`` is ``value`` at the precision displayed (and formatted by the report's one function)."""
    if shown == "–":
        assert value is None or pd.isna(value), f"{what}: shown missing, value {value}"
        return
    if shown.startswith("<"):
        assert float(value) < float(shown[1:]), f"{what}: {shown} vs {value}"
        assert shown == format_p(value)
        return
    match = _NUMBER.fullmatch(shown.split()[0])
    assert match, f"{what}: {shown!r} is not a number"
    text = match.group(0)
    decimals = len(text.split(".")[1]) if "." in text else 0
    assert abs(parse_shown(text) - float(value)) <= 0.5 * 10**-decimals + 1e-9, f"{what}: {shown} vs {value}"
    assert text == format_number(value, decimals), f"{what}: {shown} vs {format_number(value, decimals)}"


def assert_ci_shown(shown: str, low, high, what: str) -> None:
    lo, hi = shown.split(" to ")
    assert_shown(lo, low, what + " CI low")
    assert_shown(hi, high, what + " CI high")


_NNT = re.compile(r"(NNT[BH]) (\d+)")
_NNT_CI = re.compile(r"(NNT[BH]) (\d+) to (\d+)")
_NNT_CI_THROUGH_INFINITY = re.compile(r"NNTB (\d+) to ∞ to NNTH (\d+)")


def positive_nnt_is_benefit(ep) -> bool:
    """Tell whether responding is good: the responder change points the way the endpoint gets better."""
    return (ep.responder_change < 0) == (ep.better == "lower")


def _patients(value: float) -> int:
    """Whole patients, rounded up, as Altman (1998) asks of a number needed to treat."""
    return math.ceil(round(abs(value), 9))


def assert_nnt_shown(cells: dict[str, str], row, benefit: bool, what: str) -> None:
    """Check the NNT estimate and CI with Altman's labels (NNTB / NNTH, through ∞ when the RD CI spans 0).

    The cells are read back independently (label from the sign and ``benefit``, each number the
    magnitude rounded up to a whole patient) and must also be exactly what the report's NNT
    formatting functions print.
    """
    good, bad = ("NNTB", "NNTH") if benefit else ("NNTH", "NNTB")
    estimate, low, high = float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])
    m = _NNT.fullmatch(cells["estimate"])
    assert m, f"{what} estimate: {cells['estimate']!r}"
    assert m.group(1) == (good if estimate > 0 else bad), f"{what} estimate: {cells['estimate']} vs {estimate}"
    assert int(m.group(2)) == _patients(estimate), f"{what} estimate: {cells['estimate']} vs {estimate}"
    assert cells["estimate"] == format_nnt(estimate, positive_is_benefit=benefit)

    ci = cells["ci"]
    if low < 0 < high:  # the RD interval spans 0: the plausible NNTs are the complement of (low, high)
        m = _NNT_CI_THROUGH_INFINITY.fullmatch(ci)
        assert m, f"{what} CI: {ci!r} should run through infinity (limits {low}, {high})"
        benefit_limit, harm_limit = (high, -low) if benefit else (-low, high)
        assert int(m.group(1)) == _patients(benefit_limit), f"{what} CI NNTB limit"
        assert int(m.group(2)) == _patients(harm_limit), f"{what} CI NNTH limit"
    else:
        m = _NNT_CI.fullmatch(ci)
        assert m, f"{what} CI: {ci!r}"
        assert m.group(1) == (good if low > 0 else bad), f"{what} CI: {ci} vs ({low}, {high})"
        assert int(m.group(2)) == _patients(min(abs(low), abs(high))), f"{what} CI near limit"
        assert int(m.group(3)) == _patients(max(abs(low), abs(high))), f"{what} CI far limit"
    assert ci == format_nnt_ci(low, high, positive_is_benefit=benefit)


def hostile_trial(folder: Path, *, arms=(IMG, f"{SCRIPT} & {TD}"), analysis=None):
    """Build a small trial whose arm labels, endpoint labels, units, title and subject ids are hostile."""
    control, active = arms
    wide = small_wide(n_per_arm=8)
    wide["arm"] = wide["arm"].map({"active": active, "placebo": control})
    wide["subject_id"] = [f"{TD}{IMG}{i}" for i in range(len(wide))]
    write_frame(wide, folder / "trial.csv")
    spec = base_spec(
        study={"title": f"{SCRIPT} {IMG} {TD} $x$"},
        arms={"column": "arm", "control": control, "levels": [control, active]},
        endpoints=[
            {
                "id": "isi",
                "label": f"ISI {SCRIPT}",
                "unit": IMG,
                "range": [0, 28],
                "integer": True,
                "better": "lower",
                "primary": True,
                "responder": {"change": -6},
            },
            {"id": "sleep_time", "label": f"Sleep {TD} {IMG}", "unit": f"min {SCRIPT}", "range": [0, 1440]},
        ],
        analysis={"mmrm": {}, **(analysis or {})},
    )
    return tk.load(write_spec(folder, spec))


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def abbasi(tmp_path_factory):
    trial = tk.load(ABBASI)
    results = tk.analyze(trial)
    out = tmp_path_factory.mktemp("abbasi")
    html, pdf = report(trial, results, out, command="pytest", generated=WHEN, xlsx=True)
    return trial, results, html, pdf


@pytest.fixture(scope="session")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    trial = hostile_trial(folder)
    results = tk.analyze(trial)
    reproduction = pd.DataFrame(
        {"outcome": [f"ISI {SCRIPT}", IMG], "published": [1.5, -2.25], "verdict": ["reproduced", TD]}
    )
    html, pdf = report(trial, results, folder / "out", generated=WHEN, reproduction=reproduction)
    return trial, results, html, pdf


# ------------------------------------------------------------------------------------------ output


def test_report_writes_self_contained_html_and_pdf(abbasi) -> None:
    _, _, html, pdf = abbasi
    assert html.name == "report.html" and pdf.name == "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = html.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    page = parse(text)
    tags = {t for t, _ in page.tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "base"}
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            if name.startswith("xmlns"):
                continue
            assert "://" not in (value or ""), f"<{tag} {name}={value!r}> points outside the file"
            if name in ("href", "src", "xlink:href"):
                assert (value or "").startswith("#"), f"<{tag} {name}={value!r}>"
            assert not name.startswith("on"), f"<{tag}> has an event handler {name}"
    # the MMRM's LS means (two figures of at most 9 panels), the missing-data pattern and tipping points, then the
    # means (two figures), changes and forest plot
    assert sum(1 for t, a in page.tags if t == "svg" and "figure" in (a.get("class") or "")) == 8
    ids = [a["id"] for _, a in page.tags if "id" in a]
    assert len(ids) == len(set(ids)), "duplicate ids in the page"


def test_sections_follow_the_reader_order(abbasi) -> None:
    text = abbasi[2].read_text(encoding="utf-8")
    order = [
        "summary",
        "flow",
        "table1",
        "primary",
        "secondary",
        "mmrm",
        "missing",
        "responders",
        "figures",
        "methods",
        "provenance",
    ]
    positions = [text.index(f'<section id="{s}">') for s in order]
    assert positions == sorted(positions)


def test_every_number_in_the_result_tables_equals_the_results_table(abbasi) -> None:
    trial, results, html, _ = abbasi
    spec = trial.spec
    t = results.table
    t = t.loc[t["population"] == "fas"]
    tables = table_rows(
        html.read_text(encoding="utf-8"),
        "primary-result",
        "primary-lsmeans",
        "primary-supportive",
        "primary-within",
        "secondary-result",
        "responder-result",
        "mmrm-result",
    )
    secondary = [e.id for e in spec.endpoints if not e.primary]
    assert [a["data-endpoint"] for a, _ in tables["mmrm-result"]] == [e.id for e in spec.endpoints]
    assert [a["data-endpoint"] for a, _ in tables["secondary-result"]] == secondary
    assert len(tables["primary-result"]) == len(trial.arms) - 1
    assert len(tables["primary-lsmeans"]) == len(trial.arms)
    checked = 0
    for table, rows in tables.items():
        assert rows, f"table {table} has no rows"
        for attrs, cells in rows:
            row = t.loc[
                (t["endpoint"] == attrs["data-endpoint"])
                & (t["analysis"] == attrs["data-analysis"])
                & (t["contrast"] == attrs["data-contrast"])
                & (t["visit"] == attrs.get("data-visit", spec.visits.primary))
            ]
            assert len(row) == 1, attrs
            row = row.iloc[0]
            what = f"{table} {attrs['data-endpoint']} {attrs['data-analysis']}"
            assert cells, what
            if attrs["data-analysis"] == "responder_nnt":  # labelled NNTB / NNTH, not signed numbers
                assert_nnt_shown(cells, row, positive_nnt_is_benefit(spec.endpoint(attrs["data-endpoint"])), what)
                checked += 2
                cells = {k: v for k, v in cells.items() if k not in ("estimate", "ci")}
            # a risk difference is shown in percentage points; the arms' values beside a contrast are LS-mean
            # rows of their own (checked in tests/report/test_tables.py)
            factor = 100.0 if attrs["data-analysis"] == "responder_rd" else 1.0
            for col, shown in cells.items():
                if col.startswith("by_arm:"):
                    continue
                if col == "ci":
                    assert_ci_shown(shown, factor * row["ci_low"], factor * row["ci_high"], what)
                elif col == "estimate":
                    assert_shown(shown, factor * row[col], f"{what} {col}")
                else:
                    assert_shown(shown, row[col], f"{what} {col}")
                checked += 1
    assert checked > 60


def test_nnt_is_labelled_benefit_and_harm_as_altman_prints_it(abbasi, hostile) -> None:
    """Both NNT limits positive: NNTB a to b.

    A risk-difference CI spanning 0 gives limits of opposite signs; the plausible NNTs are then
    everything outside them, shown through infinity, never "-2.7 to 2.2".
    """
    shown = {}
    for name, (_, results, html, _) in (("abbasi", abbasi), ("hostile", hostile)):
        t = results.table
        nnt = t.loc[(t["analysis"] == "responder_nnt") & (t["population"] == "fas")].iloc[0]
        rows = [
            c
            for a, c in table_rows(html.read_text(encoding="utf-8"), "responder-result")["responder-result"]
            if a["data-analysis"] == "responder_nnt"
        ]
        assert len(rows) == 1, name
        assert_nnt_shown(rows[0], nnt, True, name)  # ISI, better lower, responder change -6: responding is good
        shown[name] = (nnt, rows[0])
    nnt, cells = shown["abbasi"]
    assert nnt["ci_low"] > 0 and cells["ci"] == f"NNTB {_patients(nnt['ci_low'])} to {_patients(nnt['ci_high'])}"
    nnt, cells = shown["hostile"]
    assert nnt["ci_low"] < 0 < nnt["ci_high"], "the hostile trial's RD interval should span 0"
    assert cells["ci"] == f"NNTB {_patients(nnt['ci_high'])} to ∞ to NNTH {_patients(nnt['ci_low'])}"
    assert cells["estimate"] == f"NNTB {_patients(nnt['estimate'])}"


def test_nnt_format_follows_altman() -> None:
    # RD 0.1 (-0.1 to 0.3): NNT limits -10 and 3.33; plausible NNTs are NNTB >= 4 and NNTH >= 10 (whole patients)
    assert format_nnt_ci(-10.0, 1 / 0.3) == "NNTB 4 to ∞ to NNTH 10"
    assert format_nnt_ci(2.0, 5.0) == "NNTB 2 to 5"
    assert format_nnt_ci(-8.0, -2.5) == "NNTH 3 to 8"
    assert format_nnt(10.0) == "NNTB 10" and format_nnt(-4.0) == "NNTH 4" and format_nnt(2.01) == "NNTB 3"
    assert format_nnt(1 / 0.25) == "NNTB 4"  # 4.000000000000001 in floating point is 4 patients, not 5
    # a responder rule pointing against `better` (a worsening): more responders on the arm is a harm
    assert format_nnt_ci(-10.0, 1 / 0.3, positive_is_benefit=False) == "NNTB 10 to ∞ to NNTH 4"
    assert format_nnt_ci(2.0, 5.0, positive_is_benefit=False) == "NNTH 2 to 5"
    assert format_nnt(-4.0, positive_is_benefit=False) == "NNTB 4"
    assert format_nnt_ci(float("nan"), float("nan")) == format_nnt(None) == "–"


def test_primary_result_is_in_the_pdf_text(abbasi) -> None:
    from pypdf import PdfReader

    trial, results, html, pdf = abbasi
    spec = trial.spec
    rows = table_rows(html.read_text(encoding="utf-8"), "primary-result")["primary-result"]
    estimate = rows[0][1]["estimate"]
    reader = PdfReader(pdf)
    pages = [" ".join((p.extract_text() or "").split()) for p in reader.pages]
    text = " ".join(pages)
    assert spec.primary_endpoint.label in text
    assert estimate in text
    first = pages[0]
    assert spec.primary_endpoint.label in first and estimate in first, "the primary result is not up front"
    n = len(reader.pages)
    assert n >= 3
    assert f"Page 2 of {n}" in pages[1] and running_title(spec.study.title) in pages[1]  # the title, not the id
    assert spec.study.id not in pages[1]
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=1)  # A4
    assert reader.pages[0].mediabox.height == pytest.approx(841.89, abs=1)


def consort_boxes(html: str) -> dict[tuple[str, str | None], str]:
    """Return the text of each box of the CONSORT diagram, by (``data-box``, ``data-arm``)."""
    svg = re.search(r'<svg[^>]*class="consort".*?</svg>', html, re.S).group(0)
    return {
        (g.get("data-box"), g.get("data-arm")): " ".join(" ".join(g.itertext()).split())
        for g in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g")
        if g.get("class") == "consort-box"
    }


def test_flow_table1_and_analyses_show_the_same_n(abbasi) -> None:
    trial, results, html, _ = abbasi
    text = html.read_text(encoding="utf-8")
    boxes = consort_boxes(text)
    n = trial.subjects.groupby("arm", observed=True).size()
    for arm, k in n.items():
        assert boxes[("allocated", arm)] == f"Allocated to {trial.spec.arms.label(arm)} n = {k}"
        label = trial.spec.arms.label(arm)  # Table 1 heads each arm's column with its label
        assert f'data-arm="{arm}">{label}<br><span class="n">N = {k}</span>' in text
    primary = results.table.query(
        "analysis == 'ancova' and endpoint == @trial.spec.primary_endpoint.id "
        "and visit == @trial.spec.visits.primary and population == 'fas'"
    ).iloc[0]
    assert boxes[("analysed", "magnesium")].startswith(f"Analysed: n = {primary['n_treatment']} ")
    assert boxes[("analysed", "placebo")].startswith(f"Analysed: n = {primary['n_control']} ")
    assert "Analysed: Insomnia Severity Index at Week 8 (ANCOVA)" in _text(_section(text, "flow"))


def test_inconsistent_n_is_an_error_and_writes_nothing(tmp_path) -> None:
    trial = tk.load(ABBASI)
    results = tk.analyze(trial)
    table = results.table.copy()
    table.loc[table["analysis"] == "welch_change", "n_treatment"] += 1
    bad = dataclasses.replace(results, table=table)
    with pytest.raises(InconsistentCounts, match=r"welch_change .* flow with baseline and follow-up") as err:
        report(trial, bad, tmp_path / "out")
    assert isinstance(err.value, tk.TrialkitError)
    assert not (tmp_path / "out").exists()

    t1 = results.table1.copy()
    t1.loc[0, "n"] += 1
    with pytest.raises(InconsistentCounts, match="Table 1"):
        render_html(trial, dataclasses.replace(results, table1=t1))


def test_html_is_byte_identical_for_the_same_input_and_time(tmp_path) -> None:
    trial = tk.load(ABBASI)
    results = tk.analyze(trial)
    a, _ = report(trial, results, tmp_path / "a", generated=WHEN, pdf=False)
    b, _ = report(trial, results, tmp_path / "b", generated=WHEN, pdf=False)
    assert a.read_bytes() == b.read_bytes()
    c = render_html(trial, results, generated="2025-06-07T08:09:10Z")
    assert c.replace("2025-06-07T08:09:10Z", WHEN) == a.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------ escaping


def test_user_strings_are_only_text_in_the_html(hostile) -> None:
    _, _, html, _ = hostile
    page = parse(html.read_text(encoding="utf-8"))
    tags = [t for t, _ in page.tags]
    assert "script" not in tags and "img" not in tags
    assert not any("onerror" in attrs for _, attrs in page.tags)
    text = "".join(page.text)
    for s in (SCRIPT, IMG, TD, f"{SCRIPT} {IMG} {TD} $x$"):
        assert s in text
    # the table structure is intact: every row of the flow table has the same number of cells
    rows = table_rows(html.read_text(encoding="utf-8"), "secondary-result")["secondary-result"]
    widths = {len(cells) for _, cells in rows}
    assert len(widths) == 1


def test_user_strings_are_only_text_in_the_svg_figures(hostile) -> None:
    _, _, html, _ = hostile
    text = html.read_text(encoding="utf-8")
    svgs = re.findall(r"<svg\b.*?</svg>", text, re.S)
    assert len(svgs) == 5  # the CONSORT diagram and four figures
    for svg in svgs:
        root = ET.fromstring(svg)  # well-formed XML: nothing broke out of a text node
        names = {el.tag.split("}")[-1] for el in root.iter()}
        assert not names & {"script", "img", "foreignObject", "a"}
        assert not any(k.startswith("on") for el in root.iter() for k in el.attrib)
    shown = "".join("".join(ET.fromstring(s).itertext()) for s in svgs)
    assert f"ISI {SCRIPT}" in shown and IMG in shown and f"{SCRIPT} & {TD}" in shown


def test_user_strings_are_text_in_the_pdf(hostile) -> None:
    from pypdf import PdfReader

    text = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(hostile[3]).pages)
    for s in (SCRIPT, IMG, TD):
        assert s in text


def test_reproduction_section_lists_each_outcome_and_its_verdict(hostile) -> None:
    text = hostile[2].read_text(encoding="utf-8")
    rows = re.search(r'<table class="data reproduction".*?</table>', text, re.S).group(0)
    assert rows.count("<tr") == 3  # header + 2 outcomes
    assert 'class="verdict-good"' in rows and 'class="verdict-other"' in rows
    assert "&lt;/td&gt;" in rows and "−2.25" in rows


def test_reproduction_table_needs_a_verdict_column(tmp_path) -> None:
    trial = hostile_trial(tmp_path)
    with pytest.raises(tk.TrialkitError, match="verdict"):
        render_html(trial, tk.analyze(trial), reproduction=pd.DataFrame({"outcome": ["isi"]}))


def test_xlsx_neutralises_formula_text(tmp_path, capsys) -> None:
    from openpyxl import load_workbook

    trial = hostile_trial(tmp_path, arms=("=1+2", "@SUM(A1)"))
    spec = trial.inputs[0].path
    code = main(["report", spec, "--out", str(tmp_path / "out"), "--xlsx"])
    assert code in (0, 1)
    book = load_workbook(tmp_path / "out" / "results.xlsx")
    values = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "'@SUM(A1) - =1+2" in values
    assert not [v for v in values if v[:1] in "=+-@"]
    assert "wrote" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ CLI, imports


def test_cli_report_writes_to_reports_study_id_by_default(small_trial_dir, monkeypatch, capsys) -> None:
    monkeypatch.chdir(small_trial_dir.parent)
    code = main(["report", str(small_trial_dir)])
    assert code in (0, 1)  # 1: an analysis of the tiny trial could not run, and the report lists it
    out = small_trial_dir.parent / "reports" / "small"
    assert (out / "report.html").is_file() and (out / "report.pdf").is_file()
    html = (out / "report.html").read_text(encoding="utf-8")
    # run in the spec's folder (here the current one), with paths relative to it
    assert "trialkit report study.toml --out reports/small" in html and str(small_trial_dir) not in html


def test_cli_report_bad_input_exits_2(tmp_path) -> None:
    wide = small_wide()
    wide.loc[0, "isi_week8"] = 99.0
    write_frame(wide, tmp_path / "trial.csv")
    assert main(["report", str(write_spec(tmp_path, base_spec())), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


def test_report_is_a_function_and_checks_its_arguments() -> None:
    assert callable(tk.report) and tk.report.__module__ == "trialkit._report._report"
    with pytest.raises(tk.TrialkitError, match="`trial` must be a trialkit.Trial"):
        tk.report("not a trial", None, "out")


def test_heavy_report_libraries_are_not_imported_by_validate_or_analyze() -> None:
    code = (
        "import sys, trialkit, trialkit.cli, trialkit.analysis; "
        "heavy = [m for m in ('matplotlib', 'weasyprint', 'jinja2', 'seaborn') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_format_number_is_the_one_rounding_rule() -> None:
    assert format_number(-0.0004, 3) == "0.000"
    assert format_number(2.345, 1) == "2.3"
    assert format_number(float("nan"), 2) == "–"
    assert format_number(None) == "–"
    assert format_p(0.0004) == "<0.001" and format_p(0.9996) == ">0.999"  # one style: NEJM / APA
    assert format_p(0.0123) == "0.012"
    assert format_number(-2.449, 2) == "\u22122.45"  # the typographic minus, U+2212
    assert parse_shown(format_number(-2.449, 2)) == -2.45
    assert format_number(pd.NA) == "–"
    assert format_number(12345.6) == "12346"


# ------------------------------------------------------------------------------------------ browser


def _require_chromium() -> None:
    """`make test` installs both (scripts/system-deps.sh, the test extra): their absence is a failure."""
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: scripts/system-deps.sh --browser installs Debian's chromium")


def _only(url: str, blocked: list[str]):
    """Build a route handler letting through the report file itself and aborting (and recording) any other request."""

    def handle(route) -> None:
        if route.request.url == url:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    return handle


def _open(browser, html: Path, shot: Path, figures: int = 4) -> dict[str, list[str]]:
    """Load ``html`` with every other request blocked; what went wrong, by kind (a report has ``figures`` SVGs)."""
    url = html.resolve().as_uri()
    seen: dict[str, list[str]] = {"console": [], "failed": [], "blocked": [], "dialogs": []}
    context = browser.new_context()
    try:
        page = context.new_page()
        page.on(
            "console",
            lambda m: seen["console"].append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None,
        )
        page.on("pageerror", lambda e: seen["console"].append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: seen["failed"].append(r.url))
        page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
        context.route("**/*", _only(url, seen["blocked"]))
        page.goto(url, wait_until="load")
        if html.name == "report.html":
            assert page.evaluate("document.querySelectorAll('script, img, iframe, link').length") == 0
            heights = page.evaluate(
                "[...document.querySelectorAll('svg.figure')].map(s => s.getBoundingClientRect().height)"
            )
            assert len(heights) == figures and min(heights) > 100
            assert page.locator("#primary-result").is_visible()
            page.screenshot(path=str(shot), full_page=True)
    finally:
        context.close()
    return seen


def test_html_loads_in_headless_chromium_without_errors_or_requests(abbasi, hostile, tmp_path) -> None:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            for name, html, figures in (("abbasi", abbasi[2], 8), ("hostile", hostile[2], 4)):
                seen = _open(browser, html, tmp_path / f"{name}.png", figures)
                assert seen == {"console": [], "failed": [], "blocked": [], "dialogs": []}, name
            # the harness itself: a page that asks for something outside the file is caught
            probe = tmp_path / "probe.html"
            probe.write_text('<!DOCTYPE html><title>p</title><img src="http://example.invalid/x.png">')
            assert _open(browser, probe, tmp_path / "probe.png")["blocked"] == ["http://example.invalid/x.png"]
        finally:
            browser.close()


# ------------------------------------------------------------------------------------------ the MMRM


@pytest.fixture(scope="session")
def mmrm_primary(tmp_path_factory):
    """Build a three-arm trial with three post-baseline visits whose primary analysis is the MMRM."""
    from longitudinal_trial import load, three_arm_spec, three_arm_wide

    folder = tmp_path_factory.mktemp("mmrm")
    trial = load(folder, three_arm_wide(), three_arm_spec(primary="mmrm"))
    results = tk.analyze(trial)
    html, pdf = report(trial, results, folder / "out", generated=WHEN, pdf=False)
    return trial, results, html.read_text(encoding="utf-8")


def _section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}">')
    return html[start : html.index("</section>", start)]


def _text(html: str) -> str:
    return " ".join("".join(parse(html).text).split())


def test_the_mmrm_section_shows_labels_trajectories_and_contrasts(abbasi) -> None:
    trial, results, html, _ = abbasi
    section = _section(html.read_text(encoding="utf-8"), "mmrm")
    text = _text(section)
    assert "unstructured covariance" in text and "REML" in text and "Satterthwaite" in text
    # the bundled spec keeps baseline as a response (cLDA): every randomised subject enters
    assert "46 of 46 for every endpoint (Placebo 23 of 23, Magnesium 500 mg/day 23 of 23)" in text
    assert "over baseline and the post-baseline visits, with equal arm means at baseline" in text
    assert "the MMRM is the ANCOVA on the same subjects" not in text
    svgs = re.findall(r"<svg\b.*?</svg>", section, re.S)
    assert len(svgs) == 2  # 10 endpoints: 5 panels and 5
    shown = " ".join(" ".join(" ".join(ET.fromstring(svg).itertext()).split()) for svg in svgs)  # titles wrap
    for ep in trial.spec.endpoints:  # labels, not ids
        assert ep.label in shown and ep.label in text
    assert "Placebo" in shown and "Magnesium 500 mg/day" in shown and "Geometric LS mean" in shown
    assert 'id="fig-mmrm-1-caption"><strong>Figure 1.</strong> MMRM least-squares means' in section
    rows = table_rows(section, "mmrm-result")["mmrm-result"]
    assert [a["data-visit"] for a, _ in rows] == ["week8"] * 10
    mel = next(c for a, c in rows if a["data-endpoint"] == "melatonin")
    assert mel["estimate"].endswith("ratio")
    # one row per endpoint at week8; with the subjects missing week8 in the model the estimates are
    # not the complete-case ANCOVA's, but close to them
    t = results.table
    for kind in ("ancova", "mmrm"):
        assert (t["analysis"] == kind).sum() == 10
    m = t.loc[t["analysis"] == "mmrm"].reset_index(drop=True)
    a = t.loc[t["analysis"] == "ancova"].reset_index(drop=True)
    assert not np.allclose(m["estimate"], a["estimate"], rtol=1e-6)
    assert (np.sign(m["estimate"]) == np.sign(a["estimate"])).all()


def test_methods_say_which_subjects_each_analysis_uses(abbasi) -> None:
    html = abbasi[2].read_text(encoding="utf-8")
    methods = _text(_section(html, "methods"))
    assert (
        "and the responder analyses: 43 of 46 (Placebo 22 of 23, Magnesium 500 mg/day 21 of 23), a complete-case"
        in (methods)
    )
    assert (
        "The MMRM: every randomised subject, 46 of 46 (Placebo 23 of 23, Magnesium 500 mg/day 23 of 23); it is valid "
        "when values are missing at random." in methods
    )
    assert "missing at random" in methods and "constrained longitudinal data analysis" in methods
    assert "unstructured covariance matrix" in methods and "SAS REPEATED / TYPE=UN" in methods
    assert "restricted maximum likelihood (REML)" in methods and "Satterthwaite's approximation" in methods
    # "complete-case" only where subjects were left out: the ANCOVA and the analyses of change, not the MMRM
    assert methods.count("a complete-case analysis.") == 1


def test_every_subject_analysed_is_called_the_full_analysis_set(tmp_path) -> None:
    wide = small_wide(n_per_arm=6)
    wide.loc[2, ["isi_week8", "sleep_time_week8"]] = [9.0, 340.0]
    trial = tk.load(write_spec_and_frame(tmp_path, wide, base_spec(analysis={"mmrm": {}})))
    methods = _text(_section(render_html(trial, tk.analyze(trial), generated=WHEN), "methods"))
    assert "the responder analyses: every randomised subject, 12 of 12 (Placebo 6 of 6, Active 6 of 6)." in methods
    assert "The MMRM: every randomised subject, 12 of 12 (Placebo 6 of 6, Active 6 of 6); it is valid" in methods
    assert "complete-case" not in methods


def write_spec_and_frame(folder: Path, wide: pd.DataFrame, spec: dict) -> Path:
    write_frame(wide, folder / "trial.csv")
    return write_spec(folder, spec)


def test_primary_mmrm_leads_the_summary_flow_primary_and_secondary_tables(mmrm_primary) -> None:
    trial, results, html = mmrm_primary
    summary = _text(_section(html, "summary"))
    assert "MMRM over the post-baseline visits (unstructured covariance, REML, Satterthwaite df)" in summary
    assert "ANCOVA at each visit supportive" in summary
    assert "Primary result — Symptom score at Week 12 (MMRM)" in summary
    t = results.table
    at = t.loc[(t["visit"] == "week12") & (t["population"] == "fas")]
    tables = table_rows(html, "primary-result", "primary-lsmeans", "secondary-result", "primary-supportive")
    assert {a["data-analysis"] for a, _ in tables["primary-result"]} == {"mmrm"}
    assert {a["data-analysis"] for a, _ in tables["primary-lsmeans"]} == {"mmrm_lsmean"}
    assert {a["data-analysis"] for a, _ in tables["secondary-result"]} == {"mmrm"}
    assert tables["primary-supportive"][0][0]["data-analysis"] == "ancova"
    for attrs, cells in tables["secondary-result"]:
        row = at.loc[(at["analysis"] == "mmrm") & (at["endpoint"] == attrs["data-endpoint"])]
        row = row.loc[row["contrast"] == attrs["data-contrast"]].iloc[0]
        assert_shown(cells["p_adjusted"], row["p_adjusted"], "adjusted p")
        assert_shown(cells["estimate"], row["estimate"], "estimate")
    for attrs, cells in tables["primary-result"]:
        row = at.loc[
            (at["analysis"] == "mmrm") & (at["endpoint"] == "score") & (at["contrast"] == attrs["data-contrast"])
        ]
        assert_shown(cells["df"], row["df"].iloc[0], "df")  # Satterthwaite: not a whole number
    subjects = results.provenance["mmrm"]["subjects"]["fas"]["score"]
    boxes = consort_boxes(html)
    for arm, n in subjects.items():
        assert boxes[("analysed", arm)].startswith(f"Analysed: n = {n} ")
    assert "Analysed: Symptom score (MMRM over the post-baseline visits)" in _text(_section(html, "flow"))
    methods = _text(_section(html, "methods"))
    assert "analysed by the mixed model for repeated measures described below" in methods
    assert "Their MMRM p-values at Week 12 were adjusted by the Holm method" in methods


def test_trajectories_run_over_every_post_baseline_visit_with_a_panel_per_endpoint(mmrm_primary) -> None:
    trial, results, html = mmrm_primary
    section = _section(html, "mmrm")
    svg = re.findall(r"<svg\b.*?</svg>", section, re.S)[0]
    shown = "".join(ET.fromstring(svg).itertext())
    for label in ("Symptom score", "Pain", "Concentration", "Week 4", "Week 8", "Week 12", "Low", "High", "Placebo"):
        assert label in shown
    # the endpoints' models used different subjects: a table says how many
    subjects = table_rows(section, "mmrm-subjects")["mmrm-subjects"]
    assert [a["data-endpoint"] for a, _ in subjects] == ["score", "pain", "conc"]
    rows = table_rows(section, "mmrm-result")["mmrm-result"]
    assert len(rows) == 3 * 3 * 2  # endpoints x visits x contrasts
    t = results.table
    for attrs, cells in rows:
        row = t.loc[
            (t["analysis"] == "mmrm")
            & (t["population"] == "fas")
            & (t["endpoint"] == attrs["data-endpoint"])
            & (t["visit"] == attrs["data-visit"])
            & (t["contrast"] == attrs["data-contrast"])
        ].iloc[0]
        assert_shown(cells["estimate"], row["estimate"], "estimate")
        assert_ci_shown(cells["ci"], row["ci_low"], row["ci_high"], "ci")
        assert cells["p_value"] == format_p(row["p_value"])


def test_an_mmrm_count_that_does_not_match_the_flow_is_an_error(mmrm_primary) -> None:
    trial, results, _ = mmrm_primary
    table = results.table.copy()
    table.loc[table["analysis"] == "mmrm_lsmean", "n_treatment"] += 1
    with pytest.raises(InconsistentCounts, match=r"mmrm_lsmean .* flow ANCOVA set"):
        render_html(trial, dataclasses.replace(results, table=table))
    provenance = {
        **results.provenance,
        "mmrm": {**results.provenance["mmrm"], "subjects": {"fas": {"score": {"low": 1}}}},
    }
    with pytest.raises(InconsistentCounts, match=r"MMRM score \(fas\): n low = 1, flow MMRM set = 13"):
        render_html(trial, dataclasses.replace(results, provenance=provenance))


# ------------------------------------------------------------------------------------------ missing data

MI_FAST = {"missing_data": {"imputations": 20, "burn_in": 30, "seed": 5}}
COMPARED = ("ancova", "mmrm", "mi_mar", "mi_j2r", "mi_cr")
ONE_VISIT_SENTENCE = "With one post-baseline visit, jump to reference and copy reference coincide"


@pytest.fixture(scope="session")
def three_arm_mi(tmp_path_factory):
    """Build a three-arm trial with three post-baseline visits, dropout, a log-scale endpoint and the MI analyses."""
    from longitudinal_trial import load, three_arm_spec, three_arm_wide

    folder = tmp_path_factory.mktemp("mi")
    trial = load(folder, three_arm_wide(), three_arm_spec(**MI_FAST))
    results = tk.analyze(trial)
    return trial, results, render_html(trial, results, generated=WHEN)


@pytest.fixture(scope="session")
def hostile_mi(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile_mi")
    trial = hostile_trial(folder, analysis=MI_FAST)
    results = tk.analyze(trial)
    html, pdf = report(trial, results, folder / "out", generated=WHEN)
    return trial, results, html, pdf


def _check_side_by_side(trial, results, html: str) -> int:
    """Every cell of the side-by-side table equals its results row (the MMRM's n: the subjects in its model)."""
    spec = trial.spec
    t = results.table
    at = t.loc[(t["visit"] == spec.visits.primary) & (t["population"] == "fas")]
    rows = table_rows(html, "missing-compare")["missing-compare"]
    contrasts = [f"{a} - {trial.control}" for a in trial.arms[1:]]
    endpoints = [spec.primary_endpoint.id, *(e.id for e in spec.endpoints if not e.primary)]
    expected = [(e, k, c) for e in endpoints for c in contrasts for k in COMPARED]
    assert [(a["data-endpoint"], a["data-analysis"], a["data-contrast"]) for a, _ in rows] == expected
    provenance = results.provenance["missing_data"]
    checked = 0
    for attrs, cells in rows:
        endpoint, kind, contrast = attrs["data-endpoint"], attrs["data-analysis"], attrs["data-contrast"]
        row = at.loc[(at["endpoint"] == endpoint) & (at["analysis"] == kind) & (at["contrast"] == contrast)]
        assert len(row) == 1, attrs
        row = row.iloc[0]
        what = f"missing-compare {endpoint} {kind} {contrast}"
        ep = spec.endpoint(endpoint)
        assert_shown(cells["estimate"], row["estimate"], what)
        assert_ci_shown(cells["ci"], row["ci_low"], row["ci_high"], what)
        assert cells["p_value"] == format_p(row["p_value"]), what
        if ep.scale == "log":  # a ratio, with the decimals of every ratio in the report
            assert cells["estimate"] == format_number(row["estimate"], 2), what
        treated = contrast.split(" - ")[0]
        if kind == "mmrm":
            model = results.provenance["mmrm"]["subjects"]["fas"][endpoint]
            n = (model[treated], model[trial.control])
        else:
            n = (row["n_treatment"], row["n_control"])
        assert (int(cells["n_treatment"]), int(cells["n_control"])) == n, what
        if kind.startswith("mi_"):
            got = provenance["imputed_at_primary"][endpoint]
            assert cells["imputed"] == f"{got[treated]} vs {got[trial.control]}", what
        else:
            assert cells["imputed"] == "", what
        checked += 1
    return checked


def test_the_missing_data_section_shows_every_estimate_as_in_the_results_table(abbasi) -> None:
    trial, results, html, _ = abbasi
    text = html.read_text(encoding="utf-8")
    assert _check_side_by_side(trial, results, _section(text, "missing")) == 10 * 5
    # the numbers shown beside each other are what the analyses gave: J2R and CR pull towards placebo
    t = results.table.set_index(["endpoint", "analysis"])
    assert t.loc[("isi", "mi_j2r"), "estimate"] > t.loc[("isi", "mi_mar"), "estimate"]


def test_the_section_says_who_had_no_value_at_the_primary_visit(abbasi) -> None:
    trial, results, html, _ = abbasi
    section = _text(_section(html.read_text(encoding="utf-8"), "missing"))
    pattern = results.missing_pattern
    at = pattern.loc[(pattern["endpoint"] == "isi") & (pattern["visit"] == "week8")].set_index("arm")
    missing = {a: int(at.loc[a, "n_subjects"] - at.loc[a, "n_observed"]) for a in trial.arms}
    assert missing == {"placebo": 1, "magnesium": 2}
    assert (
        "At Week 8, 1 of 23 on Placebo and 2 of 23 on Magnesium 500 mg/day had no value (the same for every endpoint)."
        in section
    )
    assert "46 of 46 (Placebo 23 of 23, Magnesium 500 mg/day 23 of 23)" in section
    assert "imputing the Week 8 values of 1 participant on Placebo and 2 on Magnesium 500 mg/day" in section
    # the assumption of each analysis shown, in words, with the arms by name
    for name in ("Complete case (ANCOVA)", "MMRM", "MI, missing at random (MAR)", "MI, jump to reference (J2R)"):
        assert name in section
    assert "Participants on Magnesium 500 mg/day who left lose the benefit of their treatment at once" in section
    assert "the average of the Placebo arm" in section
    assert "Rubin's variance is larger than the true sampling variance" in section
    assert "For the primary endpoint, Insomnia Severity Index: p < 0.05 in every analysis shown" in section


def test_j2r_and_cr_are_said_to_coincide_only_with_one_post_baseline_visit(abbasi, three_arm_mi) -> None:
    trial, results, html, _ = abbasi
    assert len(trial.spec.visits.post_baseline) == 1
    assert _text(html.read_text(encoding="utf-8")).count(ONE_VISIT_SENTENCE) == 1
    t = results.table.set_index(["endpoint", "analysis"])
    for ep in trial.spec.endpoints:  # true of the numbers, not only of the words
        assert t.loc[(ep.id, "mi_j2r"), "estimate"] == t.loc[(ep.id, "mi_cr"), "estimate"]
    trial, results, html = three_arm_mi
    assert len(trial.spec.visits.post_baseline) == 3
    assert ONE_VISIT_SENTENCE not in _text(html)
    t = results.table
    j2r = t.loc[t["analysis"] == "mi_j2r", "estimate"].to_numpy()
    cr = t.loc[t["analysis"] == "mi_cr", "estimate"].to_numpy()
    assert not np.allclose(j2r, cr)


def test_the_tipping_shift_shown_is_the_results_row(abbasi) -> None:
    trial, results, html, _ = abbasi
    text = html.read_text(encoding="utf-8")
    section = _section(text, "missing")
    rows = table_rows(section, "missing-tipping")["missing-tipping"]
    tips = results.table.loc[results.table["analysis"] == "tipping_point"].set_index("endpoint")
    assert [a["data-endpoint"] for a, _ in rows] == [e.id for e in trial.spec.endpoints]
    imputed = results.provenance["missing_data"]["imputed_at_primary"]
    svg = re.findall(r"<svg\b.*?</svg>", section[section.index('id="fig-tipping-1"') :], re.S)[0]
    drawn = " ".join("".join(ET.fromstring(svg).itertext()).split())
    for attrs, cells in rows:
        ep = trial.spec.endpoint(attrs["data-endpoint"])
        row = tips.loc[ep.id]
        delta = float(row["estimate"])
        assert cells["estimate"].split()[0] == format_number(delta), ep.id
        assert cells["p_value"] == format_p(row["p_value"]), ep.id
        # the grid holds the shift with its p: the row is the smallest |δ| there with p >= alpha
        grid = results.tipping_point.loc[results.tipping_point["endpoint"] == ep.id]
        lost = grid.loc[grid["p_value"] >= results.alpha]
        assert delta == lost.loc[lost["delta"].abs().idxmin(), "delta"]
        if ep.scale == "log":  # a shift of the logs: the values multiplied by exp(δ)
            factor = format_number(math.exp(delta), 2)
            assert cells["estimate"] == f"{format_number(delta)} in log units (values × {factor})", ep.id
        else:
            assert cells["estimate"] == f"{format_number(delta)} {ep.unit}", ep.id
        assert f"tipping δ = {format_number(delta)}" in drawn, ep.id
    reading = _text(section)
    assert (
        f"Significance is lost ({p_phrase(tips.loc['isi', 'p_value'])}) if the {imputed['isi']['magnesium']} "
        f"participants on Magnesium 500 mg/day without a Week 8 value had on average been "
        f"{format_number(tips.loc['isi', 'estimate'])} points higher (worse) than missing at random predicts."
    ) in reading
    mel = tips.loc["melatonin", "estimate"]
    assert f"had values {format_number(math.exp(mel), 2)} times (lower, worse)" in reading
    assert f"a shift of {format_number(mel)} in log units" in reading
    # the endpoints not significant under MAR tip at 0
    assert tips.loc["total_sleep_time", "estimate"] == 0.0
    assert "Not significant under missing at random already" in reading


def test_the_missing_data_figures_are_numbered_after_the_mmrm_and_before_the_others(abbasi) -> None:
    text = abbasi[2].read_text(encoding="utf-8")
    numbers = [int(n) for n in re.findall(r"<strong>Figure (\d+)\.</strong>", text)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) == 8
    assert 'id="fig-missing-pattern-caption"><strong>Figure 3.</strong>' in text
    assert 'id="fig-tipping-1-caption"><strong>Figure 4.</strong>' in text
    pattern = re.search(r'<figure id="fig-missing-pattern">(.*?)</figure>', text, re.S).group(1)
    drawn = "".join(ET.fromstring(re.search(r"<svg\b.*?</svg>", pattern, re.S).group(0)).itertext())
    for label in ("Placebo", "Magnesium 500", "observed", "Every endpoint", "22", "21"):
        assert label in drawn


def test_the_methods_describe_the_imputation_that_ran(abbasi, three_arm_mi) -> None:
    html = abbasi[2].read_text(encoding="utf-8")
    methods = _text(_section(html, "methods"))
    assert "Missing data: multiple imputation" in methods
    assert "100 draws of the parameters" in methods and "seed 20121104" in methods and "200 iterations" in methods
    assert "jump to reference" in methods and "copy reference" in methods and "tipping point" in methods
    assert "no missing value was imputed except in the multiple-imputation analyses" in methods
    assert "normal with a mean depending on arm, the baseline value and Age, Sex" in methods
    provenance = _text(_section(html, "provenance"))
    assert "20121104 (multiple imputation" in provenance
    three = _text(_section(three_arm_mi[2], "methods"))
    assert "an unstructured covariance across visits" in three and "20 draws of the parameters" in three


def test_only_the_methods_that_ran_are_shown_and_described(tmp_path) -> None:
    from longitudinal_trial import load, three_arm_spec, three_arm_wide

    options = {"missing_data": {**MI_FAST["missing_data"], "methods": ["mi_mar"]}}
    trial = load(tmp_path, three_arm_wide(), three_arm_spec(primary="mmrm", **options))
    html = render_html(trial, tk.analyze(trial), generated=WHEN)
    section = _section(html, "missing")
    assert "The primary analysis, the MMRM, keeps them through their other values" in _text(section)
    kinds = {a["data-analysis"] for a, _ in table_rows(section, "missing-compare")["missing-compare"]}
    assert kinds == {"ancova", "mmrm", "mi_mar"}
    words = _text(section) + _text(_section(html, "methods"))
    for absent in ("jump to reference", "copy reference", "Tipping", "tipping", "Rubin's variance is larger"):
        assert absent not in words
    assert 'id="missing-tipping"' not in section and "fig-tipping" not in html


def test_the_three_arm_section_has_a_row_and_a_tipping_panel_per_contrast(three_arm_mi) -> None:
    trial, results, html = three_arm_mi
    section = _section(html, "missing")
    assert _check_side_by_side(trial, results, section) == 3 * 2 * 5
    tipping = table_rows(section, "missing-tipping")["missing-tipping"]
    assert [(a["data-endpoint"], a["data-contrast"]) for a, _ in tipping] == [
        (e, f"{a} - placebo") for e in ("score", "pain", "conc") for a in ("low", "high")
    ]
    svg = re.search(r'<figure id="fig-tipping-1">.*?(<svg\b.*?</svg>)', section, re.S).group(1)
    drawn = " ".join(" ".join(ET.fromstring(svg).itertext()).split())  # titles are wrapped over lines
    for title in ("Symptom score: Low vs Placebo", "Concentration: High vs"):
        assert title in drawn
    assert "(values ×" in drawn  # the log-scale endpoint's shift as a factor
    text = _text(section)
    assert "At Week 12, 5 of 14 on Placebo, 3 of 14 on Low and 6 of 14 on High had no value" in text
    assert "40 of 42 (Placebo 14 of 14, Low 13 of 14, High 13 of 14)" in text
    t = results.table
    p = t.loc[(t["endpoint"] == "score") & (t["contrast"] == "low - placebo") & (t["visit"] == "week12")]
    p = p.set_index("analysis")["p_value"]
    assert (p[["ancova", "mmrm", "mi_mar"]] < 0.05).all() and (p[["mi_j2r", "mi_cr"]] >= 0.05).all()
    assert "low - placebo: p < 0.05 under complete case, MMRM and MI under MAR, but not under J2R or CR" in text


def test_a_hostile_endpoint_label_stays_text_in_the_missing_data_section(hostile_mi) -> None:
    from pypdf import PdfReader

    trial, results, html, pdf = hostile_mi
    text = html.read_text(encoding="utf-8")
    section = _section(text, "missing")
    page = parse(section)
    assert not {t for t, _ in page.tags} & {"script", "img"}
    assert not any(k.startswith("on") for _, attrs in page.tags for k in attrs)
    shown = "".join(page.text)
    assert f"ISI {SCRIPT}" in shown and f"Sleep {TD} {IMG}" in shown and f"{SCRIPT} & {TD}" in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section
    svgs = re.findall(r"<svg\b.*?</svg>", section, re.S)
    assert len(svgs) == 2  # the pattern and the tipping point
    drawn = " ".join(" ".join(ET.fromstring(s).itertext()) for s in svgs)  # well-formed: nothing broke out
    drawn = " ".join(drawn.split())  # titles are wrapped over lines
    assert f"ISI {SCRIPT}" in drawn and f"Sleep {TD} {IMG}" in drawn
    rows = table_rows(section, "missing-compare")["missing-compare"]
    assert {len(cells) for _, cells in rows} == {6}  # no cell was split by the text in it
    pdf_text = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(pdf).pages)
    assert f"ISI {SCRIPT}" in pdf_text


def test_without_missing_data_in_the_spec_there_is_no_section(hostile) -> None:
    trial, results, html, _ = hostile
    assert trial.spec.analysis.missing_data is None and "missing_data" not in results.provenance
    text = html.read_text(encoding="utf-8")
    assert '<section id="missing">' not in text and 'href="#missing"' not in text
    assert "multiple imputation" not in _text(text).lower() and "fig-tipping" not in text
    assert "no missing value was imputed." in _text(_section(text, "methods"))


def test_failed_imputations_are_said_in_the_section(abbasi) -> None:
    trial, results, _, _ = abbasi
    table = results.table.loc[
        ~((results.table["endpoint"] == "renin") & results.table["analysis"].str.startswith("mi"))
    ]
    table = table.loc[~((table["endpoint"] == "renin") & (table["analysis"] == "tipping_point"))]
    failures = pd.concat(
        [
            results.failures,
            pd.DataFrame(
                {
                    "endpoint": ["renin"] * 4,
                    "visit": ["week8"] * 4,
                    "analysis": ["mi_mar", "mi_j2r", "mi_cr", "tipping_point"],
                    "contrast": ["all arms"] * 4,
                    "term": ["baseline"] * 4,
                    "message": ["multiple imputation: the model cannot be fitted"] * 4,
                    "population": ["fas"] * 4,
                }
            ),
        ],
        ignore_index=True,
    )
    grid = results.tipping_point.loc[results.tipping_point["endpoint"] != "renin"]
    html = render_html(
        trial, dataclasses.replace(results, table=table, failures=failures, tipping_point=grid), generated=WHEN
    )
    section = _section(html, "missing")
    renin = [c for a, c in table_rows(section, "missing-compare")["missing-compare"] if a["data-endpoint"] == "renin"]
    assert len(renin) == 5 and "estimate" not in renin[-1]
    assert "could not run; see “Analyses that could not run”" in _text(section)
    assert "4 missing-data analyses could not run" in _text(section)
    assert "Multiple imputation under MAR" in _text(_section(html, "failures"))


def test_the_missing_data_section_fits_narrow_and_wide_windows(abbasi, tmp_path) -> None:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    url = abbasi[2].resolve().as_uri()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            for width in (720, 1280):
                context = browser.new_context(viewport={"width": width, "height": 900})
                page = context.new_page()
                page.goto(url, wait_until="load")
                assert page.evaluate("document.documentElement.scrollWidth") == width
                sticking_out = page.evaluate(
                    "[...document.querySelectorAll('#missing *')]"
                    ".filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)"
                    ".map(e => e.tagName)"
                )
                assert sticking_out == [], width
                for id_ in ("missing-compare", "missing-tipping", "fig-missing-pattern", "fig-tipping-1"):
                    assert page.locator(f"#{id_}").is_visible(), (width, id_)
                page.locator("#missing").screenshot(path=str(tmp_path / f"missing-{width}.png"))
                context.close()
        finally:
            browser.close()


def test_the_workbook_holds_the_tipping_grid_and_the_pattern(abbasi) -> None:
    from openpyxl import load_workbook

    _, results, html, _ = abbasi
    book = load_workbook(html.parent / "results.xlsx")
    assert len(list(book["tipping_point"].iter_rows())) == len(results.tipping_point) + 1
    assert len(list(book["missing_pattern"].iter_rows())) == len(results.missing_pattern) + 1
    keys = {row[0].value: row[1].value for row in book["provenance"].iter_rows(min_row=2)}
    assert keys["missing_data seed"] == 20121104 and keys["missing_data deltas isi"] == "default grid"


def test_a_grid_that_never_tips_is_said_so_and_the_given_grid_is_described(tmp_path) -> None:
    from longitudinal_trial import load, three_arm_spec, three_arm_wide

    options = {"missing_data": {**MI_FAST["missing_data"], "deltas": {"score": [0, 0.5, 1]}}}
    trial = load(tmp_path, three_arm_wide(), three_arm_spec(**options))
    results = tk.analyze(trial)
    failed = results.failures.loc[results.failures["analysis"] == "tipping_point"]
    assert set(failed["endpoint"]) == {"score"}  # p stays below alpha up to a shift of 1 point
    html = render_html(trial, results, generated=WHEN)
    section = _section(html, "missing")
    rows = {
        (a["data-endpoint"], a["data-contrast"]): c
        for a, c in table_rows(section, "missing-tipping")["missing-tipping"]
    }
    grid = results.tipping_point
    for contrast in failed["contrast"]:
        assert rows[("score", contrast)]["estimate"] == "–" and rows[("score", contrast)]["p_value"] == "–"
        p_far = grid.loc[(grid["endpoint"] == "score") & (grid["contrast"] == contrast), "p_value"].iloc[-1]
        assert f"up to 1 point ({p_phrase(p_far)} there): the result does not tip within it." in _text(section)
    methods = _text(_section(html, "methods"))
    assert "over the shifts the spec gives, 0, 0.5, 1 for Symptom score and, for the other endpoints, over a grid" in (
        methods
    )
