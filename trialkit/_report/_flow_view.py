"""The participant-flow section's view: the CONSORT 2010 diagram in words and the analysed-per-visit table.

The numbers come from :mod:`._flow` (participants counted from the data); this module puts them in
words — arm, visit and covariate labels from the spec, never their ids, which stay in ``data-*``
attributes — and hands the boxes to :mod:`._consort` to draw.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from trialkit._format import format_count
from trialkit._labels import population_label
from trialkit._report._consort import Box, Diagram, Line, consort_svg
from trialkit._report._flow import ConsortArm, consort_counts, reasons_recorded
from trialkit._report._rows import records
from trialkit._report._tables import MODEL_NAMES
from trialkit._spec import Population, StudySpec
from trialkit._trial import Trial

__all__ = ["CAPTION_ID", "consort_diagram", "flow_view"]

CAPTION_ID = "flow-diagram-caption"

#: the adjusted model of each endpoint type, for the flow table's note
_MODEL_OF_TYPE = {
    "continuous": "the ANCOVA of a continuous endpoint",
    "binary": "the logistic model of a binary endpoint",
    "count": "the negative binomial model of a count endpoint",
}


def _n(value: int) -> str:
    return f"n = {format_count(value)}"


def _exclusion(code: str, spec: StudySpec, visit: str) -> str:
    """Say why a participant is not analysed (a code of :attr:`~._flow.ConsortArm.excluded`)."""
    if code.startswith("no_covariate:"):
        return f"{spec.covariate(code.split(':', 1)[1]).label} missing"
    return {
        "not_completer": "not observed at every visit",
        "no_value": f"no value at {spec.visits.label(visit)}",
        "no_value_any": "no value after baseline",
        "no_value_at_all": "no value at any visit",
        "no_baseline": "no baseline value",
    }[code]


def _followup_lines(arm: ConsortArm, recorded: bool, visit_label: str) -> tuple[Line, ...]:
    lines = [Line(f"Discontinued / lost to follow-up: {_n(arm.left)}")]
    if recorded:
        lines += [Line(f"{reason}: {_n(n)}", indent=True) for reason, n in arm.discontinued]
        if arm.no_reason:
            lines.append(Line(f"no reason recorded: {_n(arm.no_reason)}", indent=True))
        if arm.followed_up_after_discontinuing:
            lines.append(
                Line(f"of these, observed at {visit_label}: {_n(arm.followed_up_after_discontinuing)}", muted=True)
            )
    elif arm.left:
        lines.append(Line("reasons not recorded in the data", indent=True, muted=True))
    return tuple(lines)


def consort_diagram(
    trial: Trial, counts: tuple[ConsortArm, ...], *, visit: str | None = None, assessed: int | None = None
) -> Diagram:
    """Put the CONSORT counts in words: the boxes of the diagram, arms by their labels.

    Parameters
    ----------
    trial : Trial
    counts : tuple of ConsortArm
        From :func:`~._flow.consort_counts`, one per arm in trial order.
    visit : str, optional
        The visit the follow-up and analysis refer to (default the primary visit).
    assessed : int, optional
        Participants assessed for eligibility, when known; the data do not record it.
    """
    spec = trial.spec
    at = spec.visits.primary if visit is None else visit
    recorded = reasons_recorded(trial)
    total = sum(a.randomised for a in counts)
    eligibility = (
        (Line("Assessed for eligibility"), Line(_n(assessed), bold=True))
        if assessed is not None
        else (Line("Assessed for eligibility: not recorded in the data"),)
    )
    columns = []
    for arm in counts:
        excluded = arm.randomised - arm.analysed
        columns.append(
            (
                Box(
                    (Line(f"Allocated to {spec.arms.label(arm.arm)}"), Line(_n(arm.randomised), bold=True)),
                    "allocated",
                    arm.arm,
                    centred=True,
                ),
                Box(_followup_lines(arm, recorded, spec.visits.label(at)), "followup", arm.arm),
                Box(
                    (
                        Line(f"Analysed: {_n(arm.analysed)}", bold=True),
                        Line(f"Excluded from analysis: {_n(excluded)}"),
                        *(Line(f"{_exclusion(code, spec, at)}: {_n(n)}", indent=True) for code, n in arm.excluded),
                    ),
                    "analysed",
                    arm.arm,
                ),
            )
        )
    return Diagram(
        enrolment=(
            Box(eligibility, "assessed", centred=True),
            Box((Line("Randomised"), Line(_n(total), bold=True)), "randomised", centred=True),
        ),
        arms=tuple(columns),
    )


def flow_view(trial: Trial, flow: pd.DataFrame, model: str, span: str, every_type: set[str]) -> dict[str, Any]:
    """Return what ``sections/flow.html.j2`` shows: the diagram (SVG), its words and the analysed-per-visit table.

    Parameters
    ----------
    trial : Trial
    flow : DataFrame
        :func:`~._flow.flow_counts` of the trial.
    model : str
        The primary endpoint's primary analysis (an ``Analysis`` id).
    span : str
        The visits the MMRM spans, in words.
    every_type : set of str
        The types of the trial's endpoints.
    """
    spec = trial.spec
    population = Population.FAS.value
    if not (flow["population"] == population).any():  # the spec asked only for completers: the diagram shows them
        population = str(flow["population"].iloc[0])
    fas = flow.loc[flow["population"] == population]
    counts = consort_counts(trial, model, population=population)
    primary = spec.primary_endpoint
    visit = spec.visits.label(spec.visits.primary)
    arm_labels = {a: spec.arms.label(a) for a in trial.arms}
    rows: list[dict[str, Any]] = []
    for (endpoint, at), part in fas.groupby(["endpoint", "visit"], sort=False):
        by_arm = {r["arm"]: r for r in records(part)}
        rows.append(
            {
                "endpoint": endpoint,
                "visit": at,
                "label": next(e.label for e in spec.endpoints if e.id == endpoint),
                "visit_label": spec.visits.label(str(at)),
                "cells": [
                    {
                        "arm": a,
                        "followed_up": format_count(by_arm[a]["followed_up"]),
                        "with_change": format_count(by_arm[a]["with_change"]),
                        "ancova_set": format_count(by_arm[a]["ancova_set"]),
                    }
                    for a in trial.arms
                ],
            }
        )
    show_change = spec.visits.baseline is not None and bool((fas["with_change"] != fas["ancova_set"]).any())
    name = MODEL_NAMES.get(model, model)
    analysis = f"{primary.label} ({name} over {span})" if model == "mmrm" else f"{primary.label} at {visit} ({name})"
    models = [words for kind, words in _MODEL_OF_TYPE.items() if kind in every_type]
    return {
        "svg": consort_svg(consort_diagram(trial, counts), caption_id=CAPTION_ID),
        "caption_id": CAPTION_ID,
        "arms": [
            {"arm": a.arm, "label": arm_labels[a.arm], "randomised": a.randomised, "analysed": a.analysed}
            for a in counts
        ],
        "reasons_recorded": reasons_recorded(trial),
        "primary_label": primary.label,
        "visit_label": visit,
        "analysis": analysis,
        # the FAS is not named: the primary analysis uses the participants with the values it needs (complete cases)
        "population": "" if population == Population.FAS.value else population_label(population),
        "rows": rows,
        "show_change": show_change,
        # the column of subjects in the adjusted model: the ANCOVA, unless other endpoint types have other models
        "model_column": "ANCOVA" if every_type == {"continuous"} else "model",
        "model_note": "" if every_type == {"continuous"} else "model: " + "; ".join(models),
    }
