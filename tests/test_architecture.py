"""Layering rules, checked on the source: lower layers never import higher ones."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "trialkit"

#: module -> modules it must never import
FORBIDDEN = {
    "errors": (
        "checks",
        "values",
        "spec",
        "io",
        "validate",
        "trial",
        "summary",
        "analysis",
        "report",
        "cli",
        "simulate",
        "reproduce",
        "datasets",
    ),
    "checks": (
        "values",
        "spec",
        "io",
        "validate",
        "trial",
        "summary",
        "analysis",
        "report",
        "cli",
        "simulate",
        "reproduce",
        "datasets",
    ),
    "values": ("spec", "io", "validate", "trial", "summary", "analysis", "report", "cli", "simulate", "reproduce"),
    "export": ("spec", "io", "validate", "trial", "summary", "analysis", "report", "cli", "simulate", "reproduce"),
    "provenance": ("spec", "io", "validate", "trial", "summary", "analysis", "report", "cli", "simulate", "reproduce"),
    "format": ("spec", "io", "validate", "trial", "summary", "analysis", "report", "cli", "simulate", "reproduce"),
    "datasets": ("spec", "io", "validate", "trial", "summary", "analysis", "report", "cli", "simulate", "reproduce"),
    "spec": ("io", "validate", "trial", "summary", "analysis", "report", "cli", "simulate", "reproduce"),
    "io": ("summary", "analysis", "report", "cli", "simulate", "reproduce"),
    "validate": ("io", "trial", "summary", "analysis", "report", "cli", "reproduce"),
    "trial": ("io", "validate", "analysis", "report", "cli", "reproduce"),
    "summary": ("io", "report", "cli", "reproduce"),
    "analysis": ("io", "report", "cli", "reproduce", "simulate", "power"),
    "power": ("io", "report", "cli", "reproduce", "simulate"),
    "simulate": ("report", "cli", "analysis", "reproduce"),
    "design": ("io", "report", "cli", "analysis", "reproduce", "simulate"),
    "moments": ("io", "report", "cli", "analysis", "reproduce", "simulate", "design"),
    "reproduce": ("io", "report", "cli"),
    "report": ("cli", "io"),
}

IO_CALLS = {
    "open",
    "to_csv",
    "to_excel",
    "to_parquet",
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "savefig",
    "mkdir",
    # the output layer (trialkit._export) and provenance's file readers
    "write_files",
    "sha256_file",
    "read_manifest",
}
#: the one sanctioned bridge from a pure result to the output layer: a ``to_files`` method
#: (Results.to_files, Simulation.to_files) that hands bytes to trialkit._export.write_files
OUTPUT_METHODS = {"to_files"}
PURE = ("summary", "trial", "validate", "spec", "analysis", "power", "simulate", "design", "moments", "reproduce")


def _modules():
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = [p.lstrip("_") for p in rel.parts if p != "__init__"]
        yield (parts[0] if parts else ""), path, ast.parse(path.read_text(), filename=str(path))


def _imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("trialkit."):
            found.add(node.module.split(".")[1].lstrip("_"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("trialkit."):
                    found.add(alias.name.split(".")[1].lstrip("_"))
    return found


def test_lower_layers_never_import_higher_ones() -> None:
    offences = []
    for layer, path, tree in _modules():
        for imported in _imports(tree) & set(FORBIDDEN.get(layer, ())):
            offences.append(f"{path.name} ({layer}) imports {imported}")
    assert not offences, offences


def test_pure_layers_do_no_file_io_or_plotting() -> None:
    offences = []
    for layer, path, tree in _modules():
        if layer not in PURE:
            continue
        bridged = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.name in OUTPUT_METHODS
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and id(node) not in bridged:
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                # frame.to_csv() without a target returns text: formatting, not I/O
                to_text = name == "to_csv" and not node.args and all(k.arg != "path_or_buf" for k in node.keywords)
                if name in IO_CALLS and not to_text:
                    offences.append(f"{path.name}:{node.lineno} calls {name}")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mod = getattr(node, "module", None) or node.names[0].name
                if mod.split(".")[0] in {"matplotlib", "seaborn"}:
                    offences.append(f"{path.name}:{node.lineno} imports {mod}")
    assert not offences, offences


def test_no_user_text_is_evaluated() -> None:
    offences = []
    for _, path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in {"eval", "exec", "query", "read_pickle"} or (
                    name in {"load", "loads"}
                    and isinstance(node.func, ast.Attribute)
                    and getattr(node.func.value, "id", "") == "pickle"
                ):
                    offences.append(f"{path.name}:{node.lineno} calls {name}")
    assert not offences, offences


def test_public_names_are_listed() -> None:
    import trialkit

    for name in trialkit.__all__:
        assert hasattr(trialkit, name), name
        obj = getattr(trialkit, name)
        if callable(obj) and not name.startswith("_"):
            assert obj.__doc__, f"{name} has no docstring"


def test_reproduce_subpackages_keep_their_order() -> None:
    """Reproduce subpackages keep the order published <- audit <- reconstruct.

    Each imports only those below it (and the shared registries of codes); none imports the report,
    io or cli layers.
    """
    below = {"published": set(), "audit": {"published"}, "reconstruct": {"audit", "published"}}
    forbidden = ("trialkit._report", "trialkit.report", "trialkit._io", "trialkit.io", "trialkit.cli")
    offences = []
    for sub, allowed in below.items():
        files = sorted((PACKAGE / "reproduce" / sub).rglob("*.py"))
        assert files, f"trialkit/reproduce/{sub}/ is missing"
        for path in files:
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.ImportFrom):
                    names = [node.module or ""] if node.level == 0 else []
                    if node.level:
                        offences.append(f"{path.name} ({sub}) uses a relative import")
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                else:
                    continue
                for name in names:
                    parts = name.split(".")
                    if name.startswith(forbidden):
                        offences.append(f"{path.name} ({sub}) imports {name}")
                    elif parts[:2] == ["trialkit", "reproduce"] and len(parts) > 2 and parts[2] != sub:
                        if parts[2] not in allowed and parts[2] != "_codes":
                            offences.append(f"{path.name} ({sub}) imports {name}")
    assert not offences, offences
