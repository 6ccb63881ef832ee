"""The one verdict vocabulary of a reproduction: the code in every ``verdict`` column, and what it means.

The table-level audit, the reproduction and the report's reproduction section all read and write
verdicts as :class:`Verdict` members; the report shows their :attr:`~Verdict.label`.
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """Registry of verdicts on a published p-value: code, one-line meaning and label.

    Examples
    --------
    >>> Verdict("reproduced_for_r").label
    'reproduced for some r'
    >>> [v.value for v in Verdict if v.agrees is None]
    ['reproduced_for_r', 'not_assessable']
    """

    REPRODUCED = "reproduced"
    REPRODUCED_FOR_R = "reproduced_for_r"
    NOT_REPRODUCIBLE = "not_reproducible"
    NOT_ASSESSABLE = "not_assessable"

    @property
    def meaning(self) -> str:
        """What the verdict says, in one line."""
        return _MEANINGS[self]

    @property
    def label(self) -> str:
        """The verdict in words, for tables and reports."""
        return self.value.replace("_for_r", " for some r").replace("_", " ")

    @property
    def agrees(self) -> bool | None:
        """True when the published p is reproduced, False when it cannot be, None when it is open."""
        return {Verdict.REPRODUCED: True, Verdict.NOT_REPRODUCIBLE: False}.get(self)


_MEANINGS: dict[Verdict, str] = {
    Verdict.REPRODUCED: "the re-analysis (of the published table, or of individual-level data) gives the published "
    "p, to its printed precision, and the published direction",
    Verdict.REPRODUCED_FOR_R: "the published table gives the published p only for pre-post correlations r in an "
    "interval (columns r_low and r_high), which the publication does not report",
    Verdict.NOT_REPRODUCIBLE: "no re-analysis under the stated assumptions gives the published p and direction",
    Verdict.NOT_ASSESSABLE: "only the p-value is published, and neither a table nor individual-level data are "
    "there to re-analyse",
}
