"""Synthetic trials: designs are checked, draws match the design, files are byte-reproducible.

Moment checks use n = 20,000 per arm and a tolerance of 4 standard errors per quantity (a
two-sided 4-SE band holds with probability 0.99994 under the model):

* mean: SE = s / sqrt(n);
* SD (normal): SE = s / sqrt(2n); integer scores are compared with the Sheppard-corrected
  sqrt(s^2 + 1/12), as rounding to whole numbers adds 1/12 to the variance;
* SD (log-normal): SE = s * sqrt((kurtosis_excess + 2) / n) / 2 (delta method on the variance);
* correlation: SE = (1 - rho^2) / sqrt(n);
* proportion: SE = sqrt(p (1 - p) / n).
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import trialkit as tk
from trialkit._errors import Rule, TrialkitError, ValidationError
from trialkit._simulate import exact_counts, format_frame, lognormal_params, parse_design, read_design, simulate

BUNDLE = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "abbasi2012"
MAKE_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_abbasi2012.py"
DESIGN = BUNDLE / "design.toml"
GENERATED = ("magnesium.csv", "placebo.csv", "study.toml")
N_LARGE = 20_000
SE_BAND = 4.0

# published direction of magnesium - placebo (reference/abbasi2012.md); 0 = no difference
PUBLISHED_DIRECTION = {
    "isi": -1,
    "sleep_time": +1,
    "sleep_efficiency": +1,
    "sleep_onset_latency": -1,
    "early_awakening": -1,
    "serum_magnesium": -1,
    "melatonin": +1,
    "cortisol": -1,
    "renin": +1,
    "total_sleep_time": 0,
}


def _manifest() -> dict[str, Any]:
    return json.loads((BUNDLE / "MANIFEST.json").read_text(encoding="utf-8"))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def bundled() -> tk.Trial:
    return tk.load(BUNDLE / "study.toml")


# --- the bundled abbasi2012 data ------------------------------------------------------------


def _make_calibrated() -> ModuleType:
    """Import the bundle's regeneration script (the bundled data are simulated, then calibrated)."""
    spec = importlib.util.spec_from_file_location("abbasi2012_make_calibrated", MAKE_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundled_files_regenerate_byte_identical_from_design_and_seed(tmp_path: Path) -> None:
    written = _make_calibrated().write(tmp_path, _manifest()["seed"])
    assert [p.name for p in written] == [*GENERATED, "MANIFEST.json"]
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (BUNDLE / name).read_bytes(), name
    regenerated = json.loads((tmp_path / "MANIFEST.json").read_text(encoding="utf-8"))
    assert regenerated["calibration"] == _manifest()["calibration"]


def test_bundled_manifest_hashes_match_files_and_design() -> None:
    m = _manifest()
    assert m["design"]["sha256"] == _sha(DESIGN), "design.toml changed: regenerate (README.md)"
    assert m["published"]["sha256"] == _sha(BUNDLE.parents[2] / m["published"]["path"]), (
        "data/published/abbasi2012.toml changed: regenerate (README.md)"
    )
    assert m["files"] == {name: _sha(BUNDLE / name) for name in GENERATED}
    assert m["seed"] == 20120104
    assert m["versions"]["trialkit"]


def test_bundled_trial_has_46_subjects_23_per_arm(bundled: tk.Trial) -> None:
    assert len(bundled.subjects) == 46
    assert bundled.subjects.groupby("arm", observed=True).size().to_dict() == {"placebo": 23, "magnesium": 23}
    assert bundled.arms == ("placebo", "magnesium")
    assert [e.id for e in bundled.spec.endpoints] == list(PUBLISHED_DIRECTION)


def test_bundled_trial_misses_week8_of_2_magnesium_and_1_placebo_subjects(bundled: tk.Trial) -> None:
    counts = bundled.missing_counts().set_index(["arm", "visit", "endpoint"])["n_missing"]
    for endpoint in PUBLISHED_DIRECTION:
        assert counts[("magnesium", "week8", endpoint)] == 2
        assert counts[("placebo", "week8", endpoint)] == 1
        assert counts[("magnesium", "baseline", endpoint)] == 0
        assert counts[("placebo", "baseline", endpoint)] == 0
    missing = bundled.data.loc[bundled.data["value"].isna()]
    assert missing.groupby("subject", observed=True).size().to_dict() == {
        s: 10 for s in missing["subject"].unique()
    }  # a dropout misses all ten endpoints


def test_bundled_isi_is_whole_numbers_within_0_to_28(bundled: tk.Trial) -> None:
    isi = bundled.data.loc[bundled.data["endpoint"] == "isi", "value"].dropna()
    assert len(isi) == 46 + 43
    assert np.array_equal(isi, np.round(isi))
    assert isi.between(0, 28).all()


def test_bundled_serum_magnesium_baseline_obeys_exclusion_rule(bundled: tk.Trial) -> None:
    d = bundled.data
    base = d.loc[(d["endpoint"] == "serum_magnesium") & (d["visit"] == "baseline"), "value"]
    assert base.max() <= 0.95


def test_bundled_covariates_age_60_to_75_and_sex_11_12_per_arm(bundled: tk.Trial) -> None:
    s = bundled.subjects
    assert s["age"].between(60, 75).all() and np.array_equal(s["age"], np.round(s["age"]))
    assert abs(s["age"].mean() - 65) < 1.5
    sex = s.groupby(["arm", "sex"], observed=True).size().to_dict()
    assert sex == {
        ("placebo", "female"): 12,
        ("placebo", "male"): 11,
        ("magnesium", "female"): 12,
        ("magnesium", "male"): 11,
    }


def test_bundled_spec_declares_endpoints_as_designed(bundled: tk.Trial) -> None:
    spec = bundled.spec
    isi = spec.endpoint("isi")
    assert (isi.primary, isi.integer, isi.range, isi.better, isi.responder_change) == (
        True,
        True,
        (0.0, 28.0),
        "lower",
        -6.0,
    )
    assert [e.id for e in spec.endpoints if e.scale == "log"] == ["melatonin", "cortisol", "renin"]
    assert spec.endpoint("serum_magnesium").unit == "mmol/L"
    assert spec.endpoint("sleep_efficiency").range == (0.0, 100.0)
    assert (spec.arms.control, spec.visits.baseline, spec.visits.primary) == ("placebo", "baseline", "week8")
    assert spec.analysis.covariates == ("age", "sex") and spec.analysis.categorical == ("sex",)


def test_abbasi_design_effects_follow_published_directions() -> None:
    design = read_design(DESIGN)
    for e in design.endpoints:
        mg, pl = e.mean["magnesium"], e.mean["placebo"]
        assert mg[0] == pl[0], f"{e.id}: baselines differ between randomised arms"
        assert np.sign(mg[1] - pl[1]) == PUBLISHED_DIRECTION[e.id], e.id
    assert [(a.id, a.n, a.dropout) for a in design.arms] == [("magnesium", 23, 2), ("placebo", 23, 1)]


# --- reproducibility and writing ------------------------------------------------------------


def test_same_seed_gives_identical_bytes_other_seed_different(tmp_path: Path) -> None:
    design = read_design(DESIGN)
    for folder, seed in (("a", 5), ("b", 5), ("c", 6)):
        simulate(design, seed).to_files(tmp_path / folder)
    for name in ("magnesium.csv", "placebo.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()


def test_written_files_load_back_to_the_simulated_values(tmp_path: Path) -> None:
    sim = simulate(parse_design(_small_design(), file="small.toml"), 3)
    paths = sim.to_files(tmp_path / "out", command=["trialkit", "simulate", "x y.toml"])
    assert [p.name for p in paths] == ["a.csv", "b.csv", "study.toml", "MANIFEST.json"]
    manifest = json.loads(paths[-1].read_text())
    assert manifest["command"] == "trialkit simulate 'x y.toml'" and manifest["design"] is None
    assert manifest["files"] == {p.name: _sha(p) for p in paths[:-1]}
    assert b"\r" not in paths[0].read_bytes()
    trial = tk.load(tmp_path / "out" / "study.toml")
    got = trial.data.pivot(index="subject", columns=["endpoint", "visit"], values="value")
    for frame in sim.frames.values():
        for col in ("score_baseline", "score_week8", "bio_week4"):
            endpoint, visit = col.rsplit("_", 1)
            expected = frame.set_index("subject_id")[col]
            np.testing.assert_array_equal(got.loc[expected.index, (endpoint, visit)], expected)
    assert trial.spec.study.title == 'A "quoted" title'


def test_format_frame_prints_fixed_decimals_and_empty_missing() -> None:
    frame = pd.DataFrame({"id": ["X-1", "X-2"], "v": [0.1 + 0.2, np.nan], "k": [3, 4]})
    assert format_frame(frame, {"v": 3}) == "id,v,k\nX-1,0.300,3\nX-2,,4\n"


def test_to_files_writes_nothing_when_the_design_file_cannot_be_read(tmp_path: Path) -> None:
    sim = simulate(parse_design(_small_design(), file="small.toml"), 3)
    with pytest.raises(TrialkitError, match="cannot read the design file"):
        sim.to_files(tmp_path / "out", design_path=tmp_path / "absent.toml")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("seed", [-1, 1.5, True, "7"])
def test_simulate_rejects_a_bad_seed(seed: Any) -> None:
    with pytest.raises(TrialkitError, match="seed"):
        simulate(parse_design(_small_design(), file="small.toml"), seed)


# --- draws match the design (large n) -------------------------------------------------------


def _small_design(n: int = 6) -> dict[str, Any]:
    return {
        "study": {"id": "small", "title": 'A "quoted" title'},
        "arms": {"control": "b", "a": {"n": n, "dropout": 1, "prefix": "A"}, "b": {"n": n, "prefix": "B"}},
        "visits": {"order": ["baseline", "week4", "week8"], "baseline": "baseline"},
        "covariates": {
            "age": {"type": "numeric", "mean": 50.0, "sd": 10.0, "range": [40, 70], "integer": True},
            "sex": {"type": "categorical", "levels": ["m", "f"], "proportions": [0.3, 0.7]},
        },
        "endpoints": [
            {
                "id": "score",
                "range": [0, 100],
                "integer": True,
                "better": "lower",
                "primary": True,
                "responder": {"change": -10},
                "correlation": 0.5,
                "mean": {
                    "a": {"baseline": 50, "week4": 45, "week8": 40},
                    "b": {"baseline": 50, "week4": 49, "week8": 48},
                },
                "sd": {"a": {"baseline": 8, "week4": 9, "week8": 10}, "b": {"baseline": 8, "week4": 8, "week8": 8}},
            },
            {
                "id": "bio",
                "scale": "log",
                "range": [0, 1000],
                "decimals": 3,
                "correlation": [[1, 0.6, 0.4], [0.6, 1, 0.6], [0.4, 0.6, 1]],
                "mean": {
                    "a": {"baseline": 20, "week4": 24, "week8": 30},
                    "b": {"baseline": 20, "week4": 20, "week8": 20},
                },
                "sd": {"a": {"baseline": 6, "week4": 8, "week8": 12}, "b": {"baseline": 6, "week4": 6, "week8": 6}},
            },
            {
                "id": "lab",
                "decimals": 4,
                "correlation": 0.6,
                "baseline_range": [0, 0.9],
                "mean": {
                    "a": {"baseline": 0.8, "week4": 0.8, "week8": 0.8},
                    "b": {"baseline": 0.8, "week4": 0.8, "week8": 0.8},
                },
                "sd": {
                    "a": {"baseline": 0.1, "week4": 0.1, "week8": 0.1},
                    "b": {"baseline": 0.1, "week4": 0.1, "week8": 0.1},
                },
            },
        ],
    }


@pytest.fixture(scope="module")
def large() -> Any:
    return simulate(parse_design(_small_design(N_LARGE), file="large.toml"), 20240601)


def _within(value: float, expected: float, se: float) -> bool:
    return abs(value - expected) <= SE_BAND * se


def test_large_n_integer_score_moments_and_correlation_match_design(large) -> None:
    visits = ("baseline", "week4", "week8")
    for arm in ("a", "b"):
        f = large.frames[arm]
        ep = large.design.endpoints[0]
        cols = [f"score_{v}" for v in visits]
        full = f[cols].dropna()  # arm a: the dropout misses week 4 and 8
        for j, col in enumerate(cols):
            x = f[col].dropna()
            assert np.array_equal(x, np.round(x)) and x.between(0, 100).all()
            m, s = ep.mean[arm][j], ep.sd[arm][j]
            assert _within(x.mean(), m, s / math.sqrt(len(x))), (arm, col)
            assert _within(x.std(), math.sqrt(s**2 + 1 / 12), s / math.sqrt(2 * len(x))), (arm, col)
        r = np.corrcoef(full.to_numpy().T)
        for i, j in ((0, 1), (0, 2), (1, 2)):
            assert _within(r[i, j], 0.5, (1 - 0.25) / math.sqrt(len(full))), (arm, i, j)


def test_large_n_lognormal_natural_scale_mean_sd_and_log_correlation_recovered(large) -> None:
    ep = large.design.endpoints[1]
    for arm in ("a", "b"):
        f = large.frames[arm][["bio_baseline", "bio_week4", "bio_week8"]].dropna()
        n = len(f)
        for j, col in enumerate(f.columns):
            m, s = ep.mean[arm][j], ep.sd[arm][j]
            mu, sigma = lognormal_params(m, s)
            kurt = float(stats.lognorm(s=sigma, scale=math.exp(mu)).stats(moments="k"))
            assert _within(f[col].mean(), m, s / math.sqrt(n)), (arm, col)
            assert _within(f[col].std(), s, s * math.sqrt((kurt + 2) / n) / 2), (arm, col)
            assert _within(np.log(f[col]).mean(), mu, sigma / math.sqrt(n)), (arm, col)
        r = np.corrcoef(np.log(f.to_numpy()).T)
        for (i, j), rho in {(0, 1): 0.6, (0, 2): 0.4, (1, 2): 0.6}.items():
            assert _within(r[i, j], rho, (1 - rho**2) / math.sqrt(n)), (arm, i, j)


def test_lognormal_params_reproduce_mean_and_sd_exactly() -> None:
    mu, sigma = lognormal_params(np.array([20.0, 400.0]), np.array([10.0, 120.0]))
    dist = stats.lognorm(s=sigma, scale=np.exp(mu))
    np.testing.assert_allclose(dist.mean(), [20.0, 400.0], rtol=1e-12)
    np.testing.assert_allclose(dist.std(), [10.0, 120.0], rtol=1e-12)


def test_baseline_window_truncates_baseline_and_later_visits_follow_it(large) -> None:
    for arm in ("a", "b"):
        f = large.frames[arm]
        base = f["lab_baseline"]
        assert base.max() <= 0.9
        trunc = stats.truncnorm(-np.inf, (0.9 - 0.8) / 0.1, loc=0.8, scale=0.1)
        assert _within(base.mean(), trunc.mean(), trunc.std() / math.sqrt(len(base)))
        # E[week8] = m + s * rho * E[Z_baseline]: the window shifts later visits through rho
        z_shift = (trunc.mean() - 0.8) / 0.1
        week8 = f["lab_week8"].dropna()
        assert _within(week8.mean(), 0.8 + 0.1 * 0.6 * z_shift, 0.1 / math.sqrt(len(week8)))


def test_covariates_truncated_normal_age_and_sex_proportions(large) -> None:
    trunc = stats.truncnorm((40 - 50) / 10, (70 - 50) / 10, loc=50, scale=10)
    for arm in ("a", "b"):
        f = large.frames[arm]
        assert f["age"].dtype == np.int64 and f["age"].between(40, 70).all()
        assert _within(f["age"].mean(), trunc.mean(), trunc.std() / math.sqrt(N_LARGE))
        p = (f["sex"] == "m").mean()
        assert _within(p, 0.3, math.sqrt(0.3 * 0.7 / N_LARGE))


def test_exact_allocation_gives_largest_remainder_counts_per_arm() -> None:
    assert exact_counts((21 / 43, 22 / 43), 23).tolist() == [11, 12]
    assert exact_counts((0.5, 0.5), 3).tolist() == [2, 1]
    raw = _small_design(23)
    raw["covariates"]["sex"]["allocation"] = "exact"
    sim = simulate(parse_design(raw, file="x.toml"), 1)
    for frame in sim.frames.values():
        assert (frame["sex"] == "m").sum() == 7  # 0.3 x 23 = 6.9


def test_dropouts_miss_every_post_baseline_value_and_ids_are_ordered(large) -> None:
    a = large.frames["a"]
    lost = a["score_week4"].isna()
    assert lost.sum() == 1
    post = [c for c in a.columns if c.endswith(("_week4", "_week8"))]
    assert a.loc[lost, post].isna().all(axis=None)
    assert a.loc[:, [c for c in a.columns if c.endswith("_baseline")]].notna().all(axis=None)
    assert large.frames["b"].notna().all(axis=None)
    assert list(a.columns[:3]) == ["subject_id", "age", "sex"]
    assert a["subject_id"].iloc[0] == "A-00001" and a["subject_id"].is_monotonic_increasing


# --- malformed designs ----------------------------------------------------------------------


def _problems(raw: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(tk.ValidationError) as info:
        parse_design(raw, file="bad.toml")
    assert all(p.file == "bad.toml" for p in info.value.problems)
    return {(p.rule, p.column): p for p in info.value.problems}


def test_malformed_design_reports_every_problem_at_once_with_key_paths() -> None:
    raw = copy.deepcopy(_small_design())
    raw["arms"]["a"]["dropuot"] = 1  # typo
    raw["arms"]["b"]["dropout"] = 7  # > n = 6
    raw["endpoints"][0]["sd"]["a"]["week4"] = -2.0  # negative SD
    raw["endpoints"][0]["correlation"] = 1.5  # outside (-1, 1)
    del raw["endpoints"][1]["mean"]["b"]["week8"]  # missing mean
    raw["endpoints"][2]["lable"] = "Lab"  # typo
    got = _problems(raw)
    expected = {
        (Rule.UNKNOWN_KEY, "arms.a.dropuot"),
        (Rule.INVALID_VALUE, "arms.b.dropout"),
        (Rule.INVALID_VALUE, "endpoints[0].sd.a.week4"),
        (Rule.INVALID_VALUE, "endpoints[0].correlation"),
        (Rule.MISSING_KEY, "endpoints[1].mean.b.week8"),
        (Rule.UNKNOWN_KEY, "endpoints[2].lable"),
    }
    assert set(got) == expected
    assert "did you mean 'dropout'" in got[(Rule.UNKNOWN_KEY, "arms.a.dropuot")].message
    assert "did you mean 'label'" in got[(Rule.UNKNOWN_KEY, "endpoints[2].lable")].message
    assert "(-1, 1)" in got[(Rule.INVALID_VALUE, "endpoints[0].correlation")].message


def test_correlation_matrix_that_is_not_positive_definite_is_rejected() -> None:
    raw = _small_design()
    raw["endpoints"][1]["correlation"] = [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]
    got = _problems(raw)
    assert set(got) == {(Rule.INVALID_VALUE, "endpoints[1].correlation")}
    assert "positive definite" in got[(Rule.INVALID_VALUE, "endpoints[1].correlation")].message


def test_design_structure_problems_name_their_keys() -> None:
    raw = _small_design()
    raw["arms"]["control"] = "plcebo"
    raw["visitz"] = {}
    raw["covariates"]["sex"]["proportions"] = [0.5, 0.6]
    raw["endpoints"][0]["mean"]["c"] = {"baseline": 1}
    raw["endpoints"][1]["mean"]["a"]["baseline"] = -3.0  # log scale needs > 0
    raw["endpoints"][2]["baseline_range"] = [2.0, 3.0]  # excludes the distribution
    raw["endpoints"].append({"id": "x", "mean": {}, "sd": {}})  # no correlation, no means
    got = set(_problems(raw))
    assert {
        (Rule.INVALID_VALUE, "arms.control"),
        (Rule.UNKNOWN_KEY, "visitz"),
        (Rule.INVALID_VALUE, "covariates.sex.proportions"),
        (Rule.UNKNOWN_KEY, "endpoints[0].mean.c"),
        (Rule.INVALID_VALUE, "endpoints[1].mean.a.baseline"),
        (Rule.INVALID_VALUE, "endpoints[2].baseline_range"),
        (Rule.MISSING_KEY, "endpoints[3].correlation"),
        (Rule.MISSING_KEY, "endpoints[3].mean.a"),
        (Rule.MISSING_KEY, "endpoints[3].sd.b"),
    } <= got


def test_read_design_reports_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(tk.ValidationError) as info:
        read_design(tmp_path / "none.toml")
    assert info.value.problems[0].rule is Rule.FILE_NOT_FOUND
    bad = tmp_path / "bad.toml"
    bad.write_text("[study\nid = 1\n", encoding="utf-8")
    with pytest.raises(tk.ValidationError) as info:
        read_design(bad)
    assert info.value.problems[0].rule is Rule.SPEC_UNREADABLE


def test_a_design_endpoint_obeys_the_study_spec_rules_it_will_be_written_with() -> None:
    # the design's responder and range are read by the same rules as a study spec's, so a design
    # can never write a spec that trialkit.load would refuse
    raw = _small_design()
    raw["endpoints"][0]["responder"] = {"change": 10}  # a rise on a lower-is-better score
    raw["endpoints"][1].pop("better", None)
    raw["endpoints"][1]["responder"] = {"change": 2}
    with pytest.raises(ValidationError) as info:
        parse_design(raw, file="small.toml")
    found = {(p.rule, p.column) for p in info.value.problems}
    assert (Rule.INVALID_VALUE, "endpoints[0].responder.change") in found
    assert (Rule.MISSING_KEY, "endpoints[1].better") in found
