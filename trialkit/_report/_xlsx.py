"""The results tables as an Excel workbook, safe to open: formula-like text is neutralised."""

from __future__ import annotations

import io

import pandas as pd

from trialkit._export import neutralise_cells
from trialkit.analysis._results import Results

__all__ = ["xlsx_bytes"]


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


def xlsx_bytes(results: Results, *, reproduction: pd.DataFrame | None = None) -> bytes:
    """Write one sheet per table: results, table1, smd, responder_sweep, failures, the missing data's, provenance.

    The analyses that do not apply to the trial (``term`` "skipped": no baseline visit, another endpoint
    type) are in their own sheet, not_applicable, apart from the failures. The missing-data sheets
    (tipping_point, missing_pattern) are there when the spec asked for those analyses; a reproduction
    sheet when a reproduction table is given.

    Text cells starting with ``= + - @`` (or a tab or carriage return) get a leading ``'`` so that no
    spreadsheet program runs them as formulas; numbers stay numbers.
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
    sheets["provenance"] = _provenance_frame(results)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            safe = neutralise_cells(
                frame.astype({c: object for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)})
            )
            safe.to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()
