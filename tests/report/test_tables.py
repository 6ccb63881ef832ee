"""The report's tables and summary as a journal prints them: labels not ids, Table 2, SEs, decimals, p, MCID.

Most tests read one trial: the bundled synthetic magnesium trial re-keyed so that every id (arms, visits,
endpoints, covariates, category levels) is a code no reader should see, with the spec giving labels
for all of them, an MCID for the primary endpoint, a median-summarised endpoint and covariate, and
Benjamini–Hochberg over the secondary endpoints. Numbers are checked against pandas computations on the
data files written here, not against the report's own code.
"""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trialkit as tk
from trialkit._format import decimals_for, format_number, format_p, p_phrase, parse_shown
from trialkit._report._report import render_html
from trialkit._report._tables import mcid_sentence
from trialkit._spec import Endpoint

ROOT = Path(__file__).resolve().parents[2]
ABBASI = ROOT / "data" / "synthetic" / "abbasi2012"
END_TO_END = ROOT / "tests" / "reference" / "end_to_end"
WHEN = "2024-01-02T03:04:05Z"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

#: the sections this part of the report owns: every table and the summary
TABLE_SECTIONS = ("summary", "table1", "table2", "primary", "secondary", "mmrm", "responders")

ARMS = {"magnesium": "arm_mg", "placebo": "arm_pbo"}
ARM_LABELS = {"arm_mg": "Magnesium 500 mg/day", "arm_pbo": "Placebo"}
VISITS = {"baseline": "visit_0", "week8": "visit_8"}
COVARIATES = {"age": "age_yrs", "sex": "sex_code"}
LEVELS = {"male": "sex_m", "female": "sex_f"}
ENDPOINTS = (
    "isi",
    "sleep_time",
    "sleep_efficiency",
    "sleep_onset_latency",
    "early_awakening",
    "serum_magnesium",
    "melatonin",
    "cortisol",
    "renin",
    "total_sleep_time",
)


def _id(endpoint: str) -> str:
    return f"ep_{endpoint}"


# ------------------------------------------------------------------------------------------ the trial


def _labelled_spec() -> str:
    """Return the bundled spec with every id replaced by a code, labels for all of them, and the options tested."""
    text = (ABBASI / "study.toml").read_text(encoding="utf-8")
    text = text[: text.index("[analysis]")]  # the endpoints are kept; analysis, covariates and data rewritten
    text = text.replace('control = "placebo"', 'control = "arm_pbo"')
    text = text.replace('levels = ["magnesium", "placebo"]', 'levels = ["arm_mg", "arm_pbo"]')
    text = text.replace(
        'labels = { magnesium = "Magnesium 500 mg/day", placebo = "Placebo" }',
        'labels = { arm_mg = "Magnesium 500 mg/day", arm_pbo = "Placebo" }',
    )
    text = text.replace(
        'baseline = "baseline"\norder = ["baseline", "week8"]\nprimary = "week8"\n'
        'labels = { baseline = "Baseline", week8 = "Week 8" }',
        'baseline = "visit_0"\norder = ["visit_0", "visit_8"]\nprimary = "visit_8"\n'
        'labels = { visit_0 = "Baseline", visit_8 = "Week 8" }',
    )
    for endpoint in ENDPOINTS:
        text = text.replace(f'id = "{endpoint}"\n', f'id = "{_id(endpoint)}"\n')
    text = text.replace("responder = { change = -6 }", "responder = { change = -6 }\nmcid = 6")
    text = text.replace(
        'label = "Sleep onset latency"\nunit = "min"', 'label = "Sleep onset latency"\nunit = "min"\nsummary = "median"'
    )
    assert text.count('id = "ep_') == len(ENDPOINTS) and "mcid = 6" in text and 'summary = "median"' in text
    return (
        text
        + """[analysis]
covariates = ["age_yrs", "sex_code"]
categorical = ["sex_code"]
multiplicity = "bh"
mmrm = { covariance = "us", df = "satterthwaite", baseline = "response" }

[covariates.age_yrs]
label = "Age"
unit = "years"
summary = "median"

[covariates.sex_code]
label = "Sex"
levels = ["sex_m", "sex_f"]
level_labels = { sex_m = "Male", sex_f = "Female" }

[data]
format = "wide"
subject = "subject_id"
pattern = "{endpoint}_{visit}"

[data.files]
arm_mg = "mg.csv"
arm_pbo = "pbo.csv"
"""
    )


