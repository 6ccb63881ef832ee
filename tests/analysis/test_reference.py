"""Every estimate of ``trialkit.analyze`` against R on three reference trials.

R program: tests/reference/analyses/make_reference.R (lm + emmeans, t.test, wilcox.test with
conf.int, fisher.test, prop.test, Newcombe and Hedges formulas, p.adjust); its answers are the
``expected*.csv`` files beside each case.

Tolerance: relative error <= 1e-8 for every quantity (closed forms, and also the rank-test
estimates and intervals of the normal-approximation path, which are roots found by the same
Brent iteration R's ``uniroot`` runs, to tolerance 1e-4: the same iterates give the same root);
p-values below 1e-300 compare with an absolute 1e-300 floor. Counts must be equal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from r_rows import assert_rows_match_r

import trialkit as tk

REFERENCE = Path(__file__).parents[1] / "reference" / "analyses"
CASES = ("abbasi2012", "three_arm", "missing")
RTOL = 1e-8


@pytest.fixture(scope="module", params=CASES)
def case(request) -> tuple[str, tk.Results]:
    trial = tk.load(REFERENCE / request.param / "study.toml")
    return request.param, tk.analyze(trial)


def test_every_estimate_matches_r(case) -> None:
    name, res = case
    expected = pd.read_csv(REFERENCE / name / "expected.csv")
    assert res.failures.empty, res.failures.to_string()
    assert_rows_match_r(res.table, expected, label=name, rtol=RTOL)


def test_rank_tests_cover_both_inference_paths() -> None:
    """The fixtures exercise exact and normal-approximation paths of both rank tests."""
    paths = pd.concat(pd.read_csv(REFERENCE / c / "expected_wilcox_paths.csv") for c in CASES)
    assert set(zip(paths["analysis"], paths["path"], strict=True)) == {
        ("mann_whitney_change", "exact"),
        ("mann_whitney_change", "normal"),
        ("wilcoxon_within", "exact"),
        ("wilcoxon_within", "normal"),
    }


def test_multiplicity_matches_p_adjust(case) -> None:
    name, res = case
    expected = pd.read_csv(REFERENCE / name / "expected_multiplicity.csv")
    from trialkit._spec import Multiplicity
    from trialkit.analysis import adjust_p

    for contrast, part in expected.groupby("contrast", sort=False):
        for method in ("holm", "hochberg", "bonferroni", "bh", "fixed_sequence"):
            got = adjust_p(part["p_value"].to_numpy(), Multiplicity(method))
            np.testing.assert_allclose(got, part[method].to_numpy(), rtol=1e-12, err_msg=f"{name} {contrast} {method}")


def test_opt_in_baseline_tests_match_r(case) -> None:
    """anova(lm(x ~ arm)) and chisq.test(correct = FALSE), tests/reference/analyses/baseline_p.R; 1e-10."""
    name, res = case
    assert res.baseline_p.empty  # not asked for: CONSORT advises against baseline p-values
    trial = tk.load(REFERENCE / name / "study.toml")
    got = tk.analyze(trial, analyses=["ancova"], sweep=False, table1_p_values=True).baseline_p
    expected = pd.read_csv(REFERENCE / name / "expected_baseline_p.csv")
    assert got["variable"].tolist() == expected["variable"].tolist()
    assert got["test"].tolist() == expected["test"].tolist()
    for c in ("statistic", "df", "df_denominator", "p_value"):
        np.testing.assert_allclose(got[c].astype(float), expected[c].astype(float), rtol=1e-10, err_msg=c)
