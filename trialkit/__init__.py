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

__all__ = [
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
