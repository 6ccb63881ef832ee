"""Fuzz: mutated specs and data files of every format through the real command line.

Every example writes a small trial (the conftest trial, or the SAS fixture written by R haven),
mutates its spec (keys dropped, duplicated, retyped, ids swapped, odd and huge strings, text
damage) or its data file (cells, columns and rows changed and written by each format's own
writer; bytes flipped, cut or inserted afterwards), and runs a command of ``trialkit.cli.main``
in-process (a few runs go through a real process). Whatever the input, the command must

- end with exit code 0, 1 or 2 (no exception escapes ``main``);
- print no traceback on stderr;
- leave every input as it was (the bytes and the set of files of the input folder);
- leave every output folder holding either no file of the command or its complete set (exit 0
  and 1 write the set, exit 2 writes nothing), and no temporary file.

The examples are derandomized (the same on every run and in CI) and few enough that the file
runs in well under a minute on two cores; ``FUZZ_SCALE`` (an integer environment variable)
multiplies the number of examples for a longer search by hand.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tomli_w
from conftest import LONG_DATA, base_spec, formats_fixture_spec, small_wide, to_long, write_frame
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import trialkit as tk
from trialkit._errors import PROBLEM_COLUMNS
from trialkit.analysis import RESULT_FILES
from trialkit.cli import OUT_FILES, main

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
DESIGN = Path(tk.datasets.study_spec("abbasi2012")).with_name("design.toml")
SCALE = max(1, int(os.environ.get("FUZZ_SCALE", "1")))


def fuzz_settings(examples: int) -> settings:
    """Return the settings of one fuzz test: ``examples`` fixed examples, no deadline (the machine is shared)."""
    return settings(
        max_examples=examples * SCALE,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        print_blob=False,
        # no shrinking: a failing run stays as short as a passing one (the message names the input)
        phases=(Phase.explicit, Phase.generate),
    )


# --- values a hostile file or spec holds --------------------------------------------------------------

#: texts that some reader, parser or writer may take for something else
ODD_TEXTS = (
    "",
    " ",
    "NA",
    ".",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "0x10",
    "0xFFFFFFFFFFFFFFFF",
    "1_000",
    "+5",
    ".5",
    "5.",
    "1e5",
    "1e400",
    "-1e-400",
    "\uff11\uff12",  # full-width digits
    " 7 ",
    "\u22123",  # minus sign
    "1,000",
    "1.000,5",
    "=1+1",
    "@SUM(A1)",
    "a\nb",
    'say "hi"',
    "tab\there",
    "\x00",
    "nul\x00inside",
    "\x1b[31mred",
    "\u2028line",
    "\ufeffbom",
    "\ufffe",
    "\u202eevil",
    "é",
    "日本語",
    "\U0001f600",
    "x" * 300,
    "<script>alert(1)</script>",
    "]]>",
    "{endpoint}_{visit}",
    "../../etc/passwd",
    "placebo",
    "active",
    "baseline",
    "week8",
    "isi",
    "subject_id",
    "arm",
)
#: numbers at the edges of what arithmetic and the formats hold
ODD_NUMBERS = (
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    29.0,
    -7.0,
    1e308,
    -1e308,
    1e150,
    -1e150,
    1e-300,
    5e-324,
    1e15 + 0.25,
    float("nan"),
    float("inf"),
    float("-inf"),
    2.0**53,
    12.000000001,
)
#: integers at the edges of what TOML, numpy and the formats hold (none large enough to allocate much)
ODD_INTEGERS = (0, 1, -1, 2, 3, 7, 28, 1000, 2**31, 2**63 - 1, -(2**63))
#: values of any TOML type, to put where another type is expected
TOML_VALUES = st.one_of(
    st.sampled_from(ODD_TEXTS),
    st.sampled_from(ODD_NUMBERS),
    st.sampled_from(ODD_INTEGERS),
    st.booleans(),
    # fresh lists and tables at every draw: the mutations change them in place
    st.builds(list),
    st.builds(dict),
    st.builds(lambda: ["placebo", "placebo"]),
    st.builds(lambda: [0, 28, 5]),
    st.builds(lambda: {"baseline": "week8"}),
    st.just("L" * 10_000),
    st.text(max_size=12),
)


# --- inputs --------------------------------------------------------------------------------------------


@dataclass
class Inputs:
    """One trial written into ``folder``: its spec (a dict, written by :func:`write_inputs`) and data files."""

    folder: Path
    spec: dict[str, Any]
    data: list[Path]
    #: what the first data file holds, for a format trialkit's tests can write (None for the R fixtures)
    frame: pd.DataFrame | None = None


WIDE_SUFFIXES = (".csv", ".xlsx", ".parquet", ".sav", ".xpt")
#: every kind of trial the fuzz writes: the wide conftest trial in each format, its long CSV, the SAS fixtures
KINDS = (*WIDE_SUFFIXES, "long.csv", "per_arm.csv", ".sas7bdat", "adam.xpt")


def make_inputs(folder: Path, kind: str) -> Inputs:
    """Write a valid trial of ``kind`` (one of :data:`KINDS`) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind in WIDE_SUFFIXES:
        name = "trial" + kind
        write_frame(small_wide(), folder / name)
        return Inputs(folder, base_spec(data={"path": name}), [folder / name], small_wide())
    if kind == "long.csv":
        write_frame(to_long(small_wide()), folder / "trial.csv")
        spec = base_spec()
        spec["data"] = dict(LONG_DATA)  # the whole table: a wide `pattern` has no place in it
        return Inputs(folder, spec, [folder / "trial.csv"], to_long(small_wide()))
    if kind == "per_arm.csv":
        wide = small_wide()
        parts = {
            a: wide.loc[wide["arm"] == a].drop(columns="arm").reset_index(drop=True) for a in ("active", "placebo")
        }
        for arm, part in parts.items():
            write_frame(part, folder / f"{arm}.csv")
        spec = base_spec()
        spec["arms"] = {"control": "placebo"}
        files = {"placebo": "placebo.csv", "active": "active.csv"}
        spec["data"] = {"format": "wide", "subject": "subject_id", "pattern": "{endpoint}_{visit}", "files": files}
        return Inputs(folder, spec, [folder / "active.csv", folder / "placebo.csv"], parts["active"])
    if kind == ".sas7bdat":
        shutil.copyfile(FIXTURES / "trial_wide.sas7bdat", folder / "trial.sas7bdat")
        data = {"format": "wide", "subject": "subject_id", "path": "trial.sas7bdat", "pattern": "{endpoint}_{visit}"}
        arms = {"column": "arm", "control": "placebo", "levels": ["placebo", "active"]}
        return Inputs(folder, formats_fixture_spec(data, arms, ("age", "sex")), [folder / "trial.sas7bdat"])
    assert kind == "adam.xpt"
    shutil.copyfile(FIXTURES / "adam_bds.xpt", folder / "adam.xpt")
    arms = {"control": "placebo", "levels": ["placebo", "active"]}
    return Inputs(
        folder,
        formats_fixture_spec({"format": "adam", "path": "adam.xpt"}, arms, ("AGE", "SEX")),
        [folder / "adam.xpt"],
    )


