"""The methods text of binary and count endpoints, randomisation strata and Dunnett's many-to-one adjustment.

Written from the spec and from what ``analyze`` recorded in ``Results.provenance``; each function returns
one paragraph, or "" when it does not apply to the trial.
"""

from __future__ import annotations

from trialkit._format import format_number
from trialkit._labels import default_label
from trialkit._report._names import arm_label, covariate_words, in_text, visit_label
from trialkit._report._names import join as _join_words
from trialkit._report._tables import P_ADJUST_NAMES, rate_unit
from trialkit._spec import Endpoint
from trialkit._trial import Trial
from trialkit.analysis._results import Results

__all__ = ["binary_methods", "count_methods", "dunnett_methods", "join", "strata_methods"]

#: the variances of the standardised effects, as the methods name them
MARGINAL_VARIANCE_WORDS = {
    "ye": "the variance of Ye et al. (2023), robust to a misspecified working model (as the R package beeca "
    "computes it and the FDA's 2023 guidance on covariate adjustment describes)",
    "ge": "the delta-method variance of Ge et al. (2011), through the HC0 sandwich covariance of the coefficients",
}
#: how the baseline count enters the count models (``count_baseline``), with b the count and e_b its time at risk
COUNT_BASELINE_WORDS = {
    "log": "log(b / e_b), the log of the baseline rate",
    "log1p": "log((b + 1) / e_b), which allows a baseline count of 0",
    "raw": "b / e_b, the baseline rate itself",
}


def join(items: list[str]) -> str:
    """Return ``a, b and c`` (empty items dropped)."""
    return _join_words(items)


def _adjusted(trial: Trial, baseline_term: str) -> str:
    """Return ``arm, the baseline status and the covariates age and sex`` (the terms of a model besides arm)."""
    spec = trial.spec
    categorical = set(spec.analysis.categorical)
    names = covariate_words(spec, spec.analysis.covariates)
    covariates = [
        f"{name} (categorical)" if c in categorical else name
        for c, name in zip(spec.analysis.covariates, names, strict=True)
    ]
    terms = ["arm"]
    if spec.visits.baseline is not None:
        terms.append(baseline_term)
    if covariates:
        terms.append(f"the covariate{'s' if len(covariates) > 1 else ''} {join(covariates)}")
    return join(terms)


def _labels(endpoints: list[Endpoint]) -> str:
    return join([e.label for e in endpoints])


def binary_methods(trial: Trial, results: Results, level: str) -> str:
    """Describe the analyses of the binary endpoints: logistic model, standardisation, unadjusted, CMH."""
    spec = trial.spec
    binary = [e for e in spec.endpoints if e.type == "binary"]
    if not binary:
        return ""
    variance = str(results.provenance.get("marginal_variance", spec.analysis.marginal_variance))
    events = join([f"{e.label}: {e.success if e.success is not None else 1}" for e in binary])
    text = (
        f"Binary endpoints ({_labels(binary)}) count a subject as having the event when the value is the one the "
        f"spec names ({events}). At each post-baseline visit the event was regressed by logistic regression "
        f"(maximum likelihood, as R's glm with the binomial family) on {_adjusted(trial, 'the baseline status')}, "
        f"with {arm_label(spec, spec.arms.control)} as the reference arm; the conditional odds ratio of each arm "
        f"has a Wald {level} confidence interval. The primary effect is the standardised (marginal) risk "
        "difference: the model's predicted risk of every analysed subject, as if on the arm and as if on the "
        "control arm, averaged over the subjects (g-computation) and subtracted, with "
        f"{MARGINAL_VARIANCE_WORDS.get(variance, variance)}, a Wald {level} interval and a z-test. The "
        "standardised risk ratio and odds ratio come from the same averaged risks, with delta-method intervals on "
        "the log scale. Unadjusted, every subject with the value counts: the proportion with the event per arm "
        "with a Wilson score interval, the risk difference with Newcombe's hybrid score interval, the risk and "
        "odds ratios with log-scale (Woolf) intervals, Fisher's exact p-value (the same for every measure) and "
        "the number needed to treat. Risk differences are shown in percentage points. A model that separates "
        "the outcome or does not converge is reported as a failure, never as an estimate."
    )
    if spec.analysis.strata:
        text += (
            f" Stratified by {join(covariate_words(spec, spec.analysis.strata))}: the Cochran–Mantel–Haenszel test "
            "with continuity correction (as R's mantelhaen.test), the Mantel–Haenszel common odds ratio with the "
            "Robins–Breslow–Greenland interval, and the Mantel–Haenszel risk difference with Sato's variance."
        )
    return text


