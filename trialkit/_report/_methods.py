"""The methods section, written from what was actually run and shown.

Each paragraph names the analyses it describes (:attr:`Paragraph.analyses`, analysis ids), and the
report describes exactly the analyses its tables show (:func:`shown_analyses` reads them from the
page's ``data-analysis`` attributes) plus those that were attempted and failed: nothing shown goes
undescribed, and nothing is described that the reader cannot find.
"""

from __future__ import annotations

import platform
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from trialkit._format import format_count, format_number
from trialkit._labels import population_label
from trialkit._report._flow import randomised
from trialkit._report._missing_view import has_missing_data
from trialkit._report._missing_words import imputation_methods
from trialkit._report._mmrm_words import baseline_is_response
from trialkit._report._tables import (
    MODEL_NAMES,
    P_ADJUST_NAMES,
    primary_analysis_of,
    primary_model,
    responder_rule,
)
from trialkit._report._type_words import binary_methods, count_methods, dunnett_methods, strata_methods
from trialkit._trial import Trial
from trialkit.analysis import Analysis
from trialkit.analysis._results import Results

__all__ = [
    "COVARIANCE_NAMES",
    "DF_NAMES",
    "SAS_TYPES",
    "Paragraph",
    "methods_paragraphs",
    "rank_paths",
    "shown_analyses",
]


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of the methods: a heading, plain text (escaped by the template), list items, closing text.

    ``analyses`` are the analysis ids the paragraph describes (the template writes them as
    ``data-analyses``; a test maps them to the rows the report shows).
    """

    heading: str
    text: str
    analyses: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    closing: str = ""


def _join(items: Iterable[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


#: the MMRM's covariance structures (SAS TYPE=) and df methods (SAS DDFM=), spelled out
COVARIANCE_NAMES = {
    "us": "unstructured",
    "cs": "compound-symmetry",
    "csh": "heterogeneous compound-symmetry",
    "ar1": "first-order autoregressive",
    "arh1": "heterogeneous first-order autoregressive",
    "toep": "Toeplitz",
    "toeph": "heterogeneous Toeplitz",
}
#: the same structures as SAS PROC MIXED writes them in REPEATED / TYPE=
SAS_TYPES = {
    "us": "UN",
    "cs": "CS",
    "csh": "CSH",
    "ar1": "AR(1)",
    "arh1": "ARH(1)",
    "toep": "TOEP",
    "toeph": "TOEPH",
}
DF_NAMES = {
    "satterthwaite": "Satterthwaite's approximation",
    "kenward_roger": "the Kenward–Roger method, with its adjusted covariance of the fixed effects",
    "residual": "the residual degrees of freedom (observations minus fixed effects)",
    "between_within": "the between–within method",
}

# ------------------------------------------------------------------------------------------------------
# which analyses the page shows

_DATA_ANALYSIS = re.compile(r"<[a-zA-Z][^<>]*?\sdata-analysis=\"([^\"]+)\"[^<>]*>")
_DATA_ENDPOINT = re.compile(r"\sdata-endpoint=\"([^\"]*)\"")
_ANALYSIS_IDS = frozenset(a.value for a in Analysis)


def shown_analyses(html: str) -> dict[str, frozenset[str]]:
    """Return the analyses a rendered page shows: analysis id -> the endpoint ids of its rows.

    Read from the ``data-analysis`` (and ``data-endpoint``) attributes of the page's elements, which
    every results row carries; values that are not analysis ids are ignored.
    """
    shown: dict[str, set[str]] = {}
    for match in _DATA_ANALYSIS.finditer(html):
        analysis = match.group(1)
        if analysis not in _ANALYSIS_IDS:
            continue
        endpoint = _DATA_ENDPOINT.search(match.group(0))
        shown.setdefault(analysis, set())
        if endpoint is not None:
            shown[analysis].add(endpoint.group(1))
    return {a: frozenset(e) for a, e in shown.items()}


def _tried(results: Results) -> dict[str, frozenset[str]]:
    """Return the analyses that were attempted and failed (skipped ones, which do not apply, excluded)."""
    f = results.failures
    if f.empty:
        return {}
    failed = f.loc[(f["term"] != "skipped").to_numpy() & f["analysis"].astype(str).isin(_ANALYSIS_IDS).to_numpy()]
    out: dict[str, set[str]] = {}
    for a, e in zip(failed["analysis"].astype(str), failed["endpoint"].astype(str), strict=True):
        out.setdefault(a, set()).add(e)
    return {a: frozenset(e) for a, e in out.items()}


def _every_row(results: Results) -> dict[str, frozenset[str]]:
    t = results.table
    out: dict[str, set[str]] = {}
    for a, e in zip(t["analysis"].astype(str), t["endpoint"].astype(str), strict=True):
        out.setdefault(a, set()).add(e)
    return {a: frozenset(e) for a, e in out.items()}


# ------------------------------------------------------------------------------------------------------
# subjects analysed: numbers randomised and analysed, from the rows' n

#: how the subjects paragraph names each analysis in a sentence (variants sharing rows share a name)
_TEXT_NAMES = {
    "ancova": "the ANCOVA",
    "ancova_lsmean": "the ANCOVA",
    "mmrm": "the MMRM",
    "mmrm_lsmean": "the MMRM",
    "welch_change": "Welch's t-test",
    "student_change": "Student's t-test",
    "mann_whitney_change": "the Mann–Whitney test",
    "welch_followup": "Welch's t-test",
    "student_followup": "Student's t-test",
    "mann_whitney_followup": "the Mann–Whitney test",
    "van_elteren": "the van Elteren test",
    "paired_within": "the within-arm paired t-tests",
    "wilcoxon_within": "the within-arm signed-rank tests",
    "hedges_g": "Hedges' g of change",
    "hedges_g_ancova": "the adjusted Hedges' g",
    "responder_rate": "the responder analyses",
    "responder_rd": "the responder analyses",
    "responder_rr": "the responder analyses",
    "responder_or": "the responder analyses",
    "responder_nnt": "the responder analyses",
    "mi_mar": "multiple imputation",
    "mi_j2r": "multiple imputation",
    "mi_cr": "multiple imputation",
    "tipping_point": "the tipping-point analysis",
    "logistic": "the logistic model",
    "standardised_rd": "the standardised effects",
    "standardised_rr": "the standardised effects",
    "standardised_or": "the standardised effects",
    "proportion": "the unadjusted proportions and their comparisons",
    "risk_difference": "the unadjusted proportions and their comparisons",
    "risk_ratio": "the unadjusted proportions and their comparisons",
    "odds_ratio": "the unadjusted proportions and their comparisons",
    "nnt": "the unadjusted proportions and their comparisons",
    "cmh": "the Mantel–Haenszel analyses",
    "mh_risk_difference": "the Mantel–Haenszel analyses",
    "negative_binomial": "the negative binomial model",
    "poisson": "the robust Poisson model",
    "quasipoisson": "the quasi-Poisson model",
    "rate": "the event rates",
}
_MMRM_KINDS = frozenset({"mmrm", "mmrm_lsmean"})
_IMPUTED = frozenset({"mi_mar", "mi_j2r", "mi_cr", "tipping_point"})


def _main_population(results: Results) -> str:
    populations = [str(p) for p in results.provenance.get("populations", [])]
    return "fas" if "fas" in populations or not populations else populations[0]


def _per_arm(rows: pd.DataFrame) -> dict[str, int]:
    """Return the subjects analysed per arm from rows of one analysis (between-arm and within-arm rows)."""
    n: dict[str, int] = {}
    for contrast, n_t, n_c in zip(rows["contrast"].astype(str), rows["n_treatment"], rows["n_control"], strict=True):
        arm, _, control = contrast.partition(" - ")
        if not pd.isna(n_t):
            n[arm] = int(n_t)
        if control and not pd.isna(n_c):
            n[control] = int(n_c)
    return n


def _flow_set(flow: pd.DataFrame, population: str, endpoint: str, visit: str, column: str) -> dict[str, int]:
    sel = (flow["population"] == population) & (flow["endpoint"] == endpoint) & (flow["visit"] == visit)
    part = flow.loc[sel.to_numpy()]
    return {str(a): int(n) for a, n in zip(part["arm"], part[column], strict=True)}


def _of(trial: Trial, n: Mapping[str, int], total: Mapping[str, int]) -> str:
    """Return ``43 of 46 (Magnesium 21 of 23, Placebo 22 of 23)``: analysed of randomised, in total and per arm."""
    arms = ", ".join(
        f"{trial.spec.arms.label(a)} {format_count(n[a])} of {format_count(total[a])}" for a in trial.arms if a in n
    )
    return f"{format_count(sum(n.values()))} of {format_count(sum(total[a] for a in n))} ({arms})"


def _analysed_groups(
    trial: Trial, results: Results, flow: pd.DataFrame, described: Collection[str]
) -> list[tuple[str, list[str], dict[str, int]]]:
    """Group the described analyses of the primary endpoint at the primary visit by their subjects per arm.

    Returns (kind of set, names, subjects per arm) with kind ``"complete"`` (the subjects with every value
    the analysis needs), ``"mmrm"`` or ``"imputed"``.
    """
    spec = trial.spec
    primary, visit = spec.primary_endpoint, spec.visits.primary
    population = _main_population(results)
    t = results.table
    at = t.loc[
        (t["endpoint"] == primary.id).to_numpy()
        & (t["visit"] == visit).to_numpy()
        & (t["population"] == population).to_numpy()
    ]
    groups: dict[tuple[str, tuple[tuple[str, int], ...]], list[str]] = {}
    for analysis in Analysis:
        kind = analysis.value
        if kind not in described:
            continue
        if kind in _MMRM_KINDS:  # a row's n is the subjects observed at the visit; the model uses more
            n = _flow_set(flow, population, primary.id, visit, "mmrm_set")
        else:
            n = _per_arm(at.loc[(at["analysis"] == kind).to_numpy()])
        if not n:
            continue
        category = "mmrm" if kind in _MMRM_KINDS else "imputed" if kind in _IMPUTED else "complete"
        names = groups.setdefault((category, tuple((a, n[a]) for a in trial.arms if a in n)), [])
        name = _TEXT_NAMES.get(kind, kind)
        if name not in names:
            names.append(name)
    return [(category, names, dict(key)) for (category, key), names in groups.items()]


def _subjects(trial: Trial, results: Results, flow: pd.DataFrame, described: Collection[str]) -> Paragraph:
    """Say which subjects each analysis of the primary endpoint used, of those randomised, and why."""
    spec = trial.spec
    total = randomised(trial)
    primary = spec.primary_endpoint
    visit = spec.visits.label(spec.visits.primary)
    population = _main_population(results)
    arms = ", ".join(f"{spec.arms.label(a)} {format_count(total[a])}" for a in trial.arms)
    text = (
        "Subjects were analysed in the arm they were randomised to, and no missing value was imputed"
        + (" except in the multiple-imputation analyses" if _IMPUTED & set(described) else "")
        + ". Each analysis at a visit uses the subjects with every value it needs there"
        + (
            ": the value at the visit, and for the adjusted models every covariate"
            if spec.visits.baseline is None
            else ": the analyses of change the baseline value and the value at the visit, the adjusted models also "
            "every covariate"
            if any(e.type == "continuous" for e in spec.endpoints)
            else ": the value at the visit, and for the adjusted models also the baseline value and every covariate"
        )
        + f". {format_count(sum(total.values()))} subjects were randomised ({arms}); the analyses of the primary "
        f"endpoint, {primary.label} at {visit}, in the {population_label(population).lower()}, used:"
    )
    items = []
    complete_case = False
    for category, names, n in _analysed_groups(trial, results, flow, described):
        who = _join(names)
        who = who[:1].upper() + who[1:]
        every = "every randomised subject, " if n == total else ""
        if category == "imputed":
            items.append(f"{who}: {every}{_of(trial, n, total)}, the missing values imputed.")
        elif category == "mmrm":
            items.append(
                f"{who}: {every or 'every subject with at least one value, '}{_of(trial, n, total)}; it is valid "
                "when values are missing at random."
            )
        elif n == total:
            items.append(f"{who}: {every}{_of(trial, n, total)}.")
        else:
            complete_case = True
            items.append(f"{who}: {_of(trial, n, total)}, a complete-case analysis.")
    after = []
    if complete_case:
        after.append(
            "A complete-case analysis leaves out the subjects without every value it needs; it is unbiased when "
            "whether a value is missing does not depend on that value once "
            + ("baseline and the covariates are" if spec.visits.baseline is not None else "the covariates are")
            + " accounted for."
        )
    after.append(_secondary_range(trial, results, flow, population))
    populations = [str(p) for p in results.provenance.get("populations", [])]
    if "completers" in populations and population != "completers":
        after.append(
            f"As a sensitivity analysis, every analysis was repeated in the {population_label('completers').lower()}."
        )
    after.append("Every estimate in the tables is given with the number of subjects it analysed per arm.")
    return Paragraph("Subjects analysed", text, items=tuple(items), closing=" ".join(a for a in after if a))


def _secondary_range(trial: Trial, results: Results, flow: pd.DataFrame, population: str) -> str:
    """Say how many subjects the primary analysis of the secondary endpoints used (a range over endpoints)."""
    spec = trial.spec
    secondary = [e for e in spec.endpoints if not e.primary]
    total = sum(randomised(trial).values())
    visit = spec.visits.primary
    t = results.table
    used: list[int] = []
    kinds: set[str] = set()
    for ep in secondary:
        kind = primary_analysis_of(results, ep)
        if kind == "mmrm":
            n = _flow_set(flow, population, ep.id, visit, "mmrm_set")
        else:
            sel = (
                (t["endpoint"] == ep.id).to_numpy()
                & (t["visit"] == visit).to_numpy()
                & (t["population"] == population).to_numpy()
                & (t["analysis"] == kind).to_numpy()
            )
            n = _per_arm(t.loc[sel])
        if n:
            used.append(sum(n.values()))
            kinds.add(kind)
    if not used:
        return ""
    model = MODEL_NAMES.get(next(iter(kinds)), "primary analysis") if len(kinds) == 1 else "primary analysis"
    low, high = min(used), max(used)
    span = format_count(low) if low == high else f"between {format_count(low)} and {format_count(high)}"
    cases = "" if low == high == total else ", complete cases" if "mmrm" not in kinds else ""
    return f"For the secondary endpoints the {model} used {span} of the {format_count(total)} randomised{cases}."


# ------------------------------------------------------------------------------------------------------
# the models


def _covariate_words(trial: Trial, covariates: Sequence[str], categorical: Collection[str]) -> str:
    named = [
        f"{trial.spec.covariate(c).label} (categorical)" if c in categorical else trial.spec.covariate(c).label
        for c in covariates
    ]
    return f" and the covariate{'s' if len(named) > 1 else ''} {_join(named)}" if named else ""


def _mmrm_text(trial: Trial, results: Results, covariates: str, level: str) -> str:
    """Describe the MMRM as it was fitted (provenance), and how it relates to the ANCOVA."""
    spec = trial.spec
    mmrm = dict(results.provenance["mmrm"])
    post = [spec.visits.label(v) for v in spec.visits.post_baseline]
    control = spec.arms.label(spec.arms.control)
    structure = COVARIANCE_NAMES.get(str(mmrm["covariance"]), str(mmrm["covariance"]))
    per_arm = ", estimated separately in each arm" if mmrm.get("group_by_arm") else ""
    fitting = "restricted maximum likelihood (REML)" if mmrm.get("reml", True) else "maximum likelihood (ML)"
    sas = SAS_TYPES.get(str(mmrm["covariance"]), str(mmrm["covariance"]).upper())
    effects = "arm, visit, arm × visit" if len(post) > 1 else "arm"
    as_response = baseline_is_response(results)
    if as_response:
        baseline = spec.visits.label(str(spec.visits.baseline))
        opening = (
            f"Each endpoint was analysed by a mixed model for repeated measures (MMRM) of its values at baseline "
            f"and at every post-baseline visit ({', '.join([baseline, *post])}): fixed effects "
            "for visit and for arm at each post-baseline visit, with no arm difference at baseline, as "
            "randomisation ensures (constrained longitudinal data analysis, Liang & Zeger 2000)"
            f"{',' if covariates else ''}{covariates}; the residuals of a subject correlated across visits with an "
        )
    else:
        opening = (
            f"Each endpoint was analysed by a mixed model for repeated measures (MMRM) of its values at the "
            f"post-baseline visit{'s' if len(post) > 1 else ''} ({', '.join(post)}): fixed effects for {effects}, "
            f"the baseline value{covariates}; the residuals of a subject correlated across visits with an "
        )
    text = (
        opening
        + f"{structure} covariance matrix{per_arm} (SAS REPEATED / TYPE={sas}), subjects independent; fitted by "
        f"{fitting}. Degrees of freedom by {DF_NAMES.get(str(mmrm['df']), str(mmrm['df']))}"
    )
    if mmrm.get("empirical"):
        text += "; standard errors from the empirical (sandwich) covariance of the fixed effects"
    text += (
        f". LS means hold the {'' if as_response else 'baseline and '}numeric covariates at their mean over the "
        "analysed observations and "
        "average categorical covariates over their levels with equal weights (SAS LSMEANS); each arm is compared "
        f"with {control} at every visit by the difference in LS means, with a two-sided {level} "
        "confidence interval and t-test."
    )
    if any(e.scale == "log" for e in spec.endpoints):
        text += " Log-scale endpoints were analysed as logarithms and back-transformed, as for the ANCOVA."
    if as_response:
        text += (
            " A subject without a post-baseline value still informs the baseline mean and the covariance, so "
            "the comparison at each visit is adjusted for baseline through the correlation between visits."
        )
    elif len(post) == 1:
        text += (
            " With one post-baseline visit the covariance matrix is a single residual variance, whatever its "
            "structure, and the MMRM is the ANCOVA fitted to the same subjects: its estimates, intervals and "
            "p-values equal the ANCOVA's (both with n − p degrees of freedom)."
        )
    if primary_model(results) == "mmrm":
        text += " The MMRM is the primary analysis."
    else:
        text += " It is a supportive analysis, not adjusted for multiplicity."
    return text


def _ancova_text(trial: Trial, results: Results, cov_text: str, level: str) -> str:
    spec = trial.spec
    prov = results.provenance
    control = spec.arms.label(spec.arms.control)
    covariates = list(prov.get("covariates", spec.analysis.covariates))
    if prov.get("two_valued_covariates", "mean") == "levels":
        lsmeans = (
            "LS means were estimated at the mean of the numeric covariates, except that numeric covariates "
            "taking only two values were treated as factors: LS means average the predictions at both values "
            "with equal weights (the default of R's emmeans). Categorical covariates were averaged over their "
            "levels with equal weights."
        )
    else:
        lsmeans = (
            "LS means were estimated with numeric covariates, including any coded 0/1, at their mean over the "
            "analysed subjects (as SAS LSMEANS), averaging over the levels of categorical covariates with equal "
            "weights."
        )
    if spec.visits.baseline is not None:
        regressed = f"the follow-up value regressed on arm, the baseline value{cov_text}"
    elif covariates:
        regressed = (
            f"the follow-up value regressed on arm{cov_text} (the trial has no baseline visit, so the model adjusts "
            "for the covariates only)"
        )
    else:
        regressed = "the follow-up value regressed on arm alone (the trial has no baseline visit and no covariates)"
    continuous = [e for e in spec.endpoints if e.type == "continuous"]
    which = "Each endpoint" if len(continuous) == len(spec.endpoints) else "Each continuous endpoint"
    text = (
        f"{which} at each post-baseline visit was analysed by ANCOVA (ordinary least squares): "
        f"{regressed}, with {control} as the reference arm. {lsmeans} The difference in LS means of "
        f"each arm against {control} is reported with a two-sided {level} confidence interval and "
        "t-test on the residual degrees of freedom."
    )
    logs = [e.label for e in continuous if e.scale == "log"]
    if logs:
        text += (
            f" Log-scale endpoints ({_join(logs)}) were analysed as natural logarithms and the "
            "results back-transformed: LS means are geometric means and the contrast a ratio of "
            "geometric means."
        )
    return text


#: the analyses each endpoint type's paragraph (trialkit._report._type_words) describes
_BINARY_KINDS = (
    "logistic",
    "standardised_rd",
    "standardised_rr",
    "standardised_or",
    "proportion",
    "risk_difference",
    "risk_ratio",
    "odds_ratio",
    "nnt",
)
_CMH_KINDS = ("cmh", "mh_risk_difference")
_COUNT_KINDS = ("negative_binomial", "poisson", "quasipoisson", "rate", "mann_whitney_followup")


def _models(trial: Trial, results: Results, described: Collection[str], cov_text: str, level: str) -> list[Paragraph]:
    """Return the paragraphs of the primary analysis and of the models of each endpoint type."""
    spec = trial.spec
    prov = results.provenance
    primary = spec.primary_endpoint
    model = primary_model(results)
    ancova_ids = tuple(k for k in ("ancova", "ancova_lsmean") if k in described)
    mmrm_ids = tuple(k for k in ("mmrm", "mmrm_lsmean") if k in described)
    lead = f"The primary endpoint was {primary.label} at {spec.visits.label(spec.visits.primary)}, analysed by "
    out: list[Paragraph] = []
    mmrm = Paragraph("Mixed model for repeated measures", "", mmrm_ids)
    if mmrm_ids and "mmrm" in prov:
        mmrm = Paragraph(mmrm.heading, _mmrm_text(trial, results, cov_text, level), mmrm_ids)
    if primary.type == "binary":
        out.append(
            Paragraph("Primary analysis", lead + "the standardised risk difference from a logistic model, below.")
        )
    elif primary.type == "count":
        out.append(Paragraph("Primary analysis", lead + "the rate ratio of a negative binomial model, below."))
    elif model == "mmrm" and mmrm.text:
        out.append(Paragraph("Primary analysis", lead + "the mixed model for repeated measures described below."))
        out.append(mmrm)
        if ancova_ids:
            out.append(
                Paragraph(
                    "ANCOVA",
                    _ancova_text(trial, results, cov_text, level) + " The ANCOVA is a supportive analysis.",
                    ancova_ids,
                )
            )
        mmrm = Paragraph(mmrm.heading, "")
    else:
        out.append(
            Paragraph("Primary analysis", lead + "ANCOVA. " + _ancova_text(trial, results, cov_text, level), ancova_ids)
        )
    if primary.type != "continuous" and ancova_ids:
        out.append(Paragraph("Continuous endpoints: ANCOVA", _ancova_text(trial, results, cov_text, level), ancova_ids))
    if mmrm.text:
        out.append(mmrm)
    binary = binary_methods(trial, results, level)
    if binary:
        kinds = _BINARY_KINDS + (_CMH_KINDS if spec.analysis.strata else ())
        out.append(Paragraph("Binary endpoints", binary, kinds))
    count = count_methods(trial, results, level)
    if count:
        out.append(Paragraph("Count endpoints", count, _COUNT_KINDS))
    strata = strata_methods(trial)
    if strata:
        continuous = any(e.type == "continuous" for e in spec.endpoints)
        out.append(Paragraph("Randomisation strata", strata, ("van_elteren",) if continuous else ()))
    return out


def _secondary(trial: Trial, results: Results) -> Paragraph | None:
    spec = trial.spec
    prov = results.provenance
    secondary = [e for e in spec.endpoints if not e.primary]
    if not secondary:
        return None
    method = str(prov.get("multiplicity", spec.analysis.multiplicity.value))
    types = {e.type for e in spec.endpoints}
    kind = primary_analysis_of(results, spec.primary_endpoint)
    name = MODEL_NAMES.get(kind, kind) if len(types) == 1 else "primary analysis"
    labels = _join([e.label for e in secondary])
    if len(types) == 1:
        mmrm_too = "mmrm" in prov and _mmrm_ran(results)
        text = f"Secondary endpoints ({labels}) were analysed by the same {'models' if mmrm_too else 'model'}. "
    else:
        words = [
            w
            for t, w in (
                ("continuous", "the ANCOVA (or MMRM) of a continuous endpoint"),
                ("binary", "the standardised risk difference of a binary one"),
                ("count", "the negative binomial rate ratio of a count"),
            )
            if t in types
        ]
        text = f"Secondary endpoints ({labels}) were analysed by the primary analysis of their type: {_join(words)}. "
    visit = spec.visits.label(spec.visits.primary)
    if method == "none":
        text += "Their p-values were not adjusted for multiplicity."
    else:
        text += (
            f"Their {name} p-values at {visit} were adjusted by the "
            f"{P_ADJUST_NAMES.get(method, method)} method over the {len(secondary)} secondary "
            f"endpoint{'s' if len(secondary) > 1 else ''}, separately for each arm-versus-control contrast; the "
            "primary endpoint was not adjusted and is not part of that family, so the secondary results are to be read "
            "only when the primary comparison is significant (hierarchical testing). A secondary "
            f"endpoint whose {name} could not run counts as p = 1 in the adjustment."
        )
        if method == "fixed_sequence":
            text += " The testing sequence is the order of the endpoints in the spec."
    return Paragraph("Secondary endpoints and multiplicity", text)


# ------------------------------------------------------------------------------------------------------
# supportive analyses, and which path each rank test took

_RANK_TEST_NAMES = {
    "mann_whitney_change": "Mann–Whitney",
    "mann_whitney_followup": "Mann–Whitney",
    "wilcoxon_within": "signed-rank",
    "van_elteren": "van Elteren",
}
#: the paths of the rank tests (the ``method`` column), in words
_PATH_WORDS = {
    "exact": "its exact null distribution, with the exact Hodges–Lehmann interval (no ties, fewer than 50 per arm)",
    "normal_cc": "the normal approximation with continuity correction",
    "normal_cc_ties": (
        "the normal approximation with continuity correction and the tie-corrected variance (the values have ties)"
    ),
    "normal": "the normal approximation without continuity correction",
    "normal_ties": "the normal approximation without continuity correction, with the tie-corrected variance",
}


def _where(trial: Trial, endpoints: Collection[str]) -> str:
    """Name the endpoints an analysis is shown for: the primary endpoint, every endpoint, or by label."""
    spec = trial.spec
    if set(endpoints) == {spec.primary_endpoint.id}:
        return "of the primary endpoint"
    if set(endpoints) >= {e.id for e in spec.endpoints}:
        return "of every endpoint"
    return "of " + _join([e.label for e in spec.endpoints if e.id in endpoints])


def rank_paths(trial: Trial, results: Results, shown: Mapping[str, Collection[str]]) -> str:
    """Say which path (exact or normal approximation) each shown rank test took, from the ``method`` column."""
    spec = trial.spec
    t = results.table
    if "method" not in t.columns:
        return ""
    population = _main_population(results)
    sentences = []
    for kind in ("mann_whitney_change", "mann_whitney_followup", "wilcoxon_within", "van_elteren"):
        if kind not in shown:
            continue
        rows = t.loc[
            (t["analysis"] == kind).to_numpy()
            & t["endpoint"].isin(list(shown[kind])).to_numpy()
            & (t["visit"] == spec.visits.primary).to_numpy()
            & (t["population"] == population).to_numpy()
        ]
        by_path: dict[str, list[str]] = {}
        for endpoint, path in zip(rows["endpoint"].astype(str), rows["method"].astype(str), strict=True):
            label = next(e.label for e in spec.endpoints if e.id == endpoint)
            names = by_path.setdefault(path, [])
            if label not in names:
                names.append(label)
        if not by_path:
            continue
        test = _RANK_TEST_NAMES[kind]
        if len(by_path) == 1:
            path = next(iter(by_path))
            sentences.append(f"The {test} test used {_PATH_WORDS.get(path, path)}.")
        else:
            parts = [f"{_PATH_WORDS.get(p, p)} for {_join(names)}" for p, names in by_path.items()]
            sentences.append(f"The {test} test used " + "; ".join(parts) + ".")
    if not sentences:
        return ""
    zeros = " and, for the signed-rank test, no zero changes" if "wilcoxon_within" in shown else ""
    rule = (
        " The path follows the rule of R's wilcox.test, fixed before the data are seen: the exact distribution "
        f"when there are no ties{zeros} and fewer than 50 subjects in each arm, otherwise the normal "
        "approximation. The results table records the path of each row (column method)."
        if {"mann_whitney_change", "mann_whitney_followup", "wilcoxon_within"} & set(shown)
        else ""
    )
    return " ".join(sentences) + rule


def _supportive(trial: Trial, results: Results, shown: Mapping[str, Collection[str]]) -> Paragraph | None:
    spec = trial.spec
    support: list[tuple[str, frozenset[str]]] = []
    kinds: list[str] = []

    def add(ids: Sequence[str], words: str, endpoints: Collection[str] | None = None) -> None:
        present = [k for k in ids if k in shown]
        if present:
            where = set().union(*(set(shown[k]) for k in present)) if endpoints is None else set(endpoints)
            support.append((words, frozenset(where)))
            kinds.extend(present)

    t_names = {"welch": "Welch's", "student": "Student's pooled-variance"}
    for suffix, what in (
        ("change", "on the change from baseline"),
        ("followup", "on the follow-up values (the trial has no baseline visit)"),
    ):
        present = [k for k in ("welch", "student") if f"{k}_{suffix}" in shown]
        add([f"{k}_{suffix}" for k in present], f"{_join([t_names[k] for k in present])} t-tests {what}")
    counts = {e.id for e in spec.endpoints if e.type == "count"}
    continuous_mw = {e for e in shown.get("mann_whitney_followup", ()) if e not in counts}
    if continuous_mw:
        add(
            ["mann_whitney_followup"],
            "the Mann–Whitney test of the follow-up values with the Hodges–Lehmann shift",
            continuous_mw,
        )
    add(["mann_whitney_change"], "the Mann–Whitney test of the change with the Hodges–Lehmann shift and its interval")
    add(["paired_within"], "within-arm paired t-tests of change")
    add(["wilcoxon_within"], "within-arm Wilcoxon signed-rank tests of change with the pseudo-median")
    paths = rank_paths(trial, results, shown)
    if not support and not paths:
        return None
    text = ""
    if support:
        places = {where for _, where in support}
        if len(places) == 1:
            text = f"Supportive analyses {_where(trial, next(iter(places)))} were {_join([w for w, _ in support])}."
        else:
            text = f"Supportive analyses were {_join([f'{w} {_where(trial, where)}' for w, where in support])}."
        text += " They are not adjusted for multiplicity."
    heading = "Supportive analyses" if support else "Rank tests: exact or approximate"
    return Paragraph(heading, (text + " " + paths).strip(), tuple(dict.fromkeys(kinds)))


def _effect_sizes(described: Collection[str], level: str) -> Paragraph | None:
    kinds = tuple(k for k in ("hedges_g", "hedges_g_ancova") if k in described)
    if not kinds:
        return None
    change = (
        "Hedges' g of the change from baseline (pooled SD, exact small-sample correction)"
        if ("hedges_g" in kinds)
        else ""
    )
    adjusted = (
        "the ANCOVA difference divided by the pooled SD of the follow-up values, with "
        + ("the same correction" if change else "the exact small-sample correction")
        + " (WWC Procedures Handbook v5)"
        if "hedges_g_ancova" in kinds
        else ""
    )
    return Paragraph(
        "Effect sizes",
        f"Standardised effects are {_join([change, adjusted])}, each with a normal-theory {level} confidence interval.",
        kinds,
    )


_RESPONDER_KINDS = ("responder_rate", "responder_rd", "responder_rr", "responder_or", "responder_nnt")


def _responders(trial: Trial, described: Collection[str]) -> Paragraph | None:
    spec = trial.spec
    kinds = tuple(k for k in _RESPONDER_KINDS if k in described)
    resp = [e for e in spec.endpoints if e.responder_change is not None or e.responder_percent is not None]
    if not kinds or not resp:
        return None
    rules = "; ".join(f"{e.label}: {responder_rule(e)}" for e in resp)
    threshold = "the pre-specified threshold" if spec.analysis.prespecified else "the threshold the spec sets"
    counted = (
        " For count endpoints the change is that of the rate (events per unit of time at risk)."
        if any(e.type == "count" for e in resp)
        else ""
    )
    measures = [
        words
        for kind, words in (
            ("responder_rate", "rates have Wilson score intervals"),
            ("responder_rd", "the risk difference a Newcombe hybrid score interval"),
            ("responder_rr", "the risk ratio a log-scale interval"),
            ("responder_or", "the odds ratio a log-scale (Woolf) interval"),
            ("responder_nnt", "the number needed to treat is 1 / risk difference, rounded up to whole patients"),
        )
        if kind in kinds
    ]
    text = (
        f"A subject with baseline and follow-up responded when its change met {threshold} ({rules}); a "
        f"percent change is undefined for a baseline of 0, and such subjects are left out and reported.{counted} "
        f"{_join(measures)[:1].upper()}{_join(measures)[1:]}; p-values are from Fisher's exact test."
    )
    return Paragraph("Responder analyses", text, kinds)


def _table1(trial: Trial) -> Paragraph:
    spec = trial.spec
    words = {"mean": "mean (SD)", "median": "median [IQR]", "geometric": "geometric mean (geometric SD)"}
    numeric = [spec.covariate(c).summary for c in spec.analysis.covariates if c not in spec.analysis.categorical]
    if spec.visits.baseline is not None:
        numeric += [e.table1_summary for e in spec.endpoints if e.type == "continuous"]
    used = [words[s] for s in words if s in numeric]
    summaries = (", ".join(used) + " or n (%), as set for each variable") if used else "n (%)"
    what = "baseline values" if spec.visits.baseline is not None else "the covariates (the trial has no baseline visit)"
    return Paragraph(
        "Baseline characteristics",
        f"Table 1 summarises {what} by arm as {summaries}, with standardised differences and without p-values "
        "(CONSORT 2010, item 15).",
    )


def _plan(trial: Trial) -> Paragraph:
    if trial.spec.analysis.prespecified:
        text = (
            "The analyses were pre-specified: the study spec records the analysis plan, fixed before the outcome "
            "data were analysed."
        )
    else:
        text = (
            "The study spec does not state that its analysis plan was fixed before the data were seen, so no "
            "analysis here is presented as pre-specified."
        )
    return Paragraph("Analysis plan", text)


def methods_paragraphs(
    trial: Trial,
    results: Results,
    flow: pd.DataFrame,
    shown: Mapping[str, Collection[str]] | None = None,
) -> list[Paragraph]:
    """Return the methods paragraphs describing the analyses the report shows.

    Parameters
    ----------
    trial, results
        The trial and ``analyze``'s results.
    flow : DataFrame
        :func:`~trialkit._report._flow.flow_counts`, the subjects each model uses.
    shown : mapping of str to collection of str, optional
        Analysis id -> endpoint ids the report shows it for (:func:`shown_analyses`); default every
        row of ``results.table``. Analyses that were tried and failed are described too.
    """
    spec = trial.spec
    prov = results.provenance
    shown = dict(_every_row(results) if shown is None else shown)
    tried = _tried(results)
    described = set(shown) | set(tried)
    level = f"{100 * (1 - results.alpha):g}%"
    covariates = list(prov.get("covariates", spec.analysis.covariates))
    categorical = set(prov.get("categorical", spec.analysis.categorical))
    cov_text = _covariate_words(trial, covariates, categorical)

    out: list[Paragraph] = [_plan(trial), _subjects(trial, results, flow, described)]
    out += _models(trial, results, described, cov_text, level)
    secondary = _secondary(trial, results)
    if secondary is not None:
        out.append(secondary)
    dunnett = dunnett_methods(trial, results)
    if dunnett:
        out.append(Paragraph("Several arms against one control (Dunnett)", dunnett))
    mi = tuple(k for k in ("mi_mar", "mi_j2r", "mi_cr", "tipping_point") if k in described)
    if has_missing_data(results) and mi:
        options = dict(prov["missing_data"])
        if options.get("reference") is not None:
            options["reference"] = spec.arms.label(str(options["reference"]))
        out.append(
            Paragraph(
                "Missing data: multiple imputation",
                imputation_methods(
                    options,
                    visits=[spec.visits.label(v) for v in spec.visits.post_baseline],
                    primary_visit=spec.visits.label(spec.visits.primary),
                    covariates=[spec.covariate(c).label for c in covariates],
                    logs=any(e.scale == "log" for e in spec.endpoints),
                    alpha=results.alpha,
                    level=level,
                    labels={e.id: e.label for e in spec.endpoints},
                ),
                tuple(str(m) for m in options.get("methods", []) if str(m) in mi),
            )
        )
    supportive = {k: shown.get(k, tried.get(k, frozenset())) for k in described}
    for paragraph in (
        _supportive(trial, results, supportive),
        _effect_sizes(described, level),
        _responders(trial, described),
    ):
        if paragraph is not None:
            out.append(paragraph)
    out.append(_table1(trial))
    versions = dict(prov.get("versions", {}))
    soft = [f"{k} {v}" for k, v in versions.items()]
    out.append(
        Paragraph(
            "Software",
            f"Analysed with {_join(soft)} on Python {platform.python_version()}; all confidence "
            f"intervals are two-sided at {level} (alpha = {format_number(results.alpha)}).",
        )
    )
    return out


def _mmrm_ran(results: Results) -> bool:
    """Whether an MMRM applied to an endpoint (it ran, or it failed; skipped ones do not count)."""
    t, f = results.table, results.failures
    ran = bool(t["analysis"].isin(["mmrm", "mmrm_lsmean"]).any())
    return ran or bool((f["analysis"].isin(["mmrm", "mmrm_lsmean"]) & (f["term"] != "skipped")).any())
