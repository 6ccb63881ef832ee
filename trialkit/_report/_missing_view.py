"""What the report's "Missing data" section shows, as display text built from ``Results``.

The section exists when ``analyze`` ran the spec's ``[analysis.missing_data]``: the pattern of missing
values, the assumption behind each analysis, the estimates at the primary visit side by side (complete
case, MMRM, multiple imputation under MAR, J2R and CR) and the tipping shifts. Numbers go through
:mod:`trialkit._format` as in every other table; text from the spec is left to the template to escape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trialkit._format import MISSING, format_count, format_number, format_p, p_phrase, parse_shown
from trialkit._report._missing_words import (
    COMPARED,
    MI_METHODS,
    SHORT_NAMES,
    TEXT_NAMES,
    and_list,
    assumptions,
    coincide_sentence,
    shift_text,
    tipping_reading,
)
from trialkit._report._rows import records
from trialkit._report._tables import Row, _estimate_row, effect_name, endpoint_decimals
from trialkit._spec import MISSING_DATA_METHODS, Endpoint
from trialkit._trial import Trial
from trialkit.analysis._results import Results

__all__ = ["MI_KINDS", "has_missing_data", "missing_view", "ordered_endpoints"]

#: the result ids of the missing-data analyses (rows and failures)
MI_KINDS = frozenset(MISSING_DATA_METHODS)


def has_missing_data(results: Results) -> bool:
    """Whether ``results`` hold missing-data analyses: rows or failures of a method the spec asked for."""
    options = dict(results.provenance.get("missing_data") or {})
    if not options.get("methods"):
        return False
    ran = results.table["analysis"].astype(str).isin(MI_KINDS).any()
    failed = results.failures["analysis"].astype(str).isin(MI_KINDS).any()
    return bool(ran or failed)


def ordered_endpoints(trial: Trial) -> list[Endpoint]:
    """Return the endpoints with the primary one first, the others in spec order."""
    spec = trial.spec
    return [spec.primary_endpoint, *(e for e in spec.endpoints if not e.primary)]


def _of(counts: dict[str, tuple[int, int]], trial: Trial) -> str:
    """Return ``1 of 23 on Placebo and 2 of 23 on Magnesium`` from (count, total) per arm, arms by their labels."""
    label = trial.spec.arms.label
    return and_list([f"{counts[a][0]} of {counts[a][1]} on {label(a)}" for a in trial.arms if a in counts])


def _without_value(trial: Trial, results: Results) -> str:
    """Say how many participants per arm had no value at the primary visit (the pattern's counts)."""
    spec = trial.spec
    visit = spec.visits.label(spec.visits.primary)
    pattern = results.missing_pattern
    at = pattern.loc[(pattern["visit"] == spec.visits.primary).to_numpy()]
    by_endpoint: dict[str, dict[str, tuple[int, int]]] = {}
    for r in records(at):
        n, seen = int(r["n_subjects"]), int(r["n_observed"])
        by_endpoint.setdefault(str(r["endpoint"]), {})[str(r["arm"])] = (n - seen, n)
    if not by_endpoint:
        return ""
    primary = spec.primary_endpoint
    first = by_endpoint.get(primary.id) or next(iter(by_endpoint.values()))
    if all(sum(k for k, _ in c.values()) == 0 for c in by_endpoint.values()):
        return f"Every randomised participant had a value at {visit} for every endpoint."
    if len({tuple(sorted(c.items())) for c in by_endpoint.values()}) == 1:
        every = " (the same for every endpoint)" if len(by_endpoint) > 1 else ""
        return f"At {visit}, {_of(first, trial)} had no value{every}."
    return (
        f"At {visit}, {_of(first, trial)} had no {primary.label} value; the numbers differ between "
        "endpoints (see the figure of the pattern)."
    )


def _mi_subjects(trial: Trial, results: Results) -> str:
    """Say who the imputation analyses use and how many values they imputed at the primary visit."""
    spec = trial.spec
    options = dict(results.provenance["missing_data"])
    subjects = {str(k): dict(v) for k, v in dict(options.get("subjects", {})).items()}
    imputed = {str(k): dict(v) for k, v in dict(options.get("imputed_at_primary", {})).items()}
    covariates = [spec.covariate(c).label for c in results.provenance.get("covariates", [])]
    rule = "every randomised participant with a baseline value" + (
        f" and the covariates ({', '.join(covariates)})" if covariates else ""
    )
    text = f"The imputation analyses use {rule}, whatever they have after baseline"
    if not subjects:
        return text + "."
    n_rand = trial.subjects["arm"].astype(str).value_counts()
    key = spec.primary_endpoint.id if spec.primary_endpoint.id in subjects else next(iter(subjects))
    mine, put = subjects[key], imputed.get(key, {})
    same = len({tuple(sorted(v.items())) for v in subjects.values()}) == 1
    arms = [a for a in trial.arms if a in mine]
    total = sum(int(mine[a]) for a in arms)
    text += (
        f": {total} of {int(n_rand.sum())} "
        f"({', '.join(f'{spec.arms.label(a)} {int(mine[a])} of {int(n_rand.get(a, 0))}' for a in arms)})"
        + ("" if same else f" for {spec.primary_endpoint.label if key == spec.primary_endpoint.id else key}")
    )
    if put:
        counts = [int(put.get(a, 0)) for a in arms]
        names = [spec.arms.label(a) for a in arms]
        first = f"{counts[0]} participant{'s' if counts[0] != 1 else ''} on {names[0]}"
        values = and_list([first, *(f"{n} on {a}" for n, a in zip(counts[1:], names[1:], strict=True))])
        text += f", imputing the {spec.visits.label(spec.visits.primary)} values of {values}"
    return text + "."


def _mmrm_subjects(results: Results, endpoint: str) -> dict[str, int]:
    """Return the subjects per arm in the MMRM of ``endpoint`` (full analysis set), from the provenance."""
    subjects = dict(dict(results.provenance.get("mmrm") or {}).get("subjects", {}))
    return {str(a): int(n) for a, n in dict(dict(subjects.get("fas", {})).get(endpoint, {})).items()}


def _side_by_side(
    trial: Trial, results: Results, shown: list[str], imputed: dict[str, dict[str, int]]
) -> list[dict[str, Any]]:
    """Return one group per endpoint (primary first): a row per analysis and contrast at the primary visit."""
    spec = trial.spec
    t = results.table
    at = t.loc[(t["visit"] == spec.visits.primary).to_numpy() & (t["population"] == "fas").to_numpy()]
    dec = endpoint_decimals(trial)
    contrasts = [f"{a} - {trial.control}" for a in trial.arms[1:]]
    treated_of = {f"{a} - {trial.control}": a for a in trial.arms[1:]}
    groups = []
    for ep in ordered_endpoints(trial):
        mine = at.loc[(at["endpoint"] == ep.id).to_numpy()]
        rows: list[Row] = []
        for contrast in contrasts:
            for kind in shown:
                hit = records(
                    mine.loc[(mine["analysis"] == kind).to_numpy() & (mine["contrast"] == contrast).to_numpy()]
                )
                if not hit:
                    rows.append(
                        {
                            "endpoint": ep.id,
                            "analysis": kind,
                            "contrast": contrast,
                            "name": SHORT_NAMES[kind],
                            "ran": False,
                        }
                    )
                    continue
                row = _estimate_row(hit[0], ep, dec[ep.id])
                row.update(name=SHORT_NAMES[kind], ran=True, imputed="")
                if kind == "mmrm":  # every subject in the model, not only those observed at the visit
                    model = _mmrm_subjects(results, ep.id)
                    if model:
                        row["n_treatment"] = format_count(model.get(treated_of[contrast]))
                        row["n_control"] = format_count(model.get(trial.control))
                if kind in MI_METHODS and ep.id in imputed:
                    got = imputed[ep.id]
                    row["imputed"] = (
                        f"{format_count(got.get(treated_of[contrast], 0))} vs {format_count(got.get(trial.control, 0))}"
                    )
                rows.append(row)
        measure = f"{effect_name(ep)}" + (f", {ep.unit}" if ep.scale != "log" and ep.unit else "")
        groups.append({"endpoint": ep.id, "label": ep.label, "measure": measure, "better": ep.better, "rows": rows})
    return groups


def _primary_sentence(trial: Trial, results: Results, groups: list[dict[str, Any]], alpha: float) -> str:
    """Say, for the primary endpoint, under which analyses p stays below alpha and how far the estimates move."""
    primary = trial.spec.primary_endpoint
    group = groups[0]
    level = format_number(alpha)
    parts = []
    for contrast in dict.fromkeys(r["contrast"] for r in group["rows"]):
        rows = [r for r in group["rows"] if r["contrast"] == contrast and r["ran"]]
        if not rows:
            continue
        t = results.table
        at = t.loc[
            (t["endpoint"] == primary.id).to_numpy()
            & (t["visit"] == trial.spec.visits.primary).to_numpy()
            & (t["population"] == "fas").to_numpy()
            & (t["contrast"] == contrast).to_numpy()
        ]
        p = {str(r["analysis"]): float(r["p_value"]) for r in records(at)}
        lost = [TEXT_NAMES[r["analysis"]] for r in rows if not p.get(r["analysis"], 1.0) < alpha]
        kept = [TEXT_NAMES[r["analysis"]] for r in rows if p.get(r["analysis"], 1.0) < alpha]
        values = sorted((parse_shown(r["estimate"]), r["estimate"]) for r in rows if r["estimate"] != MISSING)
        unit = "" if primary.scale == "log" or not primary.unit else f" {primary.unit}"
        kind = "ratios" if primary.scale == "log" else "estimates"
        spread = f"{kind} from {values[0][1]} to {values[-1][1]}{unit}" if values else "no estimate"
        if not lost:
            verdict = f"p < {level} in every analysis shown ({spread})"
        elif not kept:
            verdict = f"p ≥ {level} in every analysis shown ({spread})"
        else:
            verdict = f"p < {level} under {and_list(kept)}, but not under {and_list(lost, 'or')} ({spread})"
        parts.append(f"{contrast}: {verdict}" if len(trial.arms) > 2 else verdict)
    if not parts:
        return ""
    return f"For the primary endpoint, {primary.label}: " + "; ".join(parts) + "."


def _tipping_rows(trial: Trial, results: Results, imputed: dict[str, dict[str, int]], alpha: float) -> list[Row]:
    """Return the tipping shift of every endpoint and contrast, with what it means, or why there is none."""
    spec = trial.spec
    visit = spec.visits.label(spec.visits.primary)
    t = results.table
    tips = t.loc[(t["analysis"] == "tipping_point").to_numpy() & (t["population"] == "fas").to_numpy()]
    grid = results.tipping_point
    out: list[Row] = []
    for ep in ordered_endpoints(trial):
        for a in trial.arms[1:]:
            contrast = f"{a} - {trial.control}"
            hit = records(tips.loc[(tips["endpoint"] == ep.id).to_numpy() & (tips["contrast"] == contrast).to_numpy()])
            n_imputed = int(imputed.get(ep.id, {}).get(a, 0))
            row: Row = {"endpoint": ep.id, "label": ep.label, "contrast": contrast, "analysis": "tipping_point"}
            if hit:
                delta, p = float(hit[0]["estimate"]), float(hit[0]["p_value"])
                row.update(
                    found=True,
                    estimate=shift_text(delta, ep),
                    p=format_p(p),
                    reading=tipping_reading(delta, p, ep, arm=spec.arms.label(a), visit=visit, imputed=n_imputed),
                )
                out.append(row)
                continue
            mine = grid.loc[(grid["endpoint"] == ep.id).to_numpy() & (grid["contrast"] == contrast).to_numpy()]
            if mine.empty:
                reading = "The imputation could not run (see “Analyses that could not run”)."
            elif n_imputed == 0:
                reading = (
                    f"No {visit} value on {spec.arms.label(a)} was imputed: no shift of imputed values can change "
                    "the result."
                )
            else:
                deltas = mine["delta"].to_numpy(dtype="float64")
                far = int(np.argmax(np.abs(deltas)))
                p_far = float(mine["p_value"].to_numpy(dtype="float64")[far])
                reading = (
                    f"p stays below {format_number(alpha)} over the whole grid of shifts, up to "
                    f"{shift_text(float(deltas[far]), ep)} ({p_phrase(p_far)} there): the result does not tip "
                    "within it."
                )
            row.update(found=False, estimate=MISSING, p=MISSING, reading=reading)
            out.append(row)
    return out


def missing_view(trial: Trial, results: Results) -> dict[str, Any] | None:
    """Return what the "Missing data" section shows, or None when no missing-data analysis ran."""
    if not has_missing_data(results):
        return None
    spec = trial.spec
    options = dict(results.provenance["missing_data"])
    methods = [str(m) for m in options["methods"]]
    reference = str(options.get("reference") or trial.control)
    treated = [a for a in trial.arms if a != reference]
    imputed = {
        str(k): {str(a): int(n) for a, n in dict(v).items()}
        for k, v in dict(options.get("imputed_at_primary", {})).items()
    }
    alpha = results.alpha
    shown = [k for k in COMPARED if k in methods or k == "ancova" or (k == "mmrm" and "mmrm" in results.provenance)]
    groups = _side_by_side(trial, results, shown, imputed)
    one_visit = len(spec.visits.post_baseline) == 1
    both = "mi_j2r" in methods and "mi_cr" in methods
    failures = results.failures
    mi_failures = int(failures["analysis"].astype(str).isin(MI_KINDS).sum())
    described = [*shown, *(["tipping_point"] if "tipping_point" in methods else [])]
    kinds = {"mi_mar": "MAR", "mi_j2r": "jump to reference", "mi_cr": "copy reference"}
    named = [kinds[m] for m in MI_METHODS if m in methods]
    summary = [f"multiple imputation ({and_list(named)})"] if named else []
    if "tipping_point" in methods:
        summary.append("a tipping-point analysis")
    return {
        "summary": and_list(summary),
        "visit": spec.visits.label(spec.visits.primary),
        "methods": methods,
        "reference": spec.arms.label(reference),
        "imputations": format_count(options.get("imputations")),
        "assumptions": assumptions(
            described,
            visit=spec.visits.label(spec.visits.primary),
            treated=[spec.arms.label(a) for a in treated],
            reference=spec.arms.label(reference),
            imputations=int(options.get("imputations", 0)),
            alpha=alpha,
        ),
        "reference_note": (
            f"Participants on {spec.arms.label(reference)}, the reference arm, are imputed under missing at random "
            "by every method."
            if {"mi_j2r", "mi_cr"} & set(methods)
            else ""
        ),
        "without_value": _without_value(trial, results),
        "mi_subjects": _mi_subjects(trial, results),
        "coincide": coincide_sentence(spec.visits.label(spec.visits.primary), spec.arms.label(reference))
        if one_visit and both
        else "",
        "conservative": bool({"mi_j2r", "mi_cr"} & set(methods)),
        "primary_sentence": _primary_sentence(trial, results, groups, alpha) if groups else "",
        "groups": groups,
        "has_imputed": any(r.get("imputed") for g in groups for r in g["rows"]),
        "tipping": _tipping_rows(trial, results, imputed, alpha) if "tipping_point" in methods else [],
        "failures": mi_failures,
    }
