"""How the report words the MMRM: its phrases differ with how the model uses the baseline value."""

from __future__ import annotations

from trialkit._report._names import covariate_words, join
from trialkit._spec import StudySpec
from trialkit.analysis._results import Results


def baseline_is_response(results: Results) -> bool:
    """Whether the MMRM kept the baseline visit as a response (``[analysis] mmrm`` baseline = "response")."""
    return bool(dict(results.provenance.get("mmrm", {})).get("baseline") == "response")


def mmrm_wording(results: Results, spec: StudySpec | None = None) -> dict[str, str]:
    """Phrases that differ with how the MMRM uses the baseline value (a covariate, or a response).

    With ``spec`` the covariates are named by their labels ("age and sex"), else by their ids.
    """
    ids = [str(c) for c in results.provenance.get("covariates", [])]
    covariates = join(covariate_words(spec, ids) if spec is not None else ids)
    if baseline_is_response(results):
        return {
            "span": "baseline and the post-baseline visits",
            "adjusted": "with equal arm means at baseline" + (f", adjusted for {covariates}" if covariates else ""),
            "who": "every randomised subject with every covariate and at least one value, at baseline or after",
            "not_analysed": "no value at any visit" + (", or a covariate missing" if covariates else ""),
        }
    return {
        "span": "the post-baseline visits",
        "adjusted": "adjusted for " + join(["baseline", covariates]),
        "who": "every randomised subject with the baseline value, every covariate and at least one post-baseline value",
        "not_analysed": "no post-baseline value, or baseline" + (" or a covariate" if covariates else "") + " missing",
    }
