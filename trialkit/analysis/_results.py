"""Result types of the efficacy layer: one :class:`Estimate` per row, collected in :class:`Results`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd

RESULT_COLUMNS = (
    "endpoint",
    "visit",
    "analysis",
    "contrast",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "df",
    "statistic",
    "p_value",
    "p_adjusted",
    "n_treatment",
    "n_control",
    "population",
    "method",
)
#: the files :meth:`Results.to_files` (and ``trialkit analyze --out``) writes; baseline_p.csv only when
#: baseline tests were asked for, tipping_point.csv only when the spec asks for a tipping-point analysis
RESULT_FILES = (
    "results.csv",
    "results.json",
    "table1.csv",
    "smd.csv",
    "responder_sweep.csv",
    "counts.csv",
    "failures.csv",
    "missing_pattern.csv",
    "baseline_p.csv",
    "tipping_point.csv",
)
FAILURE_COLUMNS = ("endpoint", "visit", "analysis", "contrast", "term", "message", "population")
COUNT_COLUMNS = (
    "population",
    "endpoint",
    "visit",
    "arm",
    "n_randomised",
    "n_in_population",
    "n_with_change",
    "n_missing_followup",
    "n_missing_baseline",
)
#: the tipping-point grid (``tipping_point.csv``): one row per endpoint, contrast and shift δ
TIPPING_COLUMNS = (
    "endpoint",
    "visit",
    "contrast",
    "delta",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "df",
    "p_value",
    "population",
)
#: the missing-data pattern (``missing_pattern.csv``): per endpoint, arm and post-baseline visit
PATTERN_COLUMNS = ("endpoint", "arm", "visit", "n_subjects", "n_observed", "n_intermittent", "n_monotone")
NAN = math.nan


class Analysis(StrEnum):
    """Registry of analysis ids (the ``analysis`` column); definitions in docs/analyses.md."""

    ANCOVA = "ancova"
    ANCOVA_LSMEAN = "ancova_lsmean"
    MMRM = "mmrm"
    MMRM_LSMEAN = "mmrm_lsmean"
    WELCH_CHANGE = "welch_change"
    STUDENT_CHANGE = "student_change"
    MANN_WHITNEY_CHANGE = "mann_whitney_change"
    PAIRED_WITHIN = "paired_within"
    WILCOXON_WITHIN = "wilcoxon_within"
    HEDGES_G = "hedges_g"
    HEDGES_G_ANCOVA = "hedges_g_ancova"
    RESPONDER_RATE = "responder_rate"
    RESPONDER_RD = "responder_rd"
    RESPONDER_RR = "responder_rr"
    RESPONDER_OR = "responder_or"
    RESPONDER_NNT = "responder_nnt"
    WELCH_FOLLOWUP = "welch_followup"
    STUDENT_FOLLOWUP = "student_followup"
    MANN_WHITNEY_FOLLOWUP = "mann_whitney_followup"
    VAN_ELTEREN = "van_elteren"
    LOGISTIC = "logistic"
    STANDARDISED_RD = "standardised_rd"
    STANDARDISED_RR = "standardised_rr"
    STANDARDISED_OR = "standardised_or"
    PROPORTION = "proportion"
    RISK_DIFFERENCE = "risk_difference"
    RISK_RATIO = "risk_ratio"
    ODDS_RATIO = "odds_ratio"
    NNT = "nnt"
    CMH = "cmh"
    MH_RISK_DIFFERENCE = "mh_risk_difference"
    NEGATIVE_BINOMIAL = "negative_binomial"
    POISSON = "poisson"
    QUASIPOISSON = "quasipoisson"
    RATE = "rate"
    MI_MAR = "mi_mar"
    MI_J2R = "mi_j2r"
    MI_CR = "mi_cr"
    TIPPING_POINT = "tipping_point"


@dataclass(frozen=True)
class Estimate:
    """One estimate of one analysis for one contrast (endpoint and visit are added by the caller).

    Fields not defined by an analysis are NaN (``n_control`` is None for within-arm rows).
    ``method`` says which computational path a test took when an analysis has more than one
    (the rank tests: a key of :data:`trialkit.analysis.RANK_METHODS`, e.g. ``"exact"``); it is
    empty otherwise.
    """

    analysis: Analysis
    contrast: str
    estimate: float
    std_error: float = NAN
    ci_low: float = NAN
    ci_high: float = NAN
    df: float = NAN
    statistic: float = NAN
    p_value: float = NAN
    n_treatment: int | None = None
    n_control: int | None = None
    method: str = ""

    def row(self, endpoint: str, visit: str, population: str = "fas") -> dict[str, Any]:
        d = asdict(self)
        d["analysis"] = self.analysis.value
        method = d.pop("method")
        return {
            "endpoint": endpoint,
            "visit": visit,
            **d,
            "p_adjusted": NAN,
            "population": population,
            "method": method,
        }


@dataclass(frozen=True, eq=False)
class Results:
    """Everything ``analyze`` produced.

    Attributes
    ----------
    table : DataFrame
        One row per estimate, columns :data:`RESULT_COLUMNS`.
    failures : DataFrame
        Analyses that could not run, columns :data:`FAILURE_COLUMNS`.
    table1 : DataFrame
        Baseline characteristics by arm.
    smd : DataFrame
        Standardised mean differences at baseline (``variable, contrast, smd``).
    responder_sweep : DataFrame
        Responder analyses over a grid of thresholds (MCID sweep).
    counts : DataFrame
        Per population, endpoint, post-baseline visit and arm: subjects randomised, in the
        population, with a change from baseline (the change analyses' n), and left out for a
        missing follow-up or baseline value (columns :data:`COUNT_COLUMNS`).
    baseline_p : DataFrame
        Tests of baseline differences between arms, only when asked for
        (``analysis.table1_p_values``; CONSORT advises against them); empty otherwise.
    tipping_point : DataFrame
        The tipping-point grid of ``[analysis.missing_data]`` (columns :data:`TIPPING_COLUMNS`):
        the MAR multiple-imputation estimate with the treated arm's imputed values shifted by
        each δ; empty when not asked for.
    missing_pattern : DataFrame
        Per endpoint, arm and post-baseline visit: randomised subjects, observed, missing with a
        later visit observed (intermittent) and missing for good (monotone); columns
        :data:`PATTERN_COLUMNS`.
    alpha : float
        1 - confidence level of every interval.
    provenance : mapping
        Input hashes, versions, options.
    """

    table: pd.DataFrame
    failures: pd.DataFrame
    table1: pd.DataFrame = field(default_factory=pd.DataFrame)
    smd: pd.DataFrame = field(default_factory=pd.DataFrame)
    responder_sweep: pd.DataFrame = field(default_factory=pd.DataFrame)
    counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    baseline_p: pd.DataFrame = field(default_factory=pd.DataFrame)
    tipping_point: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(TIPPING_COLUMNS)))
    missing_pattern: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(PATTERN_COLUMNS)))
    alpha: float = 0.05
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def to_files(self, out: str | Path) -> list[Path]:
        """Write the results into a folder, as ``trialkit analyze --out`` does.

        Parameters
        ----------
        out : str or Path
            Folder to write into (created when missing). Files of the same names are replaced, all
            or none of them (see :data:`RESULT_FILES`).

        Returns
        -------
        list of Path
            ``results.csv`` (one row per estimate), ``table1.csv``, ``smd.csv``,
            ``responder_sweep.csv``, ``counts.csv``, ``failures.csv``, ``missing_pattern.csv``,
            ``baseline_p.csv`` (only when baseline tests were run), ``tipping_point.csv`` (only when a
            tipping-point analysis was run; an earlier run's is removed otherwise, so that it is
            never read as this run's) and ``results.json`` (provenance, alpha, results and failures).
            CSV text cells that a spreadsheet would run as a formula start with ``'``.

        Examples
        --------
        >>> import tempfile
        >>> import trialkit as tk
        >>> trial = tk.load(tk.datasets.study_spec("abbasi2012"))
        >>> [p.name for p in tk.analyze(trial).to_files(tempfile.mkdtemp())][:3]
        ['results.csv', 'table1.csv', 'smd.csv']
        """
        # the writing itself is the output layer's (one writer for every output, all or nothing)
        from trialkit._export import csv_bytes, frame_records, json_bytes, write_files

        tables = {
            "results.csv": self.table,
            "table1.csv": self.table1,
            "smd.csv": self.smd,
            "responder_sweep.csv": self.responder_sweep,
            "counts.csv": self.counts,
            "failures.csv": self.failures,
            "missing_pattern.csv": self.missing_pattern,
        }
        if not self.baseline_p.empty:
            tables["baseline_p.csv"] = self.baseline_p
        if not self.tipping_point.empty:
            tables["tipping_point.csv"] = self.tipping_point
        contents = {name: csv_bytes(frame) for name, frame in tables.items()}
        contents["results.json"] = json_bytes(
            {
                "provenance": dict(self.provenance),
                "alpha": self.alpha,
                "results": frame_records(self.table),
                "failures": frame_records(self.failures),
            }
        )
        # an optional table an earlier run wrote, this run not, would read as this run's: removed
        return write_files(out, contents, removes=[name for name in RESULT_FILES if name not in contents])

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return self.table.to_html(index=False, float_format=lambda v: f"{v:.4g}")
