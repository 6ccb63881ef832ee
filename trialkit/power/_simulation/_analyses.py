"""The analyses a power simulation can run: name -> :class:`~trialkit.power._simulation._batch.Analysis`."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from trialkit.power._simulation._ancova import ancova
from trialkit.power._simulation._batch import Analysis
from trialkit.power._simulation._counts import negative_binomial, poisson
from trialkit.power._simulation._logistic import logistic
from trialkit.power._simulation._mann_whitney import mann_whitney
from trialkit.power._simulation._mmrm import mmrm
from trialkit.power._simulation._t import t_change, t_test

__all__ = ["ANALYSES", "default_analysis"]

#: every analysis, by the name users give in ``analyses=`` / ``--analyses``
ANALYSES: Mapping[str, Analysis] = MappingProxyType(
    {
        a.name: a
        for a in (
            Analysis("ancova", "ANCOVA on baseline", ("continuous",), True, ancova),
            Analysis("logistic", "Logistic regression (Wald)", ("binary",), False, logistic),
            Analysis("t", "t-test", ("continuous", "count"), False, t_test),
            Analysis("t_change", "t-test on change from baseline", ("continuous", "count"), True, t_change),
            Analysis("mann_whitney", "Mann-Whitney test", ("continuous", "count"), False, mann_whitney),
            Analysis("negative_binomial", "Negative binomial regression (Wald)", ("count",), False, negative_binomial),
            Analysis("poisson", "Poisson regression (robust Wald)", ("count",), False, poisson),
            Analysis("mmrm", "MMRM (unstructured, REML)", ("continuous",), True, mmrm),
        )
    }
)


def default_analysis(endpoint_type: str, has_baseline: bool) -> str | None:
    """Return the analysis run when none is named: ANCOVA (t without a baseline), logistic, negative binomial.

    The analyses ``trialkit analyze`` reports first for each type: ANCOVA on the baseline for a
    continuous endpoint (the t-test without a baseline visit), logistic regression for a binary
    one, negative binomial regression for a count. None when that analysis is not available.
    """
    name = {
        "continuous": "ancova" if has_baseline else "t",
        "binary": "logistic",
        "count": "negative_binomial",
    }[endpoint_type]
    return name if name in ANALYSES else None
