"""Provenance in one place: input hashes, versions, the manifest of generated data, the command."""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
from conftest import base_spec, small_wide, write_frame, write_spec

import trialkit as tk
from trialkit._provenance import (
    command_line,
    read_manifest,
    relative_inputs,
    relative_path,
    sha256_bytes,
    sha256_file,
    versions,
)


def test_hashes_are_sha256_of_the_bytes(tmp_path: Path) -> None:
    data = b"subject,arm\r\nS1,a\n" * 1000
    (tmp_path / "f.csv").write_bytes(data)
    assert sha256_bytes(data) == sha256_file(tmp_path / "f.csv") == hashlib.sha256(data).hexdigest()


def test_versions_name_every_analysis_package_and_python_first_when_asked() -> None:
    v = versions(python=True)
    assert list(v)[:2] == ["python", "trialkit"] and {"numpy", "pandas", "scipy"} <= set(v)
    assert versions(("no-such-package-xyz",)) == {"no-such-package-xyz": "not installed"}


def test_command_line_quotes_what_a_shell_would_split() -> None:
    assert command_line(["trialkit", "report", "a b.toml"]) == "trialkit report 'a b.toml'"
    assert command_line(None) is None and command_line("as given") == "as given"


def test_input_paths_are_relative_to_the_spec_folder(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    pairs = [(str(tmp_path / "study.toml"), "a"), (str(tmp_path / "data" / "x.csv"), "b")]
    assert relative_inputs(pairs) == [{"path": "study.toml", "sha256": "a"}, {"path": "data/x.csv", "sha256": "b"}]


def test_the_manifest_says_seed_command_calibration_and_vouches_only_for_its_bytes(tmp_path: Path) -> None:
    assert read_manifest(tmp_path) is None
    (tmp_path / "a.csv").write_text("x\n")
    digest = sha256_file(tmp_path / "a.csv")
    (tmp_path / "MANIFEST.json").write_text(f'{{"seed": 7, "command": "c", "files": {{"a.csv": "{digest}"}}}}')
    manifest = read_manifest(tmp_path)
    assert manifest is not None and (manifest.seed, manifest.command, manifest.calibrated) == (7, "c", False)
    assert manifest.vouches_for([(str(tmp_path / "a.csv"), digest)])
    assert not manifest.vouches_for([(str(tmp_path / "a.csv"), "0" * 64)])
    (tmp_path / "MANIFEST.json").write_text('{"calibration": {"outcomes": {"isi": {"target_p": 0.006}}}}')
    assert read_manifest(tmp_path).calibrated  # type: ignore[union-attr]
    (tmp_path / "MANIFEST.json").write_text("{not json")
    with pytest.raises(tk.TrialkitError, match="MANIFEST.json"):
        read_manifest(tmp_path)


def test_load_records_the_manifest_and_reports_a_broken_one_as_an_input_problem(small_trial_dir: Path) -> None:
    bundled = tk.load(tk.datasets.study_spec("abbasi2012"))
    assert bundled.manifest is not None and bundled.manifest.seed == 20120104 and bundled.manifest.calibrated
    assert bundled.manifest.vouches_for((i.path, i.sha256) for i in bundled.inputs)
    spec = small_trial_dir
    assert tk.load(spec).manifest is None
    (spec.parent / "MANIFEST.json").write_text("[1, 2]")
    with pytest.raises(tk.ValidationError) as info:
        tk.load(spec)
    assert [(p.rule, Path(p.file).name) for p in info.value.problems] == [(tk.Rule.UNREADABLE_FILE, "MANIFEST.json")]


def test_a_command_runs_in_the_folder_given_with_paths_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "study").mkdir()
    spec, out = tmp_path / "study" / "my study.toml", tmp_path / "reports" / "x"
    line = command_line(["trialkit", "report", spec, "--out", out, "--published", "abbasi2012"], base=spec.parent)
    assert line == "trialkit report 'my study.toml' --out ../reports/x --published abbasi2012"
    # relative paths are taken from the current folder, links followed
    (tmp_path / "link").symlink_to(tmp_path / "study")
    assert relative_path(tmp_path / "link" / "a.csv", tmp_path / "study") == "a.csv"
    assert command_line([Path("a b.csv")]) == "'a b.csv'"  # no base: as given


