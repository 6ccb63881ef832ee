"""The methods section says what was done, to whom, and nothing else.

Every analysis the page shows (a row with ``data-analysis``) is described in a methods paragraph
(``data-analyses``), and every analysis described is shown or was attempted and failed; the subjects
analysed are counted from the rows' n; "pre-specified" appears only when the spec says so; the rank
tests say which path they took, checked against SciPy run on that path.
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import base_spec, small_wide, write_frame, write_spec
from scipy import stats

import trialkit as tk
from trialkit._report._report import render_html
from trialkit.analysis import RANK_METHODS, mann_whitney, signed_rank

ROOT = Path(__file__).resolve().parents[2]
END_TO_END = ROOT / "tests" / "reference" / "end_to_end"
WHEN = "2024-01-02T03:04:05Z"


class _Page(HTMLParser):
    """Analyses shown (``data-analysis`` outside the methods) and described (``data-analyses`` in them)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.shown: dict[str, set[str]] = {}
        self.described: dict[str, set[str]] = {}
        self.sections: list[str | None] = []
        self.heading = ""
        self.in_h3 = False
        self.methods_text: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("id"))
        in_methods = "methods" in self.sections
        if "data-analysis" in a and not in_methods:
            self.shown.setdefault(str(a["data-analysis"]), set()).add(str(a.get("data-endpoint")))
        if in_methods and "data-analyses" in a:
            for kind in str(a["data-analyses"]).split():
                self.described.setdefault(kind, set()).add(self.heading)
        self.in_h3 = tag == "h3"
        if self.in_h3:
            self.heading = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self.sections:
            self.sections.pop()
        if tag == "h3":
            self.in_h3 = False

    def handle_data(self, data: str) -> None:
        if "methods" in self.sections:
            self.methods_text.append(data)
            if self.in_h3:
                self.heading += data


def read(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def methods_text(html: str) -> str:
    return " ".join("".join(read(html).methods_text).split())


def tried(results: tk.Results) -> set[str]:
    f = results.failures
    return set(f.loc[f["term"] != "skipped", "analysis"].astype(str))


# ------------------------------------------------------------------------------------------ trials


def _small(folder: Path, *, primary: str = "isi", **analysis: Any) -> tk.Trial:
    write_frame(small_wide(), folder / "trial.csv")
    spec = base_spec(analysis={"covariates": ["age", "sex"], "categorical": ["sex"], **analysis})
    for e in spec["endpoints"]:
        e["primary"] = e["id"] == primary
    return tk.load(write_spec(folder, spec))


def _no_baseline(folder: Path) -> tk.Trial:
    source = ROOT / "data" / "synthetic" / "abbasi2012"
    for f in ("study.toml", "magnesium.csv", "placebo.csv"):
        shutil.copyfile(source / f, folder / f)
    spec = folder / "study.toml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(
        text.replace('baseline = "baseline"\norder = ["baseline", "week8"]', 'order = ["week8"]').replace(
            'labels = { baseline = "Baseline", week8 = "Week 8" }', 'labels = { week8 = "Week 8" }'
        ),
        encoding="utf-8",
    )
    return tk.load(spec)


THREE_ARMS = """
[study]
id = "stratified"
title = "Three arms, strata, a count"

[arms]
column = "arm"
control = "placebo"
levels = ["placebo", "low", "high"]
labels = { placebo = "Placebo", low = "Low dose", high = "High dose" }

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
strata = ["centre"]
multiplicity = ["dunnett", "holm"]

[data]
format = "wide"
subject = "subject"
path = "trial.csv"
pattern = "{endpoint}_{visit}"
"""


