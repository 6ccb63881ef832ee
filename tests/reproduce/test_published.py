"""Published-results files: the bundled 2012 trial, the documented examples, and malformed files."""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from trialkit import ValidationError, read_spec
from trialkit._errors import Rule
from trialkit.reproduce.published import (
    UNAVAILABLE,
    DesignType,
    Direction,
    PublishedFlag,
    find_published,
    parse_published,
    read_published,
)

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "data" / "published" / "abbasi2012.toml"
STUDY = ROOT / "data" / "synthetic" / "abbasi2012" / "study.toml"
DOCS = ROOT / "docs" / "published-results.md"

#: the abstract of Abbasi et al. 2012 (docs/abbasi2012.md): id -> (direction, p as printed)
ABSTRACT = {
    "sleep_time": ("increase", "0.002"),
    "sleep_efficiency": ("increase", "0.03"),
    "renin": ("increase", "< 0.001"),
    "melatonin": ("increase", "0.007"),
    "isi": ("decrease", "0.006"),
    "sleep_onset_latency": ("decrease", "0.02"),
    "cortisol": ("decrease", "0.008"),
    "early_awakening": ("decrease", "0.08"),
    "serum_magnesium": ("decrease", "0.06"),
    "total_sleep_time": ("none", "0.37"),
}

#: R datasets::sleep, extra hours of sleep (group 1, group 2), patients 1-10 in order
SLEEP_1 = (0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0)
SLEEP_2 = (1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4)


# ---------------------------------------------------------------------------------------------
# The bundled file


@pytest.fixture(scope="module")
def abbasi():
    return read_published(BUNDLED)


def test_bundled_file_holds_the_ten_outcomes_of_the_abstract(abbasi) -> None:
    got = {o.id: (o.direction.value, o.p.as_written) for o in abbasi.outcomes}
    assert got == ABSTRACT


def test_bundled_outcome_ids_are_the_bundled_trials_endpoint_ids(abbasi) -> None:
    spec = read_spec(STUDY)
    assert {o.id for o in abbasi.outcomes} == {e.id for e in spec.endpoints}


def test_bundled_p_values_keep_bounds_as_bounds(abbasi) -> None:
    renin = abbasi.outcome("renin").p
    assert (renin.value, renin.bound, renin.is_bound) == (0.001, "<", True)
    others = [o.p for o in abbasi.outcomes if o.id != "renin"]
    assert all(p.bound == "=" for p in others)
    assert abbasi.outcome("isi").p.value == 0.006


def test_bundled_design_is_as_published(abbasi) -> None:
    d = abbasi.design
    assert d.type is DesignType.PARALLEL
    assert (d.randomised, d.analysed, d.control, d.visits) == (46, 43, "placebo", ("baseline", "week8"))
    assert (d.duration_weeks, d.alpha, d.software) == (8, 0.05, "SPSS 19")
    assert "not stated" in d.tests
    assert abbasi.arm_ids == ("magnesium", "placebo")
    c = abbasi.citation
    assert (c.pmid, c.pmcid, c.registry, c.year, c.volume, c.pages) == (
        "23853635",
        "PMC3703169",
        "IRCT201109057479N1",
        2012,
        "17",
        "1161-1169",
    )


def test_bundled_per_arm_n_and_tables_are_marked_unavailable_with_a_reason(abbasi) -> None:
    for arm in abbasi.arms:
        assert (arm.n_randomised, arm.n_analysed) == (None, None)
        assert set(arm.unavailable) == {"n_randomised", "n_analysed"} and arm.unavailable_reason
    for o in abbasi.outcomes:
        assert o.table is None and "table" in o.unavailable and o.unavailable_reason


def test_bundled_flags_mark_the_two_marginal_claims_and_the_null_result(abbasi) -> None:
    flagged = {o.id: {f.value for f in o.flags} for o in abbasi.outcomes if o.flags}
    assert flagged == {
        "early_awakening": {"marginal"},
        "serum_magnesium": {"marginal"},
        "total_sleep_time": {"not_significant"},
    }


def test_bundled_counter_intuitive_magnesium_is_kept_as_published(abbasi) -> None:
    mg = abbasi.outcome("serum_magnesium")
    assert mg.direction is Direction.DECREASE and mg.expected is Direction.INCREASE
    assert "not from the paper" in mg.expected_source


