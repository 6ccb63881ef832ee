"""The MMRM of :func:`trialkit.analyze`: one fit per endpoint and population, as result rows.

The model is the spec's ``[analysis] mmrm``: every post-baseline visit of the endpoint is a
response, the baseline value and the spec's covariates are covariates, and each arm is compared
with the control arm at every visit. A subject enters with every post-baseline visit it has,
when its baseline and covariates are observed; on the log scale responses and baseline are
natural logs and estimates and limits are back-transformed, as in the ANCOVA.

With one post-baseline visit the residual covariance is one variance, whatever its structure:
the REML fit is then ordinary least squares on the subjects observed at that visit, with
residual degrees of freedom under every df method (Satterthwaite and Kenward–Roger reduce to
n − p, and Kenward–Roger's adjustment of the covariance vanishes). That case is computed by the
ANCOVA, with the LS-means convention of the MMRM (numeric covariates at their mean); the MMRM
itself needs two visits. A separate variance per arm or a sandwich covariance are not that
model, and are recorded as failures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._errors import AnalysisError
from trialkit._spec import MMRMOptions, Population, TwoValued
from trialkit.analysis._ancova import fit_arrays
from trialkit.analysis._cells import Floats, Subjects
from trialkit.analysis._mmrm import MMRMFit, mmrm
from trialkit.analysis._results import NAN, Analysis, Estimate
from trialkit.analysis._units import own_unit

__all__ = ["MMRM_KINDS", "MMRMInput", "MMRMRows", "ModelFrame", "fit_input", "mmrm_input", "mmrm_rows", "model_frame"]

MMRM_KINDS = (Analysis.MMRM, Analysis.MMRM_LSMEAN)
#: the columns of the model frame, by role (a covariate of the same name moves the role's column aside)
_ROLES = ("subject", "visit", "arm", "value", "baseline")


@dataclass(frozen=True)
class MMRMInput:
    """One endpoint's data for its MMRM, per subject (the order of ``subjects``) and post-baseline visit.

    On the log scale ``values`` and ``baseline`` hold logs. ``analysed`` marks the responses that
    enter the model: observed, with the subject's baseline and every covariate observed.
    """

    subjects: Subjects
    ids: tuple[str, ...]
    values: Floats  # (subjects, visits)
    baseline: Floats  # (subjects,)
    visits: tuple[str, ...]
    analysed: npt.NDArray[np.bool_]  # (subjects, visits)
    baseline_is_response: bool = False  # visits[0] is the baseline visit, a response (cLDA)


@dataclass(frozen=True)
class ModelFrame:
    """The long frame :func:`trialkit.analysis.mmrm` is fitted to, and the names of its columns.

    One row per subject and post-baseline visit (the response missing where not observed or
    outside the population).
    """

    frame: pd.DataFrame
    subject: str
    visit: str
    arm: str
    value: str
    baseline: str
    covariates: tuple[str, ...]
    categorical: tuple[str, ...]


@dataclass(frozen=True)
class MMRMRows:
    """The rows of one endpoint's MMRM: estimates by visit and the subjects analysed per arm."""

    rows: tuple[tuple[str, Estimate], ...]  # (visit, estimate)
    subjects: dict[str, int]  # per arm, subjects with at least one analysed response


