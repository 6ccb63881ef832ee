"""What ``trialkit analyze`` prints: the primary result, then each endpoint's primary analysis in words.

Arms, visits, endpoints and populations are shown by their labels, p-values in the report's one
style, differences and ratios in separate tables (a ratio of 1 and a difference of 0 both mean no
effect, and a reader scanning a column should not have to tell them apart row by row), each row
naming what it measures. Numbers come from the results table through :mod:`trialkit._format`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from trialkit._cli._console import Column, Printer
from trialkit._format import format_ci, format_count, format_number, format_p, p_phrase
from trialkit._labels import population_label
from trialkit._report._rows import records
from trialkit._report._tables import (
    ANALYSIS_NAMES,
    EFFECT_DECIMALS,
    P_ADJUST_NAMES,
    POINT_MEASURES,
    RATIO_ANALYSES,
    RATIO_MEASURES,
    endpoint_decimals,
)
from trialkit._spec import Endpoint
from trialkit._trial import Trial
from trialkit.analysis._results import Results

__all__ = ["Measure", "measure_of", "print_results"]

#: how the printout names each endpoint type's primary analysis
MODEL_NAMES = {
    "ancova": "ANCOVA",
    "mmrm": "MMRM",
    "standardised_rd": "logistic model, standardised",
    "negative_binomial": "negative binomial model",
}
#: the ratios of a binary endpoint's logistic model shown beside its primary risk difference
BINARY_RATIOS = ("standardised_rr", "standardised_or")
#: the primary endpoint's analyses under each assumption about missing values, in the order shown
ASSUMPTIONS = {
    "ancova": "ANCOVA, complete cases",
    "mmrm": "MMRM, every observed visit",
    "mi_mar": "Multiple imputation, missing at random",
    "mi_j2r": "Multiple imputation, jump to reference",
    "mi_cr": "Multiple imputation, copy reference",
    "tipping_point": "Tipping point (shift of imputed values)",
}


@dataclass(frozen=True)
class Measure:
    """What an estimate measures, as shown: its name, unit, decimals and the factor it is shown times."""

    name: str
    unit: str
    decimals: int
    factor: float
    ratio: bool

    def named(self) -> str:
        """Return the name with the unit: ``difference in LS means (points)``; a ratio has no unit."""
        return f"{self.name} ({self.unit})" if self.unit else self.name


def measure_of(endpoint: Endpoint, analysis: str, decimals: int) -> Measure:
    """Return what ``analysis`` estimates on ``endpoint`` (``decimals``: the endpoint's, for a difference)."""
    if analysis in POINT_MEASURES:
        name = "standardised risk difference" if analysis == "standardised_rd" else "risk difference"
        return Measure(name, "percentage points", 1, 100.0, ratio=False)
    if analysis in RATIO_MEASURES:
        return Measure(RATIO_MEASURES[analysis], "", EFFECT_DECIMALS, 1.0, ratio=True)
    lsmeans = analysis in ("ancova", "mmrm", "mi_mar", "mi_j2r", "mi_cr")
    if endpoint.scale == "log" and analysis in RATIO_ANALYSES:
        name = "ratio of geometric LS means" if lsmeans else "ratio of geometric means"
        return Measure(name, "", EFFECT_DECIMALS, 1.0, ratio=True)
    return Measure("difference in LS means" if lsmeans else "difference", endpoint.unit, decimals, 1.0, ratio=False)


def _scaled(value: Any, factor: float) -> Any:
    """Return a results cell times ``factor``; a missing value stays missing."""
    return value if factor == 1.0 or pd.isna(value) else float(value) * factor


def failed_rows(res: Results) -> pd.DataFrame:
    """Return the failure rows of analyses that could not run: not those skipped as not applying to the trial."""
    failures: pd.DataFrame = res.failures
    return failures.loc[failures["term"] != "skipped"]


class _View:
    """The printout of one trial's results: labels, decimals and the rows of each table."""

    def __init__(self, trial: Trial, res: Results) -> None:
        self.trial, self.res, self.spec = trial, res, trial.spec
        self.decimals = endpoint_decimals(trial)
        self.level = f"{100 * (1 - res.alpha):g}%"
        self.kind_of = {str(k): str(v) for k, v in res.provenance["primary_analyses"].items()}
        # with one comparison it is named once, in the title, not on every row
        self.one_comparison = len(trial.arms) == 2
        self.visit = self.spec.visits.label(self.spec.visits.primary)

    def comparison(self, contrast: str) -> str:
        """Name a contrast ``arm - control`` by the arms' labels (``Magnesium 500 mg/day vs Placebo``), or one arm."""
        arms, control = self.spec.arms, self.trial.control
        if contrast in self.trial.arms:  # a within-arm analysis
            return arms.label(contrast)
        for arm in self.trial.arms[1:]:
            if contrast == f"{arm} - {control}":
                return f"{arms.label(arm)} vs {arms.label(control)}"
        return contrast

    def where(self, population: str) -> str:
        """Say what a table holds: the one comparison (with several, each row names its own), visit, population."""
        place = f"at {self.visit}, {population_label(population)}"
        if not self.one_comparison:
            return place[:1].upper() + place[1:]
        return f"{self.comparison(f'{self.trial.arms[1]} - {self.trial.control}')} {place}"

    def columns(self, first: Sequence[Column], *, adjusted: bool = True) -> list[Column]:
        """Return a table's columns: ``first``, the comparison (with several), then the numbers."""
        return [
            *first[:1],
            *([] if self.one_comparison else [Column("Comparison")]),
            *first[1:],
            Column("Estimate", numeric=True),
            Column(f"{self.level} CI", numeric=True),
            Column("p", numeric=True),
            *([Column("p adjusted", numeric=True)] if adjusted else []),
            Column("n", numeric=True),
        ]

    def cells(self, r: dict[str, Any], measure: Measure, *, adjusted: bool = True) -> list[str]:
        """Return the comparison (with several), estimate, CI, p, adjusted p and n cells of one results row."""
        f = measure.factor
        return [
            *([] if self.one_comparison else [self.comparison(str(r["contrast"]))]),
            format_number(_scaled(r["estimate"], f), measure.decimals),
            format_ci(_scaled(r["ci_low"], f), _scaled(r["ci_high"], f), measure.decimals),
            format_p(r["p_value"]),
            *([format_p(r["p_adjusted"])] if adjusted else []),
            f"{format_count(r['n_treatment'])} vs {format_count(r['n_control'])}",
        ]

    def at_primary_visit(self, population: str) -> pd.DataFrame:
        """Return the results rows at the primary visit in ``population``."""
        t = self.res.table
        return t.loc[(t["visit"] == self.spec.visits.primary) & (t["population"] == population)]

    def headline(self, printer: Printer, population: str) -> None:
        """Print the primary endpoint's primary result, one line per comparison."""
        primary = self.spec.primary_endpoint
        kind = self.kind_of[primary.id]
        at = self.at_primary_visit(population)
        measure = measure_of(primary, kind, self.decimals[primary.id])
        printer.line(
            f"Primary endpoint: {primary.label} at {self.visit}, {population_label(population)} "
            f"({MODEL_NAMES.get(kind, kind)})"
        )
        unit = f" {measure.unit}" if measure.unit else ""
        f = measure.factor
        for r in records(at.loc[(at["analysis"] == kind) & (at["endpoint"] == primary.id)]):
            statistic = "z" if pd.isna(r["df"]) else "t"
            df = "" if pd.isna(r["df"]) else f", df = {format_number(r['df'], 0)}"
            estimate = format_number(_scaled(r["estimate"], f), measure.decimals)
            ci = format_ci(_scaled(r["ci_low"], f), _scaled(r["ci_high"], f), measure.decimals)
            printer.line(
                f"  {self.comparison(str(r['contrast']))}: {measure.name} {estimate}{unit} ({self.level} CI {ci}; "
                f"{statistic} = {format_number(r['statistic'], 2)}{df}, {p_phrase(r['p_value'])}); "
                f"n = {format_count(r['n_treatment'])} vs {format_count(r['n_control'])}"
            )

    def primary_rows(self, population: str) -> tuple[list[list[str]], list[list[str]]]:
        """Return the difference rows and the ratio rows of each endpoint's primary analysis at the primary visit.

        A binary endpoint's standardised risk and odds ratios (from the same logistic model as its
        primary risk difference) join the ratios; they are not in the multiplicity family.
        """
        at = self.at_primary_visit(population)
        differences: list[list[str]] = []
        ratios: list[list[str]] = []
        for ep in self.spec.endpoints:
            for kind in [self.kind_of[ep.id], *(BINARY_RATIOS if ep.type == "binary" else ())]:
                measure = measure_of(ep, kind, self.decimals[ep.id])
                for r in records(at.loc[(at["endpoint"] == ep.id) & (at["analysis"] == kind)]):
                    cells = self.cells(r, measure)
                    row = [ep.label, *cells[:-5], measure.named(), *cells[-5:]]
                    (ratios if measure.ratio else differences).append(row)
        return differences, ratios

    def adjustment(self) -> str:
        """Say how ``p adjusted`` was adjusted: over the arms (Dunnett), then over the secondary endpoints."""
        method = str(self.res.provenance["multiplicity"])
        steps = ["Dunnett over the arms"] if self.res.provenance.get("dunnett") else []
        if len(self.spec.endpoints) > 1:
            if method == "none":
                steps.append("not adjusted for the secondary endpoints")
            else:
                steps.append(f"{P_ADJUST_NAMES.get(method, method)} over the secondary endpoints")
                steps.append("the primary endpoint's p is not adjusted for them")
        return "p adjusted: " + ("; ".join(steps) if steps else "one endpoint, one comparison: not adjusted") + "."

    def primary_tables(self, printer: Printer, population: str) -> None:
        """Print the differences, then the ratios, of each endpoint's primary analysis in ``population``."""
        differences, ratios = self.primary_rows(population)
        where = self.where(population)
        columns = self.columns([Column("Endpoint"), Column("Measure")])
        if differences:
            printer.table(
                f"{where}: differences (primary analysis of each endpoint; arm minus control)",
                columns,
                differences,
                note=self.adjustment(),
            )
        if ratios:
            notes = [] if differences else [self.adjustment()]
            if any(e.type == "binary" for e in self.spec.endpoints):
                notes.append(
                    "A binary endpoint's risk and odds ratios come from the model of its risk difference "
                    "and are not in the adjusted family (p adjusted –)."
                )
            printer.table(
                f"{where}: ratios (arm over control; 1 = no difference)", columns, ratios, note="\n".join(notes)
            )

    def sensitivity(self, printer: Printer, population: str) -> None:
        """Print the primary endpoint's result under each assumption about missing values, when the spec asks."""
        primary = self.spec.primary_endpoint
        at = self.at_primary_visit(population)
        at = at.loc[at["endpoint"] == primary.id]
        if not at["analysis"].isin(["mi_mar", "mi_j2r", "mi_cr", "tipping_point"]).any():
            return
        measure = measure_of(primary, self.kind_of[primary.id], self.decimals[primary.id])
        shift = measure_of(primary, "tipping_point", self.decimals[primary.id])  # a shift of values, in their unit
        rows = [
            [name, *self.cells(r, shift if kind == "tipping_point" else measure, adjusted=False)]
            for kind, name in ASSUMPTIONS.items()
            for r in records(at.loc[at["analysis"] == kind])
        ]
        unit = f" ({primary.unit})" if primary.unit else ""
        printer.table(
            f"{primary.label}, {self.where(population)}, under each assumption about missing values: {measure.named()}",
            self.columns([Column("Analysis")], adjusted=False),
            rows,
            note=f"Tipping point: the shift{unit} of the treated arm's imputed values at which p reaches alpha.",
        )

    def skipped(self, printer: Printer) -> None:
        """List the analyses that do not apply to the trial, grouped by reason."""
        failures = self.res.failures
        skipped = failures.loc[failures["term"] == "skipped"]
        if skipped.empty:
            return
        labels = {e.id: e.label for e in self.spec.endpoints}
        printer.line("")
        printer.line("Analyses that do not apply to the trial (skipped; every row in failures.csv):")
        groups: dict[tuple[str, str], list[str]] = {}
        for (message, endpoint), part in skipped.groupby(["message", "endpoint"], sort=False):
            analyses = ", ".join(ANALYSIS_NAMES.get(str(a), str(a)) for a in dict.fromkeys(part["analysis"]))
            groups.setdefault((str(message), analyses), []).append(labels.get(str(endpoint), str(endpoint)))
        for (message, analyses), endpoints in groups.items():
            printer.line(f"  {message.removeprefix('skipped: ')}\n    {analyses}\n    for {', '.join(endpoints)}")

    def failures(self, printer: Printer) -> None:
        """List the analyses that could not run, with the reason."""
        failed = failed_rows(self.res)
        if failed.empty:
            return
        labels = {e.id: e.label for e in self.spec.endpoints}
        visits = set(self.spec.visits.order)
        rows = [
            [
                labels.get(str(r["endpoint"]), str(r["endpoint"])),
                self.spec.visits.label(str(r["visit"])) if r["visit"] in visits else str(r["visit"]),
                ANALYSIS_NAMES.get(str(r["analysis"]), str(r["analysis"])),
                self.comparison(str(r["contrast"])),
                population_label(str(r["population"])),
                str(r["message"]),
            ]
            for r in records(failed)
        ]
        printer.table(
            "Analyses that could not run",
            [Column(h) for h in ("Endpoint", "Visit", "Analysis", "Comparison", "Population", "Reason")],
            rows,
        )


def print_results(printer: Printer, trial: Trial, res: Results, written: Sequence[object] = ()) -> None:
    """Print what ``trialkit analyze`` shows: the primary result, the tables per population, what did not run."""
    view = _View(trial, res)
    populations = [str(p) for p in res.provenance.get("populations", ["fas"])]
    printer.line(f"Study {trial.spec.study.id}: {trial.spec.study.title}")
    view.headline(printer, populations[0])
    for population in populations:
        view.primary_tables(printer, population)
        view.sensitivity(printer, population)
    view.skipped(printer)
    view.failures(printer)
    if written:
        printer.line("")
        printer.line("wrote " + ", ".join(str(p) for p in written))
