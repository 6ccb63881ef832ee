"""trialkit: load, check, analyse and report randomised clinical trials with baseline and follow-up.

The main path::

    import trialkit as tk

    trial = tk.load("study.toml")   # Trial: spec, tidy frame, subjects (every problem at once)
    res = tk.analyze(trial)          # Results: one row per estimate, failures, Table 1, ...
    res.to_files("out/")             # results.csv, results.json, table1.csv, ...
    fit = tk.mmrm(frame, response=..., subject=..., visit=..., arm=..., control=...)  # any long frame
    tk.report(trial, res, "out/")    # report.html, report.pdf

Statistical building blocks are in :mod:`trialkit.analysis`, analytic power and sample size in
:mod:`trialkit.power`, the reproduction of published
trials in :mod:`trialkit.reproduce`, the bundled example data in :mod:`trialkit.datasets`.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from trialkit._errors import AnalysisError, Problem, Rule, TrialkitError, ValidationError

if TYPE_CHECKING:
    from trialkit._io import load
    from trialkit._spec import StudySpec, read_spec
    from trialkit._trial import Trial

    __version__: str

# Names whose modules import statsmodels, matplotlib or WeasyPrint: loaded on first use, so that
# `trialkit validate` does not pay for the analysis and report layers.
# The loading names too: `import trialkit` then needs no pandas, so that the command line is
# running (and catches Ctrl-C) before the heavy imports start.
_LAZY = {
    "load": "trialkit._io",
    "StudySpec": "trialkit._spec",
    "read_spec": "trialkit._spec",
    "Trial": "trialkit._trial",
    "analyze": "trialkit.analysis._analyze",
    "mmrm": "trialkit.analysis._mmrm",
    "MMRMFit": "trialkit.analysis._mmrm",
    "Results": "trialkit.analysis._results",
    "report": "trialkit._report",
    "InconsistentCounts": "trialkit._report",
    "simulate": "trialkit._simulate",
    "read_design": "trialkit._simulate",
    "Design": "trialkit._simulate",
    "Simulation": "trialkit._simulate",
}
_SUBPACKAGES = ("analysis", "datasets", "power", "reproduce")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("trialkit")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0.0.0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":  # looked up on first use: the package metadata are slow to import and read
        globals()["__version__"] = found = _version()
        return found
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name in _SUBPACKAGES:
        return import_module(f"trialkit.{name}")
    raise AttributeError(f"module 'trialkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AnalysisError",
    "Design",
    "InconsistentCounts",
    "MMRMFit",
    "Problem",
    "Results",
    "Rule",
    "Simulation",
    "StudySpec",
    "Trial",
    "TrialkitError",
    "ValidationError",
    "__version__",
    "analysis",
    "analyze",
    "datasets",
    "load",
    "mmrm",
    "power",
    "read_design",
    "read_spec",
    "report",
    "reproduce",
    "simulate",
]
