"""``trialkit analyze``'s printout: labels, the population, p-values in one style, ratios apart from differences."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import base_spec, small_wide, write_frame, write_spec

import trialkit as tk
from trialkit._format import parse_shown
from trialkit.cli import main

END_TO_END = Path(__file__).parent / "reference" / "end_to_end"
BUNDLED = str(tk.datasets.study_spec("abbasi2012"))


def _blocks(printed: str) -> dict[str, list[str]]:
    """Split the printout into its tables: title -> the lines under it up to the next blank line."""
    blocks: dict[str, list[str]] = {}
    for block in printed.split("\n\n"):
        lines = block.splitlines()
        if lines:
            blocks[lines[0]] = lines[1:]
    return blocks


def _block(printed: str, start: str) -> list[str]:
    """Return the lines of the one table whose title contains ``start``."""
    hits = [lines for title, lines in _blocks(printed).items() if start in title]
    assert len(hits) == 1, (start, list(_blocks(printed)))
    return hits[0]


def _row(lines: list[str], label: str) -> str:
    hits = [line for line in lines if line.startswith(label + "  ")]
    assert len(hits) == 1, (label, lines)
    return hits[0]


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> tuple[str, tk.Results]:
    """Return the bundled trial's printout and its results (the same analysis)."""
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["analyze", BUNDLED]) == 0
    return buffer.getvalue(), tk.analyze(tk.load(BUNDLED))


def test_the_primary_result_names_endpoint_visit_population_and_model(bundled) -> None:
    printed, res = bundled
    spec = tk.read_spec(BUNDLED)
    lines = printed.splitlines()
    assert lines[0] == f"Study abbasi2012: {spec.study.title}"
    week8 = spec.visits.label("week8")
    assert lines[1] == f"Primary endpoint: Insomnia Severity Index at {week8}, Full analysis set (ANCOVA)"
    comparison = f"{spec.arms.label('magnesium')} vs {spec.arms.label('placebo')}"
    assert lines[2].startswith(f"  {comparison}: difference in LS means ")
    assert "p = 0.006" in lines[2] and "n = 21 vs 22" in lines[2]


def test_tables_use_labels_not_ids(bundled) -> None:
    printed, _ = bundled
    spec = tk.read_spec(BUNDLED)
    for identifier in ("week8", "magnesium - placebo", "fas", "sleep_onset_latency", "mi_mar", "tipping_point"):
        assert identifier not in printed
    differences = _block(printed, ": differences")
    assert _row(differences, "Sleep onset latency")
    assert f"at {spec.visits.label('week8')}, Full analysis set" in printed


def test_differences_and_ratios_are_separate_tables_with_the_measure_named(bundled) -> None:
    printed, res = bundled
    differences = _block(printed, ": differences")
    ratios = _block(printed, ": ratios")
    for label in ("Serum melatonin", "Serum cortisol", "Serum renin"):  # log-scale endpoints
        assert "ratio of geometric LS means" in _row(ratios, label)
        assert not [line for line in differences if line.startswith(label)]
    isi = _row(differences, "Insomnia Severity Index")
    assert "difference in LS means (points)" in isi
    assert not [line for line in ratios if line.startswith("Insomnia Severity Index")]
    # the numbers are the results table's, at the precision shown
    t = res.table
    at = (t["analysis"] == "ancova") & (t["visit"] == "week8") & (t["population"] == "fas")
    renin = t.loc[at & (t["endpoint"] == "renin")].iloc[0]
    cells = _row(ratios, "Serum renin").split()
    assert parse_shown(cells[cells.index("means") + 1]) == pytest.approx(renin["estimate"], abs=0.005)
    estimate = t.loc[at & (t["endpoint"] == "isi"), "estimate"].iloc[0]
    assert parse_shown(isi.split("(points)")[1].split()[0]) == pytest.approx(estimate, abs=0.005)


def test_p_values_are_shown_in_one_style(bundled) -> None:
    printed, res = bundled
    ratios = _block(printed, ": ratios")
    melatonin = _row(ratios, "Serum melatonin")  # p = 0.0007: below the smallest p shown as a number
    assert "<0.001" in melatonin and "< 0.001" not in printed
    isi = _row(_block(printed, ": differences"), "Insomnia Severity Index")
    assert " 0.006 " in isi
    assert "e-0" not in printed  # no scientific notation
    assert "p adjusted: Holm over the secondary endpoints" in printed


def test_the_sensitivity_table_names_each_assumption(bundled) -> None:
    printed, _ = bundled
    block = _block(printed, "under each assumption about missing values")
    names = [line.split("  ")[0] for line in block[2:] if line.strip()]
    assert names[:6] == [
        "ANCOVA, complete cases",
        "MMRM, every observed visit",
        "Multiple imputation, missing at random",
        "Multiple imputation, jump to reference",
        "Multiple imputation, copy reference",
        "Tipping point (shift of imputed values)",
    ]


def test_spec_labels_reach_the_printout(tmp_path, capsys) -> None:
    write_frame(small_wide(), tmp_path / "trial.csv")
    spec = base_spec(
        arms={"labels": {"active": "Drug 10 mg", "placebo": "Matching placebo"}},
        visits={"labels": {"baseline": "Day 0", "week8": "End of treatment"}},
    )
    assert main(["analyze", str(write_spec(tmp_path, spec))]) == 1  # the small trial has a listed failure
    printed = capsys.readouterr().out
    assert "Primary endpoint: ISI at End of treatment, Full analysis set (ANCOVA)" in printed
    assert "Drug 10 mg vs Matching placebo at End of treatment, Full analysis set: differences" in printed
    failed = _block(printed, "Analyses that could not run")
    start, end = failed[0].index("Comparison"), failed[0].index("Population")
    comparisons = {line[start:end].strip() for line in failed[2:]}
    assert comparisons == {"Drug 10 mg vs Matching placebo", "Drug 10 mg", "Matching placebo"}


def test_a_binary_endpoint_shows_its_risk_difference_and_its_ratios_apart(capsys) -> None:
    assert main(["analyze", str(END_TO_END / "respiratory" / "study.toml")]) == 0
    printed = capsys.readouterr().out
    differences = _block(printed, ": differences")
    ratios = _block(printed, ": ratios")
    assert "standardised risk difference (percentage points)" in _row(differences, "Respiratory status good")
    measures = [line for line in ratios if line.startswith("Respiratory status good")]
    assert ["risk ratio" in measures[0], "odds ratio" in measures[1]] == [True, True]
    assert "not in the adjusted family" in printed


def test_a_count_endpoint_is_a_rate_ratio_and_no_difference(capsys) -> None:
    assert main(["analyze", str(END_TO_END / "epilepsy" / "study.toml")]) == 0
    printed = capsys.readouterr().out
    assert ": differences" not in printed
    assert "rate ratio" in _row(_block(printed, ": ratios"), "Seizures")


def test_several_comparisons_get_a_comparison_column(capsys) -> None:
    assert main(["analyze", str(END_TO_END / "three_arm_stratified" / "study.toml")]) == 0
    printed = capsys.readouterr().out
    differences = _block(printed, "At Week 8, Full analysis set: differences")  # no single comparison in the title
    header = differences[0].split()
    assert header[:3] == ["Endpoint", "Comparison", "Measure"]
    assert "p adjusted: Dunnett over the arms; Holm over the secondary endpoints" in printed
