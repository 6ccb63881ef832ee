"""How the report words the missing-data analyses: names, the assumption behind each, the tipping shift.

Plain text only: the template escapes it, so arm names, endpoint labels and units from the spec reach
the page as text. Numbers go through :mod:`trialkit._format`.
"""

from __future__ import annotations

import math
from typing import Any

from trialkit._format import format_number, p_phrase
from trialkit._spec import MI_IMPUTATION_METHODS, Endpoint

__all__ = [
    "COMPARED",
    "MI_METHODS",
    "SHORT_NAMES",
    "TEXT_NAMES",
    "and_list",
    "assumptions",
    "coincide_sentence",
    "imputation_methods",
    "shift_text",
    "tipping_reading",
]

#: the multiple-imputation estimates, in the order the report shows them
MI_METHODS = MI_IMPUTATION_METHODS
#: the analyses compared side by side at the primary visit, in the order shown
COMPARED = ("ancova", "mmrm", *MI_METHODS)
#: their names in the side-by-side table
SHORT_NAMES = {
    "ancova": "Complete case (ANCOVA)",
    "mmrm": "MMRM",
    "mi_mar": "MI, missing at random (MAR)",
    "mi_j2r": "MI, jump to reference (J2R)",
    "mi_cr": "MI, copy reference (CR)",
    "tipping_point": "Tipping point",
}
#: their names inside a sentence
TEXT_NAMES = {"ancova": "complete case", "mmrm": "MMRM", "mi_mar": "MI under MAR", "mi_j2r": "J2R", "mi_cr": "CR"}
RATIO_DECIMALS = 2  # exp(δ), a factor: as the report's ratios


def and_list(items: list[str], word: str = "and") -> str:
    """Return ``a, b and c`` (or ``a, b or c`` with ``word="or"``).

    >>> and_list(["low", "high"], "or"), and_list(["a", "b", "c"]), and_list(["a"])
    ('low or high', 'a, b and c', 'a')
    """
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {word} " + items[-1]


def assumptions(
    shown: list[str], *, visit: str, treated: list[str], reference: str, imputations: int, alpha: float
) -> list[tuple[str, str]]:
    """Return (name, sentence) for each analysis in ``shown``: what it assumes about a participant who left.

    ``treated`` are the arms imputed with the reference arm's mean under J2R and CR (every arm but
    ``reference``); the sentences name the arms as the report does.

    >>> pairs = assumptions(["ancova", "mi_cr"], visit="week8", treated=["magnesium"], reference="placebo",
    ...                     imputations=100, alpha=0.05)
    >>> [name for name, _ in pairs]
    ['Complete case (ANCOVA)', 'MI, copy reference (CR)']
    >>> pairs[1][1][:58]
    'Participants on magnesium who left are imputed as if they '
    """
    on = and_list(treated, "or")
    words = {
        "ancova": (
            f"Leaves out every participant without a {visit} value. It is right if those who left would have "
            "ended like the participants who stayed with the same baseline value and covariates."
        ),
        "mmrm": (
            "Uses every value each participant has. It assumes that participants who left would have gone on like "
            "the participants of their own arm who stayed and had similar values until then (missing at random)."
        ),
        "mi_mar": (
            f"The same assumption as the MMRM (missing at random), made explicit: each missing value is filled in "
            f"from participants of the same arm who stayed and had similar values so far, {imputations} times "
            "over, and the analyses of the completed data are combined."
        ),
        "mi_j2r": (
            f"Participants on {on} who left lose the benefit of their treatment at once: after their last visit "
            f"their values follow the average of the {reference} arm, starting from where they were."
        ),
        "mi_cr": (
            f"Participants on {on} who left are imputed as if they had been on {reference} all along: their "
            f"values follow the {reference} arm's average, so any benefit they showed before leaving fades."
        ),
        "tipping_point": (
            f"Starts from missing at random and shifts the missing values of participants on {on} by δ towards "
            "no difference between the arms (worse, where the treatment looked better), growing δ until the result "
            f"is no longer significant (p ≥ {format_number(alpha)}). That shift, the tipping point, says how much "
            "worse than predicted those participants would have had to do to overturn the conclusion."
        ),
    }
    return [(SHORT_NAMES[k], words[k]) for k in shown]


