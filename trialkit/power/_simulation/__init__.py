"""Power by simulation: replicate trials drawn from a design and analysed in batches (``tk.power.simulate``)."""

from trialkit.power._simulation._analyses import ANALYSES
from trialkit.power._simulation._api import simulate
from trialkit.power._simulation._result import COLUMNS, PowerSimulation

__all__ = ["ANALYSES", "COLUMNS", "PowerSimulation", "simulate"]
