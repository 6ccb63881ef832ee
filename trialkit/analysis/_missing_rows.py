"""The missing-data analyses of :func:`trialkit.analyze`: one multiple imputation per endpoint, as result rows.

The spec's ``[analysis.missing_data]`` names the methods. Every endpoint is imputed in the full
analysis set — every randomised subject with its baseline value and covariates, whatever it has
after baseline — with the post-baseline visits of the spec as the imputation model's responses,
and analysed by the ANCOVA at the primary visit (:func:`trialkit.analysis.multiple_imputation`).
Each endpoint draws from its own random stream, keyed by its id: adding or reordering endpoints
does not change the others' results.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trialkit._errors import AnalysisError
from trialkit._spec import MissingDataOptions, StudySpec
from trialkit.analysis._cells import Floats, Subjects
from trialkit.analysis._missing._mi import MI_METHODS, impute_arrays
from trialkit.analysis._missing._pattern import missing_pattern
from trialkit.analysis._results import NAN, Analysis, Estimate
from trialkit.analysis._units import own_unit

__all__ = ["MI_KINDS", "MissingDataRows", "missing_data_rows", "pattern_table"]

#: the result ids of the missing-data analyses
MI_KINDS = tuple(Analysis(m) for m in MI_METHODS)

Row = dict[str, Any]


@dataclass
class MissingDataRows:
    """What the missing-data analyses add to the results."""

    rows: list[Row] = field(default_factory=list)
    failures: list[Row] = field(default_factory=list)
    tipping: list[Row] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)


def endpoint_seed(seed: int, endpoint: str) -> np.random.SeedSequence:
    """Return the random stream of one endpoint: the spec's seed, spawned by a stable key of the endpoint id."""
    return np.random.SeedSequence(entropy=seed, spawn_key=(zlib.crc32(endpoint.encode("utf-8")),))


def pattern_table(spec: StudySpec, grid: Floats, subjects: Subjects) -> list[Row]:
    """Return the missing-data pattern of every endpoint, per arm and post-baseline visit (every randomised subject)."""
    order = spec.visits.order
    post = spec.visits.post_baseline
    columns = [order.index(v) for v in post]
    rows: list[Row] = []
    for k, ep in enumerate(spec.endpoints):
        frame = missing_pattern(grid[:, k, columns], subjects.arm, arms=subjects.arms, visits=tuple(post))
        rows.extend({"endpoint": ep.id, **{str(c): v for c, v in r.items()}} for r in frame.to_dict("records"))
    return rows


def _failure(endpoint: str, visit: str, kind: Analysis, contrast: str, term: str, message: str) -> Row:
    return {
        "endpoint": endpoint,
        "visit": visit,
        "analysis": kind.value,
        "contrast": contrast,
        "term": term,
        "message": message,
        "population": "fas",
    }