def coincide_sentence(visit: str, reference: str) -> str:
    """Say why J2R and CR give the same numbers when the trial has one post-baseline visit."""
    return (
        f"With one post-baseline visit, jump to reference and copy reference coincide: a participant without "
        f"the {visit} value has nothing observed after baseline for the imputation to build on, so both "
        f"impute from the {reference} arm's mean given the baseline value and covariates."
    )


def shift_text(delta: float, ep: Endpoint) -> str:
    """Return a tipping shift in the endpoint's terms: ``10 points`` or, on the log scale, the factor too.

    >>> shift_text(10.0, Endpoint("isi", "ISI", unit="points"))
    '10 points'
    >>> shift_text(-1.6, Endpoint("mel", "Melatonin", unit="pg/mL", scale="log"))
    '−1.6 in log units (values × 0.20)'
    >>> shift_text(1.0, Endpoint("isi", "ISI", unit="points"))
    '1 point'
    """
    if ep.scale == "log":
        return f"{format_number(delta)} in log units (values × {format_number(math.exp(delta), RATIO_DECIMALS)})"
    unit = "point" if ep.unit == "points" and abs(delta) == 1 else ep.unit
    return f"{format_number(delta)} {unit}".strip()


def _direction(delta: float, ep: Endpoint) -> tuple[str, str]:
    """Return (``higher`` or ``lower``, ``worse`` or ``better``): which way a shift ``delta`` moves ``ep``."""
    up = delta > 0
    worse = up == (ep.better == "lower")
    return ("higher" if up else "lower"), ("worse" if worse else "better")


def tipping_reading(delta: float, p_value: float, ep: Endpoint, *, arm: str, visit: str, imputed: int) -> str:
    """Say in words what the tipping shift ``delta`` of ``arm`` means for ``ep`` (one sentence).

    ``imputed`` is the number of participants of ``arm`` whose ``visit`` value was imputed. On a
    log-scale endpoint the shift is added to the logarithms: the imputed values are multiplied by
    exp(δ).

    >>> ep = Endpoint("isi", "ISI", unit="points", better="lower")
    >>> print(tipping_reading(10.0, 0.058, ep, arm="magnesium", visit="week8", imputed=2))
    Significance is lost (p = 0.058) if the 2 participants on magnesium without a week8 value had on average
    been 10 points higher (worse) than missing at random predicts.
    >>> print(tipping_reading(-1.6, 0.065, Endpoint("mel", "Melatonin", scale="log"), arm="a", visit="v", imputed=1))
    Significance is lost (p = 0.065) if the 1 participant on a without a v value had values 0.20 times (lower,
    worse) what missing at random predicts: a shift of −1.6 in log units.
    >>> print(tipping_reading(0.0, 0.13, ep, arm="magnesium", visit="week8", imputed=2))
    Not significant under missing at random already (p = 0.130): there is no conclusion to overturn.
    """
    if delta == 0:
        return (
            f"Not significant under missing at random already ({p_phrase(p_value)}): "
            "there is no conclusion to overturn."
        )
    who = f"the {imputed} participant{'s' if imputed != 1 else ''} on {arm} without a {visit} value"
    lost = f"Significance is lost ({p_phrase(p_value)})"
    way, verdict = _direction(delta, ep)
    if ep.scale == "log":
        factor = format_number(math.exp(delta), RATIO_DECIMALS)
        return (
            f"{lost} if {who} had values {factor} times ({way}, {verdict}) what missing at random predicts: "
            f"a shift of {format_number(delta)} in log units."
        )
    unit = "percentage points" if ep.unit == "%" else ep.unit  # a shift of a percentage, not a relative change
    amount = f"{format_number(abs(delta))} {unit}".strip()
    return f"{lost} if {who} had on average been {amount} {way} ({verdict}) than missing at random predicts."


