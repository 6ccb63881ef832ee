"""Reading the rows of a results table: one typed view for every table the report reads."""

from __future__ import annotations

from typing import Any, cast

import pandas as pd

__all__ = ["records"]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows of ``frame`` as dicts keyed by column name, cells as pandas holds them.

    The report reads tables that ``analyze`` built, whose columns it knows by name; a dict per row
    keeps that reading explicit (``row["n_treatment"]``) where a named tuple's fields are untyped.
    """
    return cast(list[dict[str, Any]], frame.to_dict("records"))
