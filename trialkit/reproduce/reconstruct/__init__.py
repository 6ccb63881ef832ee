"""Reconstructing data: individual-level data of a trial's shape whose tests reproduce its published p-values.

:func:`reconstruct` calibrates simulated data so that Student's t-test on change between arms gives
each published p (:func:`targets_from_published`), by matching moments (:func:`match_moments`,
:func:`match_moments_integer` on integer scales) to the difference :func:`calibrate_difference`
finds.
"""

from trialkit.reproduce.reconstruct._moment_matching import IntegerMoments, match_moments, match_moments_integer
from trialkit.reproduce.reconstruct._reconstruct import (
    ASSUMED_TEST,
    SIGNIFICANT_DIGITS,
    EndpointCalibration,
    Reconstruction,
    change_moments,
    reconstruct,
)
from trialkit.reproduce.reconstruct._targets import (
    DifferenceCalibration,
    Target,
    calibrate_difference,
    targets_from_published,
)

__all__ = [
    "ASSUMED_TEST",
    "SIGNIFICANT_DIGITS",
    "DifferenceCalibration",
    "EndpointCalibration",
    "IntegerMoments",
    "Reconstruction",
    "Target",
    "calibrate_difference",
    "change_moments",
    "match_moments",
    "match_moments_integer",
    "reconstruct",
    "targets_from_published",
]
