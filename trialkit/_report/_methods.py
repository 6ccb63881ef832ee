"""The methods section, written from what was actually run, and the provenance block."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

from trialkit._format import format_number
from trialkit._provenance import sha256_file
from trialkit._provenance import versions as package_versions
from trialkit._report._tables import P_ADJUST_NAMES, responder_rule
from trialkit._trial import Trial
from trialkit.analysis._results import Results

__all__ = ["methods_paragraphs", "provenance"]

#: libraries that drew and typeset this report (the analysis versions come from Results.provenance)
REPORT_PACKAGES = ("matplotlib", "jinja2", "weasyprint")


def _join(items: list[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def methods_paragraphs(trial: Trial, results: Results) -> list[tuple[str, str]]:
    """(heading, paragraph) pairs describing the analyses present in ``results.table``."""
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
    out: list[tuple[str, str]] = []

    pops = [
        "the full analysis set (every randomised subject, analysed in the arm randomised to; "
        "a subject enters an analysis when every value it needs is observed, without imputation)"
    ]
    if "completers" in populations:
        pops.append(
            "completers (subjects observed at every post-baseline visit of the endpoint), as a sensitivity analysis"
        )
    out.append(
        (
            "Populations",
            f"Analyses used {_join(pops)}. Missing values were not imputed; the number "
            "of subjects analysed per arm is given with every estimate and checked "
            "against the flow diagram and Table 1.",
        )
    )

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
    model = (
        f"Each endpoint at each post-baseline visit was analysed by ANCOVA (ordinary least squares): "
        f"the follow-up value regressed on arm, the baseline value{cov_text}, with {spec.arms.control} as the "
        f"reference arm. {lsmeans} The difference in LS means of each arm "
        f"against {spec.arms.control} is reported with a two-sided {level} confidence interval and t-test "
        f"on the residual degrees of freedom."
    )
    if logs:
        model += (
            f" Log-scale endpoints ({_join(logs)}) were analysed as natural logarithms and the "
            "results back-transformed: LS means are geometric means and the contrast a ratio of "
            "geometric means."
        )
    out.append(("Primary analysis", f"The primary endpoint was {primary.label} at {spec.visits.primary}. " + model))

    if secondary:
        text = f"Secondary endpoints ({_join([e.label for e in secondary])}) were analysed by the same model. "
        if method == "none":
            text += "Their p-values were not adjusted for multiplicity."
        else:
            text += (
                f"Their p-values at {spec.visits.primary} were adjusted by the "
                f"{P_ADJUST_NAMES.get(method, method)} method over the {len(secondary)} secondary "
                "endpoints, separately for each arm-versus-control contrast; the primary endpoint was "
                "not adjusted and is not part of that family, so the secondary results are to be read "
                "only when the primary comparison is significant (hierarchical testing). A secondary "
                "endpoint whose analysis could not run counts as p = 1 in the adjustment."
            )
            if method == "fixed_sequence":
                text += " The testing sequence is the order of the endpoints in the spec."
        out.append(("Secondary endpoints and multiplicity", text))

    support = []
    if {"welch_change", "student_change"} & ran:
        names = [
            n for k, n in (("welch_change", "Welch's"), ("student_change", "Student's pooled-variance")) if k in ran
        ]
        support.append(f"{_join(names)} t-tests on the change from baseline")
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
        out.append(
            (
                "Effect sizes",
                "Standardised effects are Hedges' g of the change from baseline (pooled SD, "
                "exact small-sample correction) and the ANCOVA difference divided by the "
                "pooled SD of the follow-up values, with the same correction (WWC Procedures "
                f"Handbook v5), each with a normal-theory {level} confidence interval.",
            )
        )
    resp = [e for e in spec.endpoints if e.responder_change is not None]
    if resp and ran & {"responder_rate", "responder_rd", "responder_rr", "responder_or"}:
        rules = [f"{e.label}: {responder_rule(e)}" for e in resp]
        out.append(
            (
                "Responder analyses",
                f"A subject with baseline and follow-up responded when its change met the pre-specified "
                f"threshold ({'; '.join(rules)}). Rates have Wilson score intervals; the risk difference a "
                "Newcombe hybrid score interval; the risk ratio and odds ratio log-scale (Woolf) intervals; "
                "p-values are from Fisher's exact test. The sweep over thresholds shows how the risk "
                "difference depends on the choice of threshold.",
            )
        )
    out.append(
        (
            "Baseline characteristics",
            "Table 1 summarises baseline values by arm as mean (SD) or n (%), "
            "with standardised differences and without p-values (CONSORT "
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
        "populations": ", ".join(prov.get("populations", [])),
    }