def _three_arms(folder: Path) -> tk.Trial:
    rng = np.random.default_rng(12)
    rows = []
    for k, arm in enumerate(("placebo", "low", "high")):
        for i in range(24):
            base, frailty = rng.normal(20, 4), rng.gamma(2.0, 0.5)
            rows.append(
                {
                    "subject": f"{arm}-{i:02d}",
                    "arm": arm,
                    "age": round(float(rng.normal(50, 10)), 1),
                    "centre": f"centre {i % 3 + 1}",
                    "symptom_score_baseline": round(base, 1),
                    "symptom_score_week8": round(base - 1.5 * k + rng.normal(0, 3), 1),
                    "attack_count_baseline": int(rng.poisson(4 * frailty)),
                    "attack_count_week8": int(rng.poisson(8 * (1.0 - 0.25 * k) * frailty)),
                }
            )
    pd.DataFrame(rows).to_csv(folder / "trial.csv", index=False)
    (folder / "study.toml").write_text(THREE_ARMS, encoding="utf-8")
    return tk.load(folder / "study.toml")


TRIALS = ("abbasi2012", "respiratory", "epilepsy", "three_arms", "no_baseline", "small")


@pytest.fixture(scope="module", params=TRIALS)
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[tk.Trial, tk.Results, str]:
    name = request.param
    folder = tmp_path_factory.mktemp(name)
    trial = {
        "abbasi2012": lambda: tk.load(tk.datasets.study_spec("abbasi2012")),
        "respiratory": lambda: tk.load(END_TO_END / "respiratory" / "study.toml"),
        "epilepsy": lambda: tk.load(END_TO_END / "epilepsy" / "study.toml"),
        "three_arms": lambda: _three_arms(folder),
        "no_baseline": lambda: _no_baseline(folder),
        "small": lambda: _small(folder),
    }[name]()
    results = tk.analyze(trial)
    return trial, results, render_html(trial, results, generated=WHEN)


@pytest.fixture(scope="module")
def abbasi() -> tuple[tk.Trial, tk.Results, str]:
    trial = tk.load(tk.datasets.study_spec("abbasi2012"))
    results = tk.analyze(trial)
    return trial, results, render_html(trial, results, generated=WHEN)


# ------------------------------------------------------------------------------------------ shown <-> described


def test_every_analysis_shown_is_described_and_every_one_described_is_shown_or_tried(case) -> None:
    trial, results, html = case
    page = read(html)
    shown, described = set(page.shown), set(page.described)
    assert shown, "the page shows no analysis rows"
    assert shown <= described, f"shown but not described: {sorted(shown - described)}"
    assert described <= shown | tried(results), f"described but not shown: {sorted(described - shown)}"
    # and both are analyses of the results table (or failures): the map is onto real rows
    in_results = set(results.table["analysis"].astype(str)) | tried(results)
    assert described <= in_results


def test_analyses_that_ran_but_are_not_shown_are_not_described(abbasi) -> None:
    trial, results, html = abbasi
    page = read(html)
    hidden = set(results.table["analysis"].astype(str)) - set(page.shown)
    assert "wilcoxon_within" in hidden  # the signed-rank rows are in results.csv, not on the page
    assert not hidden & set(page.described)
    assert "signed-rank" not in methods_text(html) and "Wilcoxon" not in methods_text(html)


# ------------------------------------------------------------------------------------------ subjects analysed


def _n(results: tk.Results, endpoint: str, visit: str, analysis: str) -> tuple[int, dict[str, int]]:
    t = results.table
    rows = t.loc[(t["endpoint"] == endpoint) & (t["visit"] == visit) & (t["analysis"] == analysis)]
    rows = rows.loc[rows["population"] == "fas"]
    per_arm: dict[str, int] = {}
    for contrast, n_t, n_c in zip(rows["contrast"], rows["n_treatment"], rows["n_control"], strict=True):
        arm, _, control = str(contrast).partition(" - ")
        per_arm[arm] = int(n_t)
        if control:
            per_arm[control] = int(n_c)
    return sum(per_arm.values()), per_arm


