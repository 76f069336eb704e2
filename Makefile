# bangfu — the two commands a newcomer needs are `make run` and `make test`.
# Everything else here is what those two are made of.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: help install browser run demo test lint typecheck unit integration e2e bench fuzz clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install bangfu with its development tools

# The browser tests (tests/browser/) drive Debian's Chromium with its matching chromedriver; as
# root this installs them when missing, otherwise it names what to install (the tests then fail
# with the same words, unless BANGFU_SKIP_BROWSER=1).
browser:  ## Chromium and chromedriver for the browser tests (apt, when root)
	@if [ "$$BANGFU_SKIP_BROWSER" = 1 ]; then echo "browser tests skipped (BANGFU_SKIP_BROWSER=1)"; \
	elif command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	else echo "the browser tests need Chromium: run 'sudo apt-get install chromium chromium-driver'" \
		"(or set BANGFU_SKIP_BROWSER=1 to skip them)"; fi
	@# a Chinese font, or the journeys' screenshots show boxes where a clerk reads Chinese
	@if [ "$$BANGFU_SKIP_BROWSER" != 1 ] && ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei; \
		else echo "the console's screenshots need a Chinese font: run 'sudo apt-get install fonts-wqy-microhei'"; fi; fi
	@# poppler's pdffonts, which reads the printed forms' embedded font (tests/unit/test_form_fonts.py)
	@if ! command -v pdffonts >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils; \
		else echo "the forms' font check needs poppler: run 'sudo apt-get install poppler-utils' (skipped until then)"; fi; fi

run: install demo  ## embedded PostgreSQL + demo province and accounts (if empty) + console and API on 127.0.0.1:8000
	$(BIN)/bangfu serve --host 127.0.0.1 --port 8000

lint: install  ## ruff, and the layer contracts (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install  ## mypy strict on domain/, projections/ and adapters/ (pyproject.toml)
	$(BIN)/mypy

test: install browser lint typecheck  ## install, lint, type-check and run the whole test suite (one worker per core)
	$(BIN)/pytest -q -n auto --maxprocesses 4 --dist loadfile

demo: install  ## a demo province of 300 files (if the database is empty) and one account per role
	$(BIN)/bangfu demo --files 300 --if-empty

unit: install  ## the pure tests only (no database)
	$(BIN)/pytest -q tests/unit

integration: install  ## the tests on a real PostgreSQL (no processes, no HTTP)
	$(BIN)/pytest -q -n auto --maxprocesses 4 --dist loadfile tests/integration

e2e: install  ## the end-to-end tests: the CLI as a process, the API over loopback HTTP
	$(BIN)/pytest -q -n auto --maxprocesses 4 --dist loadfile tests/e2e

fuzz: install  ## the API fuzzed from its OpenAPI document (6,000 cases) and its lifecycle at length, new inputs each run
	BANGFU_FUZZ_CASES=6000 BANGFU_FUZZ_RANDOM=1 BANGFU_STATEFUL_EXAMPLES=150 BANGFU_STATEFUL_STEPS=60 \
		$(BIN)/pytest -q tests/e2e/test_api_fuzzing.py tests/e2e/test_api_state_machine.py

BENCHES := append api rebuild spotcheck import reconcile sync encryption claims growth

bench: install  ## every benchmark's quick mode, one after another (full runs: see docs/benchmarks.md)
	@for b in $(BENCHES); do \
		echo "== bench/$$b.py --quick"; \
		$(BIN)/python bench/$$b.py --quick || exit 1; \
	done

clean:  ## remove the virtual environment and caches (not the data folder)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
