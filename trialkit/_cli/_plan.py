"""What ``trialkit validate`` says of each endpoint: its type and, without a baseline visit, what runs."""

from __future__ import annotations

from trialkit._spec import StudySpec

__all__ = ["endpoint_plan"]


def endpoint_plan(spec: StudySpec) -> list[str]:
    """Say per endpoint what its type is and, without a baseline visit, which analyses run and which are skipped."""
    lines = ["Endpoints:"]
    for e in spec.endpoints:
        details = ""
        if e.type == "binary":
            success = e.success if isinstance(e.success, str) else f"{1 if e.success is None else e.success:g}"
            details = f", success = {success!r}" if isinstance(e.success, str) else f", success = {success}"
        elif e.type == "count":
            unit = f" ({e.exposure_unit})" if e.exposure_unit else ""
            if e.exposure_column:
                details = f", time at risk{unit} from column {e.exposure_column!r}"
            elif e.exposure:
                lengths = ", ".join(f"{v} {length:g}" for v, length in e.exposure)
                details = f", time at risk{unit}: {lengths}"
        lines.append(f"  {e.id}: {e.type}{details}{' (primary)' if e.primary else ''}")
    if spec.visits.baseline is not None:
        return lines
    an = spec.analysis
    on = "arm" + (f" + {', '.join(an.covariates)}" if an.covariates else "")
    lines.append("No baseline visit (`visits.baseline`): analyses of follow-up values only.")
    for e in spec.endpoints:
        if e.type == "binary":
            runs = f"logistic regression on {on} with standardised RD/RR/OR; risk difference, risk and odds ratios"
            runs += "; CMH over the strata" if an.strata else ""
            skipped = []
        elif e.type == "count":
            runs = f"negative binomial, Poisson and quasi-Poisson regression on {on}; rates per arm; Mann-Whitney"
            skipped = ["change from baseline"]
        else:
            runs = f"ANCOVA of the follow-up values on {on}; t-tests and Mann-Whitney on the follow-up values"
            runs += "; van Elteren over the strata" if an.strata else ""
            skipped = ["change from baseline"]
        if e.responder_change is not None or e.responder_percent is not None:
            skipped.append("responders")
        if e.type != "binary" and an.mmrm is not None:
            skipped.append("MMRM with baseline")
        if an.missing_data is not None:
            skipped.append("multiple imputation")
        lines.append(f"  {e.id}: runs {runs}")
        lines.append(f"  {' ' * len(e.id)}  skipped: {', '.join(skipped) if skipped else 'none'}")
    return lines
