"""The documentation stays true to the repository and to the parsers.

Every relative path to a Markdown file named in the README, docs/, the package, the tests and the
notebooks exists in the repository, and every link into a Markdown page reaches one of its
headings. docs/spec.md documents exactly the keys of the study-spec parser's schemas, and
docs/design-file.md exactly those of the design parser's, each as a row of the table under its
section's heading, so that a key added to a parser without its documentation fails here.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from trialkit import Rule, _design, _spec

ROOT = Path(__file__).resolve().parents[1]
SCANNED = [ROOT / "README.md", ROOT / "docs", ROOT / "trialkit", ROOT / "tests", ROOT / "analyses"]
TEXT_SUFFIXES = {".md", ".py", ".toml", ".R", ".Rout", ".txt", ".ipynb", ".j2", ".css", ".json"}

#: a path ending in .md: no blanks, quotes, brackets or glob stars in it, a name character before ".md"
MD_PATH = re.compile(r"[^\s`'\"()<>\[\]{},;*|=]*[\w-]\.md(?:#[\w-]*)?\b")
#: a Markdown link or image target: [text](target)
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _text_files() -> list[Path]:
    files = []
    for top in SCANNED:
        found = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        files += [p for p in found if p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts]
    # this file's examples of what the scanners find are not references
    return [p for p in files if p != Path(__file__).resolve()]


def _text(path: Path) -> str:
    """Return what a reader of ``path`` reads: a notebook's cell sources, a Python file with joined paths."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        return "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
    if path.suffix == ".py":
        text = text.replace('" / "', "/")  # ROOT / "docs" / "spec.md" names docs/spec.md
    return text


def _is_url(text: str, match: re.Match[str]) -> bool:
    word = text[text.rfind(" ", 0, match.start()) + 1 : match.end()]
    return "://" in word


def _candidates(path: Path, target: str) -> Iterable[Path]:
    """Yield the files ``target`` may mean: beside ``path``, in a folder above it, or from the repository root."""
    for folder in (path.parent, *path.parent.parents):
        yield folder / target
        if folder == ROOT:
            return


