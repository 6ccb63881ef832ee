"""How the report names arms, contrasts, visits, covariates and populations: by the spec's labels, never by ids.

The results table keys its rows by ids (``magnesium - placebo``, ``week8``, ``fas``); a reader sees
the spec's labels ("Magnesium 500 mg/day − Placebo", "Week 8", "Full analysis set"). The ids stay
in the page only where a program reads them (``data-*`` attributes).
"""

from __future__ import annotations

from collections.abc import Iterable

from trialkit._format import MINUS
from trialkit._labels import population_label, with_unit
from trialkit._spec import Endpoint, StudySpec
from trialkit._trial import Trial

__all__ = [
    "adjusted_for",
    "arm_label",
    "contrast_label",
    "covariate_label",
    "covariate_words",
    "endpoint_heading",
    "in_text",
    "join",
    "populations_text",
    "visit_label",
]


def join(items: Iterable[str]) -> str:
    """Return ``a, b and c`` (empty items dropped).

    >>> join(["age", "sex", "centre"]), join(["age"]), join([])
    ('age, sex and centre', 'age', '')
    """
    kept = [i for i in items if i]
    if len(kept) <= 1:
        return "".join(kept)
    return ", ".join(kept[:-1]) + " and " + kept[-1]


def in_text(label: str) -> str:
    """Return a label as it reads inside a sentence: a capital first letter lowered, an acronym kept.

    >>> in_text("Age"), in_text("Sex"), in_text("BMI"), in_text("HbA1c")
    ('age', 'sex', 'BMI', 'HbA1c')
    """
    first_word = label.split(" ")[0]
    if any(c.isupper() for c in first_word[1:]):  # an acronym or a name like "HbA1c" keeps its case
        return label
    return label[:1].lower() + label[1:]


def arm_label(spec: StudySpec, arm: str) -> str:
    """Return the reader's name of an arm (``[arms] labels``, else words from the id)."""
    return spec.arms.label(str(arm))


def visit_label(spec: StudySpec, visit: str) -> str:
    """Return the reader's name of a visit (``[visits] labels``, else words from the id)."""
    return spec.visits.label(str(visit))


def contrast_label(trial: Trial, contrast: str) -> str:
    """Return a results contrast in words: ``"magnesium - placebo"`` -> "Magnesium 500 mg/day − Placebo".

    A per-arm row (its contrast is the arm id) reads as the arm's label; anything else (``all arms``)
    as it is. The minus between the arms is U+2212, as in every difference the report shows.
    """
    text = str(contrast)
    spec = trial.spec
    for arm in trial.arms:
        if text == arm:
            return arm_label(spec, arm)
        if text == f"{arm} - {trial.control}":
            return f"{arm_label(spec, arm)} {MINUS} {arm_label(spec, trial.control)}"
    return text


def endpoint_heading(ep: Endpoint) -> str:
    """Return an endpoint's label with its unit ("Sleep time (sleep log), min"), never doubling parentheses."""
    return with_unit(ep.label, ep.unit)


def covariate_label(spec: StudySpec, name: str) -> str:
    """Return a covariate's label with its unit, as a table row names it ("Age (years)")."""
    covariate = spec.covariate(name)
    return with_unit(covariate.label, covariate.unit)


def covariate_words(spec: StudySpec, names: Iterable[str]) -> list[str]:
    """Return the covariates as running text names them: their labels, lower case unless an acronym."""
    return [in_text(spec.covariate(str(n)).label) for n in names]


def adjusted_for(trial: Trial) -> str:
    """Say what the models adjust for: ``adjusted for baseline, age and sex``, or ``without covariates``."""
    spec = trial.spec
    terms = ["baseline"] if spec.visits.baseline is not None else []
    terms += covariate_words(spec, spec.analysis.covariates)
    return f"adjusted for {join(terms)}" if terms else "without covariates"


def populations_text(populations: Iterable[str]) -> str:
    """Name the analysis populations for readers: "Full analysis set; Completers (...)"."""
    return "; ".join(population_label(str(p)) for p in populations)
