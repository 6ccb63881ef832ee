"""Provenance in one place: input hashes, versions, the manifest of generated data, the command."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import trialkit as tk
from trialkit._provenance import command_line, read_manifest, relative_inputs, sha256_bytes, sha256_file, versions


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
