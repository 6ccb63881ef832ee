r"""Power and sample size for randomised trials: by formula, and by simulating whole trials.

::

    import trialkit as tk

    tk.power.power("t", 64, effect=0.5)                        # power at 64 per arm
    tk.power.sample_size("ancova", effect=5, sd=10, rho=0.6)   # SampleSize: n per arm, total, power
    tk.power.effect("t", 64, power=0.9)                        # smallest detectable effect
    tk.power.design_power(tk.read_design("design.toml")).table  # each endpoint of a design file
    tk.power.simulate(tk.read_design("design.toml"), [20, 30, 40], trials=10_000)   # by simulation

:data:`TESTS` names the tests. ``"t"``: the two-sample t-test; ``"ancova"``: ANCOVA on a
baseline correlated ``rho`` with the outcome. Both allow unequal allocation, one- or two-sided
tests, and k arms against one control with Bonferroni or Dunnett critical values. The power is the
exact noncentral-t power; formulas, R equivalents and tolerances are in docs/power.md.
``"proportions"``: two proportions (normal approximation, Cohen's arcsine h, or Fisher's exact
test by enumeration); ``"negative_binomial"``: a rate ratio of counts with dispersion and
exposure (Zhu and Lakkis 2014); both in docs/power-binary-counts.md.

:func:`design_power` gives each endpoint of a design file its power at the design's size and the
sizes for 80 % and 90 % power by these formulas. :func:`simulate` draws replicate trials from a
design file and runs the analyses of :data:`ANALYSES` on all of them at once (ANCOVA, t-tests,
Mann-Whitney, logistic, MMRM, negative binomial and Poisson regression), on local processes or a
Dask cluster; docs/power-simulation.md.
"""

from trialkit.power._api import TESTS, SampleSize, effect, power, sample_size
from trialkit.power._design_power import DesignPower, design_power
from trialkit.power._simulation import ANALYSES, PowerSimulation, simulate

__all__ = [
    "ANALYSES",
    "TESTS",
    "DesignPower",
    "PowerSimulation",
    "SampleSize",
    "design_power",
    "effect",
    "power",
    "sample_size",
    "simulate",
]
