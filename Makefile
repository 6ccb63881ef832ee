# Two entry points for a fresh machine with Python >= 3.11: `make demo` and `make test`.
# Each installs into .venv only what it needs, once (a stamp per set of extras, renewed when
# pyproject.toml changes): the demo the package alone, the tests its test extra, lint its lint extra.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SPEC := data/synthetic/abbasi2012/study.toml
OUT := reports/abbasi2012

.PHONY: demo test lint bench notebooks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-lint: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[lint]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

demo: $(VENV)/.installed-demo
	scripts/system-deps.sh
	$(BIN)/trialkit analyze $(SPEC) --out $(OUT) --force
	$(BIN)/trialkit report $(SPEC) --out $(OUT) --published abbasi2012 --force

test: $(VENV)/.installed-test
	scripts/system-deps.sh --browser
	$(BIN)/python -m pytest

# the quality gate: formatting, lint rules (pyproject [tool.ruff]) and types (pyproject [tool.mypy])
lint: $(VENV)/.installed-lint
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

# re-run every notebook in analyses/ and store its outputs (the tests check that they are current)
notebooks: $(VENV)/.installed-test
	$(BIN)/python scripts/refresh-notebooks.py

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/bench_load.py
	$(BIN)/python benchmarks/bench_analyze.py
	$(BIN)/python benchmarks/bench_mmrm.py --bcva tests/reference/mmrm/bcva_data/bcva_data.csv
	$(BIN)/python benchmarks/bench_mi.py
	$(BIN)/python benchmarks/bench_logistic.py
	$(BIN)/python benchmarks/bench_counts.py
	$(BIN)/python benchmarks/bench_power.py
	$(BIN)/python benchmarks/bench_power_mmrm.py
	$(BIN)/python benchmarks/bench_power_counts.py
	$(BIN)/python benchmarks/bench_dunnett_quantile.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
