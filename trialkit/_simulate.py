"""Synthetic parallel-group trials: a design in, one wide frame per arm and its study spec out.

A *design* (TOML, read by :func:`read_design`, checked by :func:`parse_design`) states every number
the simulation needs — arms and their sizes, visits, per arm x visit means and SDs of each
continuous endpoint (event probabilities of a binary one, event rates of a count), the correlation
between a subject's visits, dropouts and subject-level covariates.
:func:`simulate` turns a design and a seed into a :class:`Simulation`, whose
:meth:`Simulation.to_files` writes one CSV per arm, the study spec and a ``MANIFEST.json``.

The design's keys: ``docs/design-file.md``; how values are drawn: ``docs/simulation-design.md``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from trialkit._checks import check_instance, check_integer
from trialkit._design import PATTERN, ArmDesign, CovariateDesign, Design, EndpointDesign, parse_design, read_design
from trialkit._errors import TrialkitError
from trialkit._moments import count_distribution, count_quantiles, lognormal_params, model_params, z_bounds
from trialkit._provenance import MANIFEST, command_line, sha256_bytes, sha256_file, versions

__all__ = [
    "ArmDesign",
    "CovariateDesign",
    "Design",
    "EndpointDesign",
    "PATTERN",
    "SPEC_FILE",
    "Simulation",
    "count_distribution",
    "exact_counts",
    "expected_counts",
    "format_frame",
    "lognormal_params",
    "parse_design",
    "read_design",
    "simulate",
    "study_spec_toml",
]


@dataclass(frozen=True, eq=False)
class Simulation:
    """Simulated trial data.

    Attributes
    ----------
    design : Design
    seed : int
    frames : mapping of str to DataFrame
        One wide frame per arm (design order), columns :meth:`Design.columns`; missing values NaN.
    files : mapping of str to str
        File name of each arm's frame, as named in ``spec_toml``'s ``[data.files]``.
    decimals : mapping of str to int
        Digits to print for each non-text, non-integer-typed column (the values are already rounded
        to them), so that written files are byte-identical for the same design and seed.
    spec_toml : str
        The study spec (``trialkit.load`` format) for the files, next to which it is written.
    """

    design: Design
    seed: int
    frames: Mapping[str, pd.DataFrame]
    files: Mapping[str, str]
    decimals: Mapping[str, int]
    spec_toml: str

    def contents(self) -> dict[str, bytes]:
        r"""Return the files of the simulated trial as bytes: one CSV per arm (design order), then the spec.

        Numbers are printed with the digits each column was rounded to, lines end in ``\n``, text
        is UTF-8 without a byte-order mark: the same design and seed give the same bytes anywhere.
        """
        out = {
            self.files[arm]: format_frame(frame, self.decimals).encode("utf-8") for arm, frame in self.frames.items()
        }
        out[SPEC_FILE] = self.spec_toml.encode("utf-8")
        return out

    def manifest(
        self, *, design_sha256: str | None = None, design_path: str | None = None, command: str | None = None
    ) -> dict[str, Any]:
        """Return the ``MANIFEST.json`` document of :meth:`contents`: what made the files, and their hashes.

        Parameters
        ----------
        design_sha256, design_path : str, optional
            The design file the simulation came from (its SHA-256, and its path as given).
        command : str, optional
            The command line that made the files.

        Returns
        -------
        dict
            ``generator, study, seed, design, command, files`` (SHA-256 per file) and ``versions``.
        """
        design = None if design_sha256 is None else {"path": design_path, "sha256": design_sha256}
        return {
            "generator": "trialkit.simulate",
            "study": self.design.study_id,
            "seed": self.seed,
            "design": design,
            "command": command,
            "files": {name: sha256_bytes(data) for name, data in self.contents().items()},
            "versions": versions(("trialkit", "numpy", "pandas", "scipy"), python=True),
        }

    def to_files(
        self,
        out_dir: str | Path,
        *,
        design_path: str | Path | None = None,
        command: str | list[str] | tuple[str, ...] | None = None,
        manifest: dict[str, Any] | None = None,
    ) -> list[Path]:
        """Write one CSV per arm, ``study.toml`` and ``MANIFEST.json`` into ``out_dir``, all or nothing.

        Parameters
        ----------
        out_dir : str or Path
            Created when missing; files of the same names are replaced.
        design_path : str or Path, optional
            The design file the simulation came from; its path (as given) and SHA-256 go into the
            manifest. It is read before anything is written.
        command : str or sequence of str, optional
            The command line that made the files (a sequence is joined with shell quoting).
        manifest : dict, optional
            The manifest to write instead of :meth:`manifest`'s (a generator that adds its own
            records, such as a calibration, builds it from :meth:`manifest`).

        Returns
        -------
        list of Path
            The arm CSVs (design order), the spec, the manifest.

        Raises
        ------
        TrialkitError
            When ``design_path`` cannot be read, is one of the files to write (the same file by name,
            through a symbolic link or a hard link), or the files cannot be written (a full disk, a
            read-only folder): nothing is written then.

        Examples
        --------
        >>> import tempfile
        >>> import trialkit as tk
        >>> design = tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml"))
        >>> paths = tk.simulate(design, seed=1).to_files(tempfile.mkdtemp())
        >>> [p.name for p in paths]
        ['magnesium.csv', 'placebo.csv', 'study.toml', 'MANIFEST.json']
        """
        from trialkit._export import json_bytes, write_files

        if manifest is None:
            digest = None
            if design_path is not None:
                try:
                    digest = sha256_file(design_path)
                except OSError as exc:
                    raise TrialkitError(f"cannot read the design file {str(design_path)!r}: {exc}.") from exc
            manifest = self.manifest(
                design_sha256=digest,
                design_path=None if design_path is None else Path(design_path).as_posix(),
                command=command_line(command),
            )
        contents = {**self.contents(), MANIFEST: json_bytes(manifest)}
        if design_path is not None:  # the design file is never one of the files written
            for name in contents:
                target = Path(out_dir) / name
                if target.exists() and os.path.samefile(target, design_path):
                    raise TrialkitError(
                        f"{str(target)!r} is the design file {str(design_path)!r}: writing the simulated "
                        "trial would replace it; write into another folder."
                    )
        return write_files(out_dir, contents)


SPEC_FILE = "study.toml"


def format_frame(frame: pd.DataFrame, decimals: Mapping[str, int]) -> str:
    r"""Return CSV text of ``frame``: columns in ``decimals`` printed with that many digits, NaN as empty.

    Other columns (subject ids, categories, integer-typed covariates) are printed as they are.

    Examples
    --------
    >>> format_frame(pd.DataFrame({"id": ["X-1", "X-2"], "v": [0.3, float("nan")]}), {"v": 3})
    'id,v\nX-1,0.300\nX-2,\n'
    """
    out = frame.copy()
    for col, d in decimals.items():
        if col in out.columns:
            values = out[col].to_numpy(dtype="float64")
            out[col] = np.array(["" if np.isnan(v) else f"{v:.{d}f}" for v in values], dtype=object)
    text: str = out.to_csv(index=False, lineterminator="\n")
    return text


# ---------------------------------------------------------------------------------------------
# Simulation


def _truncate(e: np.ndarray, a: float, b: float) -> np.ndarray:
    """Map standard-normal draws onto N(0, 1) truncated to [a, b] by the inverse CDF (one draw each)."""
    pa, pb = ndtr(a), ndtr(b)
    return ndtri(pa + ndtr(e) * (pb - pa))


def _grid(x: np.ndarray, decimals: int, bounds: tuple[float, float] | None) -> np.ndarray:
    """Round to ``decimals`` digits, then clip to the representable values inside ``bounds``."""
    x = np.round(x, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0 so files never show "-0"
    if bounds is not None:
        step = 10.0**decimals
        lo = math.ceil(round(bounds[0] * step, 6)) / step
        hi = math.floor(round(bounds[1] * step, 6)) / step
        x = np.clip(x, lo, hi)
    return x


def exact_counts(proportions: tuple[float, ...], n: int) -> np.ndarray:
    """Return counts summing to ``n`` closest to ``proportions x n`` (largest remainder; ties to the first)."""
    share = np.asarray(proportions, dtype=float) * n
    counts = np.floor(share + 1e-9).astype(np.int64)
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[: n - int(counts.sum())]] += 1
    return counts


def _draw_covariate(cov: CovariateDesign, n: int, rng: np.random.Generator) -> np.ndarray:
    if cov.kind == "categorical" and cov.allocation == "exact":
        return rng.permutation(np.repeat(np.asarray(cov.levels, dtype=object), exact_counts(cov.proportions, n)))
    if cov.kind == "categorical":
        idx = np.searchsorted(np.cumsum(cov.proportions), rng.random(n), side="right")
        return np.asarray(cov.levels, dtype=object)[np.minimum(idx, len(cov.levels) - 1)]
    e = rng.standard_normal(n)
    if cov.range is not None and cov.sd > 0:
        e = _truncate(e, *z_bounds(cov.range, cov.mean, cov.sd, "linear"))
    x = _grid(cov.mean + cov.sd * e, 0 if cov.integer else cov.decimals, cov.range)
    return x.astype(np.int64) if cov.integer else x


def _draw_endpoint(ep: EndpointDesign, arm: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """N x visits values of one endpoint in one arm (see :func:`simulate` for the model).

    Every type draws the same N x visits standard normals, so an endpoint's type never changes
    the draws of the endpoints after it.
    """
    if ep.type == "binary":
        z = rng.standard_normal((n, len(ep.probability[arm]))) @ np.linalg.cholesky(np.asarray(ep.correlation)).T
        return (z < ndtri(np.asarray(ep.probability[arm]))).astype(np.float64)
    if ep.type == "count":
        z = rng.standard_normal((n, len(ep.rate[arm]))) @ np.linalg.cholesky(np.asarray(ep.correlation)).T
        return count_quantiles(z, expected_counts(ep, arm), ep.dispersion)
    loc, scale = model_params(ep.mean[arm], ep.sd[arm], ep.scale)
    e = rng.standard_normal((n, len(loc)))
    if ep.baseline_range is not None:
        e[:, 0] = _truncate(e[:, 0], *z_bounds(ep.baseline_range, loc[0], scale[0], ep.scale))
    z = e @ np.linalg.cholesky(np.asarray(ep.correlation)).T  # first column unchanged: L[0, 0] = 1
    x = loc + scale * z
    if ep.scale == "log":
        x = np.exp(x)
    x = _grid(x, ep.decimals, ep.range)
    if ep.scale == "log":
        x = np.maximum(x, 10.0**-ep.decimals)  # rounding must not make a log-scale value 0
    return x


def expected_counts(ep: EndpointDesign, arm: str) -> np.ndarray:
    """Return the expected count per visit of a count endpoint in ``arm``: rate x exposure (exposure 1 if none)."""
    exposure = np.array([length for _, length in ep.exposure]) if ep.exposure else 1.0
    return np.asarray(ep.rate[arm], dtype=float) * exposure


def simulate(design: Design, seed: int) -> Simulation:
    r"""Simulate a parallel-group trial from its design.

    Parameters
    ----------
    design : Design
        From :func:`read_design` or :func:`parse_design`.
    seed : int
        Non-negative seed of ``np.random.default_rng``; the same design and seed give the same
        values (and, written by :meth:`Simulation.to_files`, the same bytes).

    Returns
    -------
    Simulation
        One wide frame per arm, the study spec that reads them once written, and the decimals
        every column is printed with; :meth:`Simulation.to_files` writes them.

    Raises
    ------
    TrialkitError
        When ``seed`` is not a non-negative integer.

    Examples
    --------
    >>> import trialkit as tk
    >>> design = tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml"))
    >>> sim = tk.simulate(design, seed=1)
    >>> {arm: len(frame) for arm, frame in sim.frames.items()}
    {'magnesium': 23, 'placebo': 23}

    Notes
    -----
    For subject *i* of arm *a* and endpoint *e* with visits :math:`1..V`, draw
    :math:`Z_i \sim N_V(0, R_e)` (as :math:`L\varepsilon_i`, :math:`R_e = LL^T` Cholesky,
    :math:`\varepsilon_i` iid standard normal) and set

    * linear scale: :math:`Y_{iv} = m_{av} + s_{av} Z_{iv}`;
    * log scale: :math:`Y_{iv} = \exp(\mu_{av} + \sigma_{av} Z_{iv})` with :math:`\mu, \sigma`
      from the natural-scale mean and SD by :func:`lognormal_params`; :math:`R_e` then holds the
      correlations of :math:`\ln Y` (natural-scale correlation
      :math:`(e^{\rho\sigma_1\sigma_2}-1)/\sqrt{(e^{\sigma_1^2}-1)(e^{\sigma_2^2}-1)}`).

    With ``baseline_range`` (an eligibility rule), :math:`\varepsilon_{i1}` is mapped onto the
    normal truncated to the window, :math:`\Phi^{-1}(\Phi(\alpha) + \Phi(\varepsilon)
    (\Phi(\beta) - \Phi(\alpha)))`; since :math:`Z_{i1} = \varepsilon_{i1}`, later visits keep
    their correct conditional distribution given baseline. The baseline mean then shifts by
    :math:`s\,(\varphi(\alpha) - \varphi(\beta))/(\Phi(\beta) - \Phi(\alpha))`.

    Binary and count endpoints use the same :math:`Z_i` as latent variables of a Gaussian copula,
    so that :math:`R_e` (the endpoint's ``correlation``) links a subject's visits and baseline
    predicts follow-up:

    * binary: the event happens at visit *v* when :math:`Z_{iv} < \Phi^{-1}(p_{av})`, so
      :math:`P(Y_{iv} = 1) = p_{av}` exactly; the file holds ``success`` or ``failure``;
    * count: :math:`Y_{iv} = F_{av}^{-1}(\Phi(Z_{iv}))` with :math:`F_{av}` the negative binomial
      (NB2) of mean :math:`\mu_{av} = r_{av} e_v` (rate x exposure, exposure 1 when none is given)
      and variance :math:`\mu + k\mu^2` (``dispersion`` *k*; Poisson when *k* = 0).

    The correlation of the observed values is smaller than that of the latent normals (a
    tetrachoric correlation for binary values); what holds exactly is
    :math:`P(Y_{i1} \le a, Y_{iv} \le b) = \Phi_2(\Phi^{-1}(F_1(a)), \Phi^{-1}(F_v(b)); \rho_{1v})`.

    Values are rounded to ``decimals`` digits (whole numbers for integer scores) and then clipped
    into ``range``. Both shift the moments slightly: rounding to step *h* adds about
    :math:`h^2/12` to the variance (Sheppard), and clipping moves the mass beyond a bound onto it,
    pulling the mean inward and shrinking the SD; keep means several SDs inside the range.
    Numeric covariates are normal, truncated to their ``range`` (so their realised mean differs
    from ``mean`` by the truncation shift above), then rounded; categorical ones are drawn with
    their proportions (or in exact per-arm counts, ``allocation = "exact"``). Endpoints are
    independent of each other and of the covariates.

    ``dropout`` subjects per arm, chosen uniformly at random (missing completely at random), have
    every value after the first visit (the baseline) set to NaN. With ``dropout_by_visit``
    (:math:`p_v`, the probability of having left by visit *v*, non-decreasing, 0 at the first),
    each subject draws one :math:`U_i \sim U(0, 1)` and misses visit *v* when :math:`U_i < p_v`:
    a share :math:`p_v` misses visit *v*, and a subject's missing visits are all after their last
    observed one (monotone dropout, completely at random). Subject ids are
    ``<prefix>-<number>``, zero-padded to at least 3 digits. Random numbers are drawn from one
    generator in a fixed order: per arm (design order), each covariate, the dropouts (the chosen
    subjects, or the n uniforms of ``dropout_by_visit``), then each endpoint (N x visits standard
    normals for every type). Means, SDs, probabilities and rates enter only after drawing, so
    changing them never changes the draws.
    """
    seed = check_integer(seed, "seed", 0)
    check_instance(design, "design", Design, "a trialkit.Design (from trialkit.read_design)")
    rng = np.random.default_rng(seed)
    frames = {arm.id: _simulate_arm(design, arm, rng) for arm in design.arms}
    decimals = {c.id: c.decimals for c in design.covariates if c.kind == "numeric" and not c.integer}
    decimals |= {
        PATTERN.format(endpoint=e.id, visit=v): e.decimals
        for e in design.endpoints
        if not isinstance(e.success, str)  # text labels are printed as they are
        for v in design.visits
    }
    return Simulation(
        design=design,
        seed=int(seed),
        frames=frames,
        files={arm.id: f"{arm.id}.csv" for arm in design.arms},
        decimals=decimals,
        spec_toml=study_spec_toml(design, seed=int(seed)),
    )


def _simulate_arm(design: Design, arm: ArmDesign, rng: np.random.Generator) -> pd.DataFrame:
    n = arm.n
    width = max(3, len(str(n)))
    cols: dict[str, Any] = {design.subject: [f"{arm.prefix}-{i:0{width}d}" for i in range(1, n + 1)]}
    for cov in design.covariates:
        cols[cov.id] = _draw_covariate(cov, n, rng)
    missing = _missing(arm, len(design.visits), rng)
    for ep in design.endpoints:
        x = _draw_endpoint(ep, arm.id, n, rng)
        x[missing] = np.nan
        for j, visit in enumerate(design.visits):
            cols[PATTERN.format(endpoint=ep.id, visit=visit)] = _labels(ep, x[:, j]) if ep.type == "binary" else x[:, j]
    return pd.DataFrame(cols, columns=list(design.columns()))


def _missing(arm: ArmDesign, visits: int, rng: np.random.Generator) -> np.ndarray:
    """Return the N x visits mask of the values an arm's dropouts miss (the arm's only draw of them).

    ``dropout``: that many subjects, chosen uniformly, miss every visit after the first.
    ``dropout_by_visit``: one uniform U per subject; visit v is missed when U < p_v (the
    probability of having left by v), so P(missed at v) = p_v and, p being non-decreasing, a
    subject who misses a visit misses every later one.
    """
    if arm.dropout_by_visit:
        u = rng.random(arm.n)
        return u[:, None] < np.asarray(arm.dropout_by_visit)[None, :]
    lost = np.zeros(arm.n, dtype=bool)
    lost[rng.choice(arm.n, size=arm.dropout, replace=False)] = True
    missing = np.zeros((arm.n, visits), dtype=bool)
    missing[lost, 1:] = True
    return missing


def _labels(ep: EndpointDesign, x: np.ndarray) -> np.ndarray:
    """Return binary 1.0 / 0.0 / NaN as written: ``success`` / ``failure`` / missing (None for text)."""
    if isinstance(ep.success, str):
        text = np.where(x == 1, ep.success, str(ep.failure)).astype(object)
        text[np.isnan(x)] = None
        return text
    success = 1.0 if ep.success is None else float(ep.success)
    failure = 0.0 if ep.failure is None else float(ep.failure)
    return np.where(np.isnan(x), np.nan, np.where(x == 1, success, failure))


# ---------------------------------------------------------------------------------------------
# The study spec of the simulated files


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    escaped = "".join(
        {'"': '\\"', "\\": "\\\\"}.get(ch) or (f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch)
        for ch in str(value)
    )
    return f'"{escaped}"'


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _typed_endpoint_lines(e: EndpointDesign) -> list[str]:
    """Spec lines of a binary or count endpoint after its id, label and unit (keys: the study spec's)."""
    lines = [f"type = {_toml(e.type)}"]
    if e.type == "binary":
        lines.append(f"success = {_toml(1 if e.success is None else e.success)}")
    if e.exposure:
        lengths = ", ".join(f"{v if _BARE_KEY.match(v) else _toml(v)} = {_toml(length)}" for v, length in e.exposure)
        lines.append(f"exposure = {{ {lengths} }}")
    if e.exposure_unit:
        lines.append(f"exposure_unit = {_toml(e.exposure_unit)}")
    if e.count_baseline is not None:
        lines.append(f"count_baseline = {_toml(e.count_baseline)}")
    lines += [f"better = {_toml(e.better)}", f"primary = {_toml(e.primary)}"]
    if e.responder_change is not None:
        lines.append(f"responder = {{ change = {_toml(e.responder_change)} }}")
    return lines


def _inline(table: dict[str, str]) -> str:
    """Write a TOML inline table of id = "text"."""
    items = ", ".join(f"{k if _BARE_KEY.match(k) else _toml(k)} = {_toml(v)}" for k, v in table.items())
    return f"{{ {items} }}"


def _covariate_lines(design: Design) -> list[str]:
    """Spec lines of the ``[covariates.NAME]`` tables: labels, units and the categories' declared levels."""
    lines: list[str] = []
    for c in design.covariates:
        lines.append(f"[covariates.{c.id}]")
        if c.label:
            lines.append(f"label = {_toml(c.label)}")
        if c.unit:
            lines.append(f"unit = {_toml(c.unit)}")
        if c.kind == "categorical":
            lines.append(f"levels = {_toml(list(c.levels))}")
            if c.level_labels:
                lines.append(f"level_labels = {_inline(dict(c.level_labels))}")
        lines.append("")
    return lines


def study_spec_toml(design: Design, *, seed: int) -> str:
    """Write the study spec (trialkit.load format) for the files :func:`simulate` makes from ``design``."""
    lines = [
        f"# Study spec of SYNTHETIC data simulated by trialkit.simulate from design {design.study_id!r}",
        f"# with seed {seed}. The values are not the trial's records: see the design file.",
        "",
        "[study]",
        f"id = {_toml(design.study_id)}",
        f"title = {_toml(design.title)}",
        f"alpha = {_toml(design.alpha)}",
        *(f"{key} = {_toml(text)}" for key, text in design.study_text),
        "synthetic = true",
        "",
        "[arms]",
        f"control = {_toml(design.control)}",
        f"levels = {_toml([a.id for a in design.arms])}",
    ]
    if any(a.label for a in design.arms):
        lines.append(f"labels = {_inline({a.id: a.label for a in design.arms if a.label})}")
    lines += ["", "[visits]"]
    if design.baseline is not None:
        lines.append(f"baseline = {_toml(design.baseline)}")
    lines += [f"order = {_toml(design.visits)}", f"primary = {_toml(design.primary_visit)}"]
    if design.visit_labels:
        lines.append(f"labels = {_inline(dict(design.visit_labels))}")
    for e in design.endpoints:
        lines += ["", "[[endpoints]]", f"id = {_toml(e.id)}", f"label = {_toml(e.label)}", f"unit = {_toml(e.unit)}"]
        if e.type != "continuous":
            lines += _typed_endpoint_lines(e)
            continue
        if e.range is not None:
            lines.append(f"range = {_toml(e.range)}")
        lines += [
            f"integer = {_toml(e.integer)}",
            f"better = {_toml(e.better)}",
            f"scale = {_toml(e.scale)}",
            f"primary = {_toml(e.primary)}",
        ]
        if e.responder_change is not None:
            lines.append(f"responder = {{ change = {_toml(e.responder_change)} }}")
    covariates = [c.id for c in design.covariates]
    categorical = [c.id for c in design.covariates if c.kind == "categorical"]
    lines += [
        "",
        "[analysis]",
        f"covariates = {_toml(covariates)}",
        f"categorical = {_toml(categorical)}",
        "",
        *_covariate_lines(design),
        "[data]",
        'format = "wide"',
        f"subject = {_toml(design.subject)}",
        f"pattern = {_toml(PATTERN)}",
        "",
        "[data.files]",
    ]
    lines += [f"{a.id} = {_toml(a.id + '.csv')}" for a in design.arms]
    return "\n".join(lines) + "\n"
