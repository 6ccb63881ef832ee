"""``report``: one self-contained HTML page and a PDF of it, from one template."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from trialkit._checks import check_bool, check_instance
from trialkit._errors import TrialkitError
from trialkit._export import write_files
from trialkit._format import format_count
from trialkit._report._flow import check_consistency, flow_counts, randomised
from trialkit._report._flow_view import flow_view
from trialkit._report._methods import COVARIANCE_NAMES, DF_NAMES, methods_paragraphs, shown_analyses
from trialkit._report._missing_view import missing_view
from trialkit._report._mmrm_words import baseline_is_response, mmrm_wording
from trialkit._report._names import adjusted_for, contrast_label
from trialkit._report._page import description, running_title, study_title
from trialkit._report._provenance_view import provenance
from trialkit._report._reproduction_view import reproduction_view, study_design_power
from trialkit._report._svg import xml_text
from trialkit._report._tables import (
    MODEL_NAMES,
    build_tables,
    effect_name,
    primary_analysis_of,
    primary_model,
)
from trialkit._spec import Population
from trialkit._trial import Trial
from trialkit.analysis._results import Results
from trialkit.reproduce import Reproduction

if TYPE_CHECKING:  # jinja2 is imported when a report is rendered, not when trialkit is
    import jinja2

__all__ = ["pdf_bytes", "render_html", "report"]

HTML_NAME, PDF_NAME, XLSX_NAME = "report.html", "report.pdf", "results.xlsx"


def _timestamp(generated: datetime | str | None) -> str:
    """ISO 8601 time in UTC to the second; ``generated`` fixes it (for reproducible output)."""
    if generated is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        when = datetime.fromtimestamp(int(epoch), UTC) if epoch and epoch.isdigit() else datetime.now(UTC)
    elif isinstance(generated, str):
        try:
            when = datetime.fromisoformat(generated)
        except ValueError:
            raise TrialkitError(f"`generated` must be an ISO 8601 date-time; got {generated!r}.") from None
    elif isinstance(generated, datetime):
        when = generated
    else:
        raise TrialkitError(f"`generated` must be a datetime or an ISO 8601 string; got {type(generated).__name__}.")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _check_reproduction(table: Any) -> tuple[pd.DataFrame | None, Path | None]:
    """Return the reproduction table, and the published-results file when a Reproduction was given."""
    if table is None:
        return None, None
    if isinstance(table, Reproduction):
        return table.table, Path(table.published_file)
    if not isinstance(table, pd.DataFrame):
        raise TrialkitError(
            f"`reproduction` must be a trialkit.reproduce.Reproduction or a DataFrame with one row per outcome and "
            f"a `verdict` column; got {type(table).__name__}."
        )
    if "verdict" not in table.columns:
        raise TrialkitError(
            "`reproduction` must have a `verdict` column (one row per outcome); got columns "
            f"{', '.join(map(str, table.columns))}."
        )
    return table, None


def _check_command(command: object) -> str | list[str | os.PathLike[str]] | None:
    """Return ``command``: None, one line of text, or its words (paths as path objects)."""
    if command is None or isinstance(command, str):
        return command
    words = check_instance(command, "command", (list, tuple), "the command line as text, or a list of its words")
    checked: list[str | os.PathLike[str]] = []
    for k, word in enumerate(words):
        check_instance(word, f"command[{k}]", (str, os.PathLike), "text or a path")
        checked.append(word)
    return checked


def _mmrm_view(trial: Trial, results: Results, flow: pd.DataFrame) -> dict[str, Any] | None:
    """Return what the MMRM section shows besides its rows: the model and the subjects per endpoint."""
    if "mmrm" not in results.provenance:
        return None
    t = results.table
    if not (t["analysis"].isin(["mmrm", "mmrm_lsmean"]).any() or _mmrm_failed(results)):
        return None  # the spec asks for an MMRM that applies to no endpoint of this trial (skipped)
    options = dict(results.provenance["mmrm"])
    fas = flow.loc[flow["population"] == Population.FAS.value]
    if fas.empty:
        fas = flow.loc[flow["population"] == flow["population"].iloc[0]]
    first = trial.spec.visits.post_baseline[0]
    n_rand = randomised(trial)
    subjects = []
    for ep in trial.spec.endpoints:
        if ep.type != "continuous":
            continue
        part = fas.loc[(fas["endpoint"] == ep.id).to_numpy() & (fas["visit"] == first).to_numpy()]
        by_arm = {str(a): int(n) for a, n in zip(part["arm"], part["mmrm_set"], strict=True)}
        subjects.append(
            {
                "endpoint": ep.id,
                "label": ep.label,
                "total": format_count(sum(by_arm.values())),
                "cells": [format_count(by_arm[a]) for a in trial.arms],
            }
        )
    same = len({tuple(s["cells"]) for s in subjects}) == 1
    return {
        "covariance": COVARIANCE_NAMES.get(str(options["covariance"]), str(options["covariance"])),
        "df": DF_NAMES.get(str(options["df"]), str(options["df"])),
        "df_short": {"satterthwaite": "Satterthwaite", "kenward_roger": "Kenward–Roger"}.get(
            str(options["df"]), str(options["df"]).replace("_", "–")
        ),
        "fitting": "REML" if options.get("reml", True) else "ML",
        "group_by_arm": bool(options.get("group_by_arm")),
        "empirical": bool(options.get("empirical")),
        "one_visit": len(trial.spec.visits.post_baseline) == 1 and not baseline_is_response(results),
        "baseline_response": baseline_is_response(results),
        **mmrm_wording(results, trial.spec),
        "subjects": subjects,
        "same_subjects": same,
        "n_randomised": [n_rand[a] for a in trial.arms],
        "n_total": sum(n_rand.values()),
        "primary": primary_model(results) == "mmrm",
    }


def _mmrm_failed(results: Results) -> bool:
    """Whether an MMRM that applies to an endpoint failed (skipped ones do not count)."""
    f = results.failures
    return bool((f["analysis"].isin(["mmrm", "mmrm_lsmean"]) & (f["term"] != "skipped")).any())


def _adjusted_for(trial: Trial) -> str:
    """Say what the models adjust for: ``adjusted for baseline, age and sex``, or ``without covariates``."""
    return adjusted_for(trial)


def _primary_text(trial: Trial, results: Results, model: str) -> str:
    """Describe the primary analysis of a binary or count primary endpoint in the summary box."""
    adjusted = _adjusted_for(trial)
    if model == "standardised_rd":
        variance = {"ye": "Ye et al. 2023", "ge": "Ge et al. 2011"}.get(
            str(results.provenance.get("marginal_variance", "ye")), "delta method"
        )
        return f"standardised risk difference (g-computation) from a logistic model {adjusted}; variance of {variance}"
    if model == "negative_binomial":
        return f"rate ratio from a negative binomial model {adjusted}, offset log(time at risk)"
    return f"{MODEL_NAMES.get(model, model)} {adjusted}"


def _silent(stage: str) -> None:
    """Ignore a stage name: a report without a progress display."""


def _stage_callback(progress: object) -> Callable[[str], None]:
    """Return ``progress`` (a function of a stage name) checked, or one that ignores the stages when it is None."""
    if progress is None:
        return _silent
    # Callable is a runtime ABC (isinstance works); mypy only knows it as a special form
    checked: Callable[[str], None] = check_instance(progress, "progress", Callable, "a function of a stage name")  # type: ignore[arg-type]
    return checked


def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("trialkit._report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(
    trial: Trial,
    results: Results,
    *,
    reproduction: pd.DataFrame | Reproduction | None = None,
    command: str | Sequence[str | os.PathLike[str]] | None = None,
    generated: datetime | str | None = None,
    progress: Callable[[str], None] | None = None,
) -> str:
    """Render the report as one self-contained HTML document (text), after the consistency check.

    Parameters and errors as :func:`report`; nothing is written.
    """
    from trialkit._report._figures import (
        change_figures,
        forest_figure,
        means_figures,
        mmrm_figures,
        proportion_figures,
        rate_figures,
    )
    from trialkit._report._missing_figures import pattern_figure, tipping_figures

    check_instance(trial, "trial", Trial, "a trialkit.Trial")
    check_instance(results, "results", Results, "trialkit.Results from `analyze`")
    command = _check_command(command)
    reproduction, published = _check_reproduction(reproduction)
    stage = _stage_callback(progress)
    spec = trial.spec
    stage("Checking counts")
    populations = [Population(p) for p in results.provenance.get("populations", [])] or None
    flow = flow_counts(trial, populations)
    check_consistency(trial, results, flow)

    n_rand = randomised(trial)
    stage("Tables")
    tables = build_tables(trial, results, n_rand)
    level = f"{100 * (1 - results.alpha):g}%"
    primary = spec.primary_endpoint
    contrasts = [contrast_label(trial, f"{a} - {trial.control}") for a in trial.arms[1:]]
    stage("Figures")
    figures = [
        *means_figures(trial, results.alpha),
        *proportion_figures(trial, results.alpha),
        *rate_figures(trial, results.alpha),
        *change_figures(trial),
    ]
    forest = forest_figure(trial, results)
    if forest is not None:
        figures.append(forest)
    trajectories = mmrm_figures(trial, results)
    missing = missing_view(trial, results)
    model = primary_analysis_of(results, primary)
    types = {e.type for e in spec.endpoints}
    repro = None if reproduction is None else reproduction_view(reproduction, spec, design=study_design_power(trial))
    context = {
        "study": {
            "id": spec.study.id,
            "title": study_title(spec),
            "running_title": running_title(study_title(spec)),
            "synthetic": spec.study.synthetic,
            "description": description(spec),
            "level": level,
            "n_total": sum(n_rand.values()),
            "n_endpoints": len(spec.endpoints),
            "visits": list(spec.visits.order),
            "baseline": spec.visits.baseline,
            "primary_visit": spec.visits.primary,
            "primary": primary,
            "primary_effect": effect_name(primary, model),
            "primary_type": primary.type,
            "primary_text": _primary_text(trial, results, model),
            "adjusted": _adjusted_for(trial),
            "statistic": "t" if primary.type == "continuous" else "z",
            "secondary": [e for e in spec.endpoints if not e.primary],
            "covariates": list(spec.analysis.covariates),
            "model": MODEL_NAMES.get(model, model),
        },
        "many_contrasts": len(contrasts) > 1,
        "contrast_text": contrasts[0] if len(contrasts) == 1 else "each arm against " + spec.arms.label(trial.control),
        "flow": flow_view(trial, flow, model, mmrm_wording(results)["span"], types),
        "types": sorted(types),
        "tables": tables,
        "figures": figures,
        "mmrm": _mmrm_view(trial, results, flow),
        "mmrm_figures": trajectories,
        "missing": missing,
        "pattern_figures": [f for f in [pattern_figure(trial, results)] if f is not None] if missing else [],
        "tipping_figures": tipping_figures(trial, results) if missing else [],
        "reproduction": repro,
        "methods": [],
        "prov": provenance(trial, results, command=command, generated=_timestamp(generated), published=published),
    }
    stage("Writing HTML")
    template = _environment().get_template("report.html.j2")
    # the methods describe what the page shows: the analyses of its rows, read from a draft without them
    shown = shown_analyses(template.render(**context))
    context["methods"] = methods_paragraphs(trial, results, flow, shown)
    return xml_text(template.render(**context))  # the page is UTF-8 and its SVG is XML, whatever the labels hold


def pdf_bytes(html: str) -> bytes:
    """Typeset ``html`` with WeasyPrint (print CSS: A4, running header, page numbers) into PDF bytes.

    Every URL is refused: the page is self-contained, and a reference that slipped in must not be
    fetched while printing.
    """
    import weasyprint

    def refuse(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise ValueError(f"the report does not load external resources: {url}")

    document: bytes = weasyprint.HTML(string=html, base_url=None, url_fetcher=refuse).write_pdf()
    return document


def report(
    trial: Trial,
    results: Results,
    out_dir: str | Path,
    *,
    reproduction: pd.DataFrame | Reproduction | None = None,
    command: str | Sequence[str | os.PathLike[str]] | None = None,
    generated: datetime | str | None = None,
    pdf: bool = True,
    xlsx: bool = False,
    progress: Callable[[str], None] | None = None,
) -> tuple[Path, Path]:
    """Write ``report.html`` (self-contained) and ``report.pdf`` (the same HTML, typeset) into ``out_dir``.

    Parameters
    ----------
    trial : Trial
        The loaded trial the results were computed from.
    results : Results
        ``trialkit.analyze(trial)``.
    out_dir : str or Path
        Folder to write into (created when missing).
    reproduction : Reproduction or DataFrame, optional
        :func:`trialkit.reproduce.reproduce`'s result (its published-results file is then hashed in
        the provenance), or its table: one row per outcome with a ``verdict`` column. Shown as its
        own section.
    command : str or sequence of (str or Path), optional
        The command that made the report, recorded in its provenance. Given as words, with file and
        folder arguments as ``pathlib.Path``, it is written relative to the study spec's folder, to
        be run there; given as one string, it is shown as it is.
    generated : datetime or str, optional
        Time stamp shown in the report (default: now, or ``SOURCE_DATE_EPOCH`` when set). With the
        same inputs and time stamp the HTML is byte-identical.
    pdf : bool
        Also write the PDF (default). Without it the PDF is not written (one already in ``out_dir``
        is left as it is).
    xlsx : bool
        Also write ``results.xlsx``: the results tables, with text cells that a spreadsheet would run
        as formulas neutralised.
    progress : callable, optional
        Called with the name of each stage as it starts (``"Figures"``, ``"Typesetting PDF"``, ...),
        for a progress display; it does not change the report.

    Returns
    -------
    (Path, Path)
        The HTML and PDF paths.

    Raises
    ------
    TrialkitError
        Bad arguments, or :class:`~trialkit.report.InconsistentCounts` when the N per arm differs
        between the flow diagram, Table 1 and an analysis. Nothing is written then.

    Examples
    --------
    >>> import tempfile
    >>> import trialkit as tk
    >>> trial = tk.load(tk.datasets.study_spec("abbasi2012"))
    >>> html, pdf = tk.report(trial, tk.analyze(trial), tempfile.mkdtemp(), pdf=False)
    >>> html.name
    'report.html'
    """
    pdf, xlsx = check_bool(pdf, "pdf"), check_bool(xlsx, "xlsx")
    check_instance(out_dir, "out_dir", (str, Path), "a folder path")
    stage = _stage_callback(progress)
    html = render_html(trial, results, reproduction=reproduction, command=command, generated=generated, progress=stage)
    table, _ = _check_reproduction(reproduction)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise TrialkitError(f"`out_dir` {str(out)!r} exists and is not a folder.")
    contents = {HTML_NAME: html.encode("utf-8")}
    if pdf:
        stage("Typesetting PDF")
        contents[PDF_NAME] = pdf_bytes(html)
    if xlsx:
        stage("Spreadsheet")
        from trialkit._report._xlsx import xlsx_bytes

        contents[XLSX_NAME] = xlsx_bytes(results, reproduction=table, trial=trial)
    # a PDF or spreadsheet an earlier run wrote, this run not, would read as this run's: removed
    write_files(out, contents, removes=[name for name in (PDF_NAME, XLSX_NAME) if name not in contents])
    return out / HTML_NAME, out / PDF_NAME
