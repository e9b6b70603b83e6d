# Task runner. Quick start: `make demo` (set up + run end to end), then `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Run history (DAGSTER_HOME) is the warehouse's own unless set: <warehouse>.artefacts/dagster_home
# (`cdw paths` lists where everything of the warehouse lives).

.PHONY: setup chromium demo run test lint dev bench clean

# Everything the project needs, pinned: requirements.lock is the full tree, pyproject.toml
# the direct dependencies. Re-runs only when either file changes.
$(VENV)/.installed: pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

setup: $(VENV)/.installed chromium

# Debian's chromium for the browser tests (tests/quality/test_data_docs_browser.py opens the
# Data Docs in headless Chromium; the test fails, never skips, when it is missing).
# Idempotent: installs only when /usr/bin/chromium is missing, and only as root.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
		echo "chromium is missing: the browser tests will fail until it is installed."; \
		echo "Install it as root: apt-get update && apt-get install -y chromium"; \
	fi

# Generate sample deliveries (if data/landing is empty) and run the main job end to end.
demo: setup
	$(BIN)/cdw demo

# The main job over every delivery in $CDW_LANDING_DIR (default data/landing).
run: setup
	$(BIN)/cdw run

test: setup
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Dagster UI on http://127.0.0.1:3000, on the instance `cdw run` records to
dev: setup
	DAGSTER_HOME="$${DAGSTER_HOME:-$$($(BIN)/cdw paths --dagster-home)}" $(BIN)/dagster dev -h 127.0.0.1 -p 3000

bench: setup
	$(BIN)/python -m benchmarks.nightly

# data/ holds the warehouse and its artefacts (dbt target, Data Docs, run history); the
# rest is what earlier versions kept in the project folder.
clean:
	rm -rf data dagster_home/history dagster_home/storage dagster_home/schedules dagster_home/logs \
		dagster_home/event_log.db* dbt_project/target dbt_project/logs expectations/uncommitted
