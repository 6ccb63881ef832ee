"""Binary endpoints: logistic regression with standardisation, and Cochran–Mantel–Haenszel.

What each analysis estimates, its formulas and the R functions it matches: docs/binary.md.
"""

from trialkit.analysis._binary._cmh import cmh, cmh_arrays
from trialkit.analysis._binary._logistic import LogisticFit, MarginalVariance, logistic, logistic_arrays

__all__ = ["LogisticFit", "MarginalVariance", "cmh", "cmh_arrays", "logistic", "logistic_arrays"]