def write_spec_text(inputs: Inputs, text: bytes) -> Path:
    """Write the spec's bytes as ``study.toml`` beside the data; return its path."""
    path = inputs.folder / "study.toml"
    path.write_bytes(text)
    return path


# --- mutations -----------------------------------------------------------------------------------------

Path_ = tuple[Any, ...]


def _paths(node: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Yield the path (keys and indices) of every value inside ``node``, parents before children."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


def _parent(tree: Any, path: Path_) -> Any:
    node = tree
    for step in path[:-1]:
        node = node[step]
    return node


@st.composite
def mutated_tree(draw: st.DrawFn, tree: dict[str, Any], values: st.SearchStrategy[Any] = TOML_VALUES) -> dict[str, Any]:
    """Draw ``tree`` (a spec or design as a dict) after one to three key-level mutations, new values from ``values``."""
    tree = tomllib.loads(tomli_w.dumps(tree))  # a deep copy
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(tree))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, last = _parent(tree, path), path[-1]
        op = draw(st.sampled_from(("drop", "retype", "retype", "swap", "rename", "copy")))
        if op == "drop":
            del parent[last]
        elif op == "retype":
            parent[last] = draw(values)
        elif op == "swap":  # two values trade places (ids, levels, columns, sections)
            other = draw(st.sampled_from(paths))
            if other[: len(path)] != path and path[: len(other)] != other:
                other_parent = _parent(tree, other)
                parent[last], other_parent[other[-1]] = other_parent[other[-1]], parent[last]
        elif op == "rename" and isinstance(parent, dict):
            new = draw(st.sampled_from(ODD_TEXTS[1:]) | st.sampled_from(sorted(parent)))
            parent[new] = parent.pop(last)
        elif op == "copy" and isinstance(parent, list):
            parent.insert(draw(st.integers(0, len(parent))), parent[last])
    return tree


