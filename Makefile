# Two commands for a newcomer: `make dev` (the whole system, locally, with a demo) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: dev test lint typecheck unit frozen clean browser
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

dev: $(STAMP)
	$(VENV)/bin/parcelflow dev

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# Debian's Chromium for the browser test of the Temporal UI (never a downloaded browser build).
browser:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null)

test: $(STAMP) browser lint typecheck
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m pytest
	@$(MAKE) --no-print-directory frozen

# No test may depend on today's date, the time of day or the month: the tests that need no server
# (neither `temporal` nor tests/e2e) run again once per moment of tests/frozen_moments.txt, on a
# ticking clock started there (tests/frozen_clock.py, tests/frozen_runs.py).
frozen: $(STAMP)
	$(PY) -m tests.frozen_runs

unit: $(STAMP)
	$(PY) -m pytest tests/unit

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The "Prove it" figures (not part of `make test`): one local dev server, ~6 minutes.
.PHONY: bench
bench: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m bench

# The chaos run (not part of `make test`; a small one is): 300 orders on every path, 10 worker
# SIGKILLs, 3 dev-server kills and restarts, flaky simulators. About 7 minutes per seed.
# `make chaos SEEDS="1 2 3"` runs three seeds in a row; without SEEDS one seed is drawn and printed.
.PHONY: chaos
chaos: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m bench.chaos $(foreach s,$(SEEDS),--seed $(s))