def test_complete_case_analyses_are_named_with_the_numbers_randomised_and_analysed(abbasi) -> None:
    trial, results, html = abbasi
    text = methods_text(html)
    spec = trial.spec
    randomised = trial.subjects["arm"].astype(str).value_counts().to_dict()
    total = sum(randomised.values())
    n, per_arm = _n(results, "isi", "week8", "ancova")
    assert n < total  # the bundled trial has drop-outs
    arms = ", ".join(f"{spec.arms.label(a)} {per_arm[a]} of {randomised[a]}" for a in trial.arms)
    assert re.search(rf"The ANCOVA[^:]*: {n} of {total} \({re.escape(arms)}\), a complete-case analysis\.", text)
    assert f"{total} subjects were randomised (" in text
    # multiple imputation uses every randomised subject; the MMRM every subject with a value
    mi, _ = _n(results, "isi", "week8", "mi_mar")
    assert re.search(
        rf"Multiple imputation and the tipping-point analysis: every randomised subject, {mi} of {total}", text
    )
    assert re.search(rf"The MMRM: every randomised subject, {total} of {total}", text)
    # the secondary endpoints' ANCOVA, from their rows
    used = {_n(results, e.id, "week8", "ancova")[0] for e in spec.endpoints if not e.primary}
    span = str(min(used)) if len(used) == 1 else f"between {min(used)} and {max(used)}"
    assert f"For the secondary endpoints the ANCOVA used {span} of the {total} randomised, complete cases." in text


def test_an_analysis_of_every_randomised_subject_is_not_called_complete_case(tmp_path) -> None:
    trial = _small(tmp_path)
    frame = small_wide()
    frame.loc[2, ["isi_week8", "sleep_time_week8"]] = [10.0, 340.0]  # no drop-out left
    write_frame(frame, tmp_path / "trial.csv")
    trial = tk.load(tmp_path / "study.toml")
    html = render_html(trial, tk.analyze(trial), generated=WHEN)
    text = methods_text(html)
    assert "complete-case" not in text
    assert re.search(r"The ANCOVA[^:]*: every randomised subject, 10 of 10 \(", text)


# ------------------------------------------------------------------------------------------ pre-specified


PRESPECIFIED = re.compile(r"pre-?specified", re.IGNORECASE)


def _visible_text(html: str) -> str:
    """Return the page's text without the quoted spec (which may itself spell the key ``prespecified``)."""
    html = re.sub(r'<pre class="spec">.*?</pre>', "", html, flags=re.S)
    html = re.sub(r"<(svg|style)\b.*?</\1>", "", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_pre_specified_appears_only_when_the_spec_says_so(abbasi, tmp_path) -> None:
    assert not abbasi[0].spec.analysis.prespecified
    assert PRESPECIFIED.findall(_visible_text(abbasi[2])) == ["pre-specified"]  # "no analysis ... presented as"
    assert "no analysis here is presented as pre-specified" in methods_text(abbasi[2])
    folder = tmp_path / "yes"
    folder.mkdir()
    trial = _small(folder, prespecified=True)
    html = render_html(trial, tk.analyze(trial), generated=WHEN)
    text = methods_text(html)
    assert "The analyses were pre-specified" in text
    assert "responded when its change met the pre-specified threshold" in text
    folder = tmp_path / "no"
    folder.mkdir()
    trial = _small(folder, prespecified=False)
    html = render_html(trial, tk.analyze(trial), generated=WHEN)
    assert [m.lower() for m in PRESPECIFIED.findall(_visible_text(html))] == ["pre-specified"]
    assert "responded when its change met the threshold the spec sets" in methods_text(html)


# ------------------------------------------------------------------------------------------ labels


def test_the_methods_name_arms_visits_covariates_and_populations_by_their_labels(abbasi) -> None:
    trial, _, html = abbasi
    spec = trial.spec
    text = methods_text(html)
    for e in spec.endpoints:  # endpoint labels may contain an id as a word ("Serum magnesium")
        text = text.replace(e.label, "")
    # "baseline" is a word of the methods as well as a visit id: the other ids are checked
    ids = [*trial.arms, *spec.visits.post_baseline, *spec.analysis.covariates, "fas", "completers"]
    for identifier in ids:
        assert re.search(rf"\b{identifier}\b", text) is None, identifier
    for label in ("Placebo", "Magnesium 500 mg/day", "Week 8", "Age", "Sex", "full analysis set", "Holm"):
        assert label in text, label


# ------------------------------------------------------------------------------------------ rank-test paths


def test_mann_whitney_records_the_exact_path_and_it_is_scipys_exact_test() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(1, 1, 12).round(6), rng.normal(0, 1, 15).round(6)  # no ties, both < 50
    r = mann_whitney(x, y)
    assert r.method == "exact" and r.exact
    assert r.p_value == pytest.approx(stats.mannwhitneyu(x, y, method="exact").pvalue, rel=1e-12)


@pytest.mark.parametrize(("n", "ties", "path"), [(60, False, "normal_cc"), (20, True, "normal_cc_ties")])
def test_mann_whitney_records_the_normal_path_and_it_is_scipys_continuity_corrected_test(
    n: int, ties: bool, path: str
) -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(0.8, 1, n), rng.normal(0, 1, n + 3)
    if ties:
        x, y = x.round(0), y.round(0)
    r = mann_whitney(x, y)
    assert r.method == path and not r.exact and path in RANK_METHODS
    # SciPy's asymptotic test with continuity correction has R's tie-corrected variance
    expected = stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=True).pvalue
    assert r.p_value == pytest.approx(expected, rel=1e-10)


