"""Reports: one self-contained HTML page and a print-quality PDF of it, from ``Trial`` + ``Results``.

Heavy libraries (matplotlib, jinja2, WeasyPrint) are imported only when a report is made.

>>> import trialkit as tk
>>> from trialkit.report import report
>>> trial = tk.load("data/synthetic/abbasi2012/study.toml")   # doctest: +SKIP
>>> report(trial, tk.analyze(trial), "reports/abbasi2012")     # doctest: +SKIP

This package is also callable as :func:`report` itself: importing a subpackage sets it as an
attribute of its parent, so ``trialkit.report`` is this module as soon as anything has imported
it, and ``tk.report(trial, results, "out/")`` must still make a report.
"""

import sys
import types

from trialkit.report._flow import InconsistentCounts, check_consistency, flow_counts
from trialkit.report._format import format_ci, format_nnt, format_nnt_ci, format_number, format_p
from trialkit.report._report import render_html, report, write_pdf

__all__ = [
    "InconsistentCounts",
    "check_consistency",
    "flow_counts",
    "format_ci",
    "format_nnt",
    "format_nnt_ci",
    "format_number",
    "format_p",
    "render_html",
    "report",
    "write_pdf",
]


class _CallableModule(types.ModuleType):
    """The module ``trialkit.report``, which when called makes a report (see :func:`report`)."""

    def __call__(self, *args, **kwargs):
        return report(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
