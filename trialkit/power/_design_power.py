r"""The analytic power of a design at its own size, and the sizes it would need for 80 % and 90 % power.

For every endpoint of a :class:`~trialkit.Design` and every arm compared with control, the test the
report would run on the primary visit, with the design's assumed effect, spread and correlation:

- continuous with a baseline visit: ``"ancova"`` on the analysis scale (the log of a log-scale
  endpoint: its normal model's mean and SD from :func:`trialkit._moments.model_params`). The effect
  is the difference of the two arms' means at the primary visit, less the slope times their
  difference at baseline (zero when the baseline means agree, as randomisation makes them); the SD
  is the pooled SD of the primary visit over the two arms, :math:`\sqrt{(s_0^2 + s_1^2)/2}`; ``rho``
  is the design's correlation between baseline and the primary visit;
- continuous without a baseline: ``"t"`` with that effect and SD;
- binary: ``"proportions"`` (normal approximation) with the control arm's probability at the
  primary visit and the risk difference there;
- count: ``"negative_binomial"`` with the control arm's rate at the primary visit, the rate ratio,
  the dispersion and the exposure of the primary visit.

Each comparison is tested two-sided at the design's alpha, without a multiplicity adjustment (as
``tk.power.simulate`` tests it). The power is at the analysed sizes: each arm's ``n − dropout`` of
the design (with ``dropout_by_visit``, ``n`` less ``n`` times the probability of having left by the
primary visit, rounded). The sizes for 80 % and 90 % are those of :func:`trialkit.power.sample_size` at the
design's allocation, then randomised after the design's dropout share (all dropouts over all
subjects of the two arms). An endpoint whose assumed effect is null has power alpha and no size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from trialkit._checks import check_instance
from trialkit._design import ArmDesign, Design, EndpointDesign
from trialkit.power._api import power, sample_size
from trialkit.power._simulation._model import TrialModel, trial_model

__all__ = ["COLUMNS", "DesignPower", "design_power"]

#: the columns of :attr:`DesignPower.table`, in order
COLUMNS = (
    "endpoint",
    "label",
    "arm",
    "test",
    "effect",
    "sd",
    "rho",
    "n_analysed",
    "power",
    "n80",
    "n90",
    "n80_randomised",
    "n90_randomised",
)
#: the powers sized for, and the columns their sizes go to
TARGETS = ((0.8, "n80", "n80_randomised"), (0.9, "n90", "n90_randomised"))


@dataclass(frozen=True, eq=False)
class DesignPower:
    """The analytic power of each endpoint of a design at its analysed size, and the sizes for 80 % and 90 %.

    Attributes
    ----------
    design : Design
        The design.
    alpha : float
        The design's two-sided significance level of every comparison.
    dropout : float
        The dropout share the randomised sizes allow for: the design's dropouts over its subjects
        (of control and the arm compared; the largest over the arms when there are several).
    table : DataFrame
        One row per endpoint and arm compared with control, columns :data:`COLUMNS`: ``endpoint``
        (id), ``label``, ``arm`` (id), ``test`` (the :data:`trialkit.power.TESTS` name),
        ``effect`` (on the test's scale: mean difference on the analysis scale, risk difference,
        or rate ratio), ``sd`` (pooled SD of the primary visit on the analysis scale; NaN for binary
        and count endpoints), ``rho`` (baseline–primary correlation; NaN without ANCOVA),
        ``n_analysed`` (the design's analysed sizes, control first, as a tuple), ``power`` (at
        ``n_analysed``), ``n80`` and ``n90`` (the control arm's analysed size reaching 80 % and
        90 % power; the arm's is ``ceil(allocation x n)``), ``n80_randomised`` and
        ``n90_randomised`` (those sizes randomised after the dropout share). The sizes are None
        when the effect is null; the power is then alpha.
    """

    design: Design
    alpha: float
    dropout: float
    table: pd.DataFrame


def _test(ep: EndpointDesign, model: TrialModel, arm: int) -> tuple[str, dict[str, Any], float, float]:
    """Return (test, parameters but the effect, effect, null effect) of an endpoint: arm ``arm`` against control."""
    m = model.endpoint(ep.id)
    p = model.primary
    if ep.type == "binary":
        p0, p1 = float(ep.probability[model.arms[0]][p]), float(ep.probability[model.arms[arm]][p])
        return "proportions", {"p_control": p0, "method": "normal"}, p1 - p0, 0.0
    if ep.type == "count":
        exposure = dict(ep.exposure).get(model.visits[p], 1.0)
        r0, r1 = float(ep.rate[model.arms[0]][p]), float(ep.rate[model.arms[arm]][p])
        params = {"rate_control": r0, "dispersion": float(ep.dispersion), "exposure": float(exposure)}
        return "negative_binomial", params, r1 / r0, 1.0
    sd = math.sqrt((float(m.scale[0, p]) ** 2 + float(m.scale[arm, p]) ** 2) / 2.0)
    effect = float(m.loc[arm, p] - m.loc[0, p])
    b = model.baseline
    if b is None or b == p:
        return "t", {"sd": sd}, effect, 0.0
    rho = float(ep.correlation[b][p])
    sd_baseline = math.sqrt((float(m.scale[0, b]) ** 2 + float(m.scale[arm, b]) ** 2) / 2.0)
    # the ANCOVA estimand: the primary difference adjusted for a baseline difference (0 when randomised alike)
    effect -= rho * sd / sd_baseline * float(m.loc[arm, b] - m.loc[0, b])
    return "ancova", {"sd": sd, "rho": rho}, effect, 0.0


def _lost(arm: ArmDesign, primary: int) -> int:
    """Return the subjects of ``arm`` without a value at the primary visit: ``dropout``, or the expected number.

    With ``dropout_by_visit`` the expected number, ``n`` times the probability of having left by
    the primary visit, rounded as the simulation rounds a fixed dropout.
    """
    if arm.dropout_by_visit:
        return round(arm.n * arm.dropout_by_visit[primary])
    return arm.dropout


def _randomised(n: int, share: float) -> int:
    # a quotient within 1e-9 of an integer is that integer (as sample_size rounds)
    return math.ceil(n / (1.0 - share) - 1e-9)


def design_power(design: Design) -> DesignPower:
    r"""Return the analytic power of every endpoint of ``design`` at its analysed size, and the size for 80 %/90 %.

    Parameters
    ----------
    design : Design
        A checked design (:func:`trialkit.read_design`).

    Returns
    -------
    DesignPower
        One row per endpoint and arm compared with control; the tests and parameters are in
        :mod:`trialkit.power._design_power` and docs/power.md ("The power of a design").

    Notes
    -----
    The ANCOVA power is the noncentral-t power of :func:`trialkit.power.power` (``"ancova"``),
    which takes the baseline slope as known; fitted slope costs a little power in small trials
    (tests/power/test_design_power.py compares it with ``tk.power.simulate``).

    Examples
    --------
    >>> import trialkit as tk
    >>> design = tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml"))
    >>> row = tk.power.design_power(design).table.set_index("endpoint").loc["isi"]
    >>> row["test"], row["n_analysed"], round(float(row["power"]), 4), row["n80"], row["n80_randomised"]
    ('ancova', (22, 21), 0.6923, 28, 30)
    """
    design = check_instance(design, "design", Design, "a Design (tk.read_design)")
    model = trial_model(design)
    by_id = {a.id: a for a in design.arms}
    arms = [by_id[a] for a in model.arms]
    control = arms[0]
    lost = [_lost(a, model.primary) for a in arms]
    shares = [(lost[0] + lost[j]) / (control.n + arms[j].n) for j in range(1, len(arms))]
    share = max(shares) if shares else 0.0
    rows = []
    for ep in design.endpoints:
        for j in range(1, len(arms)):
            test, params, effect, null = _test(ep, model, j)
            analysed = (control.n - lost[0], arms[j].n - lost[j])
            allocation = arms[j].n / control.n
            row: dict[str, Any] = {
                "endpoint": ep.id,
                "label": ep.label or ep.id,
                "arm": arms[j].id,
                "test": test,
                "effect": effect,
                "sd": params.get("sd", math.nan),
                "rho": params.get("rho", math.nan),
                "n_analysed": analysed,
            }
            if math.isclose(effect, null, rel_tol=0.0, abs_tol=1e-12):
                row.update({"power": design.alpha, **{c: None for _, n, r in TARGETS for c in (n, r)}})
            else:
                row["power"] = power(test, analysed, alpha=design.alpha, effect=effect, **params)
                for target, n_column, randomised_column in TARGETS:
                    size = sample_size(
                        test, power=target, alpha=design.alpha, effect=effect, allocation=allocation, **params
                    )
                    row[n_column] = size.n_analysed[0]
                    row[randomised_column] = _randomised(size.n_analysed[0], share)
            rows.append(row)
    table = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    for column in ("n80", "n90", "n80_randomised", "n90_randomised", "n_analysed"):  # ints or None, as given
        table[column] = pd.Series([row[column] for row in rows], dtype=object)
    return DesignPower(design=design, alpha=design.alpha, dropout=share, table=table)
