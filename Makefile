# repsim: the two commands a newcomer needs are `make app` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
SCENARIO ?= scenarios/second-job-retaliation.toml

.PHONY: app test lint bench validate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

app: $(STAMP)
	$(BIN)/streamlit run app/main.py -- $(SCENARIO)

lint: $(STAMP)
	$(BIN)/ruff check sim app tests benchmarks
	$(BIN)/ruff format --check sim app tests benchmarks

test: $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

validate: $(STAMP)
	$(BIN)/repsim validate --force --out docs/validation.md

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --write benchmarks/RESULTS.md

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache *.egg-info
