"""Subject flow (CONSORT-style counts) computed from the data, and the check that every N agrees.

The flow counts are recomputed here from ``trial.data`` and ``trial.subjects``, independently of
the analyses, so that :func:`check_consistency` compares two derivations of the same numbers:
the N per arm in the flow diagram, in Table 1 and in each analysis must agree, and a mismatch is an
error rather than a footnote.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from trialkit._errors import TrialkitError
from trialkit._report._rows import records as _records
from trialkit._spec import Population
from trialkit._trial import DISCONTINUATION_REASON, Trial
from trialkit.analysis import Analysis
from trialkit.analysis._results import Results

__all__ = [
    "FLOW_COLUMNS",
    "ConsortArm",
    "InconsistentCounts",
    "analysed_set",
    "check_consistency",
    "consort_counts",
    "flow_counts",
    "randomised",
    "reasons_recorded",
]

FLOW_COLUMNS = (
    "population",
    "endpoint",
    "visit",
    "arm",
    "randomised",
    "followed_up",
    "missing_followup",
    "with_change",
    "ancova_set",
    "mmrm_set",
)

#: which analysed set each analysis uses (docs/analyses.md, "Data used by each analysis"). The model
#: set: follow-up, baseline (when the trial has one) and every covariate; the MMRM's rows at a visit
#: count the subjects observed there with baseline and covariates, the model set
_MODEL_SET = frozenset(
    {
        Analysis.ANCOVA.value,
        Analysis.ANCOVA_LSMEAN.value,
        Analysis.HEDGES_G_ANCOVA.value,
        Analysis.MMRM.value,
        Analysis.MMRM_LSMEAN.value,
        Analysis.LOGISTIC.value,
        Analysis.STANDARDISED_RD.value,
        Analysis.STANDARDISED_RR.value,
        Analysis.STANDARDISED_OR.value,
        Analysis.NEGATIVE_BINOMIAL.value,
        Analysis.POISSON.value,
        Analysis.QUASIPOISSON.value,
    }
)
_CHANGE_SET = frozenset(
    {
        Analysis.WELCH_CHANGE.value,
        Analysis.STUDENT_CHANGE.value,
        Analysis.MANN_WHITNEY_CHANGE.value,
        Analysis.PAIRED_WITHIN.value,
        Analysis.WILCOXON_WITHIN.value,
        Analysis.HEDGES_G.value,
        Analysis.RESPONDER_RATE.value,
        Analysis.RESPONDER_RD.value,
        Analysis.RESPONDER_RR.value,
        Analysis.RESPONDER_OR.value,
        Analysis.RESPONDER_NNT.value,
    }
)
#: every subject with the value at the visit (counts: with the time at risk, which the loader requires)
_FOLLOWUP_SET = frozenset(
    {
        Analysis.WELCH_FOLLOWUP.value,
        Analysis.STUDENT_FOLLOWUP.value,
        Analysis.MANN_WHITNEY_FOLLOWUP.value,
        Analysis.PROPORTION.value,
        Analysis.RISK_DIFFERENCE.value,
        Analysis.RISK_RATIO.value,
        Analysis.ODDS_RATIO.value,
        Analysis.NNT.value,
        Analysis.RATE.value,
    }
)
#: the stratified analyses leave out subjects without a stratum: at most the subjects with the value
_AT_MOST_FOLLOWUP = frozenset({Analysis.CMH.value, Analysis.MH_RISK_DIFFERENCE.value, Analysis.VAN_ELTEREN.value})
_SHOWN = 10


class InconsistentCounts(TrialkitError):
    """The N per arm differs between the flow diagram, Table 1 and an analysis."""

    def __init__(self, mismatches: list[str]) -> None:
        self.mismatches = list(mismatches)
        shown = "\n  ".join(self.mismatches[:_SHOWN])
        more = len(self.mismatches) - _SHOWN
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"the numbers of subjects do not agree between the flow diagram, Table 1 and the analyses "
            f"({len(self.mismatches)} mismatches); the results do not belong to this trial's data, or "
            f"were changed after `analyze`. Re-run `analyze` on this trial.\n  {shown}{tail}"
        )


def randomised(trial: Trial) -> dict[str, int]:
    """Count subjects randomised per arm, in trial order (control first)."""
    arm = trial.subjects["arm"].astype(str)
    return {a: int((arm == a).sum()) for a in trial.arms}


def flow_counts(trial: Trial, populations: Iterable[Population | str] | None = None) -> pd.DataFrame:
    """Count subjects per arm, endpoint and post-baseline visit at each step of the flow.

    Parameters
    ----------
    trial : Trial
        A loaded trial. Without a baseline visit nothing is needed besides the follow-up value:
        ``with_change`` equals ``followed_up`` and ``mmrm_set`` is 0 (the MMRM needs a baseline).
    populations : iterable of Population or str, optional
        Default: the spec's ``analysis.populations``.

    Returns
    -------
    DataFrame
        Columns :data:`FLOW_COLUMNS`: ``randomised``; ``followed_up`` (endpoint observed at the
        visit) and ``missing_followup``; ``with_change`` (baseline and follow-up observed: the set of
        the change-score, within-arm and responder analyses); ``ancova_set`` (the model set: also
        every covariate observed — the set of the ANCOVA, the logistic and the count models);
        ``mmrm_set`` (the same for the endpoint's MMRM, which spans the visits: baseline, every
        covariate and at least one post-baseline value observed — or, with the baseline as a response,
        every covariate and any value; equal on every visit row of the endpoint). In the completers
        population, subjects not observed at every post-baseline visit of the endpoint count as not
        followed up.
    """
    spec = trial.spec
    chosen = spec.analysis.populations if populations is None else tuple(Population(p) for p in populations)
    subjects = trial.subjects.reset_index(drop=True)
    ids = subjects["subject"].astype(str).to_numpy()
    arm = subjects["arm"].astype(str).to_numpy()
    covs = list(spec.analysis.covariates)
    cov_ok = subjects[covs].notna().all(axis=1).to_numpy() if covs else np.ones(len(ids), bool)
    values = _values_by_subject(trial, ids)
    n_rand = randomised(trial)
    post = spec.visits.post_baseline
    as_response = spec.analysis.mmrm is not None and spec.analysis.mmrm.baseline == "response"
    rows: list[dict[str, Any]] = []
    for population in chosen:
        for ep in spec.endpoints:
            if spec.visits.baseline is None:  # nothing to need: every follow-up value counts as "with change"
                base = np.zeros(len(ids))
            else:
                base = values[(ep.id, spec.visits.baseline)].to_numpy(dtype="float64")
            follow = {v: values[(ep.id, v)].to_numpy(dtype="float64") for v in post}
            keep = np.ones(len(ids), bool)
            if population is Population.COMPLETERS:
                keep = np.logical_and.reduce([~np.isnan(follow[v]) for v in post])
            any_visit = np.logical_or.reduce([~np.isnan(follow[v]) for v in post]) & keep
            in_mmrm = any_visit & ~np.isnan(base) & cov_ok
            if spec.visits.baseline is None or ep.type != "continuous":  # the MMRM models continuous endpoints
                in_mmrm = np.zeros(len(ids), bool)
            elif as_response:  # the baseline visit is a response: any value enters (completers: every visit)
                seen_base = ~np.isnan(base)
                in_mmrm = (seen_base & keep if population is Population.COMPLETERS else seen_base | any_visit) & cov_ok
            for v in post:
                seen = ~np.isnan(follow[v]) & keep
                change = seen & ~np.isnan(base)
                for a in trial.arms:
                    in_arm = arm == a
                    n_seen = int((seen & in_arm).sum())
                    rows.append(
                        {
                            "population": population.value,
                            "endpoint": ep.id,
                            "visit": v,
                            "arm": a,
                            "randomised": n_rand[a],
                            "followed_up": n_seen,
                            "missing_followup": n_rand[a] - n_seen,
                            "with_change": int((change & in_arm).sum()),
                            "ancova_set": int((change & cov_ok & in_arm).sum()),
                            "mmrm_set": int((in_mmrm & in_arm).sum()),
                        }
                    )
    return pd.DataFrame(rows, columns=list(FLOW_COLUMNS))


def _values_by_subject(trial: Trial, ids: np.ndarray) -> pd.DataFrame:
    """Return one row per subject (in the order of ``ids``), one column per (endpoint, visit)."""
    values = trial.data.pivot_table(
        index="subject", columns=["endpoint", "visit"], values="value", observed=False, dropna=False, aggfunc="first"
    )
    values.index = values.index.astype(str)
    return values.reindex(ids)


def analysed_set(analysis: str) -> str:
    """Return the column of :func:`flow_counts` that counts the subjects ``analysis`` uses at a visit.

    ``mmrm_set`` for the MMRM, ``ancova_set`` for the other adjusted models, ``with_change`` for the
    change-score, within-arm and responder analyses, and ``followed_up`` otherwise.
    """
    if analysis in (Analysis.MMRM.value, Analysis.MMRM_LSMEAN.value):
        return "mmrm_set"
    if analysis in _MODEL_SET:
        return "ancova_set"
    return "with_change" if analysis in _CHANGE_SET else "followed_up"


@dataclass(frozen=True)
class ConsortArm:
    """One arm's counts in a CONSORT 2010 flow diagram, in participants.

    Attributes
    ----------
    arm : str
        The arm's code.
    randomised : int
    discontinued : tuple of (str, int)
        Each recorded reason for discontinuing with its number of participants, most frequent
        first (then by reason); empty when the data record no reasons.
    no_reason : int
        Participants without a value at the visit and without a recorded reason (with the data's
        reason column), or every participant without a value at the visit (without it).
    followed_up_after_discontinuing : int
        Participants with a recorded reason who still have a value at the visit.
    analysed : int
        Participants in the analysis (the flow's ``analysed_set`` at the visit).
    excluded : tuple of (str, int)
        Participants not analysed, by the first reason that applies, in this order:
        ``not_completer`` (completers only), ``no_value`` (none at the visit), ``no_value_any`` (none
        after baseline), ``no_value_at_all`` (none at any visit, baseline included), ``no_baseline``,
        ``no_covariate:<name>``.
    """

    arm: str
    randomised: int
    discontinued: tuple[tuple[str, int], ...]
    no_reason: int
    followed_up_after_discontinuing: int
    analysed: int
    excluded: tuple[tuple[str, int], ...]

    @property
    def left(self) -> int:
        """Participants who discontinued (a recorded reason) or have no value at the visit, each once."""
        return sum(n for _, n in self.discontinued) + self.no_reason


def reasons_recorded(trial: Trial) -> bool:
    """Whether the data record each subject's reason for discontinuing (a covariate of that name is no reason)."""
    return (
        DISCONTINUATION_REASON in trial.subjects.columns
        and DISCONTINUATION_REASON not in trial.spec.analysis.covariates
    )


def consort_counts(
    trial: Trial,
    analysis: str,
    *,
    population: Population | str = Population.FAS,
    endpoint: str | None = None,
    visit: str | None = None,
) -> tuple[ConsortArm, ...]:
    """Count participants per arm for the CONSORT flow of ``endpoint`` at ``visit``, analysed by ``analysis``.

    Parameters
    ----------
    trial : Trial
        A loaded trial; ``trial.subjects[DISCONTINUATION_REASON]`` (when present) holds each
        participant's recorded reason for discontinuing, ``""`` for none.
    analysis : str
        The analysis of the Analysis boxes (an ``Analysis`` id); its analysed set
        (:func:`analysed_set`) decides who is analysed and why others are not.
    population : Population or str
        ``fas`` or ``completers`` (then a participant not observed at every post-baseline visit
        of the endpoint is excluded as ``not_completer``).
    endpoint, visit : str, optional
        Default the primary endpoint and the primary visit.

    Returns
    -------
    tuple of ConsortArm
        One per arm, control first.

    Notes
    -----
    Every participant is counted once in each box. *Discontinued / lost to follow-up* is the
    union of the participants with a recorded reason and those without a value at the visit: a
    participant with a reason but a value at the visit is counted as discontinued under that
    reason (and, in ``followed_up_after_discontinuing``, as still followed up — they are also in
    the analysis when their other values are there); one without a reason and without a value
    counts under ``no_reason`` (*no reason recorded*). Exclusions from the analysis are counted
    under the first reason that applies, in the order of :attr:`ConsortArm.excluded`; they sum to
    ``randomised - analysed``, and ``analysed`` equals the :func:`flow_counts` column of the
    analysis (a test holds both to it).
    """
    spec = trial.spec
    population = Population(population)
    ep = spec.primary_endpoint if endpoint is None else next(e for e in spec.endpoints if e.id == endpoint)
    at = spec.visits.primary if visit is None else visit
    subjects = trial.subjects.reset_index(drop=True)
    ids = subjects["subject"].astype(str).to_numpy()
    arm = subjects["arm"].astype(str).to_numpy()
    values = _values_by_subject(trial, ids)
    post = spec.visits.post_baseline
    follow = {v: ~np.isnan(values[(ep.id, v)].to_numpy(dtype="float64")) for v in post}
    has_base = (
        np.ones(len(ids), bool)
        if spec.visits.baseline is None
        else ~np.isnan(values[(ep.id, spec.visits.baseline)].to_numpy(dtype="float64"))
    )
    seen = follow[at]
    complete = np.logical_and.reduce([follow[v] for v in post])
    any_post = np.logical_or.reduce([follow[v] for v in post])
    covs = list(spec.analysis.covariates)
    which = analysed_set(analysis)
    as_response = spec.analysis.mmrm is not None and spec.analysis.mmrm.baseline == "response"
    # each exclusion in order: the first that applies is the participant's reason
    steps: list[tuple[str, np.ndarray]] = []
    if population is Population.COMPLETERS:
        steps.append(("not_completer", ~complete))
    if which == "mmrm_set" and as_response:  # the baseline is a response: any value enters (completers: baseline too)
        steps.append(("no_value_at_all", ~(any_post | has_base)))
        if population is Population.COMPLETERS:
            steps.append(("no_baseline", ~has_base))
    elif which == "mmrm_set":
        steps += [("no_value_any", ~any_post), ("no_baseline", ~has_base)]
    else:
        steps.append(("no_value", ~seen))
        if which in ("with_change", "ancova_set"):
            steps.append(("no_baseline", ~has_base))
    if which in ("ancova_set", "mmrm_set"):
        steps += [(f"no_covariate:{c}", subjects[c].isna().to_numpy()) for c in covs]
    reason_of = np.full(len(ids), "", dtype=object)
    for code, where in steps:
        reason_of[(reason_of == "") & where] = code
    recorded = reasons_recorded(trial)
    reasons = subjects[DISCONTINUATION_REASON].fillna("").astype(str).to_numpy() if recorded else np.full(len(ids), "")
    order = [code for code, _ in steps]
    out = []
    for a in trial.arms:
        in_arm = arm == a
        stated = Counter(reasons[in_arm & (reasons != "")].tolist())
        excluded = Counter(reason_of[in_arm & (reason_of != "")].tolist())
        out.append(
            ConsortArm(
                arm=a,
                randomised=int(in_arm.sum()),
                discontinued=tuple(sorted(stated.items(), key=lambda kv: (-kv[1], kv[0]))),
                no_reason=int((in_arm & ~seen & (reasons == "")).sum()),
                followed_up_after_discontinuing=int((in_arm & seen & (reasons != "")).sum()),
                analysed=int((in_arm & (reason_of == "")).sum()),
                excluded=tuple((code, excluded[code]) for code in order if excluded[code]),
            )
        )
    return tuple(out)


def _arms_of(trial: Trial) -> dict[str, tuple[str, str | None]]:
    """Map contrast text to (treatment arm, control arm or None for a within-arm row)."""
    out: dict[str, tuple[str, str | None]] = {a: (a, None) for a in trial.arms}
    out.update({f"{a} - {trial.control}": (a, trial.control) for a in trial.arms[1:]})
    return out


def _n(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def check_consistency(trial: Trial, results: Results, flow: pd.DataFrame) -> None:
    """Raise :class:`InconsistentCounts` unless every N per arm agrees.

    Checks: Table 1 ``n + n_missing`` equals the randomised count of its arm for every row, and
    Table 1 has every arm; every results row's ``n_treatment`` / ``n_control`` equals the analysed
    count of its arm in ``flow`` (the ANCOVA set for ``ancova``, ``ancova_lsmean``,
    ``hedges_g_ancova``, ``mmrm`` and ``mmrm_lsmean``; the change set for the change-score,
    within-arm and responder analyses; at most the randomised count for analyses this check does
    not know); the subjects of each MMRM
    (``provenance["mmrm"]["subjects"]``) equal the flow's MMRM set; ``results.counts`` (when
    present) has the same randomised and change-set counts; and the responder sweep's counts equal
    the change set at its visit.
    """
    problems: list[str] = []
    n_rand = randomised(trial)
    t1 = results.table1
    if not t1.empty:
        missing_arms = [a for a in trial.arms if a not in set(t1["arm"].astype(str))]
        if missing_arms:
            problems.append(f"Table 1 has no column for arm(s) {missing_arms!r}")
        for t1_row in _records(t1):
            a = str(t1_row["arm"])
            total = int(t1_row["n"]) + int(t1_row["n_missing"])
            variable = t1_row["variable"]
            if a not in n_rand:
                problems.append(f"Table 1 {variable!r}: arm {a!r} is not an arm of the trial")
            elif total != n_rand[a]:
                problems.append(f"Table 1 {variable!r}, {a}: n + missing = {total}, randomised = {n_rand[a]}")
    keyed = {(s["population"], s["endpoint"], s["visit"], s["arm"]): s for s in _records(flow)}
    arms_of = _arms_of(trial)
    for r in _records(results.table):
        where = f"{r['analysis']} {r['endpoint']} {r['visit']} {r['contrast']!r} ({r['population']})"
        if r["contrast"] not in arms_of:
            problems.append(f"{where}: the contrast names no arm of the trial")
            continue
        treated, control = arms_of[r["contrast"]]
        for arm, n in ((treated, _n(r["n_treatment"])), (control, _n(r["n_control"]))):
            if arm is None:
                continue
            step = keyed.get((r["population"], r["endpoint"], r["visit"], arm))
            if step is None:
                problems.append(f"{where}: no such endpoint, visit or population in the flow")
                break
            if r["analysis"] in _MODEL_SET:
                continuous = r["analysis"].startswith(("ancova", "mmrm", "hedges"))
                expected, label = step["ancova_set"], "ANCOVA set" if continuous else "model set"
            elif r["analysis"] in _CHANGE_SET:
                expected, label = step["with_change"], "with baseline and follow-up"
            elif r["analysis"] in _FOLLOWUP_SET:
                expected, label = step["followed_up"], "observed"
            else:
                limit = step["followed_up"] if r["analysis"] in _AT_MOST_FOLLOWUP else step["randomised"]
                if n is None or n > limit:
                    problems.append(f"{where}: n {arm} = {n}, at most {limit}")
                continue
            if n != expected:
                problems.append(f"{where}: n {arm} = {n}, flow {label} = {expected}")
    mmrm = results.provenance.get("mmrm", {})
    for population, by_endpoint in dict(mmrm.get("subjects", {})).items():
        for endpoint, by_arm in dict(by_endpoint).items():
            for arm, n in dict(by_arm).items():
                step = keyed.get((population, endpoint, trial.spec.visits.post_baseline[0], arm))
                expected = None if step is None else step["mmrm_set"]
                if int(n) != expected:
                    problems.append(f"MMRM {endpoint} ({population}): n {arm} = {n}, flow MMRM set = {expected}")
    counts = results.counts
    if not counts.empty and {"n_randomised", "n_with_change"} <= set(counts.columns):
        for c in _records(counts):
            step = keyed.get((c["population"], c["endpoint"], c["visit"], c["arm"]))
            place = f"results.counts {c['endpoint']} {c['visit']} {c['arm']!r} ({c['population']})"
            if step is None:
                problems.append(f"{place}: not in the flow")
            elif (int(c["n_randomised"]), int(c["n_with_change"])) != (step["randomised"], step["with_change"]):
                problems.append(
                    f"{place}: randomised {int(c['n_randomised'])}, with change {int(c['n_with_change'])}; "
                    f"flow {step['randomised']}, {step['with_change']}"
                )
    sweep = results.responder_sweep
    if not sweep.empty and {"n_treatment", "n_control", "contrast"} <= set(sweep.columns):
        distinct = sweep.drop_duplicates(["endpoint", "visit", "contrast", "n_treatment", "n_control"])
        for s in _records(distinct):
            pair: tuple[str | None, str | None] = arms_of.get(s["contrast"], (None, None))
            for arm_or_none, n in ((pair[0], _n(s["n_treatment"])), (pair[1], _n(s["n_control"]))):
                step = keyed.get(("fas", s["endpoint"], s["visit"], arm_or_none))
                if arm_or_none is None or step is None or n != step["with_change"]:
                    problems.append(
                        f"responder sweep {s['endpoint']} {s['visit']} {s['contrast']!r}: n {arm_or_none} = {n}, "
                        f"flow = {None if step is None else step['with_change']}"
                    )
    if problems:
        raise InconsistentCounts(problems)
