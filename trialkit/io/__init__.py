"""Loaders: study spec + data files of any supported layout and format -> :class:`~trialkit.Trial`."""

from trialkit.io._files import FORMATS
from trialkit.io._load import load, sha256_of

__all__ = ["FORMATS", "load", "sha256_of"]
