"""The power simulation's plumbing: the model of a design, the draws, the tasks' seeds, the arguments.

The statistics of each analysis are tested beside it (test_sim_*.py); here: what is drawn (means,
SDs, correlations, event shares, dropout) at large n, that a result depends only on the design,
the sizes, the trials and the seed (not on the backend, the number of workers, or which other sizes
and endpoints are simulated), and that every bad argument is named at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import trialkit as tk
from trialkit._design import parse_design
from trialkit.power._simulation import COLUMNS
from trialkit.power._simulation._draw import draw_batch
from trialkit.power._simulation._model import endpoint_key, trial_model
from trialkit.power._simulation._tasks import Task, plan, run_task, task_generator

ABBASI = tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml"))


#: the continuous endpoint of every design here: a 3-visit score with a correlation matrix
SCORE: dict[str, Any] = {
    "id": "score",
    "correlation": [[1, 0.5, 0.3], [0.5, 1, 0.6], [0.3, 0.6, 1]],
    "mean": {
        "active": {"baseline": 20, "week4": 16, "week8": 12},
        "placebo": {"baseline": 20, "week4": 18, "week8": 17},
    },
    "sd": {"active": {"baseline": 3, "week4": 4, "week8": 5}, "placebo": {"baseline": 3, "week4": 4, "week8": 4}},
}


def design(**changes: Any) -> tk.Design:
    """Return a 2-arm, 3-visit design (a continuous, a log-scale, a binary and a count endpoint)."""
    raw: dict[str, Any] = {
        "study": {"id": "sim", "alpha": 0.05},
        "arms": {
            "control": "placebo",
            "active": {"n": 40, "dropout": 4, "label": "Active"},
            "placebo": {"n": 20, "dropout": 1, "label": "Placebo"},
        },
        "visits": {"order": ["baseline", "week4", "week8"], "baseline": "baseline"},
        "endpoints": [
            SCORE,
            {
                "id": "hormone",
                "scale": "log",
                "correlation": 0.6,
                "mean": {
                    "active": {"baseline": 20, "week4": 22, "week8": 26},
                    "placebo": {"baseline": 20, "week4": 20, "week8": 20},
                },
                "sd": {
                    "active": {"baseline": 10, "week4": 10, "week8": 12},
                    "placebo": {"baseline": 10, "week4": 10, "week8": 10},
                },
            },
            {
                "id": "good_night",
                "type": "binary",
                "correlation": 0.4,
                "probability": {
                    "active": {"baseline": 0.3, "week4": 0.4, "week8": 0.5},
                    "placebo": {"baseline": 0.3, "week4": 0.3, "week8": 0.35},
                },
            },
            {
                "id": "awakenings",
                "type": "count",
                "correlation": 0.5,
                "dispersion": 0.5,
                "exposure": {"baseline": 14, "week4": 7, "week8": 14},
                "rate": {
                    "active": {"baseline": 1.0, "week4": 0.8, "week8": 0.6},
                    "placebo": {"baseline": 1.0, "week4": 1.0, "week8": 0.9},
                },
            },
        ],
    }
    for key, value in changes.items():
        raw[key] = value
    return parse_design(raw, file="design.toml")


DESIGN = design()
MODEL = trial_model(DESIGN)


def test_model_puts_control_first_and_keeps_the_allocation() -> None:
    assert MODEL.arms == ("placebo", "active")
    assert MODEL.arm_labels == ("Placebo", "Active")
    assert MODEL.sizes(20) == (20, 40)
    assert MODEL.sizes(3) == (3, 6)
    assert MODEL.sizes(1) == (1, 2)  # another arm is never below 2
    # the design loses 1 of 20 and 4 of 40: the same shares at every size
    assert MODEL.dropouts((20, 40)) == (1, 4)
    assert MODEL.dropouts((100, 200)) == (5, 20)
    assert (MODEL.baseline, MODEL.primary) == (0, 2)


def test_draws_have_the_model_moments_on_the_analysis_scale() -> None:
    sizes = (20_000, 20_000)
    rng = np.random.default_rng(7)
    score = draw_batch(MODEL, MODEL.endpoint("score"), sizes, 1, rng).values[0]
    for j, arm in enumerate(MODEL.arms):
        rows = score[j * 20_000 : (j + 1) * 20_000]
        ep = DESIGN.endpoints[0]
        assert (np.abs(rows.mean(axis=0) - ep.mean[arm]) < 4 * np.asarray(ep.sd[arm]) / np.sqrt(20_000)).all()
        np.testing.assert_allclose(rows.std(axis=0), ep.sd[arm], rtol=0.03)
        corr = np.corrcoef(rows.T)
        np.testing.assert_allclose(corr, [[1, 0.5, 0.3], [0.5, 1, 0.6], [0.3, 0.6, 1]], atol=0.03)
    # log scale: the values are the logs, whose exp has the design's natural-scale mean and SD
    hormone = draw_batch(MODEL, MODEL.endpoint("hormone"), sizes, 1, rng).values[0]
    natural = np.exp(hormone[20_000:, 2])
    assert natural.mean() == pytest.approx(26, rel=0.02)
    assert natural.std() == pytest.approx(12, rel=0.05)
    # binary: 0/1 with the event probabilities; count: mean rate x exposure, NB variance
    events = draw_batch(MODEL, MODEL.endpoint("good_night"), sizes, 1, rng).values[0]
    assert set(np.unique(events)) == {0.0, 1.0}
    np.testing.assert_allclose(events[20_000:].mean(axis=0), [0.3, 0.4, 0.5], atol=0.015)
    counts = draw_batch(MODEL, MODEL.endpoint("awakenings"), sizes, 1, rng).values[0]
    mu = np.array([14, 5.6, 8.4])
    np.testing.assert_allclose(counts[20_000:].mean(axis=0), mu, rtol=0.03)
    np.testing.assert_allclose(counts[20_000:].var(axis=0), mu + 0.5 * mu**2, rtol=0.08)


def test_fixed_dropout_misses_every_visit_after_the_first() -> None:
    batch = draw_batch(MODEL, MODEL.endpoint("score"), (20, 40), 3, np.random.default_rng(1))
    observed = batch.observed[0]
    assert batch.observed.shape == (1, 60, 3)
    assert observed[:, 0].all()
    assert (~observed[:20, 1:]).sum(axis=0).tolist() == [1, 1]
    assert (~observed[20:, 1:]).sum(axis=0).tolist() == [4, 4]
    assert (observed[:, 1] == observed[:, 2]).all()


def test_dropout_by_visit_draws_each_subjects_last_visit() -> None:
    import dataclasses

    model = dataclasses.replace(MODEL, dropout_by_visit=np.array([[0, 0.1, 0.3], [0, 0.2, 0.2]]))
    batch = draw_batch(model, model.endpoint("score"), (20_000, 20_000), 2, np.random.default_rng(3))
    observed = batch.observed
    assert observed.shape == (2, 40_000, 3)
    assert observed[:, :, 0].all()
    assert (observed[:, :, 2] <= observed[:, :, 1]).all()  # monotone
    np.testing.assert_allclose((~observed[:, :20_000, 1:]).mean(axis=(0, 1)), [0.1, 0.3], atol=0.01)
    np.testing.assert_allclose((~observed[:, 20_000:, 1:]).mean(axis=(0, 1)), [0.2, 0.2], atol=0.01)


def test_tasks_are_seeded_by_size_endpoint_and_chunk() -> None:
    def draws(task: Task, seed: int) -> list[float]:
        return task_generator(task, seed).standard_normal(3).tolist()

    task = Task(30, "score", ("ancova",), 0, 500)
    first = draws(task, 11)
    assert draws(task, 11) == first
    assert draws(task, 12) != first
    assert draws(Task(31, "score", ("ancova",), 0, 500), 11) != first
    assert draws(Task(30, "score", ("ancova",), 1, 500), 11) != first
    assert draws(Task(30, "hormone", ("ancova",), 0, 500), 11) != first
    # the key is the endpoint's id, not its position in the design, nor the analyses or the chunk's length
    assert draws(Task(30, "score", ("t",), 0, 7), 11) == first
    counts = run_task(MODEL, 0.05, 11, task)
    reordered = trial_model(design(endpoints=list(reversed(design_raw_endpoints()))))
    assert run_task(reordered, 0.05, 11, task) == counts
    assert endpoint_key("score") != endpoint_key("hormone")


def design_raw_endpoints() -> list[dict[str, Any]]:
    return [
        SCORE,
        {
            "id": "other",
            "correlation": 0.5,
            "mean": {
                "active": {"baseline": 1, "week4": 1, "week8": 1},
                "placebo": {"baseline": 1, "week4": 1, "week8": 1},
            },
            "sd": {
                "active": {"baseline": 1, "week4": 1, "week8": 1},
                "placebo": {"baseline": 1, "week4": 1, "week8": 1},
            },
        },
    ]


def test_chunks_depend_on_the_trial_shape_only() -> None:
    tasks = plan(MODEL, (20, 200), (("score", ("ancova",)),), 30_000)
    small = [t.trials for t in tasks if t.n == 20]
    large = [t.trials for t in tasks if t.n == 200]
    assert small == [11_650, 11_650, 6_700]  # 2**21 // (60 subjects x 3 visits)
    assert sum(large) == 30_000 and len(large) == 26  # 2**21 // (600 x 3) = 1,165 a chunk
    assert plan(MODEL, (20,), (("score", ("ancova",)),), 11_651)[0].trials == 11_650


def test_result_does_not_depend_on_backend_workers_or_the_other_cells() -> None:
    args: dict[str, Any] = {"trials": 30_000, "seed": 5, "endpoints": ["score"]}
    serial = tk.power.simulate(DESIGN, [20, 30], scheduler="serial", **args)
    local = tk.power.simulate(DESIGN, [20, 30], workers=2, **args)
    assert local.to_csv() == serial.to_csv()
    alone = tk.power.simulate(DESIGN, [30], scheduler="serial", **args)
    assert alone.to_csv().splitlines()[1] == serial.to_csv().splitlines()[2]
    both = tk.power.simulate(DESIGN, [30], scheduler="serial", **{**args, "endpoints": ["score", "hormone"]})
    assert both.table.iloc[0].to_dict() == alone.table.iloc[0].to_dict()


def test_table_rows_and_csv() -> None:
    sim = tk.power.simulate(DESIGN, [40, 20], trials=1000, seed=1, endpoints=["score", "hormone"], scheduler="serial")
    table = sim.table
    assert tuple(table.columns) == COLUMNS
    assert table[["n_per_arm", "endpoint", "analysis", "arm", "n_total", "trials"]].values.tolist() == [
        [20, "score", "ancova", "active", 60, 1000],
        [20, "hormone", "ancova", "active", 60, 1000],
        [40, "score", "ancova", "active", 120, 1000],
        [40, "hormone", "ancova", "active", 120, 1000],
    ]
    assert sim.n_per_arm == (20, 40)
    np.testing.assert_allclose(table.mcse, np.sqrt(table.power * (1 - table.power) / 1000))
    lines = sim.to_csv().decode().splitlines()
    assert lines[0] == "n_per_arm,endpoint,analysis,power,mcse,trials,arm,n_total,failed"
    first = lines[1].split(",")
    assert first[:3] == ["20", "score", "ancova"] and len(first[3]) == len("0.000000")
    # the score effect (5 points against SD 4-5) is large: power rises with n
    score = table[table.endpoint == "score"].power.tolist()
    assert 0.5 < score[0] < score[1]


def test_abbasi_isi_power_matches_the_analytic_ancova() -> None:
    sim = tk.power.simulate(ABBASI, [23], trials=20_000, seed=3, endpoints=["isi"], scheduler="serial")
    row = sim.table.iloc[0]
    analytic = tk.power.power("ancova", (22, 21), effect=3, sd=4.5, rho=0.5)
    # the analytic power treats the slope as known; its estimation inflates the variance by about
    # 1 + 1/(N - 4) (docs/power.md), which the comparison allows for
    inflated = tk.power.power("ancova", (22, 21), effect=3 / np.sqrt(1 + 1 / 39), sd=4.5, rho=0.5)
    assert abs(row.power - inflated) < 3 * row.mcse
    assert inflated < analytic


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_per_arm": [1, 20]}, "`n_per_arm` must be an integer >= 2; got 1."),
        ({"n_per_arm": []}, "`n_per_arm` must be a non-empty sequence of integers >= 2; got []."),
        ({"n_per_arm": "20"}, "`n_per_arm` must be a non-empty sequence of integers >= 2; got '20'."),
        ({"n_per_arm": [20, 20]}, "`n_per_arm` must not repeat a size; got [20, 20]."),
        (
            {"n_per_arm": [600_000]},
            "`n_per_arm` = 600,000 gives arm 'active' 1,200,000 subjects; a power simulation draws at most "
            "1,000,000 per arm (SIMULATE_SUBJECTS_PER_ARM, docs/limits.md).",
        ),
        ({"analyses": [["ancova"]]}, "`analyses` names ['ancova'], which is not an analysis"),
        ({"endpoints": [3]}, "`endpoints` names [3], not endpoints of the design"),
        ({"progress": 5}, "`progress` must be a function progress(done, total); got 5."),
        (
            {"endpoints": ["score", "good_night"], "analyses": ["ancova"]},
            "endpoint 'good_night' (binary) is named in `endpoints`, but none of the analyses ancova analyses "
            "binary endpoints.",
        ),
        ({"trials": 0}, "`trials` must be an integer >= 1; got 0."),
        ({"trials": 10_000_001}, "`trials` must be at most 10,000,000 (POWER_TRIALS, docs/limits.md); got 10,000,001."),
        ({"seed": -1}, "`seed` must be an integer >= 0; got -1."),
        ({"alpha": 1.0}, "`alpha` must be a number in (0, 1); got 1.0."),
        ({"workers": 0}, "`workers` must be an integer >= 1; got 0."),
        ({"analyses": ["anova"]}, "`analyses` names 'anova', which is not an analysis; analyses: ancova"),
        (
            {"endpoints": ["isi"]},
            "`endpoints` names ['isi'], not endpoints of the design; its endpoints: score, hormone",
        ),
        ({"scheduler": "threads"}, "`scheduler` must be None, 'processes', 'serial' or a Dask scheduler address"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"n_per_arm": [20], "trials": 10, "endpoints": ["score"], "scheduler": "serial", **kwargs}
    with pytest.raises(tk.TrialkitError) as info:
        tk.power.simulate(DESIGN, **args)
    assert message in str(info.value)


def test_every_bad_argument_is_reported_at_once() -> None:
    with pytest.raises(tk.TrialkitError) as info:
        tk.power.simulate(DESIGN, [1], trials=0, seed=-1, scheduler="dask")
    text = str(info.value)
    assert "`n_per_arm`" in text and "`trials`" in text and "`seed`" in text and "`scheduler`" in text


def test_sizes_may_be_a_numpy_array_and_other_arms_are_rounded_up() -> None:
    sim = tk.power.simulate(DESIGN, np.array([10, 20]), trials=10, endpoints=["score"], scheduler="serial")
    assert sim.n_per_arm == (10, 20)
    three_to_two = trial_model(design(arms={"control": "placebo", "active": {"n": 30}, "placebo": {"n": 20}}))
    # 1.5 x 5 = 7.5 and 1.5 x 15 = 22.5 both round up, as tk.power.sample_size rounds
    assert three_to_two.sizes(5) == (5, 8) and three_to_two.sizes(15) == (15, 23)
    assert three_to_two.sizes(10) == (10, 15)


def test_an_analysis_needing_a_baseline_is_refused_without_one() -> None:
    no_baseline = parse_design(
        {
            "study": {"id": "nb"},
            "arms": {"control": "b", "a": {"n": 10}, "b": {"n": 10}},
            "visits": {"order": ["week8"]},
            "endpoints": [
                {
                    "id": "y",
                    "mean": {"a": {"week8": 1}, "b": {"week8": 0}},
                    "sd": {"a": {"week8": 1}, "b": {"week8": 1}},
                }
            ],
        },
        file="design.toml",
    )
    with pytest.raises(
        tk.TrialkitError, match="analysis 'ancova' adjusts for the baseline, but the design has no baseline visit"
    ):
        tk.power.simulate(no_baseline, [10], trials=10, analyses=["ancova"], scheduler="serial")


def test_design_must_be_a_design() -> None:
    with pytest.raises(tk.TrialkitError, match="`design` must be a trialkit.Design"):
        tk.power.simulate("design.toml", [10])  # type: ignore[arg-type]


@pytest.mark.parametrize("trials", [1, 3])
@pytest.mark.parametrize("sizes", [(2, 2), (5, 9)])
def test_no_analysis_changes_the_batch_it_reads(trials: int, sizes: tuple[int, int]) -> None:
    # the analyses of a task share one batch: one that changed it would change the others' answers
    # (one trial with one complete case per arm makes an arm's values a contiguous view)
    import dataclasses

    from trialkit.power import ANALYSES

    three_visits = dataclasses.replace(MODEL, dropout=(0.5, 0.5))
    two_visits = dataclasses.replace(trial_model(ABBASI), dropout=(0.5, 0.5))
    for model, endpoint in [(m, ep) for m in (three_visits, two_visits) for ep in m.endpoints[:4]]:
        batch = draw_batch(model, endpoint, sizes, trials, np.random.default_rng(2))
        values, observed = batch.values.copy(), batch.observed.copy()
        for analysis in ANALYSES.values():
            if endpoint.type in analysis.types:
                analysis.kernel(batch, 0.05)
                assert np.array_equal(batch.values, values), (analysis.name, endpoint.id)
                assert np.array_equal(batch.observed, observed), (analysis.name, endpoint.id)


def test_analyses_of_one_task_do_not_change_each_others_power() -> None:
    raw = {
        "study": {"id": "small"},
        "arms": {"control": "placebo", "active": {"n": 10}, "placebo": {"n": 2, "dropout": 1}},
        "visits": {"order": ["baseline", "week8"], "baseline": "baseline"},
        "endpoints": [
            {
                "id": "score",
                "correlation": 0.5,
                "mean": {"active": {"baseline": 10, "week8": 12}, "placebo": {"baseline": 10, "week8": 10}},
                "sd": {"active": {"baseline": 1, "week8": 1}, "placebo": {"baseline": 1, "week8": 1}},
            }
        ],
    }
    small = parse_design(raw, file="design.toml")
    args: dict[str, Any] = {"trials": 1, "seed": 4, "endpoints": ["score"], "scheduler": "serial"}
    alone = tk.power.simulate(small, [2, 3], analyses=["t"], **args).table
    both = tk.power.simulate(small, [2, 3], analyses=["ancova", "t"], **args).table
    assert both[both.analysis == "t"].power.tolist() == alone.power.tolist()