def test_every_bundled_block_names_its_source(abbasi) -> None:
    blocks = [abbasi.citation, abbasi.design, *abbasi.arms, *abbasi.outcomes, *abbasi.context]
    assert all(b.source.strip() for b in blocks)
    assert all(o.source == "abstract, Results" for o in abbasi.outcomes)


def test_bundled_meta_analysis_is_context_not_a_result(abbasi) -> None:
    assert [c.kind for c in abbasi.context] == ["meta-analysis", "meta-analysis"]
    sol = abbasi.context[0]
    assert (sol.estimate, sol.ci_low, sol.ci_high, sol.p.as_written) == (-17.36, -27.27, -7.44, "0.0006")
    assert sol.relates_to == ("sleep_onset_latency",)
    assert abbasi.context[1].relates_to == ()  # which sleep-time endpoint was pooled is not known


# ---------------------------------------------------------------------------------------------
# Table-level files


def _table_level() -> dict[str, Any]:
    """Return a valid two-arm file with one outcome carrying table-level numbers."""
    return {
        "trial": {"id": "demo"},
        "citation": {"authors": ["Doe J"], "title": "A demo", "year": 2020, "source": "title page"},
        "design": {
            "type": "parallel",
            "control": "placebo",
            "visits": ["baseline", "week8"],
            "baseline": "baseline",
            "randomised": 46,
            "analysed": 43,
            "source": "abstract",
        },
        "arms": {
            "magnesium": {"source": "Figure 1", "n_randomised": 23},
            "placebo": {"source": "Figure 1", "n_randomised": 23},
        },
        "outcomes": [
            {
                "id": "isi",
                "direction": "decrease",
                "p": "0.006",
                "source": "abstract",
                "scale": {"integer": True, "range": [0, 28]},
                "table": {
                    "source": "Table 2",
                    "dispersion": "sd",
                    "decimals": 1,
                    "rows": [
                        {"arm": "magnesium", "time": "baseline", "n": 23, "mean": "16.80", "sd": 3.1},
                        {"arm": "placebo", "time": "baseline", "n": 23, "mean": 17.0, "sd": 2.9},
                        {"arm": "magnesium", "time": "week8", "n": 21, "mean": 10.2, "sd": 3.5},
                    ],
                    "change": [{"arm": "magnesium", "time": "week8", "n": 21, "mean": -6.6, "sd": 3.0}],
                    "comparisons": [{"time": "week8", "p": "0.006", "on": "change", "test": "t-test"}],
                },
            }
        ],
    }


def test_table_level_numbers_parse_with_their_printed_decimals() -> None:
    trial = parse_published(_table_level(), file="demo.toml")
    table = trial.outcome("isi").table
    first = table.row("magnesium", "baseline")
    assert (first.n, first.mean, first.sd, first.mean_decimals, first.dispersion_decimals) == (23, 16.8, 3.1, 2, 1)
    assert table.change[0].mean == -6.6 and table.comparisons[0].p.value == 0.006
    assert trial.outcome("isi").scale.range == (0.0, 28.0)


def test_se_and_divisor_n_sds_convert_to_the_sample_sd() -> None:
    raw = _table_level()
    table = raw["outcomes"][0]["table"]
    del table["dispersion"]
    table["rows"][0] = {"arm": "magnesium", "time": "baseline", "n": 16, "mean": 1.0, "se": 0.5}
    assert parse_published(raw).outcome("isi").table.rows[0].sample_sd == 2.0
    raw = _table_level()
    raw["outcomes"][0]["table"]["sd_divisor"] = "n"
    row = parse_published(raw).outcome("isi").table.rows[0]
    assert row.sample_sd == pytest.approx(3.1 * math.sqrt(23 / 22), rel=1e-15)


def _problems(raw: dict[str, Any]) -> dict[str, tuple[Rule, str]]:
    with pytest.raises(ValidationError) as info:
        parse_published(raw, file="trial.toml")
    assert all(p.file == "trial.toml" for p in info.value.problems)
    return {p.column: (p.rule, p.message) for p in info.value.problems}


