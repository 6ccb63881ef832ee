"""The results tables as an Excel workbook, safe to open: formula-like text is neutralised.

Numbers stay raw (unrounded); beside each id column (endpoint, visit, arm, contrast, variable, level,
population) a ``*_label`` column names it as the report does, so that the workbook reads without
the spec at hand.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd

from trialkit._export import neutralise_cells
from trialkit._labels import default_label, population_label
from trialkit._report._names import contrast_label, covariate_label, endpoint_heading
from trialkit._trial import Trial
from trialkit.analysis._results import Results

__all__ = ["with_labels", "xlsx_bytes"]


def _provenance_frame(results: Results) -> pd.DataFrame:
    prov = results.provenance
    rows = [
        ("study", prov.get("study")),
        ("alpha", results.alpha),
        ("multiplicity", prov.get("multiplicity")),
        ("covariates", ", ".join(prov.get("covariates", []))),
        ("populations", ", ".join(prov.get("populations", []))),
        ("primary analysis", prov.get("primary_analysis", "ancova")),
    ]
    rows += [(f"primary analysis {k}", v) for k, v in dict(prov.get("primary_analyses", {})).items()]
    rows += [(f"endpoint type {k}", v) for k, v in dict(prov.get("endpoint_types", {})).items()]
    if prov.get("strata"):
        rows += [("strata", ", ".join(prov["strata"]))]
    if "dunnett" in prov:
        rows += [("dunnett", bool(prov["dunnett"]))]
    if "marginal_variance" in prov:
        rows += [("marginal variance", prov["marginal_variance"])]
    mmrm = prov.get("mmrm")
    if mmrm:
        rows += [(f"mmrm {k}", mmrm[k]) for k in ("covariance", "df", "reml", "group_by_arm", "empirical")]
    missing = prov.get("missing_data")
    if missing:
        rows += [("missing_data methods", ", ".join(missing.get("methods", [])))]
        rows += [(f"missing_data {k}", missing.get(k)) for k in ("imputations", "burn_in", "seed", "reference")]
        deltas = missing.get("deltas")
        grids = deltas.items() if isinstance(deltas, dict) else [("", deltas)]
        rows += [
            (f"missing_data deltas {k}".strip(), ", ".join(map(str, v)) if isinstance(v, list) else v) for k, v in grids
        ]
    rows += [(f"input {i['path']}", i["sha256"]) for i in prov.get("inputs", [])]
    rows += [(f"version {k}", v) for k, v in prov.get("versions", {}).items()]
    return pd.DataFrame(rows, columns=["key", "value"]).astype({"value": object})


def _namers(trial: Trial) -> dict[str, Callable[[str], str]]:
    """Return, per id column, the function naming its values for readers (the spec's labels)."""
    spec = trial.spec
    endpoints = {e.id: e for e in spec.endpoints}

    def endpoint(value: str) -> str:
        return endpoint_heading(endpoints[value]) if value in endpoints else value

    def variable(value: str) -> str:  # Table 1: a covariate or an endpoint at baseline
        return endpoint(value) if value in endpoints else covariate_label(spec, value)

    return {
        "endpoint": endpoint,
        "variable": variable,
        "visit": spec.visits.label,
        "arm": spec.arms.label,
        "contrast": lambda value: contrast_label(trial, value),
        "population": population_label,
    }


def _level_label(trial: Trial, variable: str, level: str) -> str:
    """Return a Table 1 category's label: the covariate's ``level_labels``, else words from the value."""
    if variable in {e.id for e in trial.spec.endpoints}:
        return default_label(level)
    return trial.spec.covariate(variable).level_label(level)


def with_labels(frame: pd.DataFrame, trial: Trial) -> pd.DataFrame:
    """Return ``frame`` with a ``<column>_label`` column after each id column it has; the numbers untouched.

    >>> import trialkit as tk
    >>> trial = tk.load(tk.datasets.study_spec("abbasi2012"))
    >>> frame = pd.DataFrame({"endpoint": ["isi"], "contrast": ["magnesium - placebo"], "estimate": [-3.7]})
    >>> with_labels(frame, trial).columns.tolist()
    ['endpoint', 'endpoint_label', 'contrast', 'contrast_label', 'estimate']
    >>> with_labels(frame, trial).iloc[0, :4].tolist()
    ['isi', 'Insomnia Severity Index (points)', 'magnesium - placebo', 'Magnesium 500 mg/day − Placebo']
    """
    out = frame.copy()
    if {"variable", "label"} <= set(out.columns):  # Table 1's own label column: replaced by variable_label
        out = out.drop(columns="label")
    for column, name in _namers(trial).items():
        if column not in out.columns or f"{column}_label" in out.columns:
            continue
        values = out[column]
        labels = [name(str(v)) if not pd.isna(v) else "" for v in values]
        out.insert(list(out.columns).index(column) + 1, f"{column}_label", labels)
    if {"variable", "level"} <= set(out.columns) and "level_label" not in out.columns:
        labels = [
            "" if pd.isna(level) else _level_label(trial, str(variable), str(level))
            for variable, level in zip(out["variable"], out["level"], strict=True)
        ]
        out.insert(list(out.columns).index("level") + 1, "level_label", labels)
    return out


def xlsx_bytes(results: Results, *, reproduction: pd.DataFrame | None = None, trial: Trial | None = None) -> bytes:
    """Write one sheet per table: results, table1, smd, responder_sweep, failures, the missing data's, provenance.

    The analyses that do not apply to the trial (``term`` "skipped": no baseline visit, another endpoint
    type) are in their own sheet, not_applicable, apart from the failures. The missing-data sheets
    (tipping_point, missing_pattern) are there when the spec asked for those analyses; a reproduction
    sheet when a reproduction table is given.

    Text cells starting with ``= + - @`` (or a tab or carriage return) get a leading ``'`` so that no
    spreadsheet program runs them as formulas; numbers stay numbers. With ``trial`` every results sheet
    has label columns beside its ids (:func:`with_labels`).
    """
    sheets = {
        "results": results.table,
        "table1": results.table1,
        "smd": results.smd,
        "responder_sweep": results.responder_sweep,
        "failures": results.failures.loc[(results.failures["term"] != "skipped").to_numpy()],
    }
    skipped = results.failures.loc[(results.failures["term"] == "skipped").to_numpy()]
    if not skipped.empty:
        sheets["not_applicable"] = skipped
    if not results.tipping_point.empty:
        sheets["tipping_point"] = results.tipping_point
    if "missing_data" in results.provenance:
        sheets["missing_pattern"] = results.missing_pattern
    if reproduction is not None:
        sheets["reproduction"] = reproduction
    if trial is not None:
        sheets = {
            name: frame if name == "reproduction" else with_labels(frame, trial) for name, frame in sheets.items()
        }
    sheets["provenance"] = _provenance_frame(results)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            safe = neutralise_cells(
                frame.astype({c: object for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)})
            )
            safe.to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()
