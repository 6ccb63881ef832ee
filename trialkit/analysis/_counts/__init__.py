"""Count endpoints: negative-binomial, robust Poisson and quasi-Poisson rate ratios; exact event rates.

:func:`count_arrays` and :func:`rate_arrays` work on arrays the caller has checked (what
:func:`~trialkit.analyze` calls); :func:`negative_binomial`, :func:`poisson`, :func:`quasipoisson`
and :func:`event_rate` check their arguments and are public in :mod:`trialkit.analysis`.
Definitions and the R functions they match: docs/counts.md.
"""

from trialkit.analysis._counts._fit import CountFamily, CountFit, count_arrays
from trialkit.analysis._counts._models import negative_binomial, poisson, quasipoisson
from trialkit.analysis._counts._rate import event_rate, rate_arrays

__all__ = [
    "CountFamily",
    "CountFit",
    "count_arrays",
    "event_rate",
    "negative_binomial",
    "poisson",
    "quasipoisson",
    "rate_arrays",
]
