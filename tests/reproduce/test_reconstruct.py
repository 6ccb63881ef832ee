"""Calibrated reconstruction: targets from the published file and the calibrated abbasi2012 bundle.

Tolerances: p-values 1e-10 relative (the construction is exact up to floating point; the written
files keep 14 significant digits, about 1e-12 in p); integer scales within the granularity of n
integers (see tests/reproduce/test_moment_matching.py) and the ISI p to the published rounding
(0.006 = [0.0055, 0.0065]). Moment matching and the inversion of Student's t are tested in
tests/reproduce/test_moment_matching.py and tests/reproduce/test_targets.py.
"""

from __future__ import annotations

import importlib.util
import json
import math
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import trialkit as tk
from trialkit._errors import TrialkitError
from trialkit._simulate import ArmDesign, read_design, simulate
from trialkit.analysis import two_sample_t
from trialkit.reproduce.published import parse_published, read_published
from trialkit.reproduce.reconstruct import ASSUMED_TEST, Target, change_moments, reconstruct, targets_from_published

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "data" / "synthetic" / "abbasi2012"
MAKE_SCRIPT = ROOT / "scripts" / "make_abbasi2012.py"
PUBLISHED = ROOT / "data" / "published" / "abbasi2012.toml"
REL = 1e-10


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("abbasi2012_make_calibrated", MAKE_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return _load_script()


@pytest.fixture(scope="module")
def targets(script) -> dict[str, Target]:
    found = targets_from_published(read_published(PUBLISHED), assumed_directions=script.ASSUMED_DIRECTIONS)
    return {t.endpoint: t for t in found}


@pytest.fixture(scope="module")
def bundled() -> tk.Trial:
    return tk.load(BUNDLE / "study.toml")


def _changes(trial: tk.Trial, endpoint: str) -> dict[str, np.ndarray]:
    """Per arm, the change baseline -> week 8 of the subjects with both (log change on log scale)."""
    d = trial.data.loc[trial.data["endpoint"] == endpoint]
    wide = d.pivot(index="subject", columns="visit", values="value").dropna()
    arm = trial.subjects.set_index("subject")["arm"].astype(str)
    log = trial.spec.endpoint(endpoint).scale == "log"
    change = (np.log(wide["week8"]) - np.log(wide["baseline"])) if log else wide["week8"] - wide["baseline"]
    return {a: change[arm.loc[change.index] == a].to_numpy(float) for a in ("magnesium", "placebo")}


# --- change moments of the design (moment matching and the inversion of Student's t are tested in
# --- tests/reproduce/test_moment_matching.py and tests/reproduce/test_targets.py) ------------------------------


def test_change_moments_follow_the_design_on_linear_and_log_scales() -> None:
    design = read_design(BUNDLE / "design.toml")
    isi = next(e for e in design.endpoints if e.id == "isi")
    assert change_moments(isi, "placebo") == pytest.approx((-2.0, math.sqrt(3.5**2 + 4.5**2 - 3.5 * 4.5)))
    renin = next(e for e in design.endpoints if e.id == "renin")
    mean, sd = change_moments(renin, "placebo")
    sigma2 = math.log1p((8 / 15) ** 2)
    assert mean == pytest.approx(0.0, abs=1e-15) and sd == pytest.approx(math.sqrt(2 * sigma2 * (1 - 0.6)))


# --- targets from the published file ---------------------------------------------------------


def test_targets_follow_the_published_file_with_documented_choices(targets) -> None:
    assert set(targets) == {e.id for e in read_design(BUNDLE / "design.toml").endpoints}
    renin = targets["renin"]
    assert (renin.reported, renin.p_value, renin.low, renin.high) == ("< 0.001", 0.0005, 0.0, 0.001)
    assert "bound" in renin.note
    isi = targets["isi"]
    assert (isi.p_value, isi.direction, isi.low, isi.high) == (0.006, -1, 0.0055, 0.0065)
    assert targets["serum_magnesium"].direction == -1 and targets["serum_magnesium"].direction_published
    tst = targets["total_sleep_time"]
    assert (tst.p_value, tst.direction, tst.direction_published) == (0.37, 1, False)


def test_an_outcome_without_direction_needs_an_assumed_one() -> None:
    published = read_published(PUBLISHED)
    with pytest.raises(TrialkitError, match="total_sleep_time.*assumed_directions"):
        targets_from_published(published)
    raw = {
        "trial": {"id": "demo"},
        "citation": {"authors": ["Doe J"], "title": "A trial", "year": 2020, "source": "title page"},
        "design": {"type": "parallel", "control": "placebo", "visits": ["week8"], "source": "abstract"},
        "arms": {"active": {"source": "abstract"}, "placebo": {"source": "abstract"}},
        "outcomes": [{"id": "pain", "direction": "decrease", "p": "> 0.05", "source": "abstract"}],
    }
    (pain,) = targets_from_published(parse_published(raw))
    assert (pain.p_value, pain.low, pain.high, pain.direction) == (0.525, 0.05, 1.0, -1)


def test_reconstruct_needs_one_target_per_endpoint(targets) -> None:
    design = read_design(BUNDLE / "design.toml")
    partial = [t for name, t in targets.items() if name != "cortisol"]
    with pytest.raises(TrialkitError, match="no target for cortisol"):
        reconstruct(design, partial, 20120104)
    extra = [*targets.values(), Target("wellbeing", "0.5", 0.5, 0.45, 0.55, 1)]
    with pytest.raises(TrialkitError, match="design lacks: wellbeing"):
        reconstruct(design, extra, 20120104)


def test_reconstruct_needs_two_arms_and_two_visits(targets) -> None:
    design = read_design(BUNDLE / "design.toml")
    with pytest.raises(TrialkitError, match="two visits"):
        reconstruct(replace(design, visits=("baseline", "week4", "week8")), targets, 1)
    with pytest.raises(TrialkitError, match="two-arm design"):
        reconstruct(replace(design, arms=(*design.arms, ArmDesign("zinc", 23))), targets, 1)


def test_reconstruct_refuses_binary_and_count_endpoints(targets) -> None:
    design = read_design(BUNDLE / "design.toml")
    endpoints = (replace(design.endpoints[0], type="binary"), *design.endpoints[1:])
    with pytest.raises(TrialkitError, match=r"endpoint 'isi' \(binary\) is not continuous"):
        reconstruct(replace(design, endpoints=endpoints), targets, 1)


# --- the calibrated bundle ------------------------------------------------------------------


def test_every_outcome_reproduces_its_published_p_with_student_t_on_change(bundled, targets) -> None:
    for endpoint, target in targets.items():
        change = _changes(bundled, endpoint)
        res = two_sample_t(change["magnesium"], change["placebo"], equal_var=True)
        scipy_p = stats.ttest_ind(change["magnesium"], change["placebo"], equal_var=True).pvalue
        assert math.isclose(res.p_value, scipy_p, rel_tol=1e-9)
        assert np.sign(res.estimate) == target.direction, endpoint
        if bundled.spec.endpoint(endpoint).integer:
            assert target.admits(res.p_value), (endpoint, res.p_value)
        else:
            assert math.isclose(res.p_value, target.p_value, rel_tol=REL), (endpoint, res.p_value)


def test_isi_is_calibrated_to_the_published_rounding_only(bundled, targets) -> None:
    change = _changes(bundled, "isi")
    p = two_sample_t(change["magnesium"], change["placebo"], equal_var=True).p_value
    assert round(p, 3) == 0.006 and 0.0055 <= p <= 0.0065
    assert p != 0.006  # integers: exact calibration is impossible (see match_moments_integer)
    for values in change.values():
        assert np.array_equal(values, np.round(values))


def test_trialkit_student_change_rows_give_the_published_p(bundled, targets) -> None:
    res = tk.analyze(bundled, analyses=["student_change"], sweep=False).table
    for endpoint, target in targets.items():
        row = res.loc[(res["endpoint"] == endpoint) & (res["analysis"] == "student_change")].iloc[0]
        if endpoint == "isi":
            assert target.admits(row["p_value"])
        else:
            assert math.isclose(row["p_value"], target.p_value, rel_tol=REL), endpoint


def test_serum_magnesium_still_falls_with_supplementation(bundled) -> None:
    change = _changes(bundled, "serum_magnesium")
    assert change["magnesium"].mean() < 0  # falls in the magnesium arm
    assert change["magnesium"].mean() < change["placebo"].mean()  # and relative to placebo


def test_total_sleep_time_p_is_037(bundled) -> None:
    change = _changes(bundled, "total_sleep_time")
    p = two_sample_t(change["magnesium"], change["placebo"], equal_var=True).p_value
    assert math.isclose(p, 0.37, rel_tol=REL)


def test_every_calibrated_value_is_in_range_and_baselines_keep_their_digits(bundled) -> None:
    d = bundled.data.dropna(subset=["value"])
    for e in bundled.spec.endpoints:
        values = d.loc[d["endpoint"] == e.id, "value"]
        assert values.between(*e.range).all(), e.id
        if e.scale == "log":
            assert (values > 0).all()
    design = read_design(BUNDLE / "design.toml")
    for e in design.endpoints:
        base = d.loc[(d["endpoint"] == e.id) & (d["visit"] == "baseline"), "value"]
        assert np.allclose(base, np.round(base, e.decimals), rtol=0, atol=1e-12), e.id


def test_calibration_keeps_the_simulated_subjects_covariates_baselines_and_dropouts(script) -> None:
    rec = script.build()
    plain = simulate(read_design(BUNDLE / "design.toml"), script.SEED)
    for arm, frame in rec.simulation.frames.items():
        keep = [c for c in frame.columns if not c.endswith("_week8")]
        pd.testing.assert_frame_equal(frame[keep], plain.frames[arm][keep])
        post = [c for c in frame.columns if c.endswith("_week8")]
        assert frame[post].isna().equals(plain.frames[arm][post].isna())


def test_manifest_records_the_targets_and_achieved_p(script) -> None:
    manifest = json.loads((BUNDLE / "MANIFEST.json").read_text(encoding="utf-8"))
    record = manifest["calibration"]
    assert record == json.loads(json.dumps(script.calibration_record(script.build())))
    assert record["test"] == ASSUMED_TEST
    assert set(record["outcomes"]) == {e.id for e in read_design(BUNDLE / "design.toml").endpoints}
    assert all(o["reproduced"] for o in record["outcomes"].values())
    assert record["outcomes"]["renin"]["target_p"] == 0.0005


def test_regeneration_is_byte_identical(script, tmp_path: Path) -> None:
    for folder in ("a", "b"):
        script.write(tmp_path / folder, script.SEED)
    for name in ("magnesium.csv", "placebo.csv", "study.toml", "MANIFEST.json"):
        first, second = (tmp_path / f / name for f in ("a", "b"))
        if name == "MANIFEST.json":  # the command names the output folder
            a, b = (json.loads(p.read_text()) for p in (first, second))
            assert {k: v for k, v in a.items() if k != "command"} == {k: v for k, v in b.items() if k != "command"}
        else:
            assert first.read_bytes() == second.read_bytes() == (BUNDLE / name).read_bytes(), name


def test_bundled_seed_is_the_first_from_20120101_with_every_calibrated_value_in_range(script) -> None:
    assert script.FIRST_CANDIDATE == 20120101
    for seed in range(script.FIRST_CANDIDATE, script.SEED):
        with pytest.raises(TrialkitError, match="outside the endpoint's range"):
            script.build(seed)
    assert all(c.reproduced for c in script.build(script.SEED).calibrations)


def test_analysed_subjects_are_21_men_and_22_women_as_published(bundled) -> None:
    analysed = bundled.data.loc[(bundled.data["visit"] == "week8") & bundled.data["value"].notna(), "subject"]
    sex = bundled.subjects.set_index("subject").loc[analysed.unique(), "sex"]
    assert sex.value_counts().to_dict() == {"female": 22, "male": 21}
