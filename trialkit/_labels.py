"""Words for readers in place of the identifiers a spec and a data file use.

A spec may give a label for every arm, visit, covariate and category level; where it does not,
:func:`default_label` turns the identifier into words ("week8" -> "Week 8"), so that no
snake_case id reaches a report, a console table or a notebook.
"""

from __future__ import annotations

import re

__all__ = ["POPULATION_LABELS", "default_label", "population_label", "with_unit"]

#: how the analysis populations (``[analysis] populations``) are named for readers
POPULATION_LABELS = {
    "fas": "Full analysis set",
    "completers": "Completers (observed at every follow-up visit)",
}

_LETTERS_THEN_DIGITS = re.compile(r"(?<=[A-Za-z])(?=\d)")
_DIGITS_THEN_LETTERS = re.compile(r"(?<=\d)(?=[A-Za-z])")


def default_label(identifier: str) -> str:
    """Return words for an identifier: separators become spaces, letters and digits part, first letter upper.

    An identifier that already holds capitals beyond its first letter (an acronym such as "ISI" or
    "HbA1c") keeps its case.

    >>> default_label("week8"), default_label("baseline"), default_label("day_14"), default_label("sleep-time")
    ('Week 8', 'Baseline', 'Day 14', 'Sleep time')
    >>> default_label("HbA1c"), default_label("placebo")
    ('HbA1c', 'Placebo')
    """
    text = identifier.replace("_", " ").replace("-", " ").strip()
    if any(c.isupper() for c in text[1:]):
        return text
    text = _DIGITS_THEN_LETTERS.sub(" ", _LETTERS_THEN_DIGITS.sub(" ", text))
    text = " ".join(text.split())
    return text[:1].upper() + text[1:]


def population_label(population: str) -> str:
    """Return the name of an analysis population for readers.

    >>> population_label("fas")
    'Full analysis set'
    """
    return POPULATION_LABELS.get(str(population), default_label(str(population)))


def with_unit(label: str, unit: str) -> str:
    """Return a label with its unit, never doubling parentheses or repeating the unit.

    >>> with_unit("Sleep time", "min"), with_unit("Sleep time (sleep log)", "min")
    ('Sleep time (min)', 'Sleep time (sleep log), min')
    >>> with_unit("Seizures", "seizures"), with_unit("Age", ""), with_unit("Sleep efficiency", "%")
    ('Seizures', 'Age', 'Sleep efficiency (%)')
    """
    unit = unit.strip()
    if not unit or unit.lower() in label.lower().split():
        return label
    if label.rstrip().endswith(")"):
        return f"{label}, {unit}"
    return f"{label} ({unit})"
