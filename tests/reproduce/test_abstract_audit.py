"""Abstract-level audit: p <-> t <-> d inversions, R references, multiplicity and flags of the 2012 trial.

R references: tests/reference/abstract_audit/ (implied.R writes expected.csv and versions.txt).
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialkit import TrialkitError
from trialkit.reproduce.audit import (
    EFFECT_COLUMNS,
    OUTCOME_COLUMNS,
    AssumedTest,
    AuditFlag,
    _abstract,
    audit_abstract,
    d_from_t,
    d_interval,
    hedges_correction,
    minimal_detectable_effect,
    power_two_sample,
    t_from_p,
)
from trialkit.reproduce.published import parse_published, read_published

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = ROOT / "tests" / "reference" / "abstract_audit" / "expected.csv"
BUNDLED = ROOT / "data" / "published" / "abbasi2012.toml"

#: Tolerances against R. qt/qnorm-based quantities (t, d, J, g) and the noncentral-t power agree to
#: about 1e-14; the CI limits and the MDE are roots found to absolute 1e-13 (R uniroot) and
#: 1e-14 (scipy brentq) of functions R evaluates with AS 243 (errmax 1e-12), and power.t.test is
#: run with tol = 1e-12 (its default tol = .Machine$double.eps^0.25, about 1.2e-4, is too coarse).
#: Observed worst relative differences: t, d 4e-16; J, g 4e-15; CI limits 6e-11; power 3e-12;
#: MDE 1e-12. 1e-8 relative holds every quantity with margin; values within 1e-9 of zero (a CI
#: limit of a p-value equal to 1 - level) are compared absolutely.
RTOL = 1e-8
ATOL_AT_ZERO = 1e-9

HOLM_SURVIVORS = {"renin", "sleep_time", "isi", "melatonin", "cortisol"}
BH_SURVIVORS = HOLM_SURVIVORS | {"sleep_onset_latency", "sleep_efficiency"}


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(EXPECTED, dtype={"kind": str, "case": str, "test": str, "quantity": str})


@pytest.fixture(scope="module")
def audit():
    return audit_abstract(read_published(BUNDLED))


def _close(got: float, want: float) -> bool:
    return math.isclose(got, want, rel_tol=RTOL, abs_tol=ATOL_AT_ZERO if abs(want) < ATOL_AT_ZERO else 0.0)


# ---------------------------------------------------------------------------------------------
# Against R (the inversions' own checks are in tests/reproduce/test_implied.py)


def test_implied_t_d_g_and_ci_match_r(reference) -> None:
    rows = reference[reference["kind"] == "implied"]
    assert len(rows.groupby(["case", "test"])) == 27
    for (case, test_id), part in rows.groupby(["case", "test"]):
        want = dict(zip(part["quantity"], part["value"], strict=False))
        p, n1, n0 = float(part["p"].iloc[0]), int(part["n_treatment"].iloc[0]), int(part["n_control"].iloc[0])
        test = AssumedTest(test_id)
        df = test.df(n1, n0)
        t = t_from_p(p, df)
        d = t * test.scale(n1, n0)
        j = hedges_correction(test.pooled_df(n1, n0))
        low, high = d_interval(t, n1, n0, test=test)
        got = {"df": df, "t": t, "d": d, "j": j, "g": j * d, "d_ci_low": low, "d_ci_high": high}
        for quantity, value in got.items():
            assert _close(value, want[quantity]), (case, test_id, quantity, value, want[quantity])
        if test is AssumedTest.STUDENT_END:
            assert _close(d_from_t(t, n1, n0), want["d"])


def test_implied_t_of_the_exact_sleep_p_value_is_the_observed_t(reference) -> None:
    sleep = reference[(reference["case"] == "sleep")].set_index("quantity")["value"]
    t = t_from_p(float(reference[reference["case"] == "sleep"]["p"].iloc[0]), 9)
    assert t == pytest.approx(sleep["t_observed"], rel=1e-12)


def test_power_matches_r_power_t_test(reference) -> None:
    rows = reference[reference["kind"] == "power"]
    assert len(rows) == 35
    for row in rows.itertuples():
        got = power_two_sample(float(row.d), int(row.n_treatment), int(row.n_control))
        assert _close(got, row.value), (row.case, row.d, got, row.value)


def test_minimal_detectable_effect_matches_r_power_t_test(reference) -> None:
    rows = reference[reference["kind"] == "mde"]
    assert len(rows) == 14
    for row in rows.itertuples():
        got = minimal_detectable_effect(int(row.n_treatment), int(row.n_control), power=float(row.power))
        assert _close(got, row.value), (row.case, row.power, got, row.value)


def test_audit_rows_match_r_for_the_ten_published_p_values(audit, reference) -> None:
    rows = reference[(reference["kind"] == "implied") & (reference["n_treatment"] == 22)]
    sign = {"increase": 1.0, "decrease": -1.0, "none": 1.0}
    table = audit.table.set_index(["outcome", "test"])
    for (case, test_id), part in rows.groupby(["case", "test"]):
        want = dict(zip(part["quantity"], part["value"], strict=False))
        row = table.loc[(case, test_id)]
        s = sign[row["direction"]]
        assert _close(row["statistic"], s * want["t"]) and _close(row["d"], s * want["d"])
        assert _close(row["g"], s * want["g"]) and row["df"] == want["df"]
        lo, hi = sorted((s * want["d_ci_low"], s * want["d_ci_high"]))
        assert _close(row["d_ci_low"], lo) and _close(row["d_ci_high"], hi)


def test_audit_power_table_matches_r_at_the_analysed_n(audit, reference) -> None:
    want = reference[(reference["case"] == "n22_21")]
    power = want[want["kind"] == "power"]
    got = audit.power.set_index("d")["power"]
    for row in power.itertuples():
        assert _close(got[float(row.d)], row.value)
    mde = want[want["kind"] == "mde"].set_index("power")["value"]
    for row in audit.mde.itertuples():
        assert _close(row.d, mde[row.power])


def test_reference_was_made_with_the_stated_r_version() -> None:
    versions = (EXPECTED.parent / "versions.txt").read_text()
    assert versions.startswith("R version 4.2")


# ---------------------------------------------------------------------------------------------
# The 2012 trial's abstract


def test_audit_has_one_row_per_outcome_and_assumed_test(audit) -> None:
    assert list(audit.table.columns) == list(EFFECT_COLUMNS)
    assert list(audit.outcomes.columns) == list(OUTCOME_COLUMNS)
    assert len(audit.table) == 30 and len(audit.outcomes) == 10
    assert set(audit.table["test"]) == {"student_end", "student_change", "welch_min_df"}
    assert audit.table[["statistic", "d", "d_ci_low", "d_ci_high", "g", "g_ci_low", "g_ci_high"]].notna().all().all()


def test_unpublished_per_arm_n_is_an_equal_split_carried_in_the_output(audit) -> None:
    assert (audit.n_treatment, audit.n_control, audit.n_source) == (22, 21, "equal_split_of_analysed")
    assert set(audit.table["n_source"]) == {"equal_split_of_analysed"}
    assert "ASSUMED an equal split of the 43 analysed" in audit.assumptions[0]


def test_effects_are_signed_by_the_published_direction(audit) -> None:
    end = audit.table[audit.table["test"] == "student_end"].set_index("outcome")
    for outcome in ("isi", "sleep_onset_latency", "cortisol", "early_awakening", "serum_magnesium"):
        assert end.loc[outcome, "d"] < 0 and end.loc[outcome, "d_ci_high"] > end.loc[outcome, "d_ci_low"]
    for outcome in ("sleep_time", "sleep_efficiency", "renin", "melatonin"):
        assert end.loc[outcome, "d"] > 0
    assert not end.loc["total_sleep_time", "sign_known"] and end.loc["total_sleep_time", "d"] > 0


def test_a_p_value_bound_gives_effect_bounds(audit) -> None:
    rows = audit.table.set_index(["outcome", "test"])
    renin = rows.loc[("renin", "student_end")]
    assert renin["bound"] == ">" and renin["p_bound"] == "<"
    assert renin["d"] == pytest.approx(d_from_t(t_from_p(0.001, 41), 22, 21), rel=1e-14)
    assert set(audit.table.loc[audit.table["outcome"] != "renin", "bound"]) == {"="}


def test_bounds_flip_with_the_direction_and_the_kind_of_bound() -> None:
    raw = {
        "trial": {"id": "bounds"},
        "citation": {"authors": ["Doe J"], "title": "t", "year": 2020, "source": "s"},
        "design": {"type": "parallel", "control": "c", "visits": ["end"], "analysed": 40, "source": "s"},
        "arms": {"a": {"source": "s", "n_analysed": 20}, "c": {"source": "s", "n_analysed": 20}},
        "outcomes": [
            {"id": "x", "direction": "decrease", "p": "< 0.01", "source": "s"},
            {"id": "y", "direction": "decrease", "p": "> 0.05", "source": "s"},
            {"id": "z", "direction": "increase", "p": "> 0.05", "source": "s"},
        ],
    }
    audit = audit_abstract(parse_published(raw), tests=["student_end"])
    assert dict(zip(audit.table["outcome"], audit.table["bound"], strict=False)) == {"x": "<", "y": ">", "z": "<"}
    assert audit.n_source == "published"
    out = audit.outcomes.set_index("outcome")
    assert out["flag_not_significant"].to_dict() == {"x": False, "y": True, "z": True}
    # a "> c" bound enters multiplicity at 1, its conservative end: Holm 3*0.01, then 1, 1
    assert out["p_holm"].to_dict() == {"x": 0.03, "y": 1.0, "z": 1.0}


def test_a_lower_bound_elsewhere_in_the_family_is_treated_conservatively() -> None:
    # with "> 0.01" at its bound 0.01 Holm would give 0.03 (1 x 0.03 after 2 x 0.01 = 0.02): optimistic
    raw = {
        "trial": {"id": "lower"},
        "citation": {"authors": ["Doe J"], "title": "t", "year": 2020, "source": "s"},
        "design": {"type": "parallel", "control": "c", "visits": ["end"], "analysed": 40, "source": "s"},
        "arms": {"a": {"source": "s"}, "c": {"source": "s"}},
        "outcomes": [
            {"id": "x", "direction": "increase", "p": "0.03", "source": "s"},
            {"id": "y", "direction": "increase", "p": "> 0.01", "source": "s"},
        ],
    }
    out = audit_abstract(parse_published(raw)).outcomes.set_index("outcome")
    assert out.loc["x", "p_holm"] == pytest.approx(0.06) and not out.loc["x", "survives_holm"]
    assert out.loc["x", "survives_holm_best_case"] and out.loc["x", "flag_rounding_sensitive"]


def test_holm_keeps_five_of_the_ten_published_results(audit) -> None:
    # by hand: sorted p 0.001(<), 0.002, 0.006, 0.007, 0.008, 0.02, 0.03, 0.06, 0.08, 0.37;
    # Holm 10*0.001, 9*0.002, 8*0.006, max(7*0.007, .), max(6*0.008 = 0.048, 0.049), 5*0.02 = 0.1 > 0.05 ...
    out = audit.outcomes.set_index("outcome")
    expected = {
        "renin": 0.01,
        "sleep_time": 0.018,
        "isi": 0.048,
        "melatonin": 0.049,
        "cortisol": 0.049,
        "sleep_onset_latency": 0.1,
        "sleep_efficiency": 0.12,
        "serum_magnesium": 0.18,
        "early_awakening": 0.18,
        "total_sleep_time": 0.37,
    }
    for outcome, value in expected.items():
        assert out.loc[outcome, "p_holm"] == pytest.approx(value, rel=1e-12)
    assert set(out.index[out["survives_holm"]]) == HOLM_SURVIVORS


def test_benjamini_hochberg_keeps_the_seven_nominally_significant_results(audit) -> None:
    # BH (m/j) p_(j), running minimum from the top: 0.37, 10/9*0.08, 10/8*0.06, 10/7*0.03, 10/6*0.02,
    # then 2*0.008 = 0.016 carried down to 0.007 and 0.006; 5*0.002 = 0.01; 10*0.001 = 0.01
    out = audit.outcomes.set_index("outcome")
    expected = {
        "renin": 0.01,
        "sleep_time": 0.01,
        "isi": 0.016,
        "melatonin": 0.016,
        "cortisol": 0.016,
        "sleep_onset_latency": 0.2 / 6,
        "sleep_efficiency": 0.3 / 7,
        "serum_magnesium": 0.075,
        "early_awakening": 0.8 / 9,
        "total_sleep_time": 0.37,
    }
    for outcome, value in expected.items():
        assert out.loc[outcome, "p_bh"] == pytest.approx(value, rel=1e-12)
    assert set(out.index[out["survives_bh"]]) == BH_SURVIVORS
    assert set(out.index[out["significant"]]) == BH_SURVIVORS


def test_holm_survival_of_isi_melatonin_and_cortisol_depends_on_rounding(audit) -> None:
    # at the top of the rounding intervals: 8*0.0065 = 0.052, 7*0.0075 = 0.0525 > 0.05
    out = audit.outcomes.set_index("outcome")
    assert set(out.index[out["survives_holm_worst_case"]]) == {"renin", "sleep_time"}
    assert set(out.index[out["survives_holm_best_case"]]) == HOLM_SURVIVORS
    assert set(out.index[out["survives_bh_worst_case"]]) == BH_SURVIVORS  # 10/7 * 0.035 = 0.05 still
    assert set(out.index[out[AuditFlag.ROUNDING_SENSITIVE.column]]) == {"isi", "melatonin", "cortisol"}
    assert out.loc["isi", "p_holm_high"] == pytest.approx(0.052, rel=1e-12)


def test_flags_of_the_2012_abstract(audit) -> None:
    out = audit.outcomes.set_index("outcome")

    def flagged(flag: AuditFlag) -> set[str]:
        return set(out.index[out[flag.column]])

    assert flagged(AuditFlag.COUNTER_INTUITIVE) == {"serum_magnesium"}
    assert flagged(AuditFlag.MARGINAL_CLAIM) == {"early_awakening", "serum_magnesium"}
    assert flagged(AuditFlag.NOT_SIGNIFICANT) == {"early_awakening", "serum_magnesium", "total_sleep_time"}
    assert flagged(AuditFlag.P_BOUND) == {"renin"}


def test_design_power_and_minimal_detectable_effect_at_43_analysed(audit) -> None:
    power = audit.power.set_index("d")["power"]
    assert power.is_monotonic_increasing and power[0.5] < 0.4 and power[1.0] > 0.85
    mde = audit.mde.set_index("power")["d"]
    assert 0.87 < mde[0.8] < 0.88 and 1.01 < mde[0.9] < 1.02


def test_crossover_trial_is_audited_with_the_paired_t(reference) -> None:
    sleep = reference[reference["case"] == "sleep"]
    want = dict(zip(sleep["quantity"], sleep["value"], strict=False))
    raw = {
        "trial": {"id": "sleep"},
        "citation": {"authors": ["Student"], "title": "The probable error of a mean", "year": 1908, "source": "s"},
        "design": {"type": "crossover", "control": "drug1", "visits": ["on_drug"], "analysed": 10, "source": "s"},
        "arms": {"drug1": {"source": "s"}, "drug2": {"source": "s"}},
        "outcomes": [
            {"id": "extra_sleep", "direction": "increase", "p": repr(float(sleep["p"].iloc[0])), "source": "s"}
        ],
    }
    audit = audit_abstract(parse_published(raw))
    row = audit.table.iloc[0]
    assert (row["test"], row["df"], audit.n_source) == ("paired", 9.0, "crossover_all_subjects")
    for column, quantity in (
        ("statistic", "t_observed"),
        ("d", "d"),
        ("g", "g"),
        ("d_ci_low", "d_ci_low"),
        ("d_ci_high", "d_ci_high"),
    ):
        assert _close(row[column], want[quantity]), column


def test_reruns_are_identical() -> None:
    trial = read_published(BUNDLED)
    first, second = audit_abstract(trial), audit_abstract(trial)
    pd.testing.assert_frame_equal(first.table, second.table)
    pd.testing.assert_frame_equal(first.outcomes, second.outcomes)


@pytest.mark.parametrize(
    "kwargs, says",
    [
        ({"alpha": 1.5}, "`alpha`"),
        ({"level": 0}, "`level`"),
        ({"tests": ["paired"]}, "crossover"),
        ({"tests": ["welsh"]}, "`test` must be one of"),
        ({"powers": [0.01]}, "`powers`"),
        ({"effects": [float("nan")]}, "`effects`"),
    ],
)
def test_bad_options_are_refused(kwargs, says) -> None:
    with pytest.raises(TrialkitError, match=says):
        audit_abstract(read_published(BUNDLED), **kwargs)


def test_audit_module_does_no_file_io() -> None:
    tree = ast.parse(Path(_abstract.__file__).read_text(encoding="utf-8"))
    io_calls = {
        "open",
        "to_csv",
        "to_excel",
        "to_parquet",
        "write_text",
        "write_bytes",
        "read_text",
        "read_bytes",
        "read_csv",
        "savefig",
        "mkdir",
    }
    calls = {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }
    assert not calls & io_calls


def test_reproduce_package_is_cheap_to_import() -> None:
    """``import trialkit.reproduce`` loads the verdict vocabulary only: no subpackage, no scipy."""
    import subprocess
    import sys

    code = (
        "import sys, trialkit; before = set(sys.modules); import trialkit.reproduce; "
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == ["trialkit.reproduce", "trialkit.reproduce._codes"]


def test_flag_registry_documents_every_flag() -> None:
    assert all(flag.meaning for flag in AuditFlag) and all(test.assumption for test in AssumedTest)
    assert np.all([flag.column in OUTCOME_COLUMNS and flag.column in EFFECT_COLUMNS for flag in AuditFlag])


def test_an_outcome_without_a_p_value_is_listed_but_not_audited() -> None:
    raw = {
        "trial": {"id": "nop"},
        "citation": {"authors": ["Doe J"], "title": "t", "year": 2020, "source": "s"},
        "design": {"type": "parallel", "control": "c", "visits": ["end"], "analysed": 40, "source": "s"},
        "arms": {"a": {"source": "s"}, "c": {"source": "s"}},
        "outcomes": [
            {"id": "x", "direction": "increase", "p": "0.01", "source": "s"},
            {"id": "y", "direction": "increase", "p": "unavailable", "unavailable_reason": "r", "source": "s"},
        ],
    }
    audit = audit_abstract(parse_published(raw))
    assert set(audit.table["outcome"]) == {"x"}
    out = audit.outcomes.set_index("outcome")
    assert math.isnan(out.loc["y", "p_value"]) and pd.isna(out.loc["y", "survives_holm"])
    assert out.loc["x", "p_holm"] == 0.01  # a family of one


def test_students_printed_p_implies_the_paired_t_and_d_of_r() -> None:
    """Student's p = 0.003 with df = 9: t, d_z and the exact CI of d_z as R computes them.

    The p as encoded in the bundled student1908 file; R: tests/reference/student1908/ (qt, and
    uniroot on pt with ncp; tolerance as above).
    """
    want = pd.read_csv(ROOT / "tests" / "reference" / "student1908" / "expected.csv").set_index("quantity")["value"]
    audit = audit_abstract(read_published("student1908"))
    row = audit.table.iloc[0]
    assert (row["test"], row["df"], audit.n_source) == ("paired", 9.0, "crossover_all_subjects")
    for column, quantity in (
        ("statistic", "t_implied"),
        ("d", "d_implied"),
        ("d_ci_low", "d_ci_low"),
        ("d_ci_high", "d_ci_high"),
    ):
        assert _close(row[column], want[quantity]), column


def test_group_sizes_counted_in_data_replace_the_assumed_split() -> None:
    published = read_published(BUNDLED)
    assumed, counted = audit_abstract(published), audit_abstract(published, group_sizes=(21, 22))
    assert (assumed.n_treatment, assumed.n_control, assumed.n_source) == (22, 21, "equal_split_of_analysed")
    assert (counted.n_treatment, counted.n_control, counted.n_source) == (21, 22, "data")
    assert "magnesium 21, placebo 22" in counted.assumptions[0]
    assert set(counted.table["n_treatment"]) == {21} and set(counted.table["n_control"]) == {22}
    # d, its CI and the power are symmetric in n1 and n0: swapping the split changes no number
    for column in ("statistic", "d", "d_ci_low", "d_ci_high", "g"):
        np.testing.assert_allclose(counted.table[column], assumed.table[column], rtol=1e-12)
    np.testing.assert_allclose(counted.power["power"], assumed.power["power"], rtol=1e-12)
    with pytest.raises(TrialkitError, match=r"`group_sizes\[1\]` must be an integer >= 2; got 1"):
        audit_abstract(published, group_sizes=(21, 1))
    with pytest.raises(TrialkitError, match="`group_sizes` must be a pair"):
        audit_abstract(published, group_sizes=(43,))  # type: ignore[arg-type]
