"""trialkit: load, check, analyse and report randomised clinical trials with baseline and follow-up."""

from importlib.metadata import PackageNotFoundError, version

from trialkit._errors import Problem, Rule, TrialkitError, ValidationError
from trialkit.io import load
from trialkit.spec import StudySpec, read_spec
from trialkit.trial import Trial

try:
    __version__ = version("trialkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

_LAZY = {
    "analyze": "trialkit.analysis",
    "Results": "trialkit.analysis",
    "Analysis": "trialkit.analysis",
    "report": "trialkit.report",
}


def __getattr__(name: str):
    # the efficacy layer imports statsmodels (about a second): load it only when asked for
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'trialkit' has no attribute {name!r}")


__all__ = [
    "Analysis",
    "Results",
    "analyze",
    "report",
    "Problem",
    "Rule",
    "StudySpec",
    "Trial",
    "TrialkitError",
    "ValidationError",
    "load",
    "read_spec",
    "__version__",
]