def test_malformed_file_reports_every_problem_at_once_with_its_key_path() -> None:
    raw = _table_level()
    rows = raw["outcomes"][0]["table"]["rows"]
    del rows[0]["n"]  # missing n
    rows[1]["sd"] = -1.2  # negative SD
    rows[2]["arm"] = "magnesum"  # unknown arm
    raw["outcomes"][0]["p"] = "1.3"  # p outside [0, 1]
    raw["outcomes"][0]["direktion"] = "decrease"  # unknown key
    problems = _problems(raw)
    assert set(problems) == {
        "outcomes[0].table.rows[0].n",
        "outcomes[0].table.rows[1].sd",
        "outcomes[0].table.rows[2].arm",
        "outcomes[0].p",
        "outcomes[0].direktion",
    }
    assert problems["outcomes[0].table.rows[0].n"][0] is Rule.MISSING_KEY
    assert problems["outcomes[0].table.rows[1].sd"] == (
        Rule.INVALID_VALUE,
        "`outcomes[0].table.rows[1].sd` must not be negative; got -1.2.",
    )
    rule, message = problems["outcomes[0].table.rows[2].arm"]
    assert rule is Rule.UNKNOWN_ARM and "did you mean 'magnesium'?" in message
    assert "[0, 1]" in problems["outcomes[0].p"][1]
    rule, message = problems["outcomes[0].direktion"]
    assert rule is Rule.UNKNOWN_KEY and "did you mean 'direction'" in message


def _broken(change) -> dict[str, tuple[Rule, str]]:
    raw = _table_level()
    change(raw)
    return _problems(raw)


@pytest.mark.parametrize(
    "change, path, says",
    [
        (
            lambda r: r["outcomes"][0]["table"]["rows"][0].update(se=0.6),
            "outcomes[0].table.rows[0]",
            "both `sd` and `se`",
        ),
        (
            lambda r: r["outcomes"][0]["table"]["rows"][0].pop("sd"),
            "outcomes[0].table.rows[0].sd",
            "needs `sd` or `se`",
        ),
        (
            lambda r: r["outcomes"][0]["table"]["rows"][0].update(n=30),
            "outcomes[0].table.rows[0].n",
            "larger than the 23 randomised",
        ),
        (lambda r: r["outcomes"][0]["table"]["rows"][0].update(n=0), "outcomes[0].table.rows[0].n", "at least 1"),
        (lambda r: r["outcomes"][0]["table"]["rows"][0].update(n=22.0), "outcomes[0].table.rows[0].n", "an integer"),
        (
            lambda r: r["outcomes"][0]["table"]["rows"][2].update(time="week 8"),
            "outcomes[0].table.rows[2].time",
            "did you mean 'week8'?",
        ),
        (
            lambda r: r["outcomes"][0]["table"]["rows"][1].update(arm="magnesium"),
            "outcomes[0].table.rows[1]",
            "repeats",
        ),
        (
            lambda r: (
                r["outcomes"][0]["table"]["rows"][2].update(se=0.7, sd=None)
                or r["outcomes"][0]["table"]["rows"][2].pop("sd")
            ),
            "outcomes[0].table.rows[2].se",
            "declares `dispersion",
        ),
        (
            lambda r: r["outcomes"][0]["table"]["rows"][0].update(mean="16,8"),
            "outcomes[0].table.rows[0].mean",
            "must be a number",
        ),
        (
            lambda r: r["outcomes"][0]["table"]["comparisons"][0].update(p="NS"),
            "outcomes[0].table.comparisons[0].p",
            "cannot read",
        ),
        (lambda r: r["outcomes"][0].update(direction="up"), "outcomes[0].direction", "must be one of"),
        (lambda r: r["outcomes"][0].update(flags=["marginl"]), "outcomes[0].flags", "did you mean 'marginal'?"),
        (lambda r: r["outcomes"][0].update(table="missing"), "outcomes[0].table", "'unavailable'"),
        (lambda r: r["outcomes"][0].update(table=UNAVAILABLE), "outcomes[0].unavailable_reason", "say why"),
        (lambda r: r["outcomes"][0].update(expected="decrease"), "outcomes[0].expected_source", "rationale"),
        (lambda r: r["outcomes"].append(copy.deepcopy(r["outcomes"][0])), "outcomes", "declared twice"),
        (lambda r: r["design"].update(analysed=50), "design.analysed", "larger than"),
        (lambda r: r["design"].update(control="placebos"), "design.control", "did you mean 'placebo'?"),
        (lambda r: r["design"].update(type="cross-over"), "design.type", "did you mean 'crossover'?"),
        (lambda r: r["arms"]["placebo"].update(n_randomised=20), "arms.*.n_randomised", "add up to 43"),
        (lambda r: r["arms"]["placebo"].pop("source"), "arms.placebo.source", "is missing"),
        (lambda r: r.pop("citation"), "citation", "is missing"),
        (lambda r: r.update(extra={}), "extra", "unknown key"),
    ],
)
def test_each_rule_names_the_entry(change, path, says) -> None:
    problems = _broken(change)
    assert path in problems, problems
    assert says in problems[path][1]


