"""Reports of every trial the analyses handle: no baseline visit, binary and count endpoints, strata and Dunnett.

Each test reads what a reader sees (the page's text and the cells of its tables) and compares the numbers
with the results table at the precision shown.
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trialkit as tk
from trialkit._format import format_ci, format_number, format_p
from trialkit._report._report import render_html
from trialkit.analysis import Analysis

ROOT = Path(__file__).resolve().parents[2]
ABBASI = ROOT / "data" / "synthetic" / "abbasi2012"
END_TO_END = ROOT / "tests" / "reference" / "end_to_end"
WHEN = "2024-01-02T03:04:05Z"
SCRIPT = "<script>alert(1)</script>"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


# ------------------------------------------------------------------------------------------ reading the page


class _Page(HTMLParser):
    """The visible text (without the provenance section, which quotes the spec) and each table's rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tables: dict[str, list[tuple[dict[str, str | None], dict[str, str]]]] = {}
        self.table: str | None = None
        self.cells: list[tuple[str | None, list[str]]] = []
        self.skip = 0  # inside <svg> or the provenance section

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" or (tag == "section" and a.get("id") == "provenance"):
            self.skip += 1
        if tag == "table" and a.get("id"):
            self.table = str(a["id"])
            self.tables[self.table] = []
        if self.table is not None and tag == "tr" and "data-endpoint" in a:
            self.tables[self.table].append((a, {}))
        if self.table is not None and tag in ("td", "span"):
            self.cells.append((a.get("data-col"), []))

    def handle_endtag(self, tag):
        if tag == "svg" or (tag == "section" and self.skip and self.table is None and not self.cells):
            self.skip = max(0, self.skip - 1)
        if self.table is not None and tag in ("td", "span") and self.cells:
            col, text = self.cells.pop()
            rows = self.tables[self.table]
            if col is not None and rows:
                rows[-1][1][col] = " ".join("".join(text).split())
        if tag == "table":
            self.table = None

    def handle_data(self, data):
        if not self.skip:
            self.text.append(data)
        for _, text in self.cells:
            text.append(data)


def read(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def text_of(html: str) -> str:
    return " ".join("".join(read(html).text).split())


def section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}">')
    return html[start : html.index("</section>", start)]


def decimals(shown: str) -> int:
    number = re.search(r"-?\d+(?:\.(\d+))?", shown)
    assert number is not None, shown
    return len(number.group(1) or "")


def assert_number(shown: str, value: float, what: str) -> None:
    """``shown`` is ``value`` at the decimals displayed."""
    assert shown == format_number(value, decimals(shown)), f"{what}: {shown} vs {value}"


def rows_of(results: tk.Results, visit: str, analysis: str) -> pd.DataFrame:
    t = results.table
    return t.loc[(t["visit"] == visit) & (t["analysis"] == analysis) & (t["population"] == "fas")]


def no_ids_reach_the_reader(html: str, trial: tk.Trial) -> None:
    """No analysis id and no endpoint id with an underscore is in the visible text (labels exist for both)."""
    text = text_of(html)
    for a in Analysis:
        if "_" in a.value:
            assert re.search(rf"\b{a.value}\b", text) is None, a.value
    for e in trial.spec.endpoints:
        if "_" in e.id:
            assert re.search(rf"\b{e.id}\b", text) is None, e.id


def render(trial: tk.Trial, results: tk.Results) -> str:
    return render_html(trial, results, generated=WHEN)


# ------------------------------------------------------------------------------------------ fixtures


def _no_baseline_spec(folder: Path) -> Path:
    """Copy the bundled synthetic trial and drop its baseline visit (the data files keep their columns)."""
    for f in ("study.toml", "magnesium.csv", "placebo.csv"):
        shutil.copyfile(ABBASI / f, folder / f)
    spec = folder / "study.toml"
    text = spec.read_text(encoding="utf-8")
    changed = text.replace('baseline = "baseline"\norder = ["baseline", "week8"]', 'order = ["week8"]').replace(
        'labels = { baseline = "Baseline", week8 = "Week 8" }', 'labels = { week8 = "Week 8" }'
    )
    assert changed != text
    spec.write_text(changed, encoding="utf-8")
    return spec