def _free(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    return name


def mmrm_input(
    subjects: Subjects,
    ids: Sequence[str],
    values: Floats,
    baseline: Floats,
    visits: Sequence[str],
    *,
    log: bool,
    population: Population,
    baseline_is_response: bool = False,
) -> MMRMInput:
    """Gather one endpoint's data for its MMRM (on the analysis scale) and mark what enters the model.

    Parameters
    ----------
    subjects : Subjects
        Arms and covariates per subject.
    ids : sequence of str
        Subject ids, in the order of ``subjects``.
    values : ndarray (subjects, visits)
        The endpoint at each post-baseline visit (NaN where missing).
    baseline : ndarray (subjects,)
        The endpoint at baseline.
    visits : sequence of str
        The post-baseline visits, in order (the columns of ``values``).
    log : bool
        Natural logs of ``values`` and ``baseline``; a non-positive value that would be analysed
        raises :class:`~trialkit.AnalysisError`.
    population : Population
        ``completers`` keeps the subjects observed at every post-baseline visit.
    baseline_is_response : bool
        ``values`` and ``visits`` start with the baseline visit, a response of the model
        (constrained longitudinal data analysis): a subject enters with any observed value and
        every covariate, its baseline not required.

    Raises
    ------
    AnalysisError
        A non-positive value of a log-scale endpoint among the values analysed.
    """
    if population is Population.COMPLETERS:
        values = np.where(np.isnan(values).any(axis=1, keepdims=True), np.nan, values)
    needs = np.ones_like(baseline, dtype=bool) if baseline_is_response else ~np.isnan(baseline)
    if log:
        used = ~np.isnan(values) & needs[:, None] & subjects.has_covariates[:, None]
        at_baseline = np.broadcast_to(baseline[:, None], values.shape)
        for name, x in (("value", values), ("baseline", at_baseline)):
            bad = np.asarray(used & (x <= 0), dtype=bool)
            if bad.any():
                s, j = np.argwhere(bad)[0]
                raise AnalysisError(
                    f"log-scale analysis needs positive values of {name!r}; subject {ids[s]!r} has {x[s, j]:g}"
                    + (f" at {visits[j]!r}." if name == "value" else "."),
                    term=name,
                )
        with np.errstate(divide="ignore", invalid="ignore"):
            values, baseline = np.log(values), np.log(baseline)
    analysed = ~np.isnan(values) & needs[:, None] & subjects.has_covariates[:, None]
    return MMRMInput(
        subjects, tuple(ids), values, baseline, tuple(visits), np.asarray(analysed, dtype=bool), baseline_is_response
    )


def model_frame(data: MMRMInput) -> ModelFrame:
    """Return the long frame of ``data``: subject, visit, arm, value, baseline and the covariates by name."""
    subjects = data.subjects
    n, k = data.values.shape
    covariates = (*subjects.numeric, *subjects.factors)
    taken = set(covariates)
    role = {r: _free(r, taken) for r in _ROLES}
    columns: dict[str, object] = {
        role["subject"]: np.repeat(np.asarray(data.ids, dtype=object), k),
        role["visit"]: np.tile(np.asarray(data.visits, dtype=object), n),
        role["arm"]: np.repeat(np.asarray(subjects.arms, dtype=object)[subjects.arm], k),
        role["value"]: data.values.reshape(-1),
        role["baseline"]: np.repeat(data.baseline, k),
    }
    for c, x in subjects.numeric.items():
        columns[c] = np.repeat(x, k)
    for c, codes in subjects.factors.items():
        labels = np.asarray(subjects.levels[c], dtype=object)[np.maximum(codes, 0)]
        labels[codes < 0] = None
        columns[c] = np.repeat(labels, k)
    return ModelFrame(
        frame=pd.DataFrame(columns),
        subject=role["subject"],
        visit=role["visit"],
        arm=role["arm"],
        value=role["value"],
        baseline=role["baseline"],
        covariates=tuple(covariates),
        categorical=tuple(subjects.factors),
    )


def fit_input(data: MMRMInput, options: MMRMOptions, alpha: float) -> MMRMFit:
    """Fit :func:`trialkit.analysis.mmrm` to ``data`` with the spec's options (REML)."""
    m = model_frame(data)
    return mmrm(
        m.frame,
        response=m.value,
        subject=m.subject,
        visit=m.visit,
        arm=m.arm,
        control=data.subjects.arms[0],
        covariates=list(m.covariates),
        categorical=list(m.categorical),
        baseline=None if data.baseline_is_response else m.baseline,
        baseline_visit=data.visits[0] if data.baseline_is_response else None,
        covariance=options.covariance,
        group_by_arm=options.group_by_arm,
        reml=True,
        df_method=options.df,
        empirical=options.empirical,
        visit_order=list(data.visits),
        alpha=alpha,
    )


def _subjects_per_arm(data: MMRMInput) -> dict[str, int]:
    """Count the subjects with at least one analysed response, per arm."""
    entered = data.analysed.any(axis=1)
    return {a: int(np.count_nonzero(entered & data.subjects.in_arm[k])) for k, a in enumerate(data.subjects.arms)}


def _back(x: float, log: bool) -> float:
    return float(np.exp(x)) if log else float(x)


class _Table:
    """The numeric columns of an MMRM table, looked up by (arm, visit)."""

    def __init__(self, frame: pd.DataFrame, columns: Sequence[str]):
        keys = zip(frame["arm"].astype(str), frame["visit"].astype(str), strict=True)
        self.at = {key: i for i, key in enumerate(keys)}
        self.columns = {c: frame[c].to_numpy(dtype="float64") for c in columns}

    def get(self, arm: str, visit: str, column: str) -> float:
        return float(self.columns[column][self.at[(arm, visit)]])


def _from_fit(fit: MMRMFit, arms: Sequence[str], log: bool) -> list[tuple[str, Estimate]]:
    """Return the LS-mean and contrast rows of a fit, visit by visit (LS means, then contrasts), arms in trial order."""
    ls = _Table(fit.lsmeans, ("n", "estimate", "std_error", "ci_low", "ci_high", "df"))
    cs = _Table(fit.contrasts, ("estimate", "std_error", "ci_low", "ci_high", "df", "statistic", "p_value"))
    out: list[tuple[str, Estimate]] = []
    contrasted = set(fit.contrasts["visit"])
    for v in fit.visits:
        if v not in contrasted:  # a baseline visit kept as a response: one mean, no arm difference
            continue
        n = {a: int(ls.get(a, v, "n")) for a in arms}
        for a in arms:
            lsmean = Estimate(
                Analysis.MMRM_LSMEAN,
                a,
                _back(ls.get(a, v, "estimate"), log),
                ls.get(a, v, "std_error"),
                _back(ls.get(a, v, "ci_low"), log),
                _back(ls.get(a, v, "ci_high"), log),
                ls.get(a, v, "df"),
                NAN,
                NAN,
                n[a],
                None,
            )
            out.append((v, lsmean))
        for a in arms[1:]:
            contrast = Estimate(
                Analysis.MMRM,
                f"{a} - {arms[0]}",
                _back(cs.get(a, v, "estimate"), log),
                cs.get(a, v, "std_error"),
                _back(cs.get(a, v, "ci_low"), log),
                _back(cs.get(a, v, "ci_high"), log),
                cs.get(a, v, "df"),
                cs.get(a, v, "statistic"),
                cs.get(a, v, "p_value"),
                n[a],
                n[arms[0]],
            )
            out.append((v, contrast))
    return out


def _one_visit(data: MMRMInput, options: MMRMOptions, alpha: float) -> list[tuple[str, Estimate]]:
    """Return the rows of the MMRM over one visit: least squares on the subjects observed there."""
    if options.group_by_arm or options.empirical:
        what = "a variance per arm" if options.group_by_arm else "the sandwich covariance"
        raise AnalysisError(
            f"the MMRM with {what} needs two post-baseline visits or more; this endpoint has one ({data.visits[0]!r}).",
            term="visit",
        )
    subjects, keep = data.subjects, data.analysed[:, 0]
    fit = fit_arrays(
        subjects.arm[keep],
        data.values[keep, 0],
        {"baseline": data.baseline[keep], **{c: x[keep] for c, x in subjects.numeric.items()}},
        {c: x[keep] for c, x in subjects.factors.items()},
        arms=subjects.arms,
        levels=subjects.levels,
        alpha=alpha,
        log_scale=False,  # the data hold logs already
        two_valued=TwoValued.MEAN,  # the MMRM holds every numeric covariate at its mean
    )
    kind = {Analysis.ANCOVA_LSMEAN: Analysis.MMRM_LSMEAN, Analysis.ANCOVA: Analysis.MMRM}
    return [
        (
            data.visits[0],
            Estimate(
                kind[e.analysis],
                e.contrast,
                e.estimate,
                e.std_error,
                e.ci_low,
                e.ci_high,
                e.df,
                e.statistic,
                e.p_value,
                e.n_treatment,
                e.n_control,
            ),
        )
        for e in (*fit.lsmeans, *fit.differences)
    ]


def mmrm_rows(data: MMRMInput, options: MMRMOptions, alpha: float, *, log: bool) -> MMRMRows:
    """Fit one endpoint's MMRM and return its rows (back-transformed on the log scale).

    Raises
    ------
    AnalysisError
        The data cannot support the model (named by the engine), or one post-baseline visit
        with a covariance that is not a single variance.
    """
    entered = _subjects_per_arm(data)
    empty = [a for a, n in entered.items() if n == 0]
    if empty:  # named here: the engine would take a control arm without rows for a bad argument
        raise AnalysisError(
            f"arm {empty[0]!r} has no subject with a post-baseline value, the baseline value and every covariate.",
            term="arm",
        )
    fitted, shift, unit = _in_own_unit(data)
    if len(data.visits) == 1 and not data.baseline_is_response:
        rows = _one_visit(fitted, options, alpha)
    else:
        rows = _from_fit(fit_input(fitted, options, alpha), data.subjects.arms, False)
    rows = [(v, _to_data_unit(e, shift, unit)) for v, e in rows]
    if log:
        rows = [(v, _exp(e)) for v, e in rows]
    return MMRMRows(tuple(rows), entered)


def _in_own_unit(data: MMRMInput) -> tuple[MMRMInput, float, float]:
    """Return ``data`` in a unit of its own when its magnitudes need one (:func:`own_unit`), with the shift and unit.

    Responses and baseline become ``(x - shift) / unit`` (one shift and unit for both: they share a scale).
    This is the same model (the intercepts absorb the shift, the coefficients the unit): its estimates
    times ``unit`` (plus ``shift`` for an LS mean) are those of ``data``, and its statistics, degrees of
    freedom and p-values are those of ``data``. Values such as 1e15 + noise then keep their noise, and
    values of 1e-60 or 1e60 their precision, through the likelihood's products and the design's rank
    check. Data of ordinary magnitudes are fitted as they are (shift 0, unit 1), the fit
    :func:`~trialkit.analysis.mmrm` gives. (``analyze`` has put the numeric covariates in their own units.)
    """
    entered = data.analysed.any(axis=1)
    shift, unit = own_unit(np.concatenate([data.values[data.analysed], data.baseline[entered]]))
    if (shift, unit) == (0.0, 1.0):
        return data, shift, unit
    return replace(data, values=(data.values - shift) / unit, baseline=(data.baseline - shift) / unit), shift, unit


def _to_data_unit(e: Estimate, shift: float, unit: float) -> Estimate:
    """Return ``e`` of the model in its own unit (:func:`_in_own_unit`) in the unit of the data."""
    at = shift if e.analysis is Analysis.MMRM_LSMEAN else 0.0
    return Estimate(
        e.analysis,
        e.contrast,
        e.estimate * unit + at,
        e.std_error * unit,
        e.ci_low * unit + at,
        e.ci_high * unit + at,
        e.df,
        e.statistic,
        e.p_value,
        e.n_treatment,
        e.n_control,
    )


def _exp(e: Estimate) -> Estimate:
    """Return ``e`` with estimate and limits back-transformed from logs (SE, t and p stay)."""
    return Estimate(
        e.analysis,
        e.contrast,
        float(np.exp(e.estimate)),
        e.std_error,
        float(np.exp(e.ci_low)),
        float(np.exp(e.ci_high)),
        e.df,
        e.statistic,
        e.p_value,
        e.n_treatment,
        e.n_control,
    )
