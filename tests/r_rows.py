"""Compare ``Results.table`` with the rows an R reference script wrote (``expected.csv``): one rule for every case.

Every row in one table must be in the other (by endpoint, visit, analysis, contrast); every number agrees to
a relative ``rtol`` (an absolute 1e-300 floor for p-values below it) and is missing in both or neither;
counts are equal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KEY = ["endpoint", "visit", "analysis", "contrast"]
NUMBERS = ["estimate", "std_error", "ci_low", "ci_high", "df", "statistic", "p_value", "p_adjusted"]


def assert_rows_match_r(table: pd.DataFrame, expected: pd.DataFrame, *, label: str, rtol: float) -> None:
    """Assert that ``table`` (trialkit's rows) and ``expected`` (R's) hold the same rows and numbers."""
    merged = expected.merge(table, on=KEY, how="outer", suffixes=("_r", ""), indicator=True)
    only = merged.loc[merged["_merge"] != "both", KEY + ["_merge"]]
    assert only.empty, f"rows in only one of trialkit/R:\n{only.to_string()}"
    for analysis, part in merged.groupby("analysis"):
        for c in NUMBERS:
            a, b = part[c].astype(float).to_numpy(), part[f"{c}_r"].astype(float).to_numpy()
            where = f"{label}/{analysis}" if label else str(analysis)
            assert np.array_equal(np.isnan(a), np.isnan(b)), f"{where}: {c} missing in one of trialkit/R"
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-300, err_msg=f"{where}: {c}")
    for c in ("n_treatment", "n_control"):
        a, b = merged[c].astype("Float64"), merged[f"{c}_r"].astype("Float64")
        assert (a.isna() == b.isna()).all() and (a.fillna(-1) == b.fillna(-1)).all(), c