def missing_data_rows(
    spec: StudySpec,
    grid: Floats,
    subjects: Subjects,
    options: MissingDataOptions,
    alpha: float,
    wanted: frozenset[Analysis],
    stopped: Collection[str] = (),
) -> MissingDataRows:
    """Run the spec's missing-data analyses of every endpoint; rows, failures and the tipping grid.

    ``grid`` is the subject x endpoint x visit array of :func:`~trialkit.analysis._cells.value_grid`.
    The endpoints in ``stopped`` (values beyond the arithmetic's limits) are left out: analyze records why.
    """
    out = MissingDataRows()
    methods = tuple(m for m in options.methods if Analysis(m) in wanted)
    if not methods:
        return out
    order = spec.visits.order
    b = order.index(str(spec.visits.baseline))
    post = tuple(spec.visits.post_baseline)
    columns = [order.index(v) for v in post]
    primary = post.index(spec.visits.primary)
    arms = subjects.arms
    reference = arms.index(options.reference) if options.reference else 0
    imputed: dict[str, dict[str, int]] = {}
    analysed: dict[str, dict[str, int]] = {}
    for k, ep in enumerate(spec.endpoints):
        if ep.type != "continuous" or ep.id in stopped:
            continue  # recorded by analyze: the imputation model is for continuous endpoints; or stopped
        shifts = options.deltas_for(ep.id)
        deltas = None if shifts is None else np.asarray(shifts, dtype=np.float64)
        keep = subjects.has_covariates & ~np.isnan(grid[:, k, b])
        values, baseline = grid[keep][:, k, columns], grid[keep, k, b]
        # values such as 1e15 + noise are imputed about their mean (the estimates are differences, and the
        # shifts of the tipping point additive: neither changes); logs are taken by the imputation itself
        shift = 0.0 if ep.scale == "log" else own_unit(np.concatenate([values.reshape(-1), baseline]))[0]
        try:
            fit = impute_arrays(
                subjects.arm[keep],
                values - shift,
                {"baseline": baseline - shift, **{c: x[keep] for c, x in subjects.numeric.items()}},
                {c: x[keep] for c, x in subjects.factors.items()},
                arms=arms,
                levels=subjects.levels,
                visits=post,
                primary=primary,
                methods=methods,
                reference=reference,
                imputations=options.imputations,
                burn_in=options.burn_in,
                seed=endpoint_seed(options.seed, ep.id),
                deltas=deltas,
                alpha=alpha,
                log_scale=ep.scale == "log",
            )
        except AnalysisError as exc:
            out.failures.extend(
                _failure(ep.id, spec.visits.primary, Analysis(m), "all arms", exc.term, f"multiple imputation: {exc}")
                for m in methods
            )
            continue
        imputed[ep.id] = dict(fit.imputed)
        analysed[ep.id] = dict(fit.subjects)
        out.rows.extend(e.row(ep.id, spec.visits.primary, "fas") for e in fit.estimates)
        # fit.tipping is empty unless the tipping point was asked for
        for a, tp in zip(arms[1:] if fit.tipping else (), fit.tipping, strict=True):
            n_t, n_c = fit.subjects[a], fit.subjects[arms[0]]
            for i, d in enumerate(tp.delta):
                out.tipping.append(
                    {
                        "endpoint": ep.id,
                        "visit": spec.visits.primary,
                        "contrast": tp.contrast,
                        "delta": float(d),
                        "estimate": float(tp.estimate[i]),
                        "std_error": float(tp.std_error[i]),
                        "ci_low": float(tp.ci_low[i]),
                        "ci_high": float(tp.ci_high[i]),
                        "df": float(tp.df[i]),
                        "p_value": float(tp.p_value[i]),
                        "population": "fas",
                    }
                )
            if tp.slope == 0.0:
                message = (
                    f"no value of arm {a!r} was imputed at {spec.visits.primary!r}: "
                    "no shift of imputed values can change the conclusion."
                )
            elif np.isnan(tp.tipping_delta):
                message = (
                    f"p stays below {alpha:g} over the whole grid of shifts "
                    f"({float(tp.delta.min()):g} to {float(tp.delta.max()):g}): widen `deltas`."
                )
            else:
                at = tp.delta == tp.tipping_delta
                out.rows.append(
                    Estimate(
                        Analysis.TIPPING_POINT,
                        tp.contrast,
                        tp.tipping_delta,
                        NAN,
                        NAN,
                        NAN,
                        float(tp.df[at][0]),
                        NAN,
                        float(tp.p_value[at][0]),
                        n_t,
                        n_c,
                    ).row(ep.id, spec.visits.primary, "fas")
                )
                continue
            out.failures.append(
                _failure(ep.id, spec.visits.primary, Analysis.TIPPING_POINT, tp.contrast, "delta", message)
            )
    out.provenance = {
        "methods": list(methods),
        "imputations": options.imputations,
        "burn_in": options.burn_in,
        "seed": options.seed,
        "reference": arms[reference],
        "deltas": {
            ep.id: "default grid" if options.deltas_for(ep.id) is None else list(options.deltas_for(ep.id) or ())
            for ep in spec.endpoints
        },
        "subjects": analysed,
        "imputed_at_primary": imputed,
    }
    return out
