"""Rows, failures and counts as ``analyze`` goes through the cells: one collector the row builders share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from trialkit._errors import AnalysisError
from trialkit._spec import Population
from trialkit.analysis._cells import Cell, Floats, Subjects
from trialkit.analysis._dunnett import dunnett_p
from trialkit.analysis._results import Analysis, Estimate

__all__ = ["Collector", "Row", "named"]

Row = dict[str, Any]


class Collector:
    """Rows, failures and counts as the cells are analysed."""

    def __init__(self, wanted: frozenset[Analysis], *, dunnett: bool = False):
        self.wanted = wanted
        self.dunnett = dunnett
        self.rows: list[Row] = []
        self.failures: list[Row] = []
        self.counts: list[Row] = []
        # Dunnett-adjusted p of the primary analysis by (endpoint, visit, population, contrast)
        self.many_to_one: dict[tuple[str, str, str, str], float] = {}

    def run(
        self,
        cell: Cell,
        kinds: Sequence[Analysis],
        contrast: str,
        fn: Callable[[], Iterable[Estimate]],
        names: Mapping[str, str] | None = None,
    ) -> None:
        """Run ``fn`` when one of ``kinds`` is wanted; an AnalysisError becomes a failure row.

        ``names`` says what a function's array arguments hold in this cell ({"x": "changes in
        arm 'a'"}): an error about a too-small argument then names the arm, not just ``x``.
        """
        if not self.wanted.intersection(kinds):
            return
        try:
            estimates = list(fn())
        except AnalysisError as exc:
            message = named(str(exc), names)
            term = "arm" if names and exc.term in names else exc.term
            for kind in kinds:
                if kind in self.wanted:
                    self.fail(cell, kind, contrast, term, message)
            return
        self.rows.extend(
            e.row(cell.endpoint.id, cell.visit, cell.population) for e in estimates if e.analysis in self.wanted
        )

    def many_to_one_p(self, cell: Cell, estimates: Sequence[Estimate], covariance: Floats, df: float) -> None:
        """Keep the Dunnett-adjusted p of ``estimates`` (one per non-control arm) when the spec asks for it.

        ``covariance`` is that of the estimates on the scale of their statistics (t or z = estimate / SE);
        ``df`` the statistics' degrees of freedom (inf for z). With one contrast nothing is adjusted.
        """
        if not self.dunnett or len(estimates) < 2:
            return
        sd = np.sqrt(np.diag(covariance))
        adjusted = dunnett_p(np.array([e.statistic for e in estimates]), covariance / np.outer(sd, sd), df)
        for e, p in zip(estimates, adjusted, strict=True):
            self.many_to_one[(cell.endpoint.id, cell.visit, cell.population, e.contrast)] = float(p)

    def skip(self, endpoint: str, kinds: Iterable[Analysis], population: str, reason: str) -> None:
        """Record that the wanted ``kinds`` do not apply to ``endpoint`` (one row each, every visit), and why."""
        self.failures.extend(
            {
                "endpoint": endpoint,
                "visit": "",
                "analysis": kind.value,
                "contrast": "all arms",
                "term": "skipped",
                "message": f"skipped: {reason}",
                "population": population,
            }
            for kind in kinds
            if kind in self.wanted
        )

    def count(self, subjects: Subjects, cell: Cell) -> None:
        """Record how many subjects of each arm the cell has, and which values they miss.

        ``n_with_change`` counts the subjects with both values (the follow-up value without a baseline visit).
        """
        no_value = np.isnan(cell.value)
        no_baseline = np.zeros_like(no_value) if cell.baseline is None else np.isnan(cell.baseline)
        for k, a in enumerate(subjects.arms):
            mine = subjects.in_arm[k]
            # fas: every randomised subject (an analysis keeps those with its values); completers: those with
            # the value (the others are not in it)
            in_pop = mine if cell.population == Population.FAS.value else mine & ~no_value
            self.counts.append(
                {
                    "population": cell.population,
                    "endpoint": cell.endpoint.id,
                    "visit": cell.visit,
                    "arm": a,
                    "n_randomised": int(np.count_nonzero(mine)),
                    "n_in_population": int(np.count_nonzero(in_pop)),
                    "n_with_change": int(np.count_nonzero(mine & ~no_value & ~no_baseline)),
                    "n_missing_followup": int(np.count_nonzero(in_pop & no_value)),
                    "n_missing_baseline": int(np.count_nonzero(in_pop & ~no_value & no_baseline)),
                }
            )

    def fail(self, cell: Cell, kind: Analysis, contrast: str, term: str, message: str) -> None:
        """Record that ``kind`` could not run (or ran only in part) in ``cell``."""
        self.failures.append(
            {
                "endpoint": cell.endpoint.id,
                "visit": cell.visit,
                "analysis": kind.value,
                "contrast": contrast,
                "term": term,
                "message": message,
                "population": cell.population,
            }
        )


def named(message: str, names: Mapping[str, str] | None) -> str:
    """Return ``message`` with each argument it names (`x`) followed by what it holds in the cell."""
    for name, what in (names or {}).items():
        message = message.replace(f"`{name}`", f"`{name}` ({what})")
    return message
