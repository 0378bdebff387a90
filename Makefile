# repsim: the two commands a newcomer needs are `make app` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
SCENARIO ?= scenarios/second-job-retaliation.toml

.PHONY: app test lint bench validate soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

app: $(STAMP)
	$(BIN)/streamlit run app/serve.py -- $(SCENARIO)

lint: $(STAMP)
	$(BIN)/ruff check sim app tests benchmarks
	$(BIN)/ruff format --check sim app tests benchmarks

test: $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

validate: $(STAMP)
	$(BIN)/repsim validate --force --out docs/validation.md

# the reliability suite, longer: thousands of fuzzed files, --set values and URLs, signals at
# random moments; prints its figures (also in /tmp/repsim-fuzz/*.json)
soak: $(STAMP)
	rm -rf /tmp/repsim-fuzz
	REPSIM_SOAK=1 $(BIN)/python -m pytest -q tests/test_fuzz.py tests/test_reliability.py tests/test_browser_reliability.py $(PYTEST_ARGS)
	@cat /tmp/repsim-fuzz/*.json

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --write benchmarks/RESULTS.md

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache *.egg-info
