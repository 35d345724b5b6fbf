"""Drift statistics for monitors: a small base and Evidently's default methods."""

from shipyard.monitoring.drift._base import SMALL_SAMPLE, DriftMethod, Histogram, Score
from shipyard.monitoring.drift._methods import (
    ChiSquareTest,
    JensenShannonDistance,
    KSTest,
    NormedWasserstein,
    choose,
    describe_methods,
)

__all__ = [
    "SMALL_SAMPLE",
    "ChiSquareTest",
    "DriftMethod",
    "Histogram",
    "JensenShannonDistance",
    "KSTest",
    "NormedWasserstein",
    "Score",
    "choose",
    "describe_methods",
]