def _relabel(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename the bundled data's columns and category values to the coded ids."""
    columns = dict(COVARIATES)
    for endpoint in ENDPOINTS:
        for visit, code in VISITS.items():
            columns[f"{endpoint}_{visit}"] = f"{_id(endpoint)}_{code}"
    out = frame.rename(columns=columns)
    out["sex_code"] = out["sex_code"].map(LEVELS)
    return out


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """Return the coded trial, its results, its report and each arm's data as written (coded columns)."""
    folder = tmp_path_factory.mktemp("labelled")
    data = {}
    for arm, name in (("magnesium", "mg.csv"), ("placebo", "pbo.csv")):
        frame = _relabel(pd.read_csv(ABBASI / f"{arm}.csv"))
        frame.to_csv(folder / name, index=False)
        data[ARMS[arm]] = frame
    (folder / "study.toml").write_text(_labelled_spec(), encoding="utf-8")
    trial = tk.load(folder / "study.toml")
    results = tk.analyze(trial)
    html, _ = tk.report(trial, results, folder / "out", generated=WHEN, pdf=False, xlsx=True)
    return trial, results, html.read_text(encoding="utf-8"), data, folder / "out"


@pytest.fixture(scope="module")
def epilepsy():
    trial = tk.load(END_TO_END / "epilepsy" / "study.toml")
    results = tk.analyze(trial)
    return trial, results, render_html(trial, results, generated=WHEN)


@pytest.fixture(scope="module")
def respiratory():
    trial = tk.load(END_TO_END / "respiratory" / "study.toml")
    results = tk.analyze(trial)
    return trial, results, render_html(trial, results, generated=WHEN)


@pytest.fixture(scope="module")
def three_arm():
    trial = tk.load(END_TO_END / "three_arm_stratified" / "study.toml")
    results = tk.analyze(trial)
    return trial, results, render_html(trial, results, generated=WHEN)


# ------------------------------------------------------------------------------------------ reading the page


class _Reader(HTMLParser):
    """The visible text (no tags, no attributes, no figure) and each table's rows with their data-col cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tables: dict[str, list[tuple[dict[str, str | None], dict[str, str]]]] = {}
        self.headers: dict[str, list[str]] = {}
        self.table: str | None = None
        self.cells: list[tuple[str | None, list[str]]] = []
        self.figure = 0
        self.header: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "br":  # a line break separates words
            self.handle_data(" ")
        if tag == "figure":
            self.figure += 1
        if tag == "table" and a.get("id"):
            self.table = str(a["id"])
            self.tables[self.table] = []
            self.headers[self.table] = []
        if self.table is not None and tag == "tr" and "data-endpoint" in a:
            self.tables[self.table].append((a, {}))
        if self.table is not None and tag in ("td", "span", "th"):
            self.cells.append((a.get("data-col"), []))

    def handle_endtag(self, tag):
        if tag == "figure":
            self.figure -= 1
        if self.table is not None and tag in ("td", "span", "th") and self.cells:
            col, text = self.cells.pop()
            shown = " ".join("".join(text).split())
            if tag == "th":
                self.headers[self.table].append(shown)
            rows = self.tables[self.table]
            if col is not None and rows:
                rows[-1][1][col] = shown
        if tag == "table":
            self.table = None

    def handle_data(self, data):
        if not self.figure:
            self.text.append(data)
        for _, text in self.cells:
            text.append(data)


def read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader


def section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}">')
    return html[start : html.index("</section>", start)]


def text_of(html: str) -> str:
    return " ".join("".join(read(html).text).split())


def endpoint_decimals(baseline: pd.Series, scale: str) -> int:
    """Return the decimals of an endpoint: from the spread of its baseline values, at least 1 on the log scale."""
    d = decimals_for(baseline.dropna().to_numpy(dtype=float))
    return max(d, 1) if scale == "log" else d


def decimals(shown: str) -> int:
    number = re.search(r"\d+(?:\.(\d+))?", shown)
    assert number is not None, shown
    return len(number.group(1) or "")


def numbers(shown: str) -> list[str]:
    """Return the numbers in a cell as shown (typographic minus kept)."""
    return re.findall(r"[−-]?\d+(?:\.\d+)?", shown)


# ------------------------------------------------------------------------------------------ words, not codes


def test_no_id_reaches_the_reader_of_the_tables_and_the_summary(labelled) -> None:
    trial, _, html, _, _ = labelled
    ids = [
        *ARMS.values(),
        *VISITS.values(),
        *COVARIATES.values(),
        *LEVELS.values(),
        *(_id(e) for e in ENDPOINTS),
        "fas",
        "holm",
        "bh",
    ]
    for name in TABLE_SECTIONS:
        text = text_of(section(html, name))
        assert len(text) > 100, name
        for code in ids:
            assert re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text) is None, (name, code)
        assert " - " not in text, name  # a contrast reads "A − B" (U+2212), never the results' "a - b"
    # the ids are still there for programs: in data-* attributes
    assert 'data-endpoint="ep_isi"' in html and 'data-contrast="arm_mg - arm_pbo"' in html
    assert 'data-visit="visit_8"' in html and 'data-arm="arm_pbo"' in html


def test_the_summary_names_arms_visits_endpoint_population_and_multiplicity_in_words(labelled) -> None:
    trial, results, html, _, _ = labelled
    summary = text_of(section(html, "summary"))
    assert "Randomised, parallel-group: Placebo (n = 23), control; Magnesium 500 mg/day (n = 23)." in summary
    assert "Baseline, Week 8; primary visit Week 8." in summary
    assert "Insomnia Severity Index (points), lower is better; minimal clinically important difference 6 points" in (
        summary
    )
    assert "ANCOVA adjusted for baseline, age and sex" in summary  # the covariates by their labels
    assert "multiplicity: Benjamini–Hochberg over the secondary endpoints" in summary
    assert "population: Full analysis set." in summary
    assert "Primary result — Insomnia Severity Index at Week 8 (ANCOVA)" in summary
    row = results.table.set_index(["endpoint", "analysis", "visit"]).loc[("ep_isi", "ancova", "visit_8")]
    assert (
        f"Magnesium 500 mg/day − Placebo: difference in LS means {format_number(row['estimate'], 2)} points "
        f"(95% CI {format_number(row['ci_low'], 2)} to {format_number(row['ci_high'], 2)}; {p_phrase(row['p_value'])}; "
        f"n = {row['n_treatment']} vs {row['n_control']}); the estimate favours Magnesium 500 mg/day."
    ) in summary


def test_the_summary_compares_the_primary_estimate_with_the_mcid(labelled) -> None:
    trial, results, html, _, _ = labelled
    row = results.table.set_index(["endpoint", "analysis", "visit"]).loc[("ep_isi", "ancova", "visit_8")]
    benefit, reach = -row["estimate"], -row["ci_low"]  # lower is better: a benefit is a negative difference
    assert 0 < benefit < 6 < reach, "the case this test reads: a benefit below the MCID, an interval reaching it"
    assert (
        f"The estimated benefit of Magnesium 500 mg/day, {format_number(benefit, 2)} points, is smaller than the "
        "minimal clinically important difference (MCID) of 6 points; the 95% CI includes it."
    ) in text_of(section(html, "summary"))


def _endpoint(**changes) -> Endpoint:
    return Endpoint(id="y", label="Y", unit="points", better="lower", primary=True, **changes)


@pytest.mark.parametrize(
    ("estimate", "low", "high", "expected"),
    [
        (
            -8.0,
            -11.0,
            -6.5,
            "The estimated benefit of A, 8.0 points, is at least {m}; the whole 95% CI lies beyond it.",
        ),
        (-7.0, -10.0, -2.0, "The estimated benefit of A, 7.0 points, is at least {m}; the 95% CI includes it."),
        (-3.0, -5.0, -1.0, "The estimated benefit of A, 3.0 points, is smaller than {m}; the 95% CI excludes it."),
        (2.0, -1.0, 5.0, "The estimate shows no benefit of A, against {m}; the 95% CI excludes it."),
    ],
)
def test_the_mcid_sentence_reads_the_benefit_in_the_direction_better_says(estimate, low, high, expected) -> None:
    row = {"estimate": estimate, "ci_low": low, "ci_high": high}
    m = "the minimal clinically important difference (MCID) of 6 points"
    shown = mcid_sentence(_endpoint(mcid=6.0), "ancova", row, level="95%", arm="A", decimals=1)
    assert shown == expected.format(m=m)


def test_the_mcid_of_a_binary_endpoint_is_in_percentage_points_and_a_ratio_has_none() -> None:
    binary = Endpoint(id="y", label="Y", type="binary", better="higher", primary=True, mcid=10.0)
    row = {"estimate": 0.123, "ci_low": 0.02, "ci_high": 0.226}
    assert mcid_sentence(binary, "standardised_rd", row, level="95%", arm="A", decimals=1) == (
        "The estimated benefit of A, 12.3 percentage points, is at least the minimal clinically important "
        "difference (MCID) of 10 percentage points; the 95% CI includes it."
    )
    count = Endpoint(id="y", label="Y", type="count", better="lower", primary=True, mcid=1.0)
    assert mcid_sentence(count, "negative_binomial", {**row, "estimate": 0.7}, level="95%", arm="A", decimals=2) == ""
    log = _endpoint(scale="log", mcid=1.0)
    assert mcid_sentence(log, "ancova", {**row, "estimate": 0.7}, level="95%", arm="A", decimals=2) == ""
    assert mcid_sentence(_endpoint(), "ancova", row, level="95%", arm="A", decimals=2) == ""


def test_binary_and_count_primaries_say_which_arm_the_estimate_favours(respiratory, epilepsy) -> None:
    trial, results, html = respiratory
    headline = text_of(section(html, "summary"))
    rd = results.table.set_index(["analysis", "visit"]).loc[("standardised_rd", "visit4")]
    assert f"standardised risk difference {format_number(100 * rd['estimate'], 1)} percentage points" in headline
    favoured = "A" if rd["estimate"] > 0 else "P"  # a good status is the event: more of it is better
    assert f"the estimate favours {favoured}." in headline and "A − P:" in headline
    trial, results, html = epilepsy
    headline = text_of(section(html, "summary"))
    nb = results.table.set_index(["analysis", "visit"]).loc[("negative_binomial", "period4")]
    assert nb["estimate"] < 1 and "the estimate favours Progabide." in headline  # fewer seizures
    assert "Seizures at Period 4" in headline


def test_table_1_uses_labels_declared_level_order_and_the_summaries_the_spec_asks(labelled) -> None:
    trial, results, html, data, _ = labelled
    table = section(html, "table1")
    rows = re.findall(
        r'<tr class="(level|variable)" data-variable="([^"]+)"[^>]*>\s*<td>(.*?)</td>(.*?)</tr>', table, re.S
    )
    labels = [(variable, " ".join(re.sub(r"<[^>]+>", "", label).split())) for _, variable, label, _ in rows]
    assert labels[:4] == [
        ("age_yrs", "Age (years), median [IQR]"),
        ("sex_code", "Sex, n (%)"),
        ("sex_code", "Male"),  # the declared order, not the sorted one
        ("sex_code", "Female"),
    ]
    names = dict(labels)
    assert names["ep_sleep_time"] == "Sleep time (sleep log), min, mean (SD)"  # no doubled parentheses
    assert names["ep_sleep_onset_latency"] == "Sleep onset latency (min), median [IQR]"
    assert names["ep_melatonin"] == "Serum melatonin (pg/mL), geometric mean (geometric SD)"
    cells = {variable: re.findall(r'<td class="num">(.*?)</td>', rest) for _, variable, _, rest in rows if _ != "level"}
    both = pd.concat(data.values())
    for variable, summary in (("ep_melatonin_visit_0", "geometric"), ("age_yrs", "median")):
        for k, arm in enumerate(trial.arms):
            x = data[arm][variable].dropna().to_numpy(dtype=float)
            shown = cells[variable.removesuffix("_visit_0")][k]
            if summary == "geometric":
                expected = (math.exp(np.log(x).mean()), math.exp(np.log(x).std(ddof=1)))
                gm, gsd = numbers(shown)
                assert gm == format_number(expected[0], decimals(gm)) and gsd == format_number(expected[1], 2)
                assert decimals(gm) == endpoint_decimals(both["ep_melatonin_visit_0"], "log")
            else:  # a covariate: one decimal fewer than the spread of its values gives (a description)
                d = decimals_for(both["age_yrs"]) - 1
                q1, median, q3 = np.quantile(x, [0.25, 0.5, 0.75])
                assert shown == f"{format_number(median, d)} [{format_number(q1, d)}, {format_number(q3, d)}]"
    note = text_of(table[table.index('<p class="note">') :])
    assert "Median [IQR]: Age (years); Sleep onset latency (min)." in note
    assert "Geometric mean (geometric SD): Serum melatonin (pg/mL); Serum cortisol (nmol/L); Serum renin (pg/mL)." in (
        note
    )
    assert "Mean (SD): the other numeric rows. Categories: n (%)." in note


# ------------------------------------------------------------------------------------------ Table 2


def _table2(html: str) -> dict[tuple[str, str, str], dict[str, str]]:
    rows = read(section(html, "table2")).tables["table2-values"]
    return {(str(a["data-endpoint"]), str(a["data-visit"]), str(a["data-measure"])): c for a, c in rows}


def _assert_summary(shown: str, values: np.ndarray, summary: str, d: int, what: str) -> None:
    """``shown`` is the summary of ``values``, computed here with pandas/numpy, at ``d`` decimals (2 for GSD)."""
    x = pd.Series(values, dtype=float).dropna()
    if summary == "mean":
        expected = f"{format_number(x.mean(), d)} ({format_number(x.std(ddof=1), d)})"
    elif summary == "median":
        q = x.quantile([0.25, 0.5, 0.75])  # pandas' default: linear interpolation (R type 7)
        expected = f"{format_number(q[0.5], d)} [{format_number(q[0.25], d)}, {format_number(q[0.75], d)}]"
    else:
        logs = np.log(x)
        expected = f"{format_number(math.exp(logs.mean()), d)} ({format_number(math.exp(logs.std(ddof=1)), 2)})"
    assert shown == expected, f"{what}: {shown} vs {expected}"


def test_table_2_shows_the_observed_values_and_changes_pandas_computes(labelled) -> None:
    trial, _, html, data, _ = labelled
    shown = _table2(html)
    summaries = {
        "sleep_onset_latency": "median",
        "melatonin": "geometric",
        "cortisol": "geometric",
        "renin": "geometric",
    }
    checked = 0
    for endpoint in ENDPOINTS:
        ep = _id(endpoint)
        base, follow = f"{ep}_visit_0", f"{ep}_visit_8"
        summary = summaries.get(endpoint, "mean")
        scale = "log" if summary == "geometric" else "linear"
        d = endpoint_decimals(pd.concat(data.values())[base], scale)  # the endpoint's, from its baseline spread
        for arm, frame in data.items():
            for visit, column in (("visit_0", base), ("visit_8", follow)):
                cells = shown[(ep, visit, "value")]
                assert cells[f"n:{arm}"] == str(frame[column].notna().sum())
                _assert_summary(cells[f"value:{arm}"], frame[column].to_numpy(), summary, d, f"{ep} {visit} {arm}")
            both = frame[[base, follow]].dropna()
            cells = shown[(ep, "visit_8", "change")]
            assert cells[f"n:{arm}"] == str(len(both))
            if summary == "geometric":  # the ratio to baseline, as a geometric mean ratio
                _assert_summary(cells[f"value:{arm}"], (both[follow] / both[base]).to_numpy(), summary, 2, ep)
            else:
                _assert_summary(cells[f"value:{arm}"], (both[follow] - both[base]).to_numpy(), summary, d, ep)
            checked += 3
    assert checked == 3 * 2 * len(ENDPOINTS)
    text = text_of(section(html, "table2"))
    assert "Ratio to baseline" in text and "Change from baseline" in text
    assert "Serum melatonin (pg/mL), geometric mean (geometric SD)" in text


def test_table_2_of_a_binary_and_of_a_count_endpoint(respiratory, epilepsy) -> None:
    trial, _, html = respiratory
    frame = pd.read_csv(END_TO_END / "respiratory" / "trial.csv")
    shown = _table2(html)
    for visit in trial.spec.visits.order:
        for arm in trial.arms:
            x = frame.loc[frame["arm"] == arm, f"status_{visit}"].dropna()
            events = int((x == "good").sum())
            cells = shown[("status", visit, "value")]
            assert cells[f"n:{arm}"] == str(len(x))
            assert cells[f"value:{arm}"] == f"{events} ({format_number(100 * events / len(x), 1)}%)"
    trial, results, html = epilepsy
    frame = pd.read_csv(END_TO_END / "epilepsy" / "trial.csv")
    shown = _table2(html)
    weeks = {"baseline": 8, "period1": 2, "period2": 2, "period3": 2, "period4": 2}  # the spec's exposure
    rates = frame["seizures_period4"] / weeks["period4"]
    d = decimals_for(rates)
    for visit, length in weeks.items():
        for arm in trial.arms:
            x = frame.loc[frame["arm"] == arm, f"seizures_{visit}"].dropna()
            events, time = int(x.sum()), length * len(x)
            cells = shown[("seizures", visit, "value")]
            assert cells[f"value:{arm}"] == f"{format_number(events / time, d)} ({events} / {time})"
    assert "rate per week (events / weeks)" in text_of(section(html, "table2"))


# ------------------------------------------------------------------------------------------ the result tables


def test_ls_means_have_their_standard_errors(labelled) -> None:
    trial, results, html, _, _ = labelled
    t = results.table.set_index(["endpoint", "visit", "analysis", "contrast"])
    tables = read(html).tables
    for attrs, cells in tables["primary-lsmeans"]:
        row = t.loc[(attrs["data-endpoint"], "visit_8", "ancova_lsmean", attrs["data-contrast"])]
        assert cells["std_error"] == format_number(row["std_error"], 2)
        assert cells["estimate"] == format_number(row["estimate"], 2)
    assert [h for h in read(section(html, "primary")).headers["primary-lsmeans"]][:5] == [
        "Arm",
        "n",
        "LS mean",
        "SE",
        "95% CI",
    ]
    # beside each secondary contrast and each MMRM contrast: every arm's LS mean (SE)
    for table, kind, visit_of in (("secondary-result", "ancova", None), ("mmrm-result", "mmrm", "data-visit")):
        rows = tables[table]
        assert rows
        for attrs, cells in rows:
            ep = trial.spec.endpoint(str(attrs["data-endpoint"]))
            visit = str(attrs[visit_of]) if visit_of else "visit_8"
            for arm in trial.arms:
                row = t.loc[(ep.id, visit, f"{kind}_lsmean", arm)]
                estimate, se = numbers(cells[f"by_arm:{arm}"])
                assert parse_shown(estimate) == pytest.approx(row["estimate"], abs=0.5 * 10 ** -decimals(estimate))
                assert estimate == format_number(row["estimate"], decimals(estimate))
                # a geometric LS mean has the SE of its log (3 decimals); else the endpoint's decimals
                assert se == format_number(row["std_error"], 3 if ep.scale == "log" else decimals(estimate))
    headers = read(section(html, "secondary")).headers["secondary-result"]
    assert "Magnesium 500 mg/day LS mean (SE)" in headers and "Placebo LS mean (SE)" in headers


def test_every_table_of_an_endpoint_shows_its_numbers_with_the_same_decimals(labelled) -> None:
    trial, results, html, data, _ = labelled
    both = pd.concat(data.values())
    tables = read(html).tables
    table2 = _table2(html)
    for endpoint in ENDPOINTS:
        ep = trial.spec.endpoint(_id(endpoint))
        expected = endpoint_decimals(both[f"{ep.id}_visit_0"], ep.scale)
        shown: list[str] = []
        for (e, _, measure), cells in table2.items():
            if e == ep.id and not (measure == "change" and ep.scale == "log"):
                shown += [numbers(v)[0] for k, v in cells.items() if k.startswith("value:")]  # the mean, median, GM
        for table in ("secondary-result", "mmrm-result", "primary-result", "primary-lsmeans", "primary-supportive"):
            for attrs, cells in tables.get(table, []):
                if attrs["data-endpoint"] != ep.id:
                    continue
                shown += [numbers(v)[0] for k, v in cells.items() if k.startswith("by_arm:")]
                ratio = ep.scale == "log" and attrs["data-analysis"] in ("ancova", "mmrm")
                if not ratio and not str(attrs["data-analysis"]).startswith("hedges_g"):
                    shown += [cells["estimate"].split()[0], *cells["ci"].split(" to ")]
        assert shown, ep.id
        assert {decimals(s) for s in shown} == {expected}, (ep.id, sorted(set(shown)))
    table1 = section(html, "table1")
    for endpoint in ENDPOINTS:
        row = re.search(rf'data-variable="ep_{endpoint}"[^>]*>.*?</td>\s*<td class="num">(.*?)</td>', table1, re.S)
        scale = trial.spec.endpoint(f"ep_{endpoint}").scale
        assert decimals(row.group(1)) == endpoint_decimals(both[f"ep_{endpoint}_visit_0"], scale), endpoint


def test_p_values_have_one_style_everywhere(labelled, three_arm) -> None:
    style = re.compile(r"(<0\.001|>0\.999|0\.\d{3}|–)")
    for html in (labelled[2], three_arm[2]):
        for name in TABLE_SECTIONS[1:]:
            part = section(html, name) if f'<section id="{name}">' in html else ""
            for table, rows in read(part).tables.items():
                for _, cells in rows:
                    for col in ("p_value", "p_adjusted"):
                        if col in cells:
                            assert style.fullmatch(cells[col]), (name, table, cells[col])
        text = text_of(section(html, "summary"))
        assert re.findall(r"\bp [=<>] (?:\d|–)", text)
        assert not re.search(r"\bp ?[=<>]?\s?\d\.\d{1,2}\b(?!\d)|\bp[=<>]|\bp <\d", text), text
    trial, results, html = three_arm
    t = results.table.set_index(["endpoint", "visit", "analysis", "contrast"])
    for attrs, cells in read(html).tables["secondary-result"]:
        row = t.loc[(attrs["data-endpoint"], "week8", attrs["data-analysis"], attrs["data-contrast"])]
        assert cells["p_value"] == format_p(row["p_value"]) and cells["p_adjusted"] == format_p(row["p_adjusted"])


def test_risk_differences_are_in_percentage_points_and_ratios_are_named_ratios(labelled) -> None:
    trial, results, html, _, _ = labelled
    t = results.table
    responders = read(section(html, "responders"))
    rows = {a["data-analysis"]: c for a, c in responders.tables["responder-result"]}
    rd = t.loc[(t["analysis"] == "responder_rd") & (t["population"] == "fas")].iloc[0]
    assert rows["responder_rd"]["estimate"] == format_number(100 * rd["estimate"], 1)
    assert (
        rows["responder_rd"]["ci"]
        == f"{format_number(100 * rd['ci_low'], 1)} to {format_number(100 * rd['ci_high'], 1)}"
    )
    text = text_of(section(html, "responders"))
    assert "Risk difference, percentage points" in text and "Risk ratio" in text and "Odds ratio" in text
    assert "Risk difference percentage points" in " ".join(responders.headers["responder-sweep"])
    sweep = results.responder_sweep
    sweep = sweep.loc[sweep["analysis"] == "responder_rd"].reset_index(drop=True)
    shown = responders.tables["responder-sweep"]
    assert len(shown) == len(sweep) > 3
    for (_, cells), (_, row) in zip(shown, sweep.iterrows(), strict=True):
        assert cells["estimate"] == format_number(100 * row["estimate"], 1)
        assert cells["ci"] == f"{format_number(100 * row['ci_low'], 1)} to {format_number(100 * row['ci_high'], 1)}"
    # a percentage is a percentage: the responder rates
    rates = {a["data-contrast"]: c for a, c in responders.tables["responder-rates"]}
    rate = t.loc[(t["analysis"] == "responder_rate") & (t["contrast"] == "arm_mg")].iloc[0]
    assert rates["arm_mg"]["percent"] == format_number(100 * rate["estimate"], 1)
    # log-scale differences are ratios, named so
    secondary = {a["data-endpoint"]: c for a, c in read(html).tables["secondary-result"]}
    assert secondary["ep_melatonin"]["estimate"].endswith("ratio")


def test_many_arms_show_the_arms_values_in_a_table_of_their_own(three_arm) -> None:
    trial, results, html = three_arm
    tables = read(html).tables
    by_arm = tables["secondary-by-arm"]
    assert [a["data-endpoint"] for a, _ in by_arm] == ["biomarker", "walk"]
    t = results.table.set_index(["endpoint", "visit", "analysis", "contrast"])
    for attrs, cells in by_arm:
        for arm in trial.arms:
            row = t.loc[(attrs["data-endpoint"], "week8", "ancova_lsmean", arm)]
            estimate, _ = numbers(cells[f"by_arm:{arm}"])
            assert estimate == format_number(row["estimate"], decimals(estimate))
    assert all(not any(k.startswith("by_arm:") for k in c) for _, c in tables["secondary-result"])
    text = text_of(section(html, "secondary"))
    assert "Low − Placebo" in text and "High − Placebo" in text and "each arm against Placebo" in text


# ------------------------------------------------------------------------------------------ the workbook


def test_the_workbook_has_label_columns_beside_the_ids_and_raw_numbers(labelled) -> None:
    trial, results, _, _, out = labelled
    book = pd.read_excel(out / "results.xlsx", sheet_name=None)
    sheet = book["results"]
    columns = list(sheet.columns)
    for column in ("endpoint", "visit", "contrast", "population"):
        assert columns[columns.index(column) + 1] == f"{column}_label"
    row = sheet.loc[(sheet["analysis"] == "ancova") & (sheet["endpoint"] == "ep_isi")].iloc[0]
    assert row["endpoint_label"] == "Insomnia Severity Index (points)" and row["visit_label"] == "Week 8"
    assert row["contrast_label"] == "Magnesium 500 mg/day − Placebo" and row["population_label"] == "Full analysis set"
    expected = results.table.loc[(results.table["analysis"] == "ancova") & (results.table["endpoint"] == "ep_isi")]
    assert row["estimate"] == expected["estimate"].iloc[0]  # not rounded
    table1 = book["table1"]
    assert {"variable_label", "arm_label", "level_label"} <= set(table1.columns) and "label" not in table1.columns
    sex = table1.loc[table1["variable"] == "sex_code"]
    assert set(sex["level_label"]) == {"Male", "Female"} and set(sex["arm_label"]) == set(ARM_LABELS.values())


# ------------------------------------------------------------------------------------------ the browser


def test_the_tables_fit_narrow_and_wide_windows(labelled, three_arm, tmp_path) -> None:
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: scripts/system-deps.sh --browser installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    pages = {"labelled": labelled[2], "three_arm": three_arm[2]}
    selector = ", ".join(f"#{s} table" for s in TABLE_SECTIONS)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            for name, html in pages.items():
                path = tmp_path / f"{name}.html"
                path.write_text(html, encoding="utf-8")
                for width in (720, 1280):
                    context = browser.new_context(viewport={"width": width, "height": 900})
                    page = context.new_page()
                    page.goto(path.resolve().as_uri(), wait_until="load")
                    assert page.evaluate("document.documentElement.scrollWidth") == width, (name, width)
                    wide = page.evaluate(
                        f"[...document.querySelectorAll({selector!r})]"
                        ".filter(t => t.getBoundingClientRect().right > document.documentElement.clientWidth"
                        " || t.scrollWidth > t.clientWidth + 1).map(t => t.id || t.className)"
                    )
                    assert wide == [], (name, width)
                    page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=True)
                    context.close()
        finally:
            browser.close()
