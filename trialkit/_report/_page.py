"""The page around the results: the study's title for readers and the running header, the [study] description."""

from __future__ import annotations

from trialkit._labels import default_label
from trialkit._spec import StudySpec

__all__ = ["RUNNING_TITLE_LENGTH", "description", "running_title", "study_title"]

#: a title longer than this is shortened in the running header
RUNNING_TITLE_LENGTH = 60


def running_title(title: str) -> str:
    """Return the title for the running header: whole when short, else without a trailing parenthesis or cut at a word.

    Examples
    --------
    >>> running_title("Insomnia in the elderly")
    'Insomnia in the elderly'
    >>> running_title("Magnesium and primary insomnia in the elderly (synthetic data)")
    'Magnesium and primary insomnia in the elderly'
    >>> running_title("A randomised trial of a long intervention name in a population (with a long remark)")
    'A randomised trial of a long intervention name in a…'
    >>> running_title("A" * 30 + " " + "b" * 40)
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA…'
    """
    title = " ".join(title.split())
    if len(title) <= RUNNING_TITLE_LENGTH:
        return title
    if title.endswith(")") and " (" in title:
        shorter = title[: title.rindex(" (")].rstrip()
        if shorter and len(shorter) <= RUNNING_TITLE_LENGTH:
            return shorter
    cut = title[: RUNNING_TITLE_LENGTH - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:–-") + "…"


def study_title(spec: StudySpec) -> str:
    """Return the study's title for readers: the spec's ``title``, else words made from its id."""
    return spec.study.title.strip() or default_label(spec.study.id)


def description(spec: StudySpec) -> list[str]:
    """Return the ``[study]`` description for the summary: registration, blinding, intervention, duration."""
    study = spec.study
    parts = []
    if study.registration:
        parts.append(f"registration {study.registration}")
    if study.blinding:
        parts.append(study.blinding)
    if study.intervention:
        parts.append(f"intervention: {study.intervention}")
    if study.duration:
        parts.append(f"duration {study.duration}")
    if parts:
        parts[0] = parts[0][:1].upper() + parts[0][1:]
    return parts