def _slug(heading: str) -> str:
    """Return the anchor a Markdown renderer (GitHub's rule) gives a heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        match = HEADING.match(line)
        if match and not in_code:
            slug = _slug(match.group(2))
            anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return anchors


def test_every_markdown_file_named_exists_in_the_repository() -> None:
    missing = []
    for path in _text_files():
        text = _text(path)
        for match in MD_PATH.finditer(text):
            if _is_url(text, match):
                continue
            target = match.group(0).split("#")[0]
            if not any(c.resolve().is_file() and c.resolve().is_relative_to(ROOT) for c in _candidates(path, target)):
                missing.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert not missing, "named but not in the repository:\n" + "\n".join(missing)


def test_every_markdown_link_reaches_a_page_and_a_heading() -> None:
    broken = []
    for page in sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]:
        for target in MD_LINK.findall(page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            file_part, _, anchor = target.partition("#")
            linked = (page.parent / file_part).resolve() if file_part else page
            if not linked.is_file() or not linked.is_relative_to(ROOT):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_scan_finds_what_it_looks_for() -> None:
    """Check the two scanners on known text, so that a regular expression gone wrong cannot pass silently."""
    text = 'see docs/spec.md#study, `../README.md`, https://example.org/x.md and ROOT / "docs" / "design-file.md"'
    text = text.replace('" / "', "/")
    found = [m.group(0) for m in MD_PATH.finditer(text) if not _is_url(text, m)]
    assert found == ["docs/spec.md#study", "../README.md", "docs/design-file.md"]
    assert MD_LINK.findall("[the spec](spec.md#analysis) and [top](#the-study-spec)") == [
        "spec.md#analysis",
        "#the-study-spec",
    ]
    assert _slug("`[arms.<arm>]`") == "armsarm"
    assert _slug("Keys of every endpoint") == "keys-of-every-endpoint"


# ---------------------------------------------------------------------------------------------
# Reference pages against the parsers' schemas


def documented_keys(page: Path, heading: str) -> list[str]:
    """Return the keys in the first column of the table(s) directly under ``heading`` (up to the next heading)."""
    keys: list[str] = []
    inside = False
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        match = None if in_code else HEADING.match(line)
        if match:
            if inside:
                break
            inside = match.group(2) == heading
            continue
        if inside and line.startswith("|"):
            first = line.split("|")[1].strip()
            keys += re.findall(r"^`([\w.\[\]<>]+)`$", first)
    if not inside and not keys:
        raise AssertionError(f"{page.name} has no heading {heading!r}")
    return keys


def assert_documented(page: Path, sections: Mapping[tuple[str, ...], Iterable[str]]) -> None:
    """Assert that the rows under each group of headings name exactly the keys of its schema, each once."""
    problems = []
    for headings, schema in sections.items():
        rows = [key for heading in headings for key in documented_keys(page, heading)]
        expected = set(schema)
        where = " + ".join(headings)
        if set(rows) - expected:
            problems.append(f"{where}: documents {sorted(set(rows) - expected)}, which the parser does not have")
        if expected - set(rows):
            problems.append(f"{where}: does not document {sorted(expected - set(rows))}")
        twice = sorted({k for k in rows if rows.count(k) > 1})
        if twice:
            problems.append(f"{where}: documents {twice} twice")
    assert not problems, f"{page.name}:\n" + "\n".join(problems)


DESIGN_PAGE = ROOT / "docs" / "design-file.md"
EVERY_ENDPOINT = "Keys of every endpoint"
DESIGN_SECTIONS: dict[tuple[str, ...], Iterable[str]] = {
    ("Sections",): _design._TOP,
    ("`[study]`",): _design._STUDY,
    ("`[arms]`",): ["control"],  # and one table per arm, below
    ("`[arms.<arm>]`",): _design._ARM,
    ("`[visits]`",): _design._VISITS,
    ("`[data]`",): _design._DATA,
    ("Numeric covariates",): _design._NUMERIC,
    ("Categorical covariates",): _design._CATEGORICAL,
    (EVERY_ENDPOINT, "Continuous endpoints"): _design._ENDPOINT,
    (EVERY_ENDPOINT, "Binary endpoints"): _design._BINARY,
    (EVERY_ENDPOINT, "Count endpoints"): _design._COUNT,
}


def test_design_file_page_documents_every_key_of_the_design_parser() -> None:
    assert_documented(DESIGN_PAGE, DESIGN_SECTIONS)


def test_design_file_page_documents_the_responder_threshold() -> None:
    rows = [line for line in DESIGN_PAGE.read_text(encoding="utf-8").splitlines() if line.startswith("| `responder`")]
    assert rows and all(f"{{ {_spec.RESPONDER_KEYS[0]} = " in row for row in rows)


def test_the_key_check_notices_a_missing_and_a_stale_key(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# `[study]`\n\n| key | type |\n|---|---|\n| `id` | slug |\n| `colour` | string |\n")
    schema = {"id": (str,), "alpha": (float,), "title": (str,)}
    with pytest.raises(AssertionError, match=r"documents \['colour'\].*\n.*does not document \['alpha', 'title'\]"):
        assert_documented(page, {("`[study]`",): schema})


SPEC_PAGE = ROOT / "docs" / "spec.md"
SPEC_SECTIONS: dict[tuple[str, ...], Iterable[str]] = {
    ("Sections",): _spec._SCHEMA,
    ("`[study]`",): _spec._SCHEMA["study"],
    ("`[arms]`",): _spec._SCHEMA["arms"],
    ("`[visits]`",): _spec._SCHEMA["visits"],
    ("`[[endpoints]]`",): _spec._SCHEMA["endpoints"],
    ("`responder`",): _spec.RESPONDER_KEYS,
    ("`[analysis]`",): _spec._SCHEMA["analysis"],
    ("`[analysis] mmrm`",): _spec._MMRM_SCHEMA,
    ("`[analysis.missing_data]`",): _spec._MISSING_DATA_SCHEMA,
    ("`[covariates.<name>]`",): _spec._COVARIATE_SCHEMA,
    ("`[data]`",): _spec._SCHEMA["data"],
}


def test_spec_page_documents_every_key_of_the_spec_parser() -> None:
    assert_documented(SPEC_PAGE, SPEC_SECTIONS)


def _first_toml_block(page: Path) -> dict[str, Any]:
    match = re.search(r"^```toml\n(.*?)^```", page.read_text(encoding="utf-8"), re.DOTALL | re.MULTILINE)
    assert match, f"{page.name} has no TOML example"
    return tomllib.loads(match.group(1))


def test_the_complete_examples_are_valid(tmp_path: Path) -> None:
    """The first TOML block of the spec guide is a whole spec, and of the design page a whole design."""
    spec = _spec.parse_spec(_first_toml_block(ROOT / "docs" / "study-spec.md"), base=tmp_path, file="study-spec.md")
    assert spec.arms.label(spec.arms.control) != spec.arms.control  # the example shows labels
    design = _design.parse_design(_first_toml_block(DESIGN_PAGE), file="design-file.md")
    assert all(arm.label for arm in design.arms)
    for block in re.findall(r"^```toml\n(.*?)^```", SPEC_PAGE.read_text(encoding="utf-8"), re.DOTALL | re.MULTILINE):
        tomllib.loads(block)  # every example on the reference page is TOML


def test_the_spec_guide_lists_every_validation_rule() -> None:
    text = (ROOT / "docs" / "study-spec.md").read_text(encoding="utf-8")
    checked = text[text.index("## What is checked") :].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([a-z_]+)`", checked))
    assert {rule.value for rule in Rule} <= listed, "docs/study-spec.md, 'What is checked', lacks a rule"


def _shown(value: float) -> str:
    """Return a limit as docs/limits.md writes it: integers with thousands separators, floats as %g."""
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def test_the_limits_page_gives_every_limit_with_its_value() -> None:
    from trialkit import _limits

    rows = {
        line.split("`")[1]: line
        for line in (ROOT / "docs" / "limits.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    }
    assert set(rows) == set(_limits.__all__), "docs/limits.md and trialkit/_limits.py list different limits"
    for name in _limits.__all__:
        value = getattr(_limits, name)
        assert f"| {_shown(value)}" in rows[name], f"docs/limits.md gives {name} a value other than {value}"
