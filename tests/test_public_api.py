"""The public face of trialkit: what `import trialkit` offers, documented, and checked at the boundary."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import types

import pytest

import trialkit as tk

#: the main path of the package: each documents Parameters and Returns and has an example that runs
MAIN_PATH = ("load", "read_spec", "analyze", "report", "simulate", "read_design", "mmrm")


def test_dir_shows_the_public_api_and_nothing_else() -> None:
    assert dir(tk) == sorted(tk.__all__)
    for name in tk.__all__:
        assert getattr(tk, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'spec'"):
        tk.spec  # noqa: B018 - the access is the test


def test_every_trialkit_module_outside_the_public_namespaces_is_private() -> None:
    import pkgutil

    public_packages = {"trialkit.analysis", "trialkit.datasets", "trialkit.power", "trialkit.reproduce", "trialkit.cli"}
    for info in pkgutil.walk_packages(tk.__path__, "trialkit."):
        parts = info.name.split(".")
        if any(info.name == p or info.name.startswith(p + ".") for p in public_packages):
            continue
        assert any(part.startswith("_") for part in parts[1:]), f"{info.name} is neither private nor a public namespace"


def test_no_module_is_callable_and_report_is_a_function() -> None:
    assert isinstance(tk.report, types.FunctionType)
    assert isinstance(tk.simulate, types.FunctionType)
    assert type(sys.modules["trialkit"]) is types.ModuleType


@pytest.mark.parametrize("name", MAIN_PATH)
def test_main_path_functions_document_parameters_returns_and_an_example(name: str) -> None:
    fn = getattr(tk, name)
    doc = inspect.getdoc(fn) or ""
    for section in ("Parameters", "Returns", "Examples"):
        assert re.search(rf"^{section}\n-+$", doc, re.M), f"{name} has no {section} section"
    documented = set(re.findall(r"^(\w+)(?:, (\w+))* :", doc, re.M))
    names = {n for pair in documented for n in pair if n}
    for param in inspect.signature(fn).parameters:
        assert param in names or re.search(rf"^(?:\w+, )*{param}(?:, \w+)* :", doc, re.M), (
            f"{name}: parameter {param!r} is not documented"
        )
    assert "tk.datasets" in doc, f"{name}'s example does not run on the bundled trial"


def test_bad_arguments_to_the_main_path_raise_trialkit_errors_naming_the_argument(tmp_path) -> None:
    trial = tk.load(tk.datasets.study_spec("abbasi2012"))
    design = tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml"))
    cases = [
        (lambda: tk.report("not a trial", None, tmp_path), "`trial` must be a trialkit.Trial; got 'not a trial'."),
        (
            lambda: tk.report(trial, "results", tmp_path),
            "`results` must be trialkit.Results from `analyze`; got 'results'.",
        ),
        (lambda: tk.report(trial, tk.analyze(trial), tmp_path, pdf="yes"), "`pdf` must be True or False; got 'yes'."),
        (lambda: tk.simulate(design, seed=-1), "`seed` must be an integer >= 0; got -1."),
        (lambda: tk.simulate(design, seed=1.5), "`seed` must be an integer >= 0; got 1.5."),
        (lambda: tk.simulate("design.toml", seed=1), "`design` must be a trialkit.Design"),
        (lambda: tk.analyze(trial, alpha=1.5), "`alpha` must be a number in (0, 1); got 1.5."),
    ]
    for call, message in cases:
        with pytest.raises(tk.TrialkitError) as info:
            call()
        assert str(info.value).startswith(message), str(info.value)
    assert not any(tmp_path.iterdir()), "a refused call wrote something"


def test_unknown_bundled_names_list_what_is_bundled() -> None:
    with pytest.raises(tk.ValidationError, match=r"no bundled synthetic trial named 'abbasi2021' \(did you mean"):
        tk.datasets.study_spec("abbasi2021")
    with pytest.raises(tk.ValidationError, match="bundled: abbasi2012"):
        tk.datasets.published("nope")


def test_importing_trialkit_does_not_load_the_analysis_or_report_layers() -> None:
    heavy = ("statsmodels", "scipy.stats", "matplotlib", "weasyprint", "jinja2")
    code = (
        f"import sys, trialkit; heavy = [m for m in {heavy!r} if m in sys.modules]; print(heavy); sys.exit(bool(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
