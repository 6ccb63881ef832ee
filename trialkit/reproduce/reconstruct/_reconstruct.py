"""Calibrated reconstruction: individual-level data whose between-arm tests reproduce published p's.

When only the abstract of a trial is available (n, directions, p-values), synthetic data of the
trial's shape can still be made to *agree* with it: every between-arm test on change gives the
published p-value, in the published direction. That dataset lets a reader run the analysis a
statistician would pre-specify today (ANCOVA) beside the one the paper is assumed to have used,
on data consistent with everything that was published.

The building blocks are pure functions:

* :func:`match_moments` - exact moment matching of a continuous sample;
* :func:`match_moments_integer` - the closest integer sample within bounds (integer scales);
* :func:`calibrate_difference` - the between-arm mean difference that gives a target p;
* :func:`targets_from_published` - the p-values and directions of a published-results file;
* :func:`reconstruct` - all of them applied to a :class:`~trialkit.Design` and a seed.

The assumed test is **Student's two-sample t-test (pooled variance, df = n_t + n_c - 2) on the
change from baseline** (on the change of the natural log for log-scale endpoints). The 2012
magnesium trial does not state its test; a sister paper on the same 46 people used "independent
t-tests between arms", and Student is SPSS's default "equal variances assumed" row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from trialkit._errors import TrialkitError
from trialkit._simulate import PATTERN, Design, EndpointDesign, Simulation, lognormal_params, simulate
from trialkit.analysis import two_sample_t
from trialkit.reproduce.reconstruct._moment_matching import match_moments, match_moments_integer
from trialkit.reproduce.reconstruct._targets import Target, calibrate_difference

#: the between-arm test every calibration reproduces (stated in manifests and reports)
ASSUMED_TEST = (
    "Student two-sample t-test (pooled variance, df = n_t + n_c - 2) of the change from "
    "baseline to the primary visit, treatment - control; change of the natural log for "
    "log-scale endpoints"
)

#: digits of the unrounded draws that give each change its shape (see reconstruct)
_FINE_DECIMALS = 12
#: significant digits kept in calibrated follow-up values of continuous endpoints (see reconstruct)
SIGNIFICANT_DIGITS = 14


# ---------------------------------------------------------------------------------------------
# The reconstruction of a trial


def change_moments(endpoint: EndpointDesign, arm: str, *, baseline: int = 0, visit: int = -1) -> tuple[float, float]:
    r"""Return the mean and SD of change from ``baseline`` to ``visit`` that the design implies for ``arm``.

    Linear scale: :math:`m_v - m_0` and :math:`\sqrt{s_0^2 + s_v^2 - 2\rho s_0 s_v}`. Log scale:
    the same on the log scale, with :math:`\mu, \sigma` of the lognormal with those mean and SD
    and :math:`\rho` the log-scale correlation.

    Parameters
    ----------
    endpoint : EndpointDesign
        One endpoint of a :class:`~trialkit.Design`.
    arm : str
        The arm's id.
    baseline, visit : int
        Positions of the two visits in the design's visits (default the first and the last).

    Returns
    -------
    (float, float)
        Mean and SD of change.

    Examples
    --------
    >>> import trialkit as tk
    >>> design = tk.read_design(tk.datasets.study_spec("abbasi2012").parent / "design.toml")
    >>> mean, sd = change_moments(design.endpoints[0], "placebo")  # ISI
    >>> mean, round(sd, 4)
    (-2.0, 4.0927)
    """
    mean = np.asarray(endpoint.mean[arm], dtype=float)
    sd = np.asarray(endpoint.sd[arm], dtype=float)
    if endpoint.scale == "log":
        mean, sd = lognormal_params(mean, sd)
    rho = endpoint.correlation[baseline][visit]
    var = sd[baseline] ** 2 + sd[visit] ** 2 - 2 * rho * sd[baseline] * sd[visit]
    return float(mean[visit] - mean[baseline]), float(math.sqrt(var))


@dataclass(frozen=True)
class EndpointCalibration:
    """What one endpoint was calibrated to and what the written values give.

    Target side: ``reported`` (as published), ``target_p``, ``direction`` (and whether it is
    published), the design's change moments (``mean_change_control``, ``sd_change_control``,
    ``sd_change_treatment``) and the calibrated ``difference``. Achieved side, from the rounded
    values: ``estimate`` (treatment - control mean change), ``std_error``, ``df``, ``statistic``
    and ``p_value`` of the assumed test, and ``reproduced``: the estimate has the target
    direction and ``p_value`` equals ``target_p`` to 1e-10 relative (continuous endpoints) or
    lies within the reported rounding or bound (integer scores, ``Target.admits``).
    """

    endpoint: str
    scale: str
    integer: bool
    reported: str
    target_p: float
    direction: int
    direction_published: bool
    n_treatment: int
    n_control: int
    mean_change_control: float
    sd_change_control: float
    sd_change_treatment: float
    difference: float
    estimate: float
    std_error: float
    df: float
    statistic: float
    p_value: float
    reproduced: bool
    note: str = ""


@dataclass(frozen=True, eq=False)
class Reconstruction:
    """A calibrated dataset and the record of its calibration.

    Attributes
    ----------
    simulation : Simulation
        The calibrated frames (same columns, subjects, covariates, baselines and dropouts as
        :func:`~trialkit.simulate` gives for the design and seed), their print digits and
        study spec: ready for :func:`trialkit._write.write_simulation`.
    calibrations : tuple of EndpointCalibration
        One per endpoint, design order.
    treatment, control : str
        The two arms compared (treatment - control).
    test : str
        The assumed test (:data:`ASSUMED_TEST`).
    """

    simulation: Simulation
    calibrations: tuple[EndpointCalibration, ...]
    treatment: str
    control: str
    test: str = ASSUMED_TEST

    @property
    def table(self) -> pd.DataFrame:
        """One row per endpoint: the fields of :class:`EndpointCalibration`."""
        rows = [c.__dict__ for c in self.calibrations]
        return pd.DataFrame(rows, columns=list(EndpointCalibration.__dataclass_fields__))


def _targets_by_endpoint(design: Design, targets: Sequence[Target] | Mapping[str, Target]) -> dict[str, Target]:
    items = list(targets.values()) if isinstance(targets, Mapping) else list(targets)
    by_id: dict[str, Target] = {}
    for t in items:
        if not isinstance(t, Target):
            raise TrialkitError(f"`targets` must hold Target objects; got {t!r}.")
        if t.endpoint in by_id:
            raise TrialkitError(f"two targets for endpoint {t.endpoint!r}; give one per endpoint.")
        if not 0 < t.p_value < 1:
            raise TrialkitError(f"target {t.endpoint!r}: `p_value` must be in (0, 1); got {t.p_value!r}.")
        if t.direction not in (-1, 1):
            raise TrialkitError(f"target {t.endpoint!r}: `direction` must be +1 or -1; got {t.direction!r}.")
        by_id[t.endpoint] = t
    ids = [e.id for e in design.endpoints]
    missing = [i for i in ids if i not in by_id]
    unknown = [i for i in by_id if i not in ids]
    if missing or unknown:
        parts = ([f"no target for {', '.join(missing)}"] if missing else []) + (
            [f"targets for endpoints the design lacks: {', '.join(unknown)}"] if unknown else []
        )
        raise TrialkitError(
            f"targets and design endpoints must match one to one: {'; '.join(parts)} "
            f"(design endpoints: {', '.join(ids)})."
        )
    return by_id


def _digits(values: np.ndarray, decimals: int) -> int:
    """Decimals that keep :data:`SIGNIFICANT_DIGITS` significant digits of the largest value."""
    largest = float(np.max(np.abs(values))) if len(values) else 1.0
    integer_digits = max(1, math.floor(math.log10(largest)) + 1) if largest > 0 else 1
    return max(decimals, SIGNIFICANT_DIGITS - integer_digits)


def _spec_header(spec_toml: str, design: Design, seed: int) -> str:
    body = spec_toml.split("\n")
    while body and body[0].startswith("#"):
        body.pop(0)
    header = [
        f"# Study spec of SYNTHETIC data: trialkit.simulate draws from design {design.study_id!r} with",
        f"# seed {seed}, calibrated by trialkit.reproduce.reconstruct so that the Student t-test on change",
        "# between arms reproduces each published p-value. The values are not the trial's records.",
    ]
    return "\n".join(header + body)


def reconstruct(design: Design, targets: Sequence[Target] | Mapping[str, Target], seed: int) -> Reconstruction:
    r"""Individual-level data of the design's shape whose between-arm tests give the target p's.

    Parameters
    ----------
    design : Design
        Two arms (the control and one treatment), two visits (baseline, then the primary visit);
        every number it holds is a scale assumption (baseline distributions, SDs, correlations).
    targets : sequence or mapping of Target
        One per endpoint of the design.
    seed : int
        Seed of :func:`~trialkit.simulate`, whose draws give everything not calibrated.

    Returns
    -------
    Reconstruction

    Raises
    ------
    TrialkitError
        When the design has other than two arms or two visits or a binary or count endpoint, an
        endpoint lacks a target (or a
        target an endpoint), or a calibrated follow-up value falls outside the endpoint's range
        (naming endpoint, arm and subjects; another seed or a smaller SD of change avoids it).

    Notes
    -----
    1. ``simulate(design, seed)`` gives subjects, covariates, dropouts and baseline values, which
       are kept as they are, and a simulated follow-up value per analysed subject.
    2. Per arm, the simulated change :math:`z_i = y_{i1} - y_{i0}` (log scale:
       :math:`\ln y_{i1} - \ln y_{i0}`) gives the shape (ranks, spacing, link with baseline).
       It is taken from the same draws before rounding and clipping (``simulate`` of the design
       with 12 decimals and no range: simulate draws every random number before applying means,
       SDs, digits and ranges, so the draws are identical), so that rounding makes no ties.
    3. Targets: the control arm's change has the design's mean and SD (:func:`change_moments`);
       the treatment arm's change has the design's SD and the control mean plus the difference of
       :func:`calibrate_difference` for the target p and direction, with n the analysed subjects.
    4. Continuous endpoints: :func:`match_moments` of *z* to the targets; integer endpoints:
       :func:`match_moments_integer` with per-subject bounds keeping the follow-up value within
       the range, the control arm first, and the treatment target recomputed from the control
       arm's *achieved* SD and mean so that only the treatment arm's granularity remains.
    5. Follow-up = baseline + change (log scale: baseline :math:`\times e^{change}`). Baselines
       keep the design's digits; follow-up values of continuous endpoints are rounded to
       :data:`SIGNIFICANT_DIGITS` significant digits, so that the written files reproduce the
       target p to about :math:`10^{-12}` relative (rounded to the design's digits, the 2012
       follow-up values would move p by 0.04 % to 8 %; serum magnesium at 2 decimals the most).
       Integer scores stay integers, so their p can only match to the published rounding
       (``Target.admits``): the mean change of n integers moves in steps of 1/n and its SD in similar
       steps (:func:`match_moments_integer`), so t takes discrete values; for the 2012 ISI (21 vs 22
       analysed, SD of change about 4.1) one unit more or less in either arm's sum of changes moves p
       by about 0.0006 around 0.006: p cannot be set exactly, but it can be brought inside [0.0055,
       0.0065], the interval "0.006" stands for.

    Log-scale endpoints are calibrated on the log scale: the test reproduced is Student's t of
    :math:`\ln(y_1/y_0)`, the scale trialkit analyses them on (ratio of geometric means).

    Examples
    --------
    >>> import trialkit as tk
    >>> from trialkit.reproduce.published import read_published
    >>> from trialkit.reproduce.reconstruct import targets_from_published
    >>> design = tk.read_design(tk.datasets.study_spec("abbasi2012").parent / "design.toml")
    >>> targets = targets_from_published(read_published("abbasi2012"), assumed_directions={"total_sleep_time": 1})
    >>> rec = reconstruct(design, targets, seed=20120104)
    >>> rec.table[["endpoint", "reported", "p_value", "reproduced"]].head(3)
               endpoint reported   p_value  reproduced
    0               isi    0.006  0.006003        True
    1        sleep_time    0.002  0.002000        True
    2  sleep_efficiency     0.03  0.030000        True
    """
    if len(design.arms) != 2:
        raise TrialkitError(f"reconstruct needs a two-arm design; {design.study_id!r} has {len(design.arms)} arms.")
    other = [f"{e.id!r} ({e.type})" for e in design.endpoints if e.type != "continuous"]
    if other:
        raise TrialkitError(
            "reconstruct calibrates the t-test of change of continuous endpoints; the design's endpoint"
            f"{'s' if len(other) > 1 else ''} {', '.join(other)} {'are' if len(other) > 1 else 'is'} not continuous."
        )
    if len(design.visits) != 2 or design.baseline != design.visits[0]:
        raise TrialkitError(
            f"reconstruct needs two visits, the baseline first; {design.study_id!r} has "
            f"visits {list(design.visits)} with baseline {design.baseline!r}."
        )
    by_id = _targets_by_endpoint(design, targets)
    control = design.control
    treatment = next(a.id for a in design.arms if a.id != control)
    sim = simulate(design, seed)
    # the same draws (simulate applies means, SDs, digits and ranges only after drawing), kept
    # unrounded and unclipped: the shape of each change without ties made by rounding
    fine = replace(design, endpoints=tuple(replace(e, decimals=_FINE_DECIMALS, range=None) for e in design.endpoints))
    draws = simulate(fine, seed).frames
    frames = {arm: frame.copy() for arm, frame in sim.frames.items()}
    decimals = dict(sim.decimals)
    calibrations, out_of_range = [], []
    b_visit, f_visit = design.visits
    for ep in design.endpoints:
        target = by_id[ep.id]
        if ep.integer and ep.scale == "log":
            raise TrialkitError(f"endpoint {ep.id!r}: an integer score on the log scale is not supported.")
        b_col = PATTERN.format(endpoint=ep.id, visit=b_visit)
        f_col = PATTERN.format(endpoint=ep.id, visit=f_visit)
        analysed = {
            arm: frames[arm][f_col].notna().to_numpy() & frames[arm][b_col].notna().to_numpy()
            for arm in (treatment, control)
        }
        base = {arm: frames[arm].loc[analysed[arm], b_col].to_numpy(float) for arm in (treatment, control)}
        log = ep.scale == "log"
        shape = {}
        for arm in (treatment, control):
            d0 = draws[arm].loc[analysed[arm], b_col].to_numpy(float)
            d1 = draws[arm].loc[analysed[arm], f_col].to_numpy(float)
            shape[arm] = np.log(d1) - np.log(d0) if log else d1 - d0
        m_c, s_c = change_moments(ep, control)
        _, s_t = change_moments(ep, treatment)
        n_t, n_c = len(shape[treatment]), len(shape[control])
        if ep.integer:
            lo, hi = ep.range if ep.range is not None else (-np.inf, np.inf)
            ctrl = match_moments_integer(shape[control], m_c, s_c, lo - base[control], hi - base[control])
            cal = calibrate_difference(
                target.p_value,
                n_treatment=n_t,
                n_control=n_c,
                sd_treatment=s_t,
                sd_control=ctrl.sd,
                direction=target.direction,
            )
            trt = match_moments_integer(
                shape[treatment], ctrl.mean + cal.estimate, s_t, lo - base[treatment], hi - base[treatment]
            )
            change = {control: ctrl.values.astype(float), treatment: trt.values.astype(float)}
        else:
            cal = calibrate_difference(
                target.p_value,
                n_treatment=n_t,
                n_control=n_c,
                sd_treatment=s_t,
                sd_control=s_c,
                direction=target.direction,
            )
            change = {
                control: match_moments(shape[control], m_c, s_c),
                treatment: match_moments(shape[treatment], m_c + cal.estimate, s_t),
            }
        new = {arm: base[arm] * np.exp(change[arm]) if log else base[arm] + change[arm] for arm in (treatment, control)}
        if not ep.integer:
            digits = _digits(np.concatenate(list(new.values())), ep.decimals)
            decimals[f_col] = digits
            new = {arm: np.round(v, digits) + 0.0 for arm, v in new.items()}
        for arm in (treatment, control):
            lo, hi = ep.range if ep.range is not None else (-np.inf, np.inf)
            bad = (new[arm] < lo) | (new[arm] > hi) | ((new[arm] <= 0) if log else False)
            if bad.any():
                ids = frames[arm].loc[analysed[arm], design.subject].to_numpy()[bad]
                out_of_range.append(
                    f"{ep.id} in {arm}: {', '.join(map(str, ids))} ({', '.join(f'{v:g}' for v in new[arm][bad])})"
                )
            frames[arm].loc[analysed[arm], f_col] = new[arm]
        achieved = {
            arm: (np.log(new[arm]) - np.log(base[arm])) if log else new[arm] - base[arm] for arm in (treatment, control)
        }
        test = two_sample_t(achieved[treatment], achieved[control], equal_var=True)
        reproduced = bool(
            np.sign(test.estimate) == target.direction
            and (
                target.admits(test.p_value) if ep.integer else math.isclose(test.p_value, target.p_value, rel_tol=1e-10)
            )
        )
        calibrations.append(
            EndpointCalibration(
                endpoint=ep.id,
                scale=ep.scale,
                integer=ep.integer,
                reported=target.reported,
                target_p=target.p_value,
                direction=target.direction,
                direction_published=target.direction_published,
                n_treatment=n_t,
                n_control=n_c,
                mean_change_control=m_c,
                sd_change_control=s_c,
                sd_change_treatment=s_t,
                difference=cal.estimate,
                estimate=test.estimate,
                std_error=test.std_error,
                df=test.df,
                statistic=test.statistic,
                p_value=test.p_value,
                reproduced=reproduced,
                note=target.note,
            )
        )
    if out_of_range:
        raise TrialkitError(
            f"calibrated follow-up values outside the endpoint's range with seed {seed} "
            f"(try another seed or a smaller SD of change): {'; '.join(out_of_range)}."
        )
    calibrated = replace(
        sim, frames=frames, decimals=decimals, spec_toml=_spec_header(sim.spec_toml, design, int(seed))
    )
    return Reconstruction(simulation=calibrated, calibrations=tuple(calibrations), treatment=treatment, control=control)
