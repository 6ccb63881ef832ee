"""Subject flow (CONSORT-style counts) computed from the data, and the check that every N agrees.

The flow counts are recomputed here from ``trial.data`` and ``trial.subjects``, independently of
the analyses, so that :func:`check_consistency` compares two derivations of the same numbers:
the N per arm in the flow diagram, in Table 1 and in each analysis must agree, and a mismatch is an
error rather than a footnote.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from trialkit._errors import TrialkitError
from trialkit._report._rows import records as _records
from trialkit._spec import Population
from trialkit._trial import Trial
from trialkit.analysis import Analysis
from trialkit.analysis._results import Results

__all__ = ["FLOW_COLUMNS", "InconsistentCounts", "check_consistency", "flow_counts", "randomised"]

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
    d = trial.data
    values = d.pivot_table(
        index="subject", columns=["endpoint", "visit"], values="value", observed=False, dropna=False, aggfunc="first"
    )
    values.index = values.index.astype(str)
    values = values.reindex(ids)
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