def test_the_signed_rank_test_records_its_path() -> None:
    assert signed_rank([1.5, -0.4, 2.2, 3.1, 0.7]).method == "exact"
    assert signed_rank([1.0, 1.0, 2.0, -3.0, 4.0]).method == "normal_cc_ties"
    assert signed_rank([0.0, 1.5, -0.4, 2.2, 3.1]).method == "normal_cc"  # a zero: no exact path, no ties


def test_the_results_record_the_path_of_every_rank_row_and_no_other(abbasi) -> None:
    t = abbasi[1].table
    ranks = t["analysis"].isin(["mann_whitney_change", "mann_whitney_followup", "wilcoxon_within", "van_elteren"])
    assert set(t.loc[ranks, "method"]) <= set(RANK_METHODS) and (t.loc[ranks, "method"] != "").all()
    assert (t.loc[~ranks, "method"] == "").all()
    isi = t.loc[(t["analysis"] == "mann_whitney_change") & (t["endpoint"] == "isi"), "method"]
    assert list(isi) == ["normal_cc_ties"]  # an integer score: tied changes


def test_the_methods_say_which_path_the_mann_whitney_test_took(abbasi, tmp_path) -> None:
    text = methods_text(abbasi[2])  # the primary endpoint is an integer score: ties
    assert (
        "The Mann–Whitney test used the normal approximation with continuity correction and the tie-corrected "
        "variance (the values have ties)." in text
    )
    assert "The results table records the path of each row (column method)." in text
    trial = _small(tmp_path, primary="sleep_time")  # values to 2 decimals, 4 and 5 per arm: no ties
    results = tk.analyze(trial)
    t = results.table
    assert list(t.loc[(t["analysis"] == "mann_whitney_change") & (t["endpoint"] == "sleep_time"), "method"]) == [
        "exact"
    ]
    text = methods_text(render_html(trial, results, generated=WHEN))
    assert "The Mann–Whitney test used its exact null distribution, with the exact Hodges–Lehmann interval" in text
    assert "normal approximation with continuity correction and the tie" not in text


@pytest.mark.parametrize(("n", "path"), [(49, "exact"), (50, "normal_cc")])
def test_the_path_follows_rs_rule_of_fewer_than_50_per_arm(n: int, path: str) -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(0.5, 1, n), rng.normal(0, 1, 49)  # continuous values: no ties
    assert mann_whitney(x, y).method == path
