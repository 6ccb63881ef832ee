# Two entry points for a fresh machine with Python >= 3.11: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SPEC := data/synthetic/abbasi2012/study.toml
OUT := reports/abbasi2012

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	touch $@

demo: $(VENV)/.installed
	scripts/system-deps.sh
	$(BIN)/trialkit analyze $(SPEC) --out $(OUT) --force
	$(BIN)/trialkit report $(SPEC) --out $(OUT) --published abbasi2012 --force

test: $(VENV)/.installed
	scripts/system-deps.sh --browser
	$(BIN)/python -m pytest

# the quality gate: formatting, lint rules (pyproject [tool.ruff]) and types (pyproject [tool.mypy])
lint: $(VENV)/.installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/bench_load.py
	$(BIN)/python benchmarks/bench_analyze.py
	$(BIN)/python benchmarks/bench_mmrm.py --bcva tests/reference/mmrm/bcva_data/bcva_data.csv
	$(BIN)/python benchmarks/bench_mi.py
	$(BIN)/python benchmarks/bench_logistic.py
	$(BIN)/python benchmarks/bench_counts.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