# ------------------------------------------------------------------------------------------ the report's record


def _inputs_table(html: str) -> list[tuple[str, str, str]]:
    """Return (path, what it is, sha256) of each row of the report's input table."""
    table = re.search(r'<table class="data inputs" id="inputs">(.*?)</table>', html, re.S)
    assert table is not None
    rows = re.findall(
        r'<tr data-path="([^"]*)"><td><code>[^<]*</code></td><td>([^<]*)</td>'
        r'<td><code class="hash">([0-9a-f]{64})</code>',
        table.group(1),
    )
    return [(unescape(p), unescape(r), h) for p, r, h in rows]


def test_the_report_hashes_every_input_with_paths_relative_to_the_spec(tmp_path: Path) -> None:
    from trialkit._report._report import render_html
    from trialkit.reproduce import reproduce

    spec_path = tk.datasets.study_spec("abbasi2012")
    trial = tk.load(spec_path)
    results = tk.analyze(trial)
    published = tk.datasets.published("abbasi2012")
    html = render_html(
        trial, results, reproduction=reproduce(published, trial, results=results), generated="2024-01-02T03:04:05Z"
    )
    rows = _inputs_table(html)
    folder = Path(spec_path).resolve().parent
    assert [(p, r) for p, r, _ in rows] == [
        ("study.toml", "study spec"),
        ("magnesium.csv", "data"),
        ("placebo.csv", "data"),
        ("MANIFEST.json", "how the synthetic data were made"),
        ("../published/abbasi2012.toml", "published results"),
    ]
    for path, _, digest in rows:
        assert not Path(path).is_absolute()
        assert hashlib.sha256((folder / path).read_bytes()).hexdigest() == digest, path
    assert (folder / rows[-1][0]).resolve() == Path(published).resolve()
    # no absolute path of this machine anywhere in the provenance section
    section = html[html.index('<section id="provenance">') :]
    assert str(folder) not in section and str(Path.cwd()) not in section


def test_the_printed_command_run_where_it_says_makes_the_same_report(tmp_path: Path) -> None:
    study = tmp_path / "study"
    study.mkdir()
    write_frame(small_wide(n_per_arm=12), study / "trial.csv")  # every analysis runs: exit code 0
    write_spec(study, base_spec())
    trialkit = Path(sys.executable).with_name("trialkit")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    first = subprocess.run(
        [str(trialkit), "report", "study/study.toml", "--out", "out"], cwd=tmp_path, env=env, capture_output=True
    )
    assert first.returncode == 0, first.stderr
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    shown = re.search(
        r"<dd>Run in the folder of the study spec \(([^)]*)\)[^<]*"
        r'<pre class="command" id="command"><code>([^<]*)</code>',
        html,
    )
    assert shown is not None
    assert shown.group(1) == "study.toml"
    command = unescape(shown.group(2))
    assert command == "trialkit report study.toml --out ../out"
    (tmp_path / "out").rename(tmp_path / "first")
    words = shlex.split(command)
    again = subprocess.run([str(trialkit), *words[1:]], cwd=study, env=env, capture_output=True)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "out" / "report.html").read_bytes() == (tmp_path / "first" / "report.html").read_bytes()
    # the results behind the report: the same spec analysed from the stated folder gives the same results.json
    for cwd, spec, out in ((tmp_path, "study/study.toml", "a"), (study, "study.toml", "../b")):
        done = subprocess.run([str(trialkit), "analyze", spec, "--out", out], cwd=cwd, env=env, capture_output=True)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "a" / "results.json").read_bytes() == (tmp_path / "b" / "results.json").read_bytes()
