"""Reproduction verdicts for the 2012 trial: published p's against the calibrated reconstruction."""

from __future__ import annotations

from pathlib import Path

import trialkit as tk
from trialkit.reproduce.published import read_published
from trialkit.reproduce.reproduction import BY_CONSTRUCTION, REPRODUCTION_COLUMNS, VERDICTS, reproduce

ROOT = Path(__file__).parents[1]
PUBLISHED = ROOT / "data" / "published" / "abbasi2012.toml"
BUNDLED = ROOT / "data" / "synthetic" / "abbasi2012" / "study.toml"
UNCALIBRATED = ROOT / "tests" / "reference" / "analyses" / "abbasi2012" / "study.toml"


def _reproduce(spec: Path | None, *, calibrated: bool = False):
    published = read_published(PUBLISHED)
    if spec is None:
        return reproduce(published, calibrated=calibrated)
    trial = tk.load(spec)
    res = tk.analyze(trial, analyses=["ancova", "student_change"], sweep=False)
    logs = frozenset(e.id for e in trial.spec.endpoints if e.scale == "log")
    return reproduce(
        published, results_table=res.table, visit=trial.spec.visits.primary, log_endpoints=logs, calibrated=calibrated
    )


def test_calibrated_reconstruction_reproduces_all_ten_outcomes() -> None:
    r = _reproduce(BUNDLED, calibrated=True)
    t = r.table.set_index("outcome")
    assert tuple(r.table.columns) == REPRODUCTION_COLUMNS and len(t) == 10
    assert REPRODUCTION_COLUMNS[-1] == "data" and REPRODUCTION_COLUMNS[-3:-1] == ("verdict", "reason")
    assert (t["verdict"] == "reproduced").all(), t[["p_published", "p_recomputed", "reason"]]
    # true by construction: the data were calibrated so that this test gives each published p
    assert BY_CONSTRUCTION == "by construction: the data were calibrated to the published p; "
    assert t["reason"].str.startswith(BY_CONSTRUCTION).all(), t["reason"]
    assert t["reason"].str.contains("prints as the published").all()
    assert set(t["data"]) == {"calibrated reconstruction (synthetic)"}
    assert t.loc["serum_magnesium", "direction_recomputed"] == "decrease"
    assert "counter-intuitive" in t.loc["serum_magnesium", "flags"]
    assert t.loc["renin", "p_recomputed"] < 0.001
    # the side-by-side: ANCOVA on the same data is a different test, with its own p
    assert t["p_ancova"].notna().all() and (t["p_ancova"] != t["p_recomputed"]).any()


def test_uncalibrated_data_are_not_reproducible_and_say_why() -> None:
    t = _reproduce(UNCALIBRATED).table.set_index("outcome")
    bad = t.loc[t["verdict"] == "not reproducible"]
    assert len(bad) >= 5
    assert bad["reason"].str.contains("does not print as").all()
    assert set(t["data"]) == {"individual data"} and not t["reason"].str.startswith("by construction").any()


def test_calibrated_flag_never_turns_a_mismatch_into_a_match() -> None:
    plain = _reproduce(UNCALIBRATED).table.set_index("outcome")
    flagged = _reproduce(UNCALIBRATED, calibrated=True).table.set_index("outcome")
    assert (plain["verdict"] == flagged["verdict"]).all()
    matched = flagged["verdict"] == "reproduced"
    assert flagged.loc[matched, "reason"].str.startswith(BY_CONSTRUCTION).all()
    assert not flagged.loc[~matched, "reason"].str.startswith("by construction").any()
    assert flagged.loc[~matched, "reason"].str.contains("calibrated to the published p").all()
    assert set(flagged["data"]) == {"calibrated reconstruction (synthetic)"}


def test_without_data_every_outcome_is_not_assessable() -> None:
    t = _reproduce(None).table
    assert set(t["verdict"]) == {"not assessable"} and t["p_recomputed"].isna().all()
    assert set(t["data"]) == {"none"}
    # no data, nothing calibrated: the flag alone does not mark a verdict as by construction
    t = _reproduce(None, calibrated=True).table
    assert set(t["data"]) == {"none"} and not t["reason"].str.startswith("by construction").any()
    assert set(VERDICTS) >= set(t["verdict"])


def test_holm_and_bh_survival_over_the_ten_published_p_values() -> None:
    t = _reproduce(None).table.set_index("outcome")
    assert set(t.index[t["survives_holm"]]) == {"renin", "sleep_time", "isi", "melatonin", "cortisol"}
    assert set(t.index[t["survives_bh"]]) == {
        "renin",
        "sleep_time",
        "isi",
        "melatonin",
        "cortisol",
        "sleep_onset_latency",
        "sleep_efficiency",
    }
