"""``analyze`` on two real trials with binary and count endpoints, against R (tests/reference/end_to_end/).

The files are read through ``trialkit.load`` as a user's would be: a binary endpoint written as the text
"good"/"poor", randomisation strata, count exposure per visit and a percent-change responder rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trialkit as tk

HERE = Path(__file__).resolve().parents[1] / "reference" / "end_to_end"
#: model estimates, SEs and p-values: trialkit repeats R's iterations at R's default convergence settings
MODEL = 1e-9
#: closed forms of counts (proportions, rates, exact and score intervals, Fisher, CMH)
CLOSED = 1e-9
MODELS = {"logistic", "negative_binomial", "poisson", "quasipoisson"}
KEY = ["endpoint", "visit", "analysis", "contrast"]


@pytest.fixture(scope="module", params=["respiratory", "epilepsy"])
def case(request: pytest.FixtureRequest) -> tuple[str, tk.Trial, tk.Results, pd.DataFrame]:
    trial = tk.load(HERE / request.param / "study.toml")
    return request.param, trial, tk.analyze(trial), pd.read_csv(HERE / request.param / "expected.csv")


def test_every_row_r_computes_matches(case: tuple[str, tk.Trial, tk.Results, pd.DataFrame]) -> None:
    _, _, res, expected = case
    got = res.table.loc[res.table["population"] == "fas"]
    merged = expected.merge(got, on=KEY, how="left", suffixes=("_r", ""), validate="one_to_one")
    assert not merged["estimate"].isna().any(), merged.loc[merged["estimate"].isna(), KEY]
    for column in ("estimate", "std_error", "ci_low", "ci_high", "df", "statistic", "p_value"):
        r = merged[f"{column}_r"].to_numpy(dtype=float)
        ours = merged[column].to_numpy(dtype=float)
        defined = ~np.isnan(r)
        tolerance = np.where(merged["analysis"].isin(MODELS), MODEL, CLOSED)[defined]
        np.testing.assert_array_less(
            np.abs(ours[defined] - r[defined]), tolerance * np.maximum(np.abs(r[defined]), 1e-300) + 1e-300
        )
    for column in ("n_treatment", "n_control"):
        r = merged[f"{column}_r"]
        assert (merged.loc[r.notna(), column].astype(int) == r.dropna().astype(int)).all()


@pytest.fixture(scope="module")
def respiratory() -> tuple[tk.Trial, tk.Results]:
    trial = tk.load(HERE / "respiratory" / "study.toml")
    return trial, tk.analyze(trial)


@pytest.fixture(scope="module")
def epilepsy() -> tk.Results:
    return tk.analyze(tk.load(HERE / "epilepsy" / "study.toml"))


def test_binary_text_values_and_strata(respiratory: tuple[tk.Trial, tk.Results]) -> None:
    trial, res = respiratory
    values = trial.data["value"].dropna().unique()
    assert set(values) == {0.0, 1.0}
    t = res.table
    assert set(t["analysis"]) >= {"standardised_rd", "standardised_rr", "standardised_or", "cmh", "mh_risk_difference"}
    primary = t.loc[(t["analysis"] == "standardised_rd") & (t["visit"] == "visit4")].iloc[0]
    assert primary["p_adjusted"] == primary["p_value"]
    assert res.provenance["primary_analyses"] == {"status": "standardised_rd"}
    assert res.provenance["strata"] == ["centre"]
    # the standardised effects are the logistic model's: the same subjects and covariates as the R glm
    direct = tk.analysis.logistic(
        _frame(trial, "visit4"),
        outcome="y",
        arm="arm",
        arms=("P", "A"),
        numeric=("baseline", "age"),
        categorical={"sex": ("F", "M"), "centre": ("centre 1", "centre 2")},
    )
    for e in direct.marginal:
        row = t.loc[(t["analysis"] == e.analysis.value) & (t["visit"] == "visit4")].iloc[0]
        assert row["estimate"] == pytest.approx(e.estimate, rel=1e-12)
        assert row["std_error"] == pytest.approx(e.std_error, rel=1e-12)
    assert res.failures.loc[res.failures["term"] != "skipped"].empty


def _frame(trial: tk.Trial, visit: str) -> pd.DataFrame:
    d = trial.data
    wide = d.pivot_table(index="subject", columns="visit", values="value", observed=True)
    s = trial.subjects.set_index("subject")
    return pd.DataFrame(
        {
            "arm": s["arm"].astype(str),
            "y": wide[visit],
            "baseline": wide["baseline"],
            "age": s["age"].astype(float),
            "sex": s["sex"].astype(str),
            "centre": s["centre"].astype(str),
        }
    ).reset_index(drop=True)


def test_counts_rates_and_percent_responders(epilepsy: tk.Results) -> None:
    res = epilepsy
    t = res.table
    assert res.provenance["primary_analyses"] == {"seizures": "negative_binomial"}
    nb = t.loc[(t["analysis"] == "negative_binomial") & (t["visit"] == "period4")].iloc[0]
    assert nb["p_adjusted"] == nb["p_value"]
    # the sweep of percent-change thresholds reaches the pre-specified -50 %
    sweep = res.responder_sweep
    assert -50.0 in set(sweep["threshold"])
    assert res.failures.loc[res.failures["term"] != "skipped"].empty


def test_strata_and_dunnett_on_a_three_arm_trial() -> None:
    """Region as the stratum, ``multiplicity = ["dunnett", "holm"]``: R's ANCOVA, Dunnett p, Holm and van Elteren z."""
    trial = tk.load(HERE / "three_arm_stratified" / "study.toml")
    res = tk.analyze(trial)
    assert res.provenance["dunnett"] is True and res.provenance["multiplicity"] == "holm"
    expected = pd.read_csv(HERE / "three_arm_stratified" / "expected.csv")
    got = res.table.loc[res.table["population"] == "fas"]
    merged = expected.merge(got, on=KEY, how="left", suffixes=("_r", ""), validate="one_to_one")
    for column in ("statistic", "p_value"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_r"], rtol=MODEL)
    ancova = merged["analysis"] == "ancova"
    # the Dunnett box probabilities: TVPACK in R (1e-14), Gauss–Legendre here (1e-12 absolute)
    np.testing.assert_allclose(merged.loc[ancova, "p_adjusted"], merged.loc[ancova, "p_adjusted_r"], rtol=1e-9)
    assert merged.loc[~ancova, "p_adjusted"].isna().all()
    # the van Elteren rows are the function's on the same changes and strata
    subjects = trial.subjects.reset_index(drop=True)
    score = trial.data.loc[trial.data["endpoint"] == "score"].pivot_table(
        index="subject", columns="visit", values="value", observed=True
    )
    change = (score["week8"] - score["baseline"]).reindex(subjects["subject"]).to_numpy()
    region = pd.Categorical(subjects["region"].astype(str))
    arm = subjects["arm"].astype(str).to_numpy()
    ok = ~np.isnan(change)
    for a in ("low", "high"):
        x, y = ok & (arm == a), ok & (arm == "placebo")
        direct = tk.analysis.van_elteren_arrays(
            change[x], change[y], region.codes[x], region.codes[y], strata=list(region.categories)
        )
        row = got.loc[
            (got["analysis"] == "van_elteren")
            & (got["endpoint"] == "score")
            & (got["visit"] == "week8")
            & (got["contrast"] == f"{a} - placebo")
        ]
        assert float(row["estimate"].iloc[0]) == direct.estimate
        assert float(row["ci_low"].iloc[0]) == direct.ci_low and float(row["ci_high"].iloc[0]) == direct.ci_high
    assert res.failures.loc[res.failures["term"] != "skipped"].empty


def test_reruns_write_identical_files(tmp_path: Path) -> None:
    """Binary, count, stratified and Dunnett analyses give byte-identical result files on a rerun."""
    for name in ("respiratory", "epilepsy", "three_arm_stratified"):
        trial = tk.load(HERE / name / "study.toml")
        first, second = tmp_path / f"{name}-1", tmp_path / f"{name}-2"
        tk.analyze(trial).to_files(first)
        tk.analyze(trial).to_files(second)
        for f in sorted(first.iterdir()):
            assert f.read_bytes() == (second / f.name).read_bytes(), f"{name}: {f.name}"


def _three_arm_spec(folder: Path, endpoint: str, extra: str, arms: str) -> Path:
    (folder / "study.toml").write_text(
        f"""[study]
id = "three_arm"
[arms]
column = "arm"
control = "placebo"
levels = {arms}
[visits]
baseline = "baseline"
order = ["baseline", "week1"]
[[endpoints]]
id = "{endpoint}"
{extra}
[analysis]
covariates = ["region"]
categorical = ["region"]
multiplicity = "dunnett"
[data]
format = "wide"
subject = "subject"
path = "trial.csv"
pattern = "{{endpoint}}_{{visit}}"
""",
        encoding="utf-8",
    )
    return folder / "study.toml"


def test_dunnett_on_a_binary_endpoint(tmp_path: Path) -> None:
    """The standardised RDs get Dunnett p from the multivariate normal of their estimates (Ye covariance)."""
    binary = pd.read_csv(HERE.parent / "binary" / "synthetic.csv").iloc[:1500]
    pd.DataFrame(
        {
            "subject": [f"B{i:04d}" for i in range(len(binary))],
            "arm": binary["arm"].replace({"control": "placebo"}),
            "region": binary["region"],
            "status_baseline": binary["baseline"],
            "status_week1": binary["outcome"],
        }
    ).to_csv(tmp_path / "trial.csv", index=False)
    arms = sorted(set(binary["arm"].replace({"control": "placebo"})) - {"placebo"})
    spec = _three_arm_spec(tmp_path, "status", 'type = "binary"', str(["placebo", *arms]).replace("'", '"'))
    trial = tk.load(spec)
    res = tk.analyze(trial)
    t = res.table.loc[res.table["analysis"] == "standardised_rd"]
    s = trial.subjects.reset_index(drop=True)
    wide = trial.data.pivot_table(index="subject", columns="visit", values="value", observed=True).loc[s["subject"]]
    region = pd.Categorical(s["region"].astype(str))
    fit = tk.analysis.logistic_arrays(
        pd.Categorical(s["arm"].astype(str), categories=["placebo", *arms]).codes.astype(np.int64),
        wide["week1"].to_numpy(),
        {"baseline": wide["baseline"].to_numpy()},
        {"region": region.codes.astype(np.int64)},
        arms=("placebo", *arms),
        levels={"region": tuple(region.categories)},
        alpha=0.05,
    )
    c = np.hstack([-np.ones((2, 1)), np.eye(2)])
    cov = c @ fit.risk_covariance_ye @ c.T
    sd = np.sqrt(np.diag(cov))
    rd = [e for e in fit.marginal if e.analysis.value == "standardised_rd"]
    want = tk.analysis.dunnett_p([e.statistic for e in rd], cov / np.outer(sd, sd), float("inf"))
    np.testing.assert_allclose(t.set_index("contrast").loc[[e.contrast for e in rd], "p_adjusted"], want, rtol=1e-12)
    assert (want > np.array([e.p_value for e in rd])).all()