@st.composite
def damaged_bytes(draw: st.DrawFn, data: bytes, max_edits: int = 3) -> bytes:
    """Draw ``data`` after one to ``max_edits`` byte-level edits: flip, overwrite, cut, insert, repeat."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, max_edits))):
        # every edit draws the same things whatever the bytes are: files that hold their time of
        # writing (xlsx, SPSS) differ between runs, and the examples must not
        at = draw(st.integers(0, 2**20)) % max(len(out), 1)
        op = draw(st.sampled_from(("flip", "overwrite", "cut", "insert", "repeat", "truncate")))
        if op == "flip":
            bit = draw(st.integers(0, 7))
            if out:
                out[at] ^= 1 << bit
        elif op == "overwrite":
            fill = draw(st.sampled_from((b"\x00", b"\xff", b"\x7f", b"9")))
            n = draw(st.integers(1, 16))
            out[at : at + n] = fill * len(out[at : at + n])
        elif op == "cut":
            del out[at : at + draw(st.integers(1, 64))]
        elif op == "insert":
            out[at:at] = draw(
                st.sampled_from((b"\x00", b"\xff\xfe", b'"', b"\n", b"\r", b",", b"\xe2\x80\xa8", b"\xc3"))
                | st.binary(min_size=1, max_size=8)
            )
        elif op == "repeat":
            chunk = bytes(out[at : at + draw(st.integers(1, 256))])
            out[at:at] = chunk * draw(st.integers(1, 4))
        else:
            del out[at:]
    return bytes(out)


def _line_edits(draw: st.DrawFn, text: bytes) -> bytes:
    """Repeat, drop or move a line of a text file (a duplicated TOML key or table, a lost section)."""
    lines = text.split(b"\n")
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    op = draw(st.sampled_from(("repeat", "drop", "move")))
    if op == "repeat":
        lines.insert(j, lines[i])
    elif op == "drop":
        del lines[i]
    else:
        lines.insert(j, lines.pop(i))
    return b"\n".join(lines)


def _texts(*valid: Any) -> st.SearchStrategy[Any]:
    """Values for an option: the valid ones given, often, and any odd text or value."""
    return st.sampled_from(valid) | st.sampled_from(valid) | TOML_VALUES


def _labels(*names: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({n: st.sampled_from(ODD_TEXTS) | st.just(n.title()) for n in names})


#: optional keys of the spec (docs/spec.md) and the values to give them: the documented ones and odd ones;
#: the counts of imputations are kept small so that multiple imputation stays quick
OPTIONS: dict[tuple[Any, ...], st.SearchStrategy[Any]] = {
    ("study", "alpha"): _texts(0.05, 0.5, 1e-300, 0.999999),
    ("study", "synthetic"): st.booleans(),
    ("study", "registration"): st.sampled_from(ODD_TEXTS),
    ("arms", "labels"): _labels("placebo", "active"),
    ("visits", "labels"): _labels("baseline", "week8"),
    ("endpoints", 0, "type"): _texts("continuous", "binary", "count"),
    ("endpoints", 1, "type"): _texts("binary", "count"),
    ("endpoints", 1, "scale"): _texts("log", "linear"),
    ("endpoints", 0, "summary"): _texts("mean", "median", "geometric"),
    ("endpoints", 1, "mcid"): _texts(6, 0.5, 1e-300, 1e300),
    ("endpoints", 0, "success"): _texts(1, 0, "good", 28),
    ("endpoints", 0, "exposure"): st.fixed_dictionaries({"baseline": _texts(8, 1e-300), "week8": _texts(2, 0.5)}),
    ("endpoints", 0, "count_baseline"): _texts("log", "log1p", "raw"),
    ("endpoints", 1, "responder"): st.sampled_from(
        ({"percent_change": -50}, {"change": 30}, {"percent_change": 1e-300})
    )
    | st.fixed_dictionaries({"change": TOML_VALUES}),
    ("endpoints", 1, "better"): _texts("lower", "higher"),
    ("analysis", "strata"): _texts(["sex"], ["age"], ["arm"], ["sex", "sex"]),
    ("analysis", "multiplicity"): _texts("holm", "dunnett", "bonferroni", ["dunnett", "holm"], "none"),
    ("analysis", "populations"): _texts(["fas", "completers"], ["completers"]),
    ("analysis", "primary"): _texts("ancova", "mmrm"),
    ("analysis", "mmrm"): st.fixed_dictionaries(
        {},
        optional={
            "covariance": _texts("us", "cs", "csh", "ar1", "arh1", "toep", "toeph"),
            "df": _texts("satterthwaite", "kenward_roger", "residual", "between_within"),
            "group_by_arm": st.booleans(),
            "empirical": st.booleans(),
            "baseline": _texts("covariate", "response"),
        },
    ),
    ("analysis", "missing_data"): st.fixed_dictionaries(
        {
            "methods": _texts(["mi_mar"], ["mi_j2r", "tipping_point"], ["mi_cr"], ["tipping_point"]),
            "imputations": st.sampled_from((2, 3, 1, 0, -1, 2.5)),
            "burn_in": st.sampled_from((1, 5, 0)),
        },
        optional={"seed": _texts(1, 2**63 - 1), "deltas": _texts([0, 2, 4], [], {"isi": [0, 1e300]}, [float("nan")])},
    ),
    ("analysis", "table1_p_values"): st.booleans(),
    ("analysis", "two_valued_covariates"): _texts("mean", "levels"),
    ("analysis", "marginal_variance"): _texts("ye", "ge"),
    ("analysis", "prespecified"): st.booleans(),
    ("covariates", "sex"): st.fixed_dictionaries(
        {}, optional={"levels": _texts(["F", "M"], ["F"], ["M", "F", "X"]), "label": st.sampled_from(ODD_TEXTS)}
    ),
    ("covariates", "age"): st.fixed_dictionaries(
        {}, optional={"summary": _texts("mean", "median", "geometric"), "unit": st.sampled_from(ODD_TEXTS)}
    ),
    ("data", "delimiter"): _texts(",", ";", "\t", "", "ab", "\n", '"', "."),
    ("data", "decimal"): _texts(".", ","),
    ("data", "encoding"): _texts("latin-1", "utf-16", "ascii", "cp1252", "rot13", "hex", "base64", "idna", "nonsense"),
    ("data", "sheet"): _texts(0, 1, -1, "Sheet1", "nope"),
    ("data", "missing"): _texts(["-99"], [], ["0"], ["placebo"], ["", "NA"], ["S001"]),
    ("data", "discontinuation_reason"): _texts("sex", "arm", "subject_id", "nope"),
}


@st.composite
def with_options(draw: st.DrawFn, spec: dict[str, Any], most: int = 3) -> dict[str, Any]:
    """Draw ``spec`` with up to ``most`` optional keys set (those whose table the spec has)."""
    spec = tomllib.loads(tomli_w.dumps(spec))
    for path in draw(st.lists(st.sampled_from(sorted(OPTIONS, key=str)), max_size=most, unique=True)):
        value = draw(OPTIONS[path])
        node: Any = spec
        for step in path[:-1]:
            if isinstance(node, dict) and isinstance(step, str):
                node = node.setdefault(step, {})
            elif isinstance(node, list) and isinstance(step, int) and step < len(node):
                node = node[step]
            else:
                node = None
                break
        if isinstance(node, dict):
            node[path[-1]] = value
    return spec


@st.composite
def spec_bytes(draw: st.DrawFn, spec: dict[str, Any]) -> bytes:
    """Draw the bytes of a spec: optional keys set, mutated keys, then (sometimes) damaged text."""
    tree = draw(with_options(spec))
    if draw(st.integers(0, 2)):
        tree = draw(mutated_tree(tree))
    text = tomli_w.dumps(tree).encode("utf-8")
    how = draw(st.sampled_from(("none", "none", "lines", "bytes", "deep")))
    if how == "lines":
        text = _line_edits(draw, text)
    elif how == "bytes":
        text = draw(damaged_bytes(text))
    elif how == "deep":  # a nested array deeper than any spec, well within Python's recursion limit
        depth = draw(st.sampled_from((50, 400)))
        text += b"\n[extra]\nx = " + b"[" * depth + b"]" * depth + b"\n"
    return text


def _odd_value(draw: st.DrawFn, numeric: bool) -> Any:
    """Draw a value to put in a cell: a number for a numeric column of a typed format, else anything."""
    if numeric:
        return draw(st.sampled_from(ODD_NUMBERS))
    return draw(st.sampled_from(ODD_TEXTS) | st.text(max_size=8))


FRAME_EDITS = ("cell", "cell", "cell", "text", "drop", "rename", "rows", "swap", "duplicate")


@st.composite
def mutated_frame(
    draw: st.DrawFn, frame: pd.DataFrame, typed: bool, edits: tuple[str, ...] = FRAME_EDITS
) -> pd.DataFrame:
    """Draw ``frame`` after one to three ``edits`` of cells, columns or rows.

    ``typed``: for a format that stores a type per column (xlsx, Parquet, SPSS, SAS), a number
    column gets numbers, or is turned into a text column as a whole.
    """
    frame = frame.copy()
    for _ in range(draw(st.integers(1, 3))):
        if frame.empty or not len(frame.columns):
            break
        at = draw(st.integers(0, len(frame.columns) - 1))  # by position: an edit may give two columns one name
        op = draw(st.sampled_from(edits))
        if op == "cell":
            row = draw(st.integers(0, len(frame) - 1))
            column = frame.iloc[:, at]
            numeric = pd.api.types.is_numeric_dtype(column)
            value = _odd_value(draw, typed and numeric)
            if typed and not numeric:
                value = str(value)
            cells = column.tolist()
            cells[row] = value
            frame.isetitem(at, np.array(cells, dtype=float if typed and numeric else object))
        elif op == "text":  # a number column written as text
            texts = ["" if pd.isna(v) else f"{v:g}" if isinstance(v, float) else str(v) for v in frame.iloc[:, at]]
            frame.isetitem(at, np.array(texts, dtype=object))
        elif op == "drop":
            frame = frame.iloc[:, [i for i in range(len(frame.columns)) if i != at]]
        elif op == "rename":
            new = draw(st.sampled_from(ODD_TEXTS[1:8]) | st.sampled_from(list(frame.columns)))
            if typed and new in frame.columns:  # typed writers refuse two columns of one name
                new = new + "_2"
            frame.columns = [new if i == at else c for i, c in enumerate(frame.columns)]
        elif op == "rows":
            keep = draw(st.lists(st.integers(0, len(frame) - 1), max_size=len(frame) + 2))
            frame = frame.iloc[keep].reset_index(drop=True)
        elif op == "swap":  # the values of two columns trade places (arm and sex, an endpoint and the id, ...)
            other = draw(st.integers(0, len(frame.columns) - 1))
            a, b = frame.iloc[:, at].copy(), frame.iloc[:, other].copy()
            frame.isetitem(at, b.to_numpy())
            frame.isetitem(other, a.to_numpy())
        else:
            frame = pd.concat([frame, frame.iloc[[draw(st.integers(0, len(frame) - 1))]]], ignore_index=True)
    return frame


def relaxed(spec: dict[str, Any]) -> dict[str, Any]:
    """Return ``spec`` without the ranges and integer rules of its endpoints, so that odd numbers reach the analyses."""
    spec = tomllib.loads(tomli_w.dumps(spec))
    for endpoint in spec["endpoints"]:
        endpoint.pop("range", None)
        endpoint.pop("integer", None)
    return spec


def mutate_data(data: st.DataObject, inputs: Inputs, kind: str) -> None:
    """Change the data file of a trial of ``kind``: a frame edit (writable formats) and/or byte damage."""
    path = inputs.data[0]
    base = inputs.frame
    frame_edit = base is not None and data.draw(st.booleans(), label="edit the frame")
    if base is not None and frame_edit:
        frame = data.draw(mutated_frame(base, typed=not kind.endswith(".csv")), label="frame")
        try:
            write_frame(frame, path)
        except Exception:  # the format's own writer refuses the frame: no such file can exist
            write_frame(base, path)
    if not frame_edit or data.draw(st.integers(0, 3), label="damage too") == 0:
        path.write_bytes(data.draw(damaged_bytes(path.read_bytes()), label="bytes"))


# --- running a command and checking what it left ---------------------------------------------------


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


@dataclass(frozen=True)
class Run:
    """What a command did: its exit code and stderr, and a traceback when an exception escaped ``main``."""

    argv: tuple[str, ...]
    exit_code: int | None
    stderr: str
    escaped: str | None


def run_in_process(argv: list[str]) -> Run:
    """Run ``trialkit.cli.main(argv)``, capturing stdout and stderr; an escaping exception is recorded."""
    out, err = io.StringIO(), io.StringIO()
    escaped = None
    code: int | None = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse on a bad option
            code = exc.code if isinstance(exc.code, int) else 2
        except BaseException:  # noqa: B036 - anything escaping main would be a traceback in a shell
            escaped = traceback.format_exc()
    return Run(tuple(argv), code, err.getvalue(), escaped)


def run_process(argv: list[str], cwd: Path, timeout: float = 60) -> Run:
    """Run the command line in a fresh Python process (``python -m trialkit.cli``)."""
    done = subprocess.run(
        [sys.executable, "-m", "trialkit.cli", *argv],
        capture_output=True,
        text=True,
        errors="replace",
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    return Run(tuple(argv), done.returncode, done.stderr, None)


def _expected_files(command: str, out: Path) -> tuple[set[str], set[str]]:
    """Return (files every complete set holds, files that may belong to it) in ``out`` for ``command``."""
    if command == "analyze":  # baseline_p.csv and tipping_point.csv only when the spec asks for them
        return set(RESULT_FILES) - {"baseline_p.csv", "tipping_point.csv"}, set(RESULT_FILES)
    if command == "report":
        return {"report.html", "report.pdf"}, {"report.html", "report.pdf", "results.xlsx"}
    if command == "simulate":
        written = {p.name for p in out.iterdir()} if out.is_dir() else set()
        arms = {n for n in written if n.endswith(".csv")}
        return {"study.toml", "MANIFEST.json"} | (arms or {"<arm>.csv"}), {"study.toml", "MANIFEST.json"} | arms
    return set(OUT_FILES[command]), set(OUT_FILES[command])


def check_run(run: Run, *, inputs: Path, before: dict[str, str], out: Path | None, problems: Path | None) -> None:
    """Assert the four promises of the module docstring about ``run``."""
    shown = f"trialkit {' '.join(run.argv)}"
    assert run.escaped is None, f"{shown}: an exception escaped main:\n{run.escaped}"
    assert run.exit_code in (0, 1, 2), f"{shown}: exit {run.exit_code}\n{run.stderr}"
    assert "Traceback (most recent call last)" not in run.stderr, f"{shown}: traceback on stderr:\n{run.stderr}"
    assert _hashes(inputs) == before, f"{shown}: an input changed (or a file appeared among the inputs)"
    if out is not None and run.argv[0] != "validate":
        command = run.argv[0]
        written = {p.name for p in out.iterdir()} if out.is_dir() else set()
        complete, allowed = _expected_files(command, out)
        assert written <= allowed, f"{shown}: unexpected files in --out: {sorted(written - allowed)}"
        if run.exit_code == 2:
            assert not written, f"{shown}: exit 2 but --out holds {sorted(written)}"
        else:
            assert complete <= written, f"{shown}: exit {run.exit_code} but --out holds only {sorted(written)}"
    if problems is not None:
        siblings = {p.name for p in problems.parent.iterdir()} - {problems.name}
        assert not [s for s in siblings if s.startswith(".")], f"{shown}: temporary files left: {sorted(siblings)}"
        if problems.exists():
            table = pd.read_csv(problems, keep_default_na=False)
            assert list(table.columns) == list(PROBLEM_COLUMNS), f"{shown}: {problems} is damaged"


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    """Yield a fresh folder for one example (hypothesis examples cannot share pytest's tmp_path)."""
    with tempfile.TemporaryDirectory(prefix="trialkit-fuzz-") as name:
        yield Path(name)


def run_command(command: str, inputs: Inputs, spec_text: bytes, *, in_process: bool = True) -> Run:
    """Write the spec, run ``command`` on it with its output options, and check what it left."""
    spec = write_spec_text(inputs, spec_text)
    outputs = inputs.folder.parent / "outputs"
    outputs.mkdir(exist_ok=True)
    out = outputs / command
    problems = outputs / "problems.csv" if command in ("validate", "summary", "analyze") else None
    argv = [command, str(spec)]
    if command != "validate":
        argv += ["--out", str(out)]
    if problems is not None:
        argv += ["--problems", str(problems)]
    before = _hashes(inputs.folder)
    run = run_in_process(argv) if in_process else run_process(argv, cwd=outputs)
    check_run(run, inputs=inputs.folder, before=before, out=out if command != "validate" else None, problems=problems)
    return run


# --- the fuzz tests --------------------------------------------------------------------------------------

COMMANDS = ("validate", "summary", "analyze")


@fuzz_settings(examples=60)
@given(kind=st.sampled_from(KINDS), command=st.sampled_from(COMMANDS), data=st.data())
def test_mutated_specs_end_in_a_message_and_change_nothing(kind: str, command: str, data: st.DataObject) -> None:
    with workspace() as root:
        inputs = make_inputs(root / "inputs", kind)
        run_command(command, inputs, data.draw(spec_bytes(inputs.spec), label="spec"))


@fuzz_settings(examples=80)
@given(kind=st.sampled_from(KINDS), command=st.sampled_from(COMMANDS), data=st.data())
def test_mutated_data_files_of_every_format_end_in_a_message_and_change_nothing(
    kind: str, command: str, data: st.DataObject
) -> None:
    with workspace() as root:
        inputs = make_inputs(root / "inputs", kind)
        mutate_data(data, inputs, kind)
        spec = relaxed(inputs.spec) if data.draw(st.booleans(), label="relax the spec") else inputs.spec
        spec = data.draw(with_options(spec, most=2), label="options")
        run_command(command, inputs, tomli_w.dumps(spec).encode("utf-8"))


@fuzz_settings(examples=2)
@given(kind=st.sampled_from((".parquet", "long.csv")), data=st.data())
def test_a_report_on_odd_values_ends_in_a_message_and_writes_all_or_nothing(kind: str, data: st.DataObject) -> None:
    # few and mild (odd numbers in value columns, a spec without ranges): a report takes seconds, and
    # damage of any other kind ends at loading, which the tests above cover
    with workspace() as root:
        inputs = make_inputs(root / "inputs", kind)
        frame = inputs.frame
        assert frame is not None
        columns = [c for c in frame.columns if c == "value" or c.startswith(("isi_", "sleep_time_"))]
        for _ in range(data.draw(st.integers(1, 3), label="cells")):
            row, column = data.draw(st.integers(0, len(frame) - 1)), data.draw(st.sampled_from(columns))
            frame.loc[row, column] = data.draw(st.sampled_from(ODD_NUMBERS), label=f"{column}[{row}]")
        write_frame(frame, inputs.data[0])
        run_command("report", inputs, tomli_w.dumps(relaxed(inputs.spec)).encode("utf-8"))


#: texts that pass the spec's checks, or must be refused by them, in every place the report shows a label
HOSTILE_LABEL = " ".join(
    ("\ufffe", "]]>", "<script>alert(1)</script>", "a\u2028b", "\u202eevil", "\U0001f600", "&#0;", "=1")
)


def test_a_report_with_hostile_labels_ends_in_a_message_and_writes_all_or_nothing(tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "inputs", ".csv")
    spec = inputs.spec
    spec["study"]["title"] = HOSTILE_LABEL
    spec["arms"]["labels"] = {"placebo": HOSTILE_LABEL, "active": HOSTILE_LABEL + " 2"}
    spec["visits"]["labels"] = {"baseline": HOSTILE_LABEL, "week8": HOSTILE_LABEL + " 8"}
    spec["endpoints"][0]["label"], spec["endpoints"][1]["unit"] = HOSTILE_LABEL, HOSTILE_LABEL
    level_labels = {"F": HOSTILE_LABEL, "M": HOSTILE_LABEL + " M"}
    spec["covariates"] = {"sex": {"label": HOSTILE_LABEL, "level_labels": level_labels}}
    run_command("report", inputs, tomli_w.dumps(spec).encode("utf-8"))


#: the values of TOML_VALUES but large integers: a design of 2**31 subjects per arm allocates gigabytes
#: (the bound on n is tested on its own, in a process with a memory limit)
DESIGN_VALUES = TOML_VALUES.filter(lambda v: not isinstance(v, int) or isinstance(v, bool) or abs(v) <= 1000)


def _design() -> dict[str, Any]:
    """Return the bundled design with small arms, so that every simulation is quick."""
    design = tomllib.loads(DESIGN.read_text(encoding="utf-8"))
    for arm in ("magnesium", "placebo"):
        design["arms"][arm]["n"] = 6
        design["arms"][arm]["dropout"] = 1
    return design


@st.composite
def design_bytes(draw: st.DrawFn) -> bytes:
    """Draw the bytes of a design file: mutated keys, then (sometimes) damaged text."""
    text = tomli_w.dumps(draw(mutated_tree(_design(), DESIGN_VALUES))).encode("utf-8")
    how = draw(st.sampled_from(("none", "none", "lines", "bytes")))
    if how == "lines":
        text = _line_edits(draw, text)
    elif how == "bytes":
        text = draw(damaged_bytes(text))
    return text


@fuzz_settings(examples=40)
@given(text=design_bytes())
def test_simulate_on_a_mutated_design_ends_in_a_message_and_writes_all_or_nothing(text: bytes) -> None:
    with workspace() as root:
        (root / "inputs").mkdir()
        design = root / "inputs" / "design.toml"
        design.write_bytes(text)
        out = root / "outputs" / "sim"
        before = _hashes(root / "inputs")
        run = run_in_process(["simulate", str(design), "--seed", "7", "--out", str(out)])
        check_run(run, inputs=root / "inputs", before=before, out=out, problems=None)


def _published_tree(name: str) -> dict[str, Any]:
    return tomllib.loads(Path(tk.datasets.published(name)).read_text(encoding="utf-8"))


@fuzz_settings(examples=30)
@given(name=st.sampled_from(("abbasi2012", "student1908")), data=st.data())
def test_reproduce_on_a_mutated_published_file_ends_in_a_message_and_writes_all_or_nothing(
    name: str, data: st.DataObject
) -> None:
    tree = data.draw(mutated_tree(_published_tree(name), DESIGN_VALUES), label="published")
    with workspace() as root:
        (root / "inputs").mkdir()
        published = root / "inputs" / "published.toml"
        published.write_text(tomli_w.dumps(tree), encoding="utf-8")
        out = root / "outputs" / "reproduce"
        before = _hashes(root / "inputs")
        run = run_in_process(["reproduce", str(published), "--out", str(out)])
        check_run(run, inputs=root / "inputs", before=before, out=out, problems=None)


# --- a few runs as real processes: what a shell sees ------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "command", "damage"),
    [
        (".csv", "validate", lambda b: b"\x00\xff\xfe" + b[20:]),  # binary junk in a CSV
        (".sas7bdat", "validate", lambda b: b[:8192] + b"\xff" * 512 + b[8704:]),  # a page header overwritten
    ],
)
def test_damaged_files_in_a_real_process_end_in_a_message(
    tmp_path: Path, kind: str, command: str, damage: Callable[[bytes], bytes]
) -> None:
    inputs = make_inputs(tmp_path / "inputs", kind)
    inputs.data[0].write_bytes(damage(inputs.data[0].read_bytes()))
    run = run_command(command, inputs, tomli_w.dumps(inputs.spec).encode("utf-8"), in_process=False)
    assert run.exit_code == 2 and run.stderr.strip(), run.stderr


