"""The methods section, written from what was actually run, and the provenance block."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import pandas as pd

from trialkit._format import format_number
from trialkit._provenance import sha256_file
from trialkit._provenance import versions as package_versions
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
from trialkit.analysis._results import Results

__all__ = ["COVARIANCE_NAMES", "DF_NAMES", "SAS_TYPES", "methods_paragraphs", "provenance"]

#: libraries that drew and typeset this report (the analysis versions come from Results.provenance)
REPORT_PACKAGES = ("matplotlib", "jinja2", "weasyprint")


def _join(items: list[str]) -> str:
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


def _of(n: dict[str, int], total: dict[str, int]) -> str:
    """Return ``43 of 46 randomised subjects (magnesium 21 of 23, placebo 22 of 23)``."""
    arms = ", ".join(f"{a} {n[a]} of {total[a]}" for a in total)
    return f"{sum(n.values())} of {sum(total.values())} randomised subjects ({arms})"


def _analysed(flow: pd.DataFrame, endpoint: str, visit: str, column: str) -> dict[str, int]:
    """Return the flow count ``column`` per arm (population ``fas``, else the first one the flow lists)."""
    population = "fas" if (flow["population"] == "fas").any() else str(flow["population"].iloc[0])
    sel = (flow["population"] == population) & (flow["endpoint"] == endpoint) & (flow["visit"] == visit)
    part = flow.loc[sel.to_numpy()]
    return {str(a): int(n) for a, n in zip(part["arm"], part[column], strict=True)}


def _populations(trial: Trial, results: Results, flow: pd.DataFrame, populations: list[str]) -> str:
    """Say which subjects each analysis uses, with the counts of the primary endpoint."""
    spec = trial.spec
    primary, visit = spec.primary_endpoint, spec.visits.primary
    total = randomised(trial)
    ancova = _analysed(flow, primary.id, visit, "ancova_set")
    imputed = (
        " except in the multiple-imputation sensitivity analyses described below" if has_missing_data(results) else ""
    )
    model = _MODEL_WORDS.get(primary.type, "ANCOVA")
    kinds = {e.type for e in spec.endpoints}
    if len(kinds) == 1:
        models = "the " + model
    else:
        short = {"continuous": "ANCOVA", "binary": "logistic", "count": "negative binomial"}
        models = "the " + _join([short[k] for k in _MODEL_KINDS if k in kinds]) + " models"
    if spec.visits.baseline is not None:
        needs = (
            "the change-from-baseline analyses those with the baseline value and the value at the visit, "
            f"{models} also every covariate"
        )
    else:
        needs = (
            "the trial has no baseline visit, so the unadjusted analyses use every subject with the value at the "
            f"visit, and {models} those also with every covariate"
        )
    text = (
        f"Subjects were analysed in the arm they were randomised to, and no missing value was imputed{imputed}. "
        f"An analysis at a visit uses the subjects with every value it needs there: {needs}. "
        f"For the primary endpoint at {visit} the {model} used {_of(ancova, total)}"
    )
    if ancova == total:
        text += ": every randomised subject, the full analysis set."
    else:
        text += (
            ": a complete-case analysis, not the full analysis set. It is unbiased when whether a value is "
            "missing does not depend on that value once "
            + ("baseline and covariates are" if spec.visits.baseline is not None else "the covariates are")
            + " accounted for."
        )
    if "mmrm" in results.provenance and _mmrm_ran(results):
        mmrm = _analysed(flow, primary.id, visit, "mmrm_set")
        if baseline_is_response(results):
            text += (
                " The MMRM uses every randomised subject with every covariate and at least one value, at baseline "
                f"or after, each with all of its visits: {_of(mmrm, total)}"
            )
        else:
            text += (
                " The MMRM uses every randomised subject with the baseline value, every covariate and at least "
                f"one post-baseline value, each with all of its post-baseline visits: {_of(mmrm, total)}"
            )
        if mmrm == total:
            text += ", the full analysis set"
        text += (
            ". It is valid when values are missing at random: whether a value is missing may depend on the "
            "subject's observed values, baseline and covariates, not on the missing value itself."
        )
        if len(spec.visits.post_baseline) == 1 and not baseline_is_response(results):
            text += " With one post-baseline visit it uses the same subjects as the ANCOVA."
    if "completers" in populations:
        text += (
            " As a sensitivity analysis, every analysis was repeated in the completers: subjects observed at "
            "every post-baseline visit of the endpoint."
        )
    return (
        text + " The number of subjects analysed per arm is given with every estimate and checked against "
        "the flow diagram and Table 1."
    )


#: the model whose analysed set the methods quote for the primary endpoint, by endpoint type
_MODEL_WORDS = {"continuous": "ANCOVA", "binary": "logistic model", "count": "negative binomial model"}
_MODEL_KINDS = ("continuous", "binary", "count")


def _mmrm_text(trial: Trial, results: Results, covariates: str, level: str) -> str:
    """Describe the MMRM as it was fitted (provenance), and how it relates to the ANCOVA."""
    spec = trial.spec
    mmrm = dict(results.provenance["mmrm"])
    post = list(spec.visits.post_baseline)
    structure = COVARIANCE_NAMES.get(str(mmrm["covariance"]), str(mmrm["covariance"]))
    per_arm = ", estimated separately in each arm" if mmrm.get("group_by_arm") else ""
    fitting = "restricted maximum likelihood (REML)" if mmrm.get("reml", True) else "maximum likelihood (ML)"
    sas = SAS_TYPES.get(str(mmrm["covariance"]), str(mmrm["covariance"]).upper())
    effects = "arm, visit, arm × visit" if len(post) > 1 else "arm"
    as_response = baseline_is_response(results)
    if as_response:
        opening = (
            f"Each endpoint was analysed by a mixed model for repeated measures (MMRM) of its values at baseline "
            f"and at every post-baseline visit ({', '.join([str(spec.visits.baseline), *post])}): fixed effects "
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
        f"with {spec.arms.control} at every visit by the difference in LS means, with a two-sided {level} "
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


def methods_paragraphs(trial: Trial, results: Results, flow: pd.DataFrame) -> list[tuple[str, str]]:
    """(heading, paragraph) pairs describing the analyses present in ``results.table``.

    ``flow`` (:func:`~trialkit._report._flow.flow_counts`) gives the numbers of subjects each
    analysis uses.
    """
    spec = trial.spec
    prov = results.provenance
    ran = set(results.table["analysis"].astype(str)) if not results.table.empty else set()
    level = f"{100 * (1 - results.alpha):g}%"
    covariates = list(prov.get("covariates", spec.analysis.covariates))
    categorical = set(prov.get("categorical", spec.analysis.categorical))
    populations = list(prov.get("populations", [p.value for p in spec.analysis.populations]))
    method = str(prov.get("multiplicity", spec.analysis.multiplicity.value))
    primary = spec.primary_endpoint
    secondary = [e for e in spec.endpoints if not e.primary]
    logs = [e.label for e in spec.endpoints if e.scale == "log"]
    model = primary_model(results)
    out: list[tuple[str, str]] = [("Subjects analysed", _populations(trial, results, flow, populations))]

    cov_text = ""
    if covariates:
        named = [f"{c} (categorical)" if c in categorical else c for c in covariates]
        cov_text = f" and the covariates {_join(named)}"
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
    ancova = (
        f"{which} at each post-baseline visit was analysed by ANCOVA (ordinary least squares): "
        f"{regressed}, with {spec.arms.control} as the reference arm. {lsmeans} The difference in LS means of "
        f"each arm against {spec.arms.control} is reported with a two-sided {level} confidence interval and "
        "t-test on the residual degrees of freedom."
    )
    if logs:
        ancova += (
            f" Log-scale endpoints ({_join(logs)}) were analysed as natural logarithms and the "
            "results back-transformed: LS means are geometric means and the contrast a ratio of "
            "geometric means."
        )
    lead = f"The primary endpoint was {primary.label} at {spec.visits.primary}, analysed by "
    kind = primary_analysis_of(results, primary)
    by_type = {"binary": binary_methods(trial, results, level), "count": count_methods(trial, results, level)}
    if primary.type == "binary":
        out.append(("Primary analysis", lead + "the standardised risk difference from a logistic model, below."))
    elif primary.type == "count":
        out.append(("Primary analysis", lead + "the rate ratio of a negative binomial model, below."))
    elif model == "mmrm" and "mmrm" in prov:
        out.append(("Primary analysis", lead + "the mixed model for repeated measures described below."))
        out.append(("Mixed model for repeated measures", _mmrm_text(trial, results, cov_text, level)))
        out.append(("ANCOVA", ancova + " The ANCOVA is a supportive analysis."))
    else:
        out.append(("Primary analysis", lead + "ANCOVA. " + ancova))
        if "mmrm" in prov and _mmrm_ran(results):
            out.append(("Mixed model for repeated measures", _mmrm_text(trial, results, cov_text, level)))
    if primary.type != "continuous" and continuous:
        out.append(("Continuous endpoints: ANCOVA", ancova))
        if "mmrm" in prov and _mmrm_ran(results):
            out.append(("Mixed model for repeated measures", _mmrm_text(trial, results, cov_text, level)))
    for heading, kind_text in (("Binary endpoints", by_type["binary"]), ("Count endpoints", by_type["count"])):
        if kind_text:
            out.append((heading, kind_text))
    strata = strata_methods(trial)
    if strata:
        out.append(("Randomisation strata", strata))

    name = MODEL_NAMES.get(kind, kind) if len({e.type for e in spec.endpoints}) == 1 else "primary analysis"
    if secondary:
        if len({e.type for e in spec.endpoints}) == 1:
            models = "models" if "mmrm" in prov and _mmrm_ran(results) else "model"
            text = f"Secondary endpoints ({_join([e.label for e in secondary])}) were analysed by the same {models}. "
        else:
            present = {e.type for e in spec.endpoints}
            secondary_words = [
                words
                for kind, words in (
                    ("continuous", "the ANCOVA (or MMRM) of a continuous endpoint"),
                    ("binary", "the standardised risk difference of a binary one"),
                    ("count", "the negative binomial rate ratio of a count"),
                )
                if kind in present
            ]
            text = (
                f"Secondary endpoints ({_join([e.label for e in secondary])}) were analysed by the primary analysis "
                f"of their type: {_join(secondary_words)}. "
            )
        if method == "none":
            text += "Their p-values were not adjusted for multiplicity."
        else:
            text += (
                f"Their {name} p-values at {spec.visits.primary} were adjusted by the "
                f"{P_ADJUST_NAMES.get(method, method)} method over the {len(secondary)} secondary "
                "endpoints, separately for each arm-versus-control contrast; the primary endpoint was "
                "not adjusted and is not part of that family, so the secondary results are to be read "
                "only when the primary comparison is significant (hierarchical testing). A secondary "
                f"endpoint whose {name} could not run counts as p = 1 in the adjustment."
            )
            if method == "fixed_sequence":
                text += " The testing sequence is the order of the endpoints in the spec."
        out.append(("Secondary endpoints and multiplicity", text))
    dunnett = dunnett_methods(trial, results)
    if dunnett:
        out.append(("Several arms against one control (Dunnett)", dunnett))

    if has_missing_data(results):
        out.append(
            (
                "Missing data: multiple imputation",
                imputation_methods(
                    dict(prov["missing_data"]),
                    visits=list(spec.visits.post_baseline),
                    primary_visit=spec.visits.primary,
                    covariates=covariates,
                    logs=bool(logs),
                    alpha=results.alpha,
                    level=level,
                    labels={e.id: e.label for e in spec.endpoints},
                ),
            )
        )

    support = []
    if {"welch_change", "student_change"} & ran:
        names = [
            n for k, n in (("welch_change", "Welch's"), ("student_change", "Student's pooled-variance")) if k in ran
        ]
        support.append(f"{_join(names)} t-tests on the change from baseline")
    if {"welch_followup", "student_followup"} & ran:
        names = [
            n for k, n in (("welch_followup", "Welch's"), ("student_followup", "Student's pooled-variance")) if k in ran
        ]
        support.append(f"{_join(names)} t-tests on the follow-up values (the trial has no baseline visit)")
    if "mann_whitney_followup" in ran and continuous and spec.visits.baseline is None:
        support.append("the Mann–Whitney test of the follow-up values with the Hodges–Lehmann shift")
    if "mann_whitney_change" in ran:
        support.append(
            "the Mann–Whitney test with the Hodges–Lehmann shift and its confidence interval "
            "(exact when both arms have fewer than 50 subjects and there are no ties)"
        )
    if "paired_within" in ran or "wilcoxon_within" in ran:
        support.append("within-arm paired t-tests and Wilcoxon signed-rank tests of change")
    if support:
        out.append(
            (
                "Supportive analyses",
                f"Supportive analyses were {_join(support)}. They are not adjusted for multiplicity.",
            )
        )
    if {"hedges_g", "hedges_g_ancova"} & ran:
        change = (
            "Hedges' g of the change from baseline (pooled SD, exact small-sample correction) and "
            if ("hedges_g" in ran)
            else ""
        )
        correction = "the same correction" if change else "the exact small-sample correction"
        out.append(
            (
                "Effect sizes",
                f"Standardised effects are {change}the ANCOVA difference divided by the "
                f"pooled SD of the follow-up values, with {correction} (WWC Procedures "
                f"Handbook v5), each with a normal-theory {level} confidence interval.",
            )
        )
    resp = [e for e in spec.endpoints if e.responder_change is not None or e.responder_percent is not None]
    if resp and ran & {"responder_rate", "responder_rd", "responder_rr", "responder_or"}:
        rules = [f"{e.label}: {responder_rule(e)}" for e in resp]
        counted = (
            " For count endpoints the change is that of the rate (events per unit of time at risk)."
            if any(e.type == "count" for e in resp)
            else ""
        )
        out.append(
            (
                "Responder analyses",
                f"A subject with baseline and follow-up responded when its change met the pre-specified "
                f"threshold ({'; '.join(rules)}); a percent change is undefined for a baseline of 0, and such "
                f"subjects are left out and reported.{counted} Rates have Wilson score intervals; the risk "
                "difference a Newcombe hybrid score interval; the risk ratio and odds ratio log-scale (Woolf) "
                "intervals; p-values are from Fisher's exact test. The sweep over thresholds shows how the risk "
                "difference depends on the choice of threshold.",
            )
        )
    out.append(
        (
            "Baseline characteristics",
            "Table 1 summarises "
            + (
                "baseline values"
                if spec.visits.baseline is not None
                else "the covariates (the trial has no baseline visit)"
            )
            + " by arm as mean (SD) or n (%), with standardised differences and without p-values (CONSORT "
            "2010, item 15).",
        )
    )
    versions = dict(prov.get("versions", {}))
    soft = [f"{k} {v}" for k, v in versions.items()]
    out.append(
        (
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


def _spec_path(trial: Trial) -> Path | None:
    """Return the spec file: the first input (``Trial.inputs`` lists the spec first), else ``spec.source``."""
    if trial.inputs:
        return Path(trial.inputs[0].path)
    return Path(trial.spec.source) if trial.spec.source is not None else None


def _manifest_seed(trial: Trial) -> tuple[int | None, str | None]:
    """Return the seed and generator command of synthetic data, when its manifest vouches for it.

    That is a MANIFEST.json beside the spec recording the SHA-256 of every data file read.
    """
    manifest = trial.manifest
    if manifest is None or manifest.seed is None:
        return None, None
    if not manifest.vouches_for((i.path, i.sha256) for i in trial.inputs):
        return None, None
    return manifest.seed, manifest.command


def provenance(trial: Trial, results: Results, *, command: str | None, generated: str) -> dict[str, Any]:
    """Record what made this report: inputs and their hashes, the spec, versions, seed, command and time."""
    prov = results.provenance
    spec_path = _spec_path(trial)
    spec_text = None
    if spec_path is not None:
        try:
            spec_text = spec_path.read_text(encoding="utf-8")
        except OSError:
            spec_text = None
    spec_input = trial.inputs[0] if trial.inputs else None
    versions = dict(prov.get("versions", {}))
    report_versions = package_versions(REPORT_PACKAGES)
    seed = prov.get("seed")
    seed_source = "analysis" if seed is not None else None
    generator = None
    if seed is None:
        seed, generator = _manifest_seed(trial)
        seed_source = "MANIFEST.json beside the spec (synthetic data)" if seed is not None else None
    mismatched = None
    if spec_input is not None and spec_path is not None and spec_text is not None:
        try:
            mismatched = sha256_file(spec_path) != spec_input.sha256
        except OSError:
            mismatched = None
    return {
        "inputs": [{"path": i.path, "sha256": i.sha256} for i in trial.inputs],
        "spec_path": str(spec_input.path) if spec_input else (str(spec_path) if spec_path else None),
        "spec_sha256": spec_input.sha256 if spec_input else None,
        "spec_text": spec_text if not mismatched else None,
        "spec_changed": bool(mismatched),
        "versions": versions,
        "report_versions": report_versions,
        "python": platform.python_version(),
        "seed": None if seed is None else str(seed),
        "seed_source": seed_source,
        "generator": generator,
        "command": command,
        "generated": generated,
        "alpha": format_number(results.alpha),
        "multiplicity": P_ADJUST_NAMES.get(str(prov.get("multiplicity")), str(prov.get("multiplicity"))),
        # Dunnett's many-to-one adjustment applies with three arms or more
        "dunnett": bool(prov.get("dunnett")) and len(trial.arms) > 2,
        "populations": ", ".join(prov.get("populations", [])),
        "mi_seed": str(prov["missing_data"]["seed"]) if has_missing_data(results) else None,
    }
