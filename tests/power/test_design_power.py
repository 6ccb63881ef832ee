"""``tk.power.design_power``: each endpoint's test, parameters, power at the analysed size and sizes for 80 %/90 %.

The numbers are checked against ``tk.power.power`` / ``sample_size`` called by hand with the
parameters read off the design file (and, for the log scale, the log-normal moments worked out
here), and against ``tk.power.simulate``.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

import trialkit as tk
from trialkit._design import Design

ROOT_EXAMPLE = "docs/examples/sleep-diary-design.toml"
#: the 2012 design loses 3 of its 46 subjects (1 placebo, 2 magnesium)
SHARE = 3 / 46


@pytest.fixture(scope="module")
def design() -> Design:
    return tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml"))


@pytest.fixture(scope="module")
def rows(design: Design):
    return tk.power.design_power(design).table.set_index("endpoint")


def test_columns_and_one_row_per_endpoint(design: Design) -> None:
    result = tk.power.design_power(design)
    assert tuple(result.table.columns) == (
        "endpoint",
        "label",
        "arm",
        "test",
        "effect",
        "sd",
        "rho",
        "n_analysed",
        "power",
        "n80",
        "n90",
        "n80_randomised",
        "n90_randomised",
    )
    assert list(result.table["endpoint"]) == [ep.id for ep in design.endpoints]
    assert set(result.table["arm"]) == {"magnesium"}
    assert result.alpha == 0.05
    assert result.dropout == pytest.approx(SHARE)
    assert list(result.table["label"])[0] == "Insomnia Severity Index"


def test_isi_ancova_at_the_analysed_size(rows) -> None:
    isi = rows.loc["isi"]
    assert isi["test"] == "ancova"
    # design.toml: week-8 means 12 (magnesium) and 15 (placebo), SD 4.5 in both arms, correlation 0.5
    assert isi["effect"] == pytest.approx(-3.0) and isi["sd"] == pytest.approx(4.5) and isi["rho"] == 0.5
    assert isi["n_analysed"] == (22, 21)  # 23 - 1 placebo, 23 - 2 magnesium; control first
    assert isi["power"] == pytest.approx(0.6923, abs=5e-5)
    assert isi["power"] == pytest.approx(tk.power.power("ancova", (22, 21), effect=3, sd=4.5, rho=0.5), abs=1e-12)


def test_isi_sizes_for_80_and_90_percent(rows) -> None:
    isi = rows.loc["isi"]
    for target, n, randomised in ((0.8, "n80", "n80_randomised"), (0.9, "n90", "n90_randomised")):
        size = tk.power.sample_size("ancova", power=target, effect=3, sd=4.5, rho=0.5)
        assert isi[n] == size.n_analysed[0]
        assert isi[randomised] == math.ceil(isi[n] / (1 - SHARE))
    assert (isi["n80"], isi["n80_randomised"], isi["n90"], isi["n90_randomised"]) == (28, 30, 37, 40)


def test_log_scale_endpoint_uses_the_log_normal_moments(design: Design, rows) -> None:
    ep = next(e for e in design.endpoints if e.id == "melatonin")
    assert ep.scale == "log"
    primary = design.visits.index(design.primary_visit)

    def log_moments(mean: float, sd: float) -> tuple[float, float]:
        s2 = math.log(1 + (sd / mean) ** 2)
        return math.log(mean) - s2 / 2, math.sqrt(s2)

    mu1, s1 = log_moments(ep.mean["magnesium"][primary], ep.sd["magnesium"][primary])
    mu0, s0 = log_moments(ep.mean["placebo"][primary], ep.sd["placebo"][primary])
    row = rows.loc["melatonin"]
    assert row["effect"] == pytest.approx(mu1 - mu0, rel=1e-12)
    assert row["sd"] == pytest.approx(math.sqrt((s0**2 + s1**2) / 2), rel=1e-12)
    assert row["rho"] == ep.correlation[0][primary]
    expected = tk.power.power("ancova", (22, 21), effect=mu1 - mu0, sd=row["sd"], rho=row["rho"])
    assert row["power"] == pytest.approx(expected, abs=1e-12)


def test_null_effect_has_power_alpha_and_no_size(rows) -> None:
    tst = rows.loc["total_sleep_time"]
    assert tst["effect"] == 0.0
    assert tst["power"] == 0.05
    assert [tst[c] for c in ("n80", "n90", "n80_randomised", "n90_randomised")] == [None] * 4


def test_without_baseline_the_t_test(design: Design) -> None:
    # keep only the week-8 visit: no baseline, so the t-test on week 8
    endpoints = tuple(
        dataclasses.replace(
            ep,
            mean={a: v[1:] for a, v in ep.mean.items()},
            sd={a: v[1:] for a, v in ep.sd.items()},
            correlation=((1.0,),),
        )
        for ep in design.endpoints
        if ep.id == "isi"
    )
    one = dataclasses.replace(design, visits=("week8",), baseline=None, endpoints=endpoints)
    row = tk.power.design_power(one).table.iloc[0]
    assert row["test"] == "t" and math.isnan(row["rho"])
    assert row["power"] == pytest.approx(tk.power.power("t", (22, 21), effect=3, sd=4.5), abs=1e-12)
    assert row["n80"] == tk.power.sample_size("t", effect=3, sd=4.5).n_analysed[0]


def test_binary_and_count_endpoints() -> None:
    design = tk.read_design(ROOT_EXAMPLE)
    rows = tk.power.design_power(design).table.set_index("endpoint")
    share = (4 + 3) / 120
    counts = rows.loc["awakenings"]
    # design: week-8 rates 1.3 (magnesium) and 1.65 (placebo) a night, 14 nights, dispersion 0.3
    params = {"rate_control": 1.65, "dispersion": 0.3, "exposure": 14.0}
    assert counts["test"] == "negative_binomial" and counts["effect"] == pytest.approx(1.3 / 1.65)
    assert counts["n_analysed"] == (57, 56)
    assert counts["power"] == pytest.approx(tk.power.power("negative_binomial", (57, 56), effect=1.3 / 1.65, **params))
    n80 = tk.power.sample_size("negative_binomial", effect=1.3 / 1.65, **params).n_analysed[0]
    assert counts["n80"] == n80 and counts["n80_randomised"] == math.ceil(n80 / (1 - share))
    binary = rows.loc["sleep_quality"]
    # week-8 probabilities 0.52 (magnesium) and 0.38 (placebo)
    assert binary["test"] == "proportions" and binary["effect"] == pytest.approx(0.14)
    assert binary["power"] == pytest.approx(
        tk.power.power("proportions", (57, 56), p_control=0.38, effect=0.14, method="normal")
    )
    assert math.isnan(binary["sd"]) and math.isnan(binary["rho"])


def test_not_a_design() -> None:
    with pytest.raises(tk.TrialkitError, match="`design` must be"):
        tk.power.design_power("design.toml")  # type: ignore[arg-type]


def test_agrees_with_the_simulation(design: Design, rows) -> None:
    """The analytic power against 4,000 simulated trials at the design's size (23 per arm, 22 and 21 analysed).

    The analytic ANCOVA power takes the baseline slope as known; the fitted slope inflates the
    variance of the treatment estimate by about 1 + 1/(N - 4) (N = 43 analysed), so the simulated
    power may fall below it by the power lost to that inflation. Allowed: 3 Monte Carlo SE on
    either side, plus that loss below.
    """
    endpoints = ["isi", "serum_magnesium", "melatonin", "renin", "total_sleep_time"]
    sim = tk.power.simulate(design, [23], trials=4000, endpoints=endpoints, seed=7, scheduler="serial")
    for row in sim.table.itertuples():
        expected = rows.loc[row.endpoint]
        if expected["n80"] is None:
            slope_loss = 0.0
        else:
            inflated = expected["sd"] * math.sqrt(1 + 1 / (43 - 4))
            slope_loss = expected["power"] - tk.power.power(
                "ancova", (22, 21), effect=expected["effect"], sd=inflated, rho=expected["rho"]
            )
        assert expected["power"] - slope_loss - 3 * row.mcse <= row.power <= expected["power"] + 3 * row.mcse, row


def test_the_readme_table_is_the_design_power(rows) -> None:
    """The README's table of the 2012 design is what ``design_power`` computes (power to 0.1 %, sizes exact)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- design-power:")
    lines = [line for line in readme[start:].splitlines()[1:] if line.startswith("|")][2:]
    shown = {}
    for line in lines:
        label, power, n80, n90 = (cell.strip() for cell in line.strip("|").split("|"))
        shown[label] = (power, n80, n90)
    expected = {}
    for _, r in rows.iterrows():
        sizes = [
            "–" if r[n] is None else f"{r[n]} ({r[randomised]})"
            for n, randomised in (("n80", "n80_randomised"), ("n90", "n90_randomised"))
        ]
        expected[r["label"]] = (f"{100 * r['power']:.1f}%", *sizes)
    assert shown == expected


def test_dropout_by_visit_gives_the_expected_number_lost_by_the_primary_visit(design: Design) -> None:
    arms = tuple(
        dataclasses.replace(a, dropout=0, dropout_by_visit=(0.0, 0.2 if a.id == "magnesium" else 0.1))
        for a in design.arms
    )
    result = tk.power.design_power(dataclasses.replace(design, arms=arms))
    isi = result.table.set_index("endpoint").loc["isi"]
    # 23 randomised per arm: round(0.1 x 23) = 2 lost on placebo, round(0.2 x 23) = 5 on magnesium
    assert isi["n_analysed"] == (21, 18)
    assert result.dropout == pytest.approx(7 / 46)
    assert isi["power"] == pytest.approx(tk.power.power("ancova", (21, 18), effect=3, sd=4.5, rho=0.5), abs=1e-12)
    assert isi["n80_randomised"] == math.ceil(isi["n80"] / (1 - 7 / 46))