def count_methods(trial: Trial, results: Results, level: str) -> str:
    """Describe the analyses of the count endpoints: negative binomial (primary), Poisson, rates, rank test."""
    spec = trial.spec
    counts = [e for e in spec.endpoints if e.type == "count"]
    if not counts:
        return ""
    exposure = []
    for e in counts:
        if e.exposure_column is not None:
            exposure.append(f"{e.label}: each subject's {in_text(default_label(e.exposure_column))}")
        elif e.exposure:
            lengths = ", ".join(f"{visit_label(spec, v)} {format_number(x)}" for v, x in e.exposure)
            exposure.append(f"{e.label}: {lengths}{f' {e.exposure_unit}' if e.exposure_unit else ''}")
        else:
            exposure.append(f"{e.label}: 1 per visit")
    baselines = sorted({e.count_baseline for e in counts})
    baseline_words = join([COUNT_BASELINE_WORDS.get(b, b) for b in baselines])
    text = (
        f"Count endpoints ({_labels(counts)}) were compared as rates, events per unit of time at risk "
        f"({'; '.join(exposure)}). At each post-baseline visit a negative binomial regression (NB2: variance "
        "μ + μ²/θ, log link, θ by maximum likelihood, as R's MASS::glm.nb) of the count on "
        f"{_adjusted(trial, 'the baseline count')}, with offset log(time at risk), gives the primary effect: "
        f"the rate ratio of each arm against {arm_label(spec, spec.arms.control)}, with a Wald {level} interval and "
        "z-test."
    )
    if spec.visits.baseline is not None:
        text += f" The baseline count b, over its time at risk e_b (1 when none is given), enters as {baseline_words}."
    text += (
        " Sensitivity analyses of the same rate ratio: Poisson regression with robust (HC0 sandwich) standard "
        "errors, and quasi-Poisson regression (dispersion from the Pearson statistic, t-based intervals). "
        "Unadjusted: the rate per arm (total events over total time at risk) with an exact Poisson interval "
        f"({join(sorted({rate_unit(e) for e in counts}))}), and the Mann–Whitney test of each subject's rate with "
        "the Hodges–Lehmann shift."
    )
    return text


def strata_methods(trial: Trial) -> str:
    """Describe how the randomisation strata enter the analyses."""
    spec = trial.spec
    strata = covariate_words(spec, spec.analysis.strata)
    if not strata:
        return ""
    types = {e.type for e in spec.endpoints}
    text = (
        f"Randomisation was stratified by {join(strata)}. Each stratum variable enters every model (ANCOVA, "
        "MMRM, logistic and count models) as a categorical covariate and is summarised in Table 1."
    )
    if "continuous" in types:
        what = "change from baseline" if spec.visits.baseline is not None else "follow-up values"
        text += (
            f" For continuous endpoints the van Elteren test (the Wilcoxon rank-sum test stratified with weights "
            f"1/(n_s + 1)) compares the {what}; its shift makes the stratified statistic zero, with an interval "
            "by test inversion."
        )
    if "binary" in types:
        text += " For binary endpoints the Cochran–Mantel–Haenszel analyses are described above."
    return text


def dunnett_methods(trial: Trial, results: Results) -> str:
    """Describe Dunnett's many-to-one adjustment and how it combines with the adjustment over endpoints."""
    if not results.provenance.get("dunnett") or len(trial.arms) < 3:
        return ""
    method = str(results.provenance.get("multiplicity", "none"))
    text = (
        f"The comparisons of the {len(trial.arms) - 1} arms with {arm_label(trial.spec, trial.control)} were adjusted "
        "by Dunnett's "
        "single-step many-to-one method: the p-value of each arm is the probability that the largest absolute "
        "contrast statistic over the arms, from the joint distribution of the contrasts (multivariate t on the "
        "ANCOVA's residual degrees of freedom; multivariate normal for the z-based binary and count models), is "
        "at least the one observed. It applies to the primary analysis of each endpoint at the primary visit; "
        "the p adjusted of the primary endpoint is Dunnett's"
    )
    if method == "none":
        text += ", and the secondary endpoints are adjusted across arms only."
    else:
        text += (
            f". For the secondary endpoints the Dunnett-adjusted p-values then enter the "
            f"{P_ADJUST_NAMES.get(method, method)} adjustment over the endpoints, per contrast, so that the error "
            "rate is controlled over both the arms and the secondary endpoints."
        )
    return text + " Confidence intervals are not adjusted."