def test_a_hostile_spec_in_a_real_process_ends_in_a_message(tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "inputs", ".parquet")
    spec = inputs.spec
    spec["study"]["title"] = "nul\x00 and \x1b escape"
    spec["endpoints"][0]["label"] = "L" * 10_000
    spec["arms"]["levels"] = ["placebo", "placebo"]
    run = run_command("summary", inputs, tomli_w.dumps(spec).encode("utf-8"), in_process=False)
    assert run.exit_code == 2, run.stderr


# --- cases the fuzz found, each a regular test ------------------------------------------------------


def _published(tmp_path: Path, name: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    tree = _published_tree(name)
    edit(tree)
    path = tmp_path / f"{name}.toml"
    path.write_text(tomli_w.dumps(tree), encoding="utf-8")
    return path


def test_a_paired_row_without_its_reference_arm_is_a_problem_not_a_key_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def drop_reference(tree: dict[str, Any]) -> None:
        del tree["outcomes"][0]["table"]["paired"][0]["reference"]

    path = _published(tmp_path, "student1908", drop_reference)
    assert main(["reproduce", str(path)]) == 2
    err = capsys.readouterr().err
    assert "[missing_key]" in err and "outcomes[0].table.paired[0]" in err and "reference" in err, err


# --- the checks themselves catch what they promise to catch ---------------------------------------------


def test_the_checks_catch_a_traceback_a_changed_input_and_a_half_written_set(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "trial.csv").write_text("a\n1\n")
    before = _hashes(inputs)
    out = tmp_path / "out"
    out.mkdir()
    fine = Run(("summary", "study.toml"), 2, "1 problem found:\n", None)
    check_run(fine, inputs=inputs, before=before, out=out, problems=None)
    failures = [
        (Run(("summary",), None, "", "Traceback (most recent call last):\nKeyError: 'arm'\n"), "escaped main"),
        (Run(("summary",), 2, "Traceback (most recent call last):\n  ...\nKeyError: 'arm'\n", None), "traceback"),
        (Run(("summary",), 3, "", None), "exit 3"),
    ]
    for run, message in failures:
        with pytest.raises(AssertionError, match=message):
            check_run(run, inputs=inputs, before=before, out=out, problems=None)
    (out / "counts.csv").write_text("half")
    with pytest.raises(AssertionError, match="exit 2 but --out holds"):
        check_run(fine, inputs=inputs, before=before, out=out, problems=None)
    with pytest.raises(AssertionError, match="holds only"):
        check_run(Run(("summary",), 0, "", None), inputs=inputs, before=before, out=out, problems=None)
    (out / ".counts.csv.x1.tmp").write_text("")
    with pytest.raises(AssertionError, match="unexpected files"):
        check_run(Run(("summary",), 0, "", None), inputs=inputs, before=before, out=out, problems=None)
    (inputs / "trial.csv").write_text("a\n2\n")
    with pytest.raises(AssertionError, match="an input changed"):
        check_run(fine, inputs=inputs, before=before, out=None, problems=None)
