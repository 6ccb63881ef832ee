"""Reports: one self-contained HTML page and a print-quality PDF of it, from ``Trial`` + ``Results``.

Heavy libraries (matplotlib, jinja2, WeasyPrint) are imported only when a report is made. The
public names are :func:`trialkit.report` and :class:`trialkit.InconsistentCounts`.
"""

from trialkit._report._flow import InconsistentCounts
from trialkit._report._report import pdf_bytes, render_html, report

__all__ = ["InconsistentCounts", "pdf_bytes", "render_html", "report"]