@pytest.fixture(scope="module")
def no_baseline(tmp_path_factory):
    folder = tmp_path_factory.mktemp("no_baseline")
    trial = tk.load(_no_baseline_spec(folder))
    results = tk.analyze(trial)
    html, _ = tk.report(trial, results, folder / "out", generated=WHEN, pdf=False, xlsx=True)
    return trial, results, html.read_text(encoding="utf-8"), folder / "out"


@pytest.fixture(scope="module")
def epilepsy():
    trial = tk.load(END_TO_END / "epilepsy" / "study.toml")
    results = tk.analyze(trial)
    return trial, results, render(trial, results)


@pytest.fixture(scope="module")
def respiratory():
    trial = tk.load(END_TO_END / "respiratory" / "study.toml")
    results = tk.analyze(trial)
    return trial, results, render(trial, results)


MIXED_SPEC = """
[study]
id = "mixed"
title = "Continuous and count endpoints"

[arms]
column = "arm"
control = "placebo"
levels = ["placebo", "active"]

[visits]
baseline = "baseline"
order = ["baseline", "week8"]
primary = "week8"

[[endpoints]]
id = "symptom_score"
label = "Symptom score"
unit = "points"
better = "lower"
primary = true

[[endpoints]]
id = "attack_count"
label = "Attacks"
unit = "attacks"
type = "count"
better = "lower"
exposure = { baseline = 4, week8 = 8 }
exposure_unit = "weeks"
count_baseline = "log1p"

[analysis]
covariates = ["age"]

[data]
format = "wide"
subject = "subject"
path = "trial.csv"
pattern = "{endpoint}_{visit}"
"""