def _grid_text(deltas: object, labels: dict[str, str]) -> str:
    """Describe the tipping grids of ``provenance["missing_data"]["deltas"]``: per endpoint, or one for all.

    >>> print(_grid_text({"a": "default grid", "b": "default grid"}, {}))
    over a grid from 0 towards no difference, in round steps, to two steps past the shift at which p first
    reaches alpha
    >>> print(_grid_text({"a": [0.0, 1.0], "b": [0.0, 1.0]}, {}))
    over the shifts the spec gives, 0, 1
    >>> print(_grid_text({"a": [0.0, 1.0], "b": "default grid"}, {"a": "ISI", "b": "Sleep"}))
    over the shifts the spec gives, 0, 1 for ISI and, for the other endpoints, over a grid from 0 towards no
    difference, in round steps, to two steps past the shift at which p first reaches alpha
    """
    default = (
        "over a grid from 0 towards no difference, in round steps, to two steps past the shift at which p first "
        "reaches alpha"
    )
    if isinstance(deltas, list):  # one grid for every endpoint
        deltas = {"": deltas}
    if not isinstance(deltas, dict):
        return default
    given = {str(k): [float(d) for d in v] for k, v in deltas.items() if isinstance(v, list)}
    if not given:
        return default
    shifts = {k: ", ".join(format_number(d) for d in v) for k, v in given.items()}
    if len(set(shifts.values())) == 1 and len(given) == len(deltas):
        return f"over the shifts the spec gives, {next(iter(shifts.values()))}"
    parts = and_list([f"{v} for {labels.get(k, k)}" for k, v in shifts.items()], "and")
    rest = len(given) < len(deltas)
    return f"over the shifts the spec gives, {parts}" + (f" and, for the other endpoints, {default}" if rest else "")


def imputation_methods(
    options: dict[str, Any],
    *,
    visits: list[str],
    primary_visit: str,
    covariates: list[str],
    logs: bool,
    alpha: float,
    level: str,
    labels: dict[str, str] | None = None,
) -> str:
    """Describe the imputation model and the analyses that ran, for the methods section (one paragraph).

    ``options`` is ``results.provenance["missing_data"]``: methods, imputations, burn-in, seed,
    reference arm and tipping shifts (per endpoint id; ``labels`` names the endpoints). Only the
    methods listed there are described.
    """
    methods = [str(m) for m in options.get("methods", [])]
    labels = labels or {}
    reference = str(options.get("reference"))
    m = int(options.get("imputations", 0))
    adjusted = "arm, the baseline value" + (f" and {', '.join(covariates)}" if covariates else "")
    text = (
        f"For sensitivity analyses, missing values were multiply imputed (Rubin 1987). For each endpoint the values "
        f"at the post-baseline visit{'s' if len(visits) > 1 else ''} ({', '.join(visits)}) were modelled as "
        + (
            f"multivariate normal with a mean at each visit depending on {adjusted}, and an unstructured covariance "
            "across visits common to the arms"
            if len(visits) > 1
            else f"normal with a mean depending on {adjusted}, and a variance common to the arms"
        )
        + ", with a Jeffreys prior; every randomised participant with a baseline "
        f"value{' and the covariates' if covariates else ''} entered the model. {m} draws of the parameters from "
        f"their posterior were taken by data augmentation, one chain per imputation run for {options.get('burn_in')} "
        f"iterations (Schafer 1997), with seed {options.get('seed')} and a random stream per endpoint. "
    )
    means = []
    if "mi_mar" in methods or "tipping_point" in methods:
        means.append("their own arm's mean (missing at random)")
    if "mi_j2r" in methods:
        means.append(f"the {reference} arm's mean after the participant's last observed visit (jump to reference)")
    if "mi_cr" in methods:
        means.append(f"the {reference} arm's mean at every visit (copy reference)")
    text += f"Missing values were drawn given the participant's observed values, around {and_list(means, 'or')}"
    if {"mi_j2r", "mi_cr"} & set(methods):
        text += (
            f" (Carpenter, Roger and Kenward 2013); participants on {reference} were imputed under missing at random"
        )
    text += (
        f". Each of the {m} completed data sets was analysed by the ANCOVA at {primary_visit} and the results "
        f"combined by Rubin's rules, with the degrees of freedom of Barnard and Rubin (1999) and {level} confidence "
        "intervals."
    )
    if {"mi_j2r", "mi_cr"} & set(methods):
        text += (
            " Under jump to reference and copy reference Rubin's variance exceeds the sampling variance of the "
            "estimate, so those intervals and p-values are conservative (Seaman, White and Leacy 2014)."
        )
    if "tipping_point" in methods:
        grid = _grid_text(options.get("deltas"), labels)
        text += (
            f" For the tipping-point analysis a shift δ was added to the values imputed under missing at random in "
            f"the treated arm, {grid}; the tipping point is the smallest |δ| at which p ≥ {format_number(alpha)}."
        )
    if logs:
        text += " Log-scale endpoints were imputed and analysed as logarithms, and δ is then in log units."
    return text
