"""Loaders: study spec + data files of any supported layout and format -> :class:`~trialkit.Trial`."""

from trialkit._io._files import FORMATS
from trialkit._io._load import load

__all__ = ["FORMATS", "load"]
