"""Values whose magnitude breaks the arithmetic: refused with the value named, or computed in a unit of their own.

Every case injects the values into a real trial (files read by ``tk.load``) and asserts either the failure
rows (endpoint or covariate, value, subject, visit) or that the results equal those of the same data in an
ordinary unit: a power of two times the values (exact) or the values less 2**50 (exact for the multiples of
0.25 used here). Tolerances: 1e-9 relative where the same arithmetic runs on exactly rescaled numbers (the
QR factorisation and the t distribution do not see a power of two); 1e-6 for the MMRM (an optimiser whose
stopping rule is not scale-free); the Hodges–Lehmann estimates of the rank tests to their root search's
tolerance (``root_tol``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import base_spec, small_wide, write_frame, write_spec
from longitudinal_trial import VISITS, three_arm_spec, three_arm_wide

import trialkit as tk
from trialkit._limits import MAX_MAGNITUDE, MIN_MAGNITUDE
from trialkit.analysis._magnitude import beyond_limits
from trialkit.analysis._units import in_own_unit, own_unit
from trialkit.analysis._zeroin import ROOT_TOL, root_tol

END_TO_END = Path(__file__).resolve().parents[1] / "reference" / "end_to_end"
#: the analyses that report something in the unit of the data (the others are ratios, rates or unitless)
UNITLESS = ("hedges_g", "hedges_g_ancova", "responder_rate", "responder_rd", "responder_rr", "responder_or")
RANKS = ("mann_whitney_change", "wilcoxon_within", "mann_whitney_followup")
KEY = ["endpoint", "visit", "analysis", "contrast", "population"]


def _small(folder: Path, change=None, **analysis) -> tk.Results:
    """Analyse the small trial (12 per arm, sleep_time without a range) after ``change`` edits its wide frame."""
    folder.mkdir(exist_ok=True)
    wide = small_wide(12, seed=3)
    # multiples of 0.25: exactly representable after adding 2**50 (whose spacing is 0.25)
    wide[["sleep_time_baseline", "sleep_time_week8"]] = (
        wide[["sleep_time_baseline", "sleep_time_week8"]] * 4
    ).round() / 4
    if change is not None:
        change(wide)
    options = {"covariates": ["age", "sex"], "categorical": ["sex"], "missing_data": {"methods": ["mi_mar"]}}
    spec = base_spec(analysis={**options, **analysis})
    spec["analysis"]["missing_data"]["imputations"] = 5
    del spec["endpoints"][1]["range"]
    write_frame(wide, folder / "trial.csv")
    return tk.analyze(tk.load(write_spec(folder, spec)))


def _no_silent_nonsense(table: pd.DataFrame) -> None:
    """Assert no row shows an infinite number, or a p-value of exactly 1 next to a finite non-zero estimate."""
    numbers = table[["estimate", "std_error", "ci_low", "ci_high", "statistic", "p_value"]].to_numpy(float)
    assert not np.isinf(numbers).any(), table[np.isinf(numbers).any(axis=1)]


def _same(a: pd.DataFrame, b: pd.DataFrame, unit: float = 1.0, shift: float = 0.0, rtol: float = 1e-9) -> None:
    """Assert that ``b`` holds the rows of ``a`` with the data ``x`` taken as ``x * unit + shift``."""
    merged = a.merge(b, on=KEY, suffixes=("", "_b"), validate="one_to_one")
    assert len(merged) == len(a) == len(b)
    scaled = ~merged["analysis"].isin(UNITLESS)
    for column in ("estimate", "std_error", "ci_low", "ci_high", "statistic", "df", "p_value"):
        want = merged[column].to_numpy(float)
        got = merged[f"{column}_b"].to_numpy(float)
        if column in ("estimate", "std_error", "ci_low", "ci_high"):
            got = np.where(scaled, got / unit, got)
            if column != "std_error":
                got = np.where(merged["analysis"].str.endswith("lsmean"), got - shift / unit, got)
        assert np.array_equal(np.isnan(want), np.isnan(got)), column
        ranks = merged["analysis"].isin(RANKS).to_numpy() & (column != "p_value") & (column != "statistic")
        mmrm = merged["analysis"].str.startswith("mmrm").to_numpy()
        tol = np.where(mmrm, 1e-6, rtol) * np.abs(want)
        # a Hodges-Lehmann estimate or limit is a root found to within the search's tolerance (R's 1e-4)
        tol = np.where(ranks, np.maximum(tol, 2 * ROOT_TOL), tol)
        ok = np.isnan(want) | (np.abs(got - want) <= tol + 1e-300)
        assert ok.all(), merged.loc[~ok, [*KEY, column, f"{column}_b"]].assign(want=want[~ok], got=got[~ok])


@pytest.fixture(scope="module")
def plain_small(tmp_path_factory: pytest.TempPathFactory) -> tk.Results:
    """Return the small trial analysed in its own unit: what the rescaled and shifted copies must reproduce."""
    return _small(tmp_path_factory.mktemp("plain_small"))


@pytest.fixture(scope="module")
def plain_three(tmp_path_factory: pytest.TempPathFactory) -> tk.Results:
    """Return the three-arm longitudinal trial analysed in its own unit."""
    return _three_arm(tmp_path_factory.mktemp("plain_three") / "trial")


def test_the_limits_are_where_a_variance_squared_overflows_or_underflows() -> None:
    # Welch's and the MMRM's degrees of freedom square a variance: the fourth power of a value, summed
    # over the subjects, must stay a finite normal number
    assert np.isfinite(1e7 * MAX_MAGNITUDE**4)
    assert MIN_MAGNITUDE**4 >= np.finfo(float).tiny
    values = np.array([1.0, 0.0, np.nan, -MAX_MAGNITUDE, MAX_MAGNITUDE * 1.01, MIN_MAGNITUDE / 2, -np.inf])
    assert beyond_limits(values).tolist() == [False, False, False, False, True, True, True]


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1e308, "1e+308"), (-1e150, "-1e+150"), (2e75, "2e+75"), (1e-300, "1e-300"), (-5e-76, "-5e-76")],
)
def test_an_endpoint_value_beyond_the_limits_stops_its_analyses_and_is_named(tmp_path, value, shown) -> None:
    def put(wide: pd.DataFrame) -> None:
        wide.loc[4, "sleep_time_week8"] = value  # subject S005, an active-arm subject

    res = _small(tmp_path, put)
    assert res.table.loc[res.table["endpoint"] == "sleep_time"].empty
    _no_silent_nonsense(res.table)
    assert (res.table["endpoint"] == "isi").any()  # the other endpoint is analysed
    stopped = res.failures[(res.failures["endpoint"] == "sleep_time") & (res.failures["term"] == "extreme_value")]
    assert {"ancova", "welch_change", "mann_whitney_change", "paired_within", "hedges_g", "mi_mar"} <= set(
        stopped["analysis"]
    )
    message = stopped["message"].iloc[0]
    assert f"endpoint 'sleep_time' has the value {shown} (subject 'S005', visit 'week8')" in message
    assert "docs/limits.md" in message and "1e-75 and 1e+75" in message
    assert (stopped["message"] == message).all()


def test_a_whole_endpoint_on_an_extreme_scale_is_named_with_its_count(tmp_path) -> None:
    def scale(wide: pd.DataFrame) -> None:
        wide[["sleep_time_baseline", "sleep_time_week8"]] *= 1e-300

    res = _small(tmp_path, scale)
    message = res.failures.loc[res.failures["endpoint"] == "sleep_time", "message"].iloc[0]
    assert "(subject 'S001', visit 'baseline') and 46 other value(s)" in message
    assert res.table.loc[res.table["endpoint"] == "sleep_time"].empty


def test_a_covariate_beyond_the_limits_stops_every_model_and_table1_moments(tmp_path) -> None:
    def put(wide: pd.DataFrame) -> None:
        wide.loc[3, "age"] = 1e150  # subject S004

    res = _small(tmp_path, put, table1_p_values=True)
    assert res.table.empty  # every endpoint's analyses enter the covariate: all stopped
    _no_silent_nonsense(res.table)
    stopped = res.failures[(res.failures["term"] == "extreme_value") & (res.failures["endpoint"] != "age")]
    assert set(stopped["endpoint"]) == {"isi", "sleep_time"}
    assert stopped["message"].str.contains("covariate 'age' has the value 1e+150 (subject 'S004')", regex=False).all()
    age = res.table1[res.table1["variable"] == "age"]
    active = age[age["arm"] == "active"].iloc[0]
    assert np.isnan(active["mean"]) and np.isnan(active["sd"])  # no inf: no mean or SD at all
    assert active["median"] == pytest.approx(float(small_wide(12, seed=3)["age"].iloc[:12].drop(3).median()), abs=5)
    assert "age" not in set(res.smd["variable"])
    for kind in ("table1", "smd", "baseline_p"):
        row = res.failures[(res.failures["endpoint"] == "age") & (res.failures["analysis"] == kind)]
        assert "baseline variable 'age' has the value 1e+150 (subject 'S004')" in row["message"].iloc[0], kind


@pytest.mark.parametrize("power", [200, -200])
def test_values_on_an_extreme_scale_within_the_limits_give_the_same_results(tmp_path, plain_small, power) -> None:
    unit = 2.0**power  # values about 5e62 or 2e-58: within 1e75 and 1e-75

    def scale(wide: pd.DataFrame) -> None:
        wide[["sleep_time_baseline", "sleep_time_week8"]] *= unit

    plain, scaled = plain_small, _small(tmp_path, scale)
    a = plain.table[plain.table["endpoint"] == "sleep_time"]
    b = scaled.table[scaled.table["endpoint"] == "sleep_time"]
    assert scaled.failures[scaled.failures["endpoint"] == "sleep_time"].empty
    _same(a, b, unit=unit)


def test_an_endpoint_of_1e15_plus_noise_keeps_its_noise(tmp_path, plain_small) -> None:
    offset = 2.0**50  # 1.1e15; its neighbours are 0.25 apart, so x + offset is exact for these values

    def shift(wide: pd.DataFrame) -> None:
        wide[["sleep_time_baseline", "sleep_time_week8"]] += offset

    plain, shifted = plain_small, _small(tmp_path, shift)
    a = plain.table[plain.table["endpoint"] == "sleep_time"]
    b = shifted.table[shifted.table["endpoint"] == "sleep_time"]
    # today's failure was a spurious "term 'baseline' is collinear" and ANCOVA p-values off by 14%
    assert shifted.failures[shifted.failures["endpoint"] == "sleep_time"].empty
    lsmeans = b["analysis"].str.endswith("lsmean")
    _same(a[~a["analysis"].str.endswith("lsmean")], b[~lsmeans])
    # an LS mean near 1e15 carries the spacing of the numbers there (0.25): it is the plain one + offset
    merged = a.merge(b, on=KEY, suffixes=("", "_b"))
    lsm = merged[merged["analysis"].str.endswith("lsmean")]
    np.testing.assert_allclose(lsm["estimate_b"] - offset, lsm["estimate"], atol=0.5)


def _three_arm(folder: Path, change=None) -> tk.Results:
    folder.mkdir()
    wide = three_arm_wide()
    columns = [f"pain_{v}" for v in VISITS]
    wide[columns] = (wide[columns] * 4).round() / 4
    if change is not None:
        change(wide, columns)
    write_frame(wide, folder / "trial.csv")
    spec = three_arm_spec()
    return tk.analyze(tk.load(write_spec(folder, spec)), analyses=["mmrm", "mmrm_lsmean", "ancova"])


@pytest.mark.parametrize("case", ["endpoint + 2**50", "age + 2**50", "endpoint * 2**-230", "endpoint * 2**230"])
def test_the_mmrm_of_extreme_magnitudes_equals_that_of_ordinary_ones(tmp_path, plain_three, case) -> None:
    unit, shift = 1.0, 0.0

    def change(wide: pd.DataFrame, columns: list[str]) -> None:
        nonlocal unit, shift
        if case == "age + 2**50":
            wide["age"] += 2.0**50
        elif case == "endpoint + 2**50":
            shift = 2.0**50
            wide[columns] += shift
        else:
            unit = 2.0 ** int(case.split("**")[1])
            wide[columns] *= unit

    plain, changed = plain_three, _three_arm(tmp_path / "trial", change)
    # before: a LinAlgError traceback ("Singular matrix") or a spuriously singular design
    assert changed.failures[changed.failures["endpoint"] == "pain"].empty
    a = plain.table[(plain.table["endpoint"] == "pain") & ~plain.table["analysis"].str.endswith("lsmean")]
    b = changed.table[(changed.table["endpoint"] == "pain") & ~changed.table["analysis"].str.endswith("lsmean")]
    _same(a, b, unit=unit)


@pytest.mark.parametrize(("case", "name"), [("respiratory", "respiratory"), ("epilepsy", "epilepsy")])
def test_binary_and_count_models_take_a_covariate_of_1e15_plus_noise(tmp_path, case, name) -> None:
    models = ["logistic", "standardised_rd", "negative_binomial", "poisson", "quasipoisson"]
    runs = {}
    for label, change in (("plain", 0.0), ("shifted", 2.0**50), ("scaled", None)):
        folder = tmp_path / label
        shutil.copytree(END_TO_END / name, folder)
        data = pd.read_csv(folder / "trial.csv")
        if change is None:
            data["age"] = data["age"] * 2.0**150
        else:
            data["age"] = data["age"] + change
        data.to_csv(folder / "trial.csv", index=False)
        runs[label] = tk.analyze(tk.load(folder / "study.toml"), analyses=models)
    # before: "term 'age' is collinear with the terms before it" for every model
    assert runs["shifted"].failures.empty and runs["scaled"].failures.empty
    _same(runs["plain"].table, runs["shifted"].table, rtol=1e-7)
    _same(runs["plain"].table, runs["scaled"].table, rtol=1e-7)


def test_the_t_tests_and_pooled_sd_of_1e15_plus_noise_equal_those_of_the_noise() -> None:
    rng = np.random.default_rng(5)
    x, y = np.round(rng.normal(1, 2, 15) * 4) / 4, np.round(rng.normal(0, 2, 13) * 4) / 4
    for equal in (True, False):
        plain = tk.analysis.two_sample_t(x, y, equal_var=equal)
        shifted = tk.analysis.two_sample_t(x + 2.0**50, y + 2.0**50, equal_var=equal)
        np.testing.assert_allclose(
            [shifted.estimate, shifted.std_error, shifted.df, shifted.p_value],
            [plain.estimate, plain.std_error, plain.df, plain.p_value],
            rtol=1e-12,
        )
    assert tk.analysis.pooled_sd(x + 2.0**50, y + 2.0**50) == pytest.approx(tk.analysis.pooled_sd(x, y), rel=1e-12)


def test_the_hodges_lehmann_search_is_scaled_to_a_narrow_range() -> None:
    # R's absolute tolerance (1e-4) stops the search at its first step for data on a 1e-6 scale
    assert root_tol(-3.0, 5.0) == ROOT_TOL and root_tol(0.0, 0.07) == ROOT_TOL
    assert root_tol(0.0, 1e-6) == ROOT_TOL * 2.0**-16
    rng = np.random.default_rng(2)
    x, y = rng.normal(0.5, 1, 40), rng.normal(0, 1, 40)
    plain = tk.analysis.mann_whitney(x, y)
    tiny = tk.analysis.mann_whitney(x * 2.0**-240, y * 2.0**-240)
    assert plain.method == tiny.method and plain.p_value == tiny.p_value
    # before: 83 times off; now within the search's tolerance relative to the range (R's 1e-4 in 0.0625)
    spread = (x.max() - y.min()) - (x.min() - y.max())
    assert abs(tiny.estimate * 2.0**240 - plain.estimate) < 2e-3 * spread


def test_own_unit_leaves_ordinary_values_alone() -> None:
    ordinary = np.array([12.0, 30.5, np.nan, 28.0])
    assert own_unit(ordinary) == (0.0, 1.0) and in_own_unit(ordinary) is ordinary
    assert own_unit(np.array([1e308, -1e308])) == (0.0, 1.0)  # refused by analyze, not rescaled
    centre, unit = own_unit(np.array([2.0**50, 2.0**50 + 2.0]))
    assert (centre, unit) == (2.0**50 + 1.0, 1.0)
    assert own_unit(np.array([3e-70, 5e-70]))[1] == 2.0**-232  # the power of two at or above 1e-70