def _mixed_frame(arms: tuple[str, ...], seed: int, per_arm: int = 30, centres: int = 0) -> pd.DataFrame:
    """Simulate a trial with a continuous score and an attack count (Poisson-gamma), lower better on the arms."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, arm in enumerate(arms):
        for i in range(per_arm):
            base = rng.normal(20, 4)
            frailty = rng.gamma(2.0, 0.5)
            rows.append(
                {
                    "subject": f"{arm}-{i:02d}",
                    "arm": arm,
                    "age": round(float(rng.normal(50, 10)), 1),
                    **({"centre": f"centre {i % centres + 1}"} if centres else {}),
                    "symptom_score_baseline": round(base, 1),
                    "symptom_score_week8": round(base - 1.5 * k + rng.normal(0, 3), 1),
                    "attack_count_baseline": int(rng.poisson(4 * 1.0 * frailty)),
                    "attack_count_week8": int(rng.poisson(8 * (1.0 - 0.25 * k) * frailty)),
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mixed")
    _mixed_frame(("placebo", "active"), 11).to_csv(folder / "trial.csv", index=False)
    (folder / "study.toml").write_text(MIXED_SPEC, encoding="utf-8")
    trial = tk.load(folder / "study.toml")
    results = tk.analyze(trial)
    return trial, results, render(trial, results)


@pytest.fixture(scope="module")
def stratified(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stratified")
    arms = ("placebo", "low", "high")
    _mixed_frame(arms, 12, per_arm=24, centres=3).to_csv(folder / "trial.csv", index=False)
    spec = (
        MIXED_SPEC.replace('levels = ["placebo", "active"]', 'levels = ["placebo", "low", "high"]')
        .replace('id = "mixed"', 'id = "stratified"')
        .replace(
            'covariates = ["age"]', 'covariates = ["age"]\nstrata = ["centre"]\nmultiplicity = ["dunnett", "holm"]'
        )
    )
    (folder / "study.toml").write_text(spec, encoding="utf-8")
    trial = tk.load(folder / "study.toml")
    results = tk.analyze(trial)
    return trial, results, render(trial, results)


# ------------------------------------------------------------------------------------------ no baseline visit


def test_a_trial_without_a_baseline_visit_has_a_report(no_baseline) -> None:
    trial, results, html, _ = no_baseline
    text = text_of(html)
    assert "Traceback" not in html
    # the flow: observed and model columns, no change column, nothing said about a baseline
    flow = section(html, "flow")
    assert 'data-col="with_change"' not in flow and 'data-col="ancova_set"' in flow
    # the CONSORT diagram says why subjects are not analysed: no value, never a missing baseline
    analysed = re.findall(r'data-box="analysed".*?</g>', flow, re.S)
    assert len(analysed) == len(trial.arms) and all("no value at Week 8" in g for g in analysed)
    assert not any("baseline" in g for g in analysed)
    # Table 1 shows the covariates only
    assert set(results.table1["variable"]) == set(trial.spec.analysis.covariates)
    # figures: means by visit, no change from baseline
    assert 'id="fig-means-1"' in html and 'id="fig-change-1"' not in html
    assert "no baseline visit" in text
    no_ids_reach_the_reader(html, trial)


def test_without_a_baseline_the_primary_supportive_analyses_compare_follow_up_values(no_baseline) -> None:
    trial, results, html, _ = no_baseline
    shown = read(html).tables["primary-supportive"]
    kinds = [attrs["data-analysis"] for attrs, _ in shown]
    assert kinds == ["welch_followup", "student_followup", "mann_whitney_followup", "hedges_g_ancova"]
    for attrs, cells in shown:
        expected = rows_of(results, trial.spec.visits.primary, str(attrs["data-analysis"]))
        row = expected.loc[expected["endpoint"] == trial.spec.primary_endpoint.id].iloc[0]
        assert_number(cells["estimate"].split()[0], row["estimate"], str(attrs["data-analysis"]))
        assert cells["p_value"] == format_p(row["p_value"])
    names = text_of(section(html, "primary"))
    assert "Welch t-test on follow-up values" in names
    assert "Hedges' g adjusted for covariates (ANCOVA)" in names


def test_without_a_baseline_the_methods_describe_the_ancova_on_covariates_only(no_baseline) -> None:
    _, _, html, _ = no_baseline
    methods = text_of(section(html, "methods"))
    assert "the follow-up value regressed on arm and the covariates Age and Sex (categorical)" in methods
    assert "t-tests on the follow-up values (the trial has no baseline visit)" in methods
    assert "Table 1 summarises the covariates (the trial has no baseline visit)" in methods
    assert "change from baseline" not in methods
    # the spec's MMRM and multiple imputation need a baseline: neither is described nor summarised
    assert "MMRM" not in methods and "imputation" not in methods
    assert "MMRM" not in text_of(section(html, "summary"))


def test_skipped_analyses_are_one_note_grouped_by_reason_apart_from_failures(no_baseline) -> None:
    trial, results, html, folder = no_baseline
    skipped = results.failures.loc[results.failures["term"] == "skipped"]
    assert len(skipped) > 20 and (results.failures["term"] == "skipped").all()
    part = section(html, "failures")
    assert "Analyses that could not run" not in html
    assert part.count("<li>") == skipped["message"].nunique()
    note = text_of(part)
    # every analysis named once per reason, by its label, and every endpoint by its label
    assert note.count("Welch t-test on change") == 1
    assert "Multiple imputation under MAR" in note and "Insomnia Severity Index" in note
    workbook = pd.read_excel(folder / "results.xlsx", sheet_name=None)
    assert workbook["failures"].empty and len(workbook["not_applicable"]) == len(skipped)


# ------------------------------------------------------------------------------------------ counts


def test_a_count_trial_shows_the_rate_ratio_and_the_rates(epilepsy) -> None:
    trial, results, html = epilepsy
    visit = trial.spec.visits.primary
    nb = rows_of(results, visit, "negative_binomial").iloc[0]
    headline = text_of(html[html.index('id="headline"') : html.index("</div>", html.index('id="headline"'))])
    assert f"rate ratio {format_number(nb['estimate'], 2)} (95% CI {format_ci(nb['ci_low'], nb['ci_high'], 2)}" in (
        headline
    )
    assert "negative binomial model" in headline and "the estimate favours Progabide" in headline
    tables = read(html).tables
    (attrs, cells) = tables["primary-result"][0]
    assert attrs["data-analysis"] == "negative_binomial" and cells["statistic"] == format_number(nb["statistic"], 2)
    assert "df" not in cells
    rates = rows_of(results, visit, "rate").set_index("contrast")
    for attrs, cells in tables["primary-arms"]:
        row = rates.loc[str(attrs["data-contrast"])]
        assert_number(cells["estimate"], row["estimate"], "rate")
    arms = html[html.index('id="primary-arms"') : html.index("</table>", html.index('id="primary-arms"'))]
    assert 'Rate<br><span class="n">seizures per week</span>' in arms
    supportive = [a["data-analysis"] for a, _ in tables["primary-supportive"]]
    assert supportive == ["mann_whitney_followup", "poisson", "quasipoisson"]
    assert "Mann–Whitney on rates" in text_of(section(html, "primary"))
    no_ids_reach_the_reader(html, trial)


def test_a_count_trial_has_a_rate_figure_and_methods_for_counts(epilepsy) -> None:
    trial, _, html = epilepsy
    assert 'id="fig-rates-1"' in html and 'id="fig-means-1"' not in html and 'id="fig-forest"' not in html
    methods = text_of(section(html, "methods"))
    for phrase in ("NB2", "offset log(time at risk)", "log(b / e_b)", "HC0 sandwich", "quasi-Poisson", "exact Poisson"):
        assert phrase in methods, phrase
    assert "percent change in rate ≤ −50%" in text_of(html)


def test_a_trial_with_continuous_and_count_endpoints_keeps_them_apart(mixed) -> None:
    trial, results, html = mixed
    tables = read(html).tables
    secondary = tables["secondary-result"]
    assert [a["data-analysis"] for a, _ in secondary] == ["negative_binomial"]
    nb = rows_of(results, "week8", "negative_binomial").iloc[0]
    assert secondary[0][1]["estimate"] == f"{format_number(nb['estimate'], 2)} rate ratio"
    assert secondary[0][1]["p_adjusted"] == format_p(nb["p_adjusted"])
    assert [a["data-contrast"] for a, _ in tables["secondary-rates"]] == ["placebo", "active"]
    # the forest plot: Hedges' g of the continuous endpoint only, and a sentence saying where the count is
    forest = html[html.index('<figure id="fig-forest">') : html.index("</figure>", html.index('id="fig-forest"'))]
    assert "Attacks" not in forest.split("<figcaption")[0]
    assert "do not apply to Attacks (count)" in text_of(forest)
    assert 'id="fig-rates-1"' in html and 'id="fig-means-1"' in html
    # the flow table says which model each type has
    assert "the negative binomial model of a count endpoint" in text_of(section(html, "flow"))
    no_ids_reach_the_reader(html, trial)


# ------------------------------------------------------------------------------------------ binary


def test_a_binary_trial_shows_the_standardised_risk_difference_in_percentage_points(respiratory) -> None:
    trial, results, html = respiratory
    visit = trial.spec.visits.primary
    rd = rows_of(results, visit, "standardised_rd").iloc[0]
    headline = text_of(html[html.index('id="headline"') : html.index("</div>", html.index('id="headline"'))])
    points = format_number(100 * rd["estimate"], 1)
    ci = format_ci(100 * rd["ci_low"], 100 * rd["ci_high"], 1)
    assert f"standardised risk difference {points} percentage points (95% CI {ci};" in headline
    assert f"the estimate favours {'A' if rd['estimate'] > 0 else 'P'}" in headline
    tables = read(html).tables
    proportions = rows_of(results, visit, "proportion").set_index("contrast")
    for attrs, cells in tables["primary-arms"]:
        row = proportions.loc[str(attrs["data-contrast"])]
        n = int(row["n_treatment"])
        assert cells["n_treatment"] == f"{round(row['estimate'] * n)}/{n}"
        assert cells["estimate"] == format_number(100 * row["estimate"], 1)
    supportive = {a["data-analysis"]: c for a, c in tables["primary-supportive"]}
    assert set(supportive) == {
        "logistic",
        "standardised_rr",
        "standardised_or",
        "risk_difference",
        "risk_ratio",
        "odds_ratio",
        "nnt",
        "cmh",
        "mh_risk_difference",
    }
    mh = rows_of(results, visit, "mh_risk_difference").iloc[0]
    assert supportive["mh_risk_difference"]["estimate"] == f"{format_number(100 * mh['estimate'], 1)} percentage points"
    # a trial with one endpoint shows its primary analysis at the other visits too
    other = tables["other-visits"]
    assert [a["data-visit"] for a, _ in other] == ["visit1", "visit2", "visit3"]
    assert {a["data-analysis"] for a, _ in other} == {"standardised_rd"}
    assert 'href="#other-results"' in html
    no_ids_reach_the_reader(html, trial)


def test_a_binary_trial_has_a_proportion_figure_strata_in_table_1_and_its_methods(respiratory) -> None:
    trial, _, html = respiratory
    assert 'id="fig-proportions-1"' in html and 'id="fig-means-1"' not in html
    table1 = text_of(section(html, "table1"))
    assert "Centre 1" in table1 and "Centre 2" in table1  # the levels' default labels
    methods = text_of(section(html, "methods"))
    for phrase in ("g-computation", "Ye et al. (2023)", "continuity correction", "Robins–Breslow–Greenland"):
        assert phrase in methods, phrase


def test_a_binary_event_named_by_hostile_text_stays_text(tmp_path) -> None:
    folder = tmp_path / "hostile"
    folder.mkdir()
    frame = pd.read_csv(END_TO_END / "respiratory" / "trial.csv")
    status = [c for c in frame.columns if c.startswith("status_")]
    frame[status] = frame[status].replace("good", SCRIPT)
    frame.to_csv(folder / "trial.csv", index=False)
    spec = (END_TO_END / "respiratory" / "study.toml").read_text(encoding="utf-8")
    (folder / "study.toml").write_text(spec.replace('success = "good"', f'success = "{SCRIPT}"'), encoding="utf-8")
    trial = tk.load(folder / "study.toml")
    html = render(trial, tk.analyze(trial))
    assert SCRIPT not in html and "&lt;script&gt;" in html


# ------------------------------------------------------------------------------------------ strata and Dunnett


def test_strata_and_dunnett_are_shown_and_described(stratified) -> None:
    trial, results, html = stratified
    visit = trial.spec.visits.primary
    tables = read(html).tables
    ancova = rows_of(results, visit, "ancova").set_index(["endpoint", "contrast"])
    for attrs, cells in tables["primary-result"]:
        row = ancova.loc[(trial.spec.primary_endpoint.id, str(attrs["data-contrast"]))]
        assert cells["p_adjusted"] == format_p(row["p_adjusted"])
    supportive = [a["data-analysis"] for a, _ in tables["primary-supportive"]]
    assert supportive.count("van_elteren") == 2
    methods = text_of(section(html, "methods"))
    assert "van Elteren" in methods and "Dunnett's single-step many-to-one method" in methods
    assert "then enter the Holm adjustment over the endpoints" in methods
    assert "Dunnett across the arms compared with Placebo, then Holm" in text_of(section(html, "secondary"))
    no_ids_reach_the_reader(html, trial)


# ------------------------------------------------------------------------------------------ the browser


def test_the_new_reports_fit_narrow_and_wide_windows(no_baseline, epilepsy, mixed, tmp_path) -> None:
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: scripts/system-deps.sh --browser installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    pages = {"no_baseline": no_baseline[2], "epilepsy": epilepsy[2], "mixed": mixed[2]}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            for name, html in pages.items():
                path = tmp_path / f"{name}.html"
                path.write_text(html, encoding="utf-8")
                for width in (720, 1280):
                    context = browser.new_context(viewport={"width": width, "height": 900})
                    page = context.new_page()
                    errors: list[str] = []
                    page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                    page.goto(path.resolve().as_uri(), wait_until="load")
                    assert page.evaluate("document.documentElement.scrollWidth") == width, (name, width)
                    assert errors == [], (name, width)
                    assert page.locator("#primary-result").is_visible(), (name, width)
                    page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=True)
                    context.close()
        finally:
            browser.close()
