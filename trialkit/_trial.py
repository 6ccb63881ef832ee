"""The Trial: a checked spec, its tidy frame and its subject-level frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialkit._errors import Problem
from trialkit._provenance import Manifest
from trialkit._spec import StudySpec

__all__ = ["InputFile", "Trial", "TIDY_COLUMNS", "ADAM_COLUMNS", "DISCONTINUATION_REASON"]

#: the column of ``Trial.subjects`` holding each subject's reason for discontinuing, when the data record one
DISCONTINUATION_REASON = "discontinuation_reason"
TIDY_COLUMNS = ("subject", "arm", "visit", "endpoint", "value", "visit_index")
ADAM_COLUMNS = ("USUBJID", "TRTP", "AVISIT", "AVISITN", "PARAMCD", "PARAM", "AVAL", "BASE", "CHG", "ABLFL")


@dataclass(frozen=True)
class InputFile:
    """A file the trial was read from, with its SHA-256 (hex) for provenance."""

    path: str
    sha256: str


@dataclass(frozen=True, eq=False)
class Trial:
    """A validated trial.

    Attributes
    ----------
    spec : StudySpec
        The study spec the data were read with.
    data : DataFrame
        Tidy frame, one row per subject x visit x endpoint (every combination present; a value
        not recorded is NaN): ``subject`` (str), ``arm``, ``visit``, ``endpoint`` (ordered
        categoricals in spec order, control arm first), ``value`` (float64), ``visit_index``
        (int, position in ``visits.order``). A binary endpoint's ``value`` is 1.0 for its
        ``success`` value, 0.0 for the other value, NaN when missing; a count endpoint's is a
        whole number >= 0.
    subjects : DataFrame
        One row per randomised subject: ``subject``, ``arm``, the spec's covariates (the
        randomisation strata among them, as text) and then the ``exposure_column`` of each count
        endpoint that has one (float64, the time at risk in ``exposure_unit``), each under its
        name in the data file; last, when the data have a reason column (``data.discontinuation_reason``),
        :data:`DISCONTINUATION_REASON`: each subject's reason for discontinuing, ``""`` for a subject who
        did not.
    inputs : tuple of InputFile
        The files read, with their hashes (the spec first).
    manifest : Manifest or None
        The ``MANIFEST.json`` beside the spec, when the data were generated (seed, command,
        calibration to published p-values, and the hash of every file it vouches for).
    warnings : tuple of Problem
        What the data were read as other than written (``Rule.is_warning``): blanks around an
        identifier or label, a lowercase ADaM flag; each names file, row, subject, column and value.
    """

    spec: StudySpec
    data: pd.DataFrame
    subjects: pd.DataFrame
    inputs: tuple[InputFile, ...] = ()
    manifest: Manifest | None = None
    warnings: tuple[Problem, ...] = ()

    @property
    def arms(self) -> tuple[str, ...]:
        """Arm codes, control first."""
        return tuple(self.data["arm"].cat.categories)

    @property
    def control(self) -> str:
        """The control arm's code (``arms.control`` in the spec)."""
        return self.spec.arms.control

    def changes(self) -> pd.DataFrame:
        """Return baseline and change from baseline per subject, endpoint and post-baseline visit.

        Returns
        -------
        DataFrame
            ``subject, arm, endpoint, visit, visit_index, baseline, value, change`` with
            ``change = value - baseline`` (NaN when either is missing).

        Raises
        ------
        TrialkitError
            When the spec has no baseline visit.
        """
        base_visit = self.spec.visits.baseline
        if base_visit is None:
            from trialkit._errors import TrialkitError

            raise TrialkitError("the spec has no baseline visit; set `visits.baseline` to derive change.")
        d = self.data
        is_base = (d["visit"] == base_visit).to_numpy()
        base = d.loc[is_base, ["subject", "endpoint", "value"]].rename(columns={"value": "baseline"})
        post = d.loc[~is_base]
        out = post.merge(base, on=["subject", "endpoint"], how="left", sort=False)
        out["change"] = out["value"] - out["baseline"]
        cols = ["subject", "arm", "endpoint", "visit", "visit_index", "baseline", "value", "change"]
        return out[cols].reset_index(drop=True)

    def missing_counts(self) -> pd.DataFrame:
        """Count subjects, observed and missing values per arm, visit and endpoint.

        Returns
        -------
        DataFrame
            ``arm, visit, endpoint, n_subjects, n_observed, n_missing``.
        """
        d = self.data.assign(observed=self.data["value"].notna())
        g = d.groupby(["arm", "visit", "endpoint"], observed=True, sort=True)["observed"]
        out = pd.DataFrame({"n_subjects": g.size(), "n_observed": g.sum()}).reset_index()
        out["n_missing"] = out["n_subjects"] - out["n_observed"]
        return out.astype({"n_subjects": "int64", "n_observed": "int64", "n_missing": "int64"})

    def to_adam(self) -> pd.DataFrame:
        """Return the tidy frame with CDISC ADaM BDS names.

        Returns
        -------
        DataFrame
            ``USUBJID, TRTP, AVISIT, AVISITN, PARAMCD, PARAM, AVAL, BASE, CHG, ABLFL``. AVISITN is
            the visit's position in ``visits.order`` (baseline 0); PARAMCD is the endpoint id
            upper-cased; ABLFL is ``"Y"`` on baseline records, empty otherwise; BASE and CHG are
            empty on baseline records, as BDS derives change for post-baseline records only.
        """
        d = self.data
        labels = {e.id: e.label for e in self.spec.endpoints}
        base_visit = self.spec.visits.baseline
        is_base = (d["visit"] == base_visit).to_numpy() if base_visit else np.zeros(len(d), bool)
        out = pd.DataFrame(
            {
                "USUBJID": d["subject"].to_numpy(),
                "TRTP": d["arm"].astype(str).to_numpy(),
                "AVISIT": d["visit"].astype(str).to_numpy(),
                "AVISITN": d["visit_index"].to_numpy(),
                "PARAMCD": d["endpoint"].astype(str).str.upper().to_numpy(),
                "PARAM": d["endpoint"].astype(str).map(labels).to_numpy(),
                "AVAL": d["value"].to_numpy(),
            }
        )
        if base_visit:
            base = d.loc[is_base, ["subject", "endpoint", "value"]]
            merged = d[["subject", "endpoint"]].merge(base, on=["subject", "endpoint"], how="left")
            out["BASE"] = np.where(is_base, np.nan, merged["value"].to_numpy())
            out["CHG"] = out["AVAL"] - out["BASE"]
        else:
            out["BASE"] = np.nan
            out["CHG"] = np.nan
        out["ABLFL"] = np.where(is_base, "Y", "")
        return out[list(ADAM_COLUMNS)]

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        import html

        n = self.subjects.groupby("arm", observed=True).size()
        arms = ", ".join(f"{html.escape(str(a))}: {k}" for a, k in n.items())
        k = len(self.warnings)
        warned = f"; {k} warning{'s' if k != 1 else ''} on reading (<code>Trial.warnings</code>)" if k else ""
        return (
            f"<p><b>Trial {html.escape(self.spec.study.id)}</b> — {len(self.subjects)} subjects "
            f"({arms}); {len(self.spec.endpoints)} endpoints; visits "
            f"{html.escape(', '.join(self.spec.visits.order))}{warned}</p>"
        )
