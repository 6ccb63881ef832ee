"""The reproduction's registries of codes, and the one verdict vocabulary among them.

Every registry of the reproduce package (verdicts, audit flags, the statements a publication
makes, rounding conventions) is a :class:`Code` enum: each member is the code written in tables and
files, with a label (a few words, for reports) and a one-line meaning, defined together. The
table-level audit, the reproduction and the report's reproduction section read and write verdicts
as :class:`Verdict` members.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class Code(StrEnum):
    """A registry of codes, each with a label and a one-line meaning (base of the registries)."""

    label: str
    meaning: str

    def __new__(cls, code: str, label: str = "", meaning: str = "") -> Self:
        """Make a member from its code, label and meaning (``NAME = code, label, meaning``)."""
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        member.meaning = meaning
        return member


class Flag(Code):
    """A registry of flags: one boolean column ``flag_<code>`` each."""

    @property
    def column(self) -> str:
        """The flag's boolean column."""
        return f"flag_{self.value}"


class Verdict(Code):
    """Registry of verdicts on a published p-value: code, label and one-line meaning.

    Examples
    --------
    >>> Verdict("reproduced_for_r").label
    'reproduced for some r'
    >>> [v.value for v in Verdict if v.agrees is None]
    ['reproduced_for_r', 'not_assessable']
    """

    REPRODUCED = (
        "reproduced",
        "reproduced",
        "the re-analysis (of the published table, or of individual-level data) gives the published p, to its "
        "printed precision, and the published direction",
    )
    REPRODUCED_FOR_R = (
        "reproduced_for_r",
        "reproduced for some r",
        "the published table gives the published p only for pre-post correlations r in an interval (columns "
        "r_low and r_high), which the publication does not report",
    )
    NOT_REPRODUCIBLE = (
        "not_reproducible",
        "not reproducible",
        "no re-analysis under the stated assumptions gives the published p and direction",
    )
    NOT_ASSESSABLE = (
        "not_assessable",
        "not assessable",
        "only the p-value is published, and neither a table nor individual-level data are there to re-analyse",
    )

    @property
    def agrees(self) -> bool | None:
        """True when the published p is reproduced, False when it cannot be, None when it is open."""
        return {Verdict.REPRODUCED: True, Verdict.NOT_REPRODUCIBLE: False}.get(self)
