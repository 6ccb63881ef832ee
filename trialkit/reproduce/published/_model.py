"""The published-results data model: what a trial's publication reports, as frozen dataclasses.

Built by :func:`~trialkit.reproduce.published.parse_published`.
Values the publication reports but that could not be obtained parse to ``None``, and their key
names are listed in the block's ``unavailable`` field, so "not published" (key absent) and
"published but not available here" stay distinguishable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from trialkit._errors import TrialkitError
from trialkit.reproduce._codes import Code
from trialkit.reproduce.published._pvalue import PValue

#: The value that marks a number as published but not available to the person encoding the file.
UNAVAILABLE = "unavailable"


class Direction(StrEnum):
    """Direction of the published between-group result in the intervention arm."""

    INCREASE = "increase"
    DECREASE = "decrease"
    NONE = "none"


class DesignType(StrEnum):
    """Trial design: ``parallel`` (each subject in one arm) or ``crossover`` (every subject in every arm)."""

    PARALLEL = "parallel"
    CROSSOVER = "crossover"


class Dispersion(StrEnum):
    """What the "±" column of a published table holds."""

    SD = "sd"
    SE = "se"


class PublishedFlag(Code):
    """Registry of statements a publication makes about a result (``outcomes[].flags``)."""

    MARGINAL = (
        "marginal",
        "called marginal",
        "the publication calls the result marginal (a trend) yet describes it as an effect",
    )
    NOT_SIGNIFICANT = "not_significant", "not significant", "the publication reports no significant difference"
    PRIMARY = "primary", "primary outcome", "the publication names this outcome its primary outcome"


@dataclass(frozen=True)
class Citation:
    """Bibliographic record of the publication (``[citation]``)."""

    authors: tuple[str, ...]
    title: str
    year: int
    source: str
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    pmid: str = ""
    pmcid: str = ""
    doi: str = ""
    registry: str = ""
    license: str = ""
    url: str = ""


@dataclass(frozen=True)
class PublishedArm:
    """One arm as published (``[arms.<id>]``). ``None`` n: not published or unavailable."""

    id: str
    label: str
    source: str
    description: str = ""
    n_randomised: int | None = None
    n_analysed: int | None = None
    unavailable: tuple[str, ...] = ()
    unavailable_reason: str = ""


@dataclass(frozen=True)
class PublishedDesign:
    """Design facts as published (``[design]``)."""

    type: DesignType
    control: str
    visits: tuple[str, ...]
    source: str
    randomised: int | None = None
    analysed: int | None = None
    baseline: str | None = None
    duration_weeks: float | None = None
    alpha: float | None = None
    software: str = ""
    tests: str = ""
    blinding: str = ""
    setting: str = ""
    population: str = ""
    intervention: str = ""
    note: str = ""
    unavailable: tuple[str, ...] = ()
    unavailable_reason: str = ""


@dataclass(frozen=True)
class Scale:
    """Measurement scale of an outcome, for GRIM and range checks (``outcomes[].scale``).

    ``integer``: each item is an integer; ``items``: how many integer items are summed or
    averaged into the reported value (GRIM granularity 1/(n·items)); ``range``: possible values.
    """

    integer: bool = False
    range: tuple[float, float] | None = None
    items: int = 1
    unit: str = ""


class _PrintedSpread:
    """The ± value of a printed row (an SD or an SE) as a sample SD; a base of the row types."""

    n: int
    sd: float | None
    se: float | None
    sd_divisor: str

    @property
    def sd_factor(self) -> float:
        """Factor taking the printed ± value to the SD with divisor n − 1: √n for an SE, √(n/(n − 1)) for divisor n."""
        if self.se is not None:
            return math.sqrt(self.n)
        if self.sd_divisor == "n":
            return math.sqrt(self.n / (self.n - 1)) if self.n > 1 else math.nan
        return 1.0

    @property
    def sample_sd(self) -> float:
        """SD with divisor n − 1: sd; or se·√n; or (divisor-n sd)·√(n/(n − 1))."""
        spread = self.se if self.se is not None else self.sd
        if spread is None:
            raise TrialkitError("a summary row needs `sd` or `se` (the table's ± value).")
        return spread * self.sd_factor


@dataclass(frozen=True)
class PublishedSummary(_PrintedSpread):
    """Summary statistics of one arm at one time point, or of its change to that time point.

    One row of a published table, as it says them (``outcomes[].table.rows`` and ``.change``).

    What a file says; :meth:`trialkit.reproduce.audit.ArmSummary.from_published` turns rows
    into what the table-level tests need.

    Attributes
    ----------
    arm, time : str
        Arm id and visit (for a change row, the visit the change runs to, from the baseline).
    n : int
        Number of subjects summarised.
    mean : float
    sd, se : float or None
        Exactly one is set: what the table reports.
    sd_divisor : str
        ``"n-1"`` (sample SD, the default) or ``"n"`` (the divisor some older tables used).
    mean_decimals, dispersion_decimals : int or None
        Decimals as printed (from a value written as a string such as ``"5.20"`` or from the
        table's ``decimals``); None when unknown. GRIM needs them.
    """

    arm: str
    time: str
    n: int
    mean: float
    sd: float | None = None
    se: float | None = None
    sd_divisor: str = "n-1"
    mean_decimals: int | None = None
    dispersion_decimals: int | None = None


@dataclass(frozen=True)
class PairedSummary(_PrintedSpread):
    """Within-subject difference ``arm − reference`` at one time point (crossover tables).

    Fields as :class:`PublishedSummary`, with ``reference`` the arm subtracted.
    """

    arm: str
    reference: str
    time: str
    n: int
    mean: float
    sd: float | None = None
    se: float | None = None
    sd_divisor: str = "n-1"
    mean_decimals: int | None = None
    dispersion_decimals: int | None = None


@dataclass(frozen=True)
class PublishedComparison:
    """A between-group p-value as published in a table (``outcomes[].table.comparisons``).

    ``on``: ``"end"`` (values at ``time``), ``"change"`` (change to ``time``) or ``"paired"``
    (within-subject difference, crossover); ``test``: the test as the publication names it.
    """

    time: str
    p: PValue
    on: str = "end"
    arm: str = ""
    test: str = ""
    source: str = ""


@dataclass(frozen=True)
class PublishedTable:
    """Table-level numbers of one outcome (``[outcomes.table]``)."""

    source: str
    rows: tuple[PublishedSummary, ...] = ()
    change: tuple[PublishedSummary, ...] = ()
    paired: tuple[PairedSummary, ...] = ()
    comparisons: tuple[PublishedComparison, ...] = ()
    dispersion: Dispersion | None = None
    sd_divisor: str = "n-1"

    def row(self, arm: str, time: str) -> PublishedSummary:
        """Return the end-value summary of ``arm`` at ``time``; KeyError when the table has none."""
        for r in self.rows:
            if r.arm == arm and r.time == time:
                return r
        raise KeyError((arm, time))


@dataclass(frozen=True)
class PublishedOutcome:
    """One outcome as published (``[[outcomes]]``).

    ``direction`` and ``p`` describe the between-group result (intervention vs control);
    ``expected`` is an a priori expectation recorded by whoever encoded the file (not a published
    fact), with its rationale in ``expected_source``; ``table`` is None when the table-level
    numbers are not published or unavailable (then ``"table"`` is in ``unavailable``).
    """

    id: str
    label: str
    direction: Direction
    source: str
    p: PValue | None = None
    flags: tuple[PublishedFlag, ...] = ()
    description: str = ""
    expected: Direction | None = None
    expected_source: str = ""
    scale: Scale | None = None
    table: PublishedTable | None = None
    note: str = ""
    unavailable: tuple[str, ...] = ()
    unavailable_reason: str = ""


@dataclass(frozen=True)
class ContextResult:
    """A result from another source that puts the trial in context (``[[context]]``).

    E.g. a meta-analysis pooling the trial. Never used as a published result of the trial itself.
    """

    kind: str
    citation: str
    label: str
    source: str
    relates_to: tuple[str, ...] = ()
    measure: str = ""
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = None
    p: PValue | None = None
    unit: str = ""
    n_participants: int | None = None
    n_trials: int | None = None
    note: str = ""


@dataclass(frozen=True)
class PublishedTrial:
    """Everything a trial's publication reports, as encoded in a published-results file."""

    id: str
    title: str
    citation: Citation
    design: PublishedDesign
    arms: tuple[PublishedArm, ...]
    outcomes: tuple[PublishedOutcome, ...]
    context: tuple[ContextResult, ...] = ()
    note: str = ""
    file: str = ""

    @property
    def arm_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.arms)

    @property
    def intervention_arms(self) -> tuple[PublishedArm, ...]:
        return tuple(a for a in self.arms if a.id != self.design.control)

    def arm(self, arm_id: str) -> PublishedArm:
        for a in self.arms:
            if a.id == arm_id:
                return a
        raise KeyError(arm_id)

    def outcome(self, outcome_id: str) -> PublishedOutcome:
        for o in self.outcomes:
            if o.id == outcome_id:
                return o
        raise KeyError(outcome_id)
