# bangfu — the two commands a newcomer needs are `make run` and `make test`.
# Everything else here is what those two are made of.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: help install run demo test lint typecheck unit integration e2e bench fuzz clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install bangfu with its development tools

run: install demo  ## embedded PostgreSQL + demo province (if empty) + the API on 127.0.0.1:8000
	$(BIN)/bangfu serve --host 127.0.0.1 --port 8000

lint: install  ## ruff, and the layer contracts (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install  ## mypy strict on domain/, projections/ and the HTTP bodies and app (pyproject.toml)
	$(BIN)/mypy

test: install lint typecheck  ## install, lint, type-check and run the whole test suite
	$(BIN)/pytest -q

demo: install  ## a demo province of 300 files in the embedded database (if it is empty)
	$(BIN)/bangfu demo --files 300 --if-empty

unit: install  ## the pure tests only (no database)
	$(BIN)/pytest -q tests/unit

integration: install  ## the tests on a real PostgreSQL (no processes, no HTTP)
	$(BIN)/pytest -q tests/integration

e2e: install  ## the end-to-end tests: the CLI as a process, the API over loopback HTTP
	$(BIN)/pytest -q tests/e2e

fuzz: install  ## the API fuzzed from its OpenAPI document (6,000 cases) and its lifecycle at length, new inputs each run
	BANGFU_FUZZ_CASES=6000 BANGFU_FUZZ_RANDOM=1 BANGFU_STATEFUL_EXAMPLES=150 BANGFU_STATEFUL_STEPS=60 \
		$(BIN)/pytest -q tests/e2e/test_api_fuzzing.py tests/e2e/test_api_state_machine.py

BENCHES := append http rebuild spotcheck import reconcile sync encryption

bench: install  ## every benchmark's quick mode, one after another (full runs: see docs/benchmarks.md)
	@for b in $(BENCHES); do \
		echo "== bench/$$b.py --quick"; \
		$(BIN)/python bench/$$b.py --quick || exit 1; \
	done

clean:  ## remove the virtual environment and caches (not the data folder)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