def test_paired_rows_need_a_crossover_design() -> None:
    problems = _broken(
        lambda r: r["outcomes"][0]["table"].update(
            paired=[{"arm": "magnesium", "reference": "placebo", "time": "week8", "n": 20, "mean": 1.0, "sd": 1.0}]
        )
    )
    assert "crossover" in problems["outcomes[0].table.paired"][1]


def test_read_published_reports_missing_and_unreadable_files(tmp_path) -> None:
    with pytest.raises(ValidationError) as info:
        read_published(tmp_path / "nope.toml")
    assert info.value.problems[0].rule is Rule.FILE_NOT_FOUND
    bad = tmp_path / "bad.toml"
    bad.write_text("[trial\nid = 1", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        read_published(bad)
    assert info.value.problems[0].rule is Rule.SPEC_UNREADABLE


def test_a_file_written_with_tomli_w_round_trips(tmp_path) -> None:
    path = tmp_path / "demo.toml"
    path.write_text(tomli_w.dumps(_table_level()), encoding="utf-8")
    assert read_published(path) == parse_published(_table_level(), file=str(path))


# ---------------------------------------------------------------------------------------------
# The documented examples


def _doc_examples() -> list[str]:
    text = DOCS.read_text(encoding="utf-8")
    return [block for block in re.findall(r"```toml\n(.*?)```", text, flags=re.S) if "[trial]" in block]


def test_documented_examples_parse() -> None:
    import tomllib

    examples = _doc_examples()
    assert len(examples) == 2
    for block in examples:
        parse_published(tomllib.loads(block), file="docs/published-results.md")


def test_documented_sleep_example_is_the_bundled_file() -> None:
    assert _doc_examples()[0] == find_published("student1908").read_text(encoding="utf-8")


def test_bundled_sleep_table_is_students_printed_table() -> None:
    """Means and S.D.s as Student printed them: the data's, to 2 decimals, with divisor n."""
    import statistics

    trial = read_published("student1908")
    table = trial.outcome("extra_sleep").table
    diff = [b - a for a, b in zip(SLEEP_1, SLEEP_2, strict=False)]
    for summary, values in (
        (table.row("drug1", "on_drug"), SLEEP_1),
        (table.row("drug2", "on_drug"), SLEEP_2),
        (table.paired[0], diff),
    ):
        assert summary.n == len(values)
        assert summary.mean == round(statistics.mean(values), 2)
        assert summary.sd == round(statistics.pstdev(values), 2)  # Student's S.D.: divisor n
        assert summary.sd_divisor == "n" and summary.mean_decimals == summary.dispersion_decimals == 2
    assert [s.sd for s in (*table.rows, *table.paired)] == [1.70, 1.90, 1.17]
    assert (
        trial.design.type is DesignType.CROSSOVER and trial.outcome("extra_sleep").p.interval_text == "[0.0025, 0.0035)"
    )
    assert {f for o in trial.outcomes for f in o.flags} <= set(PublishedFlag)
    assert all(block.source for block in (trial.citation, trial.design, *trial.arms, *trial.outcomes, table))


def test_documented_parallel_example_hangs_together_as_the_docs_say() -> None:
    """Every mean is a possible mean of n integers (GRIM) and each p is Student's t from the table."""
    import tomllib

    from scipy import stats

    trial = parse_published(tomllib.loads(_doc_examples()[1]))
    table = trial.outcome("score").table
    for s in (*table.rows, *table.change):
        assert any(
            round(k / s.n, s.mean_decimals) == s.mean for k in (math.floor(s.mean * s.n), math.ceil(s.mean * s.n))
        )
    for c in table.comparisons:
        pair = table.change if c.on == "change" else [r for r in table.rows if r.time == c.time]
        a, b = sorted(pair, key=lambda s: s.arm)  # active, placebo
        p = stats.ttest_ind_from_stats(a.mean, a.sample_sd, a.n, b.mean, b.sample_sd, b.n).pvalue
        decimals = round(-math.log10(2 * c.p.half_unit))  # "0.002" -> 3
        assert round(p, decimals) == c.p.value
