# The two commands: `make run` (the app at http://127.0.0.1:8000) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test test-postgres migrate seed worker bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "AdsVideo needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python -m app migrate

seed: migrate
	$(BIN)/python -m app seed

run: seed
	$(BIN)/python -m app serve

worker: install
	$(BIN)/python -m app worker --processes 1 --threads 32

# `make test TESTS=tests/e2e` runs a part (CI runs the parts side by side).
TESTS ?=
test: install
	$(BIN)/python -m pytest $(TESTS)

# The whole suite again with PostgreSQL as the database of every test (CI runs both).
test-postgres: install
	TEST_DATABASE=postgres $(BIN)/python -m pytest tests/integration

# The benchmark suite (needs wrk and nginx from Debian's packages, PostgreSQL and Redis on their ports).
bench: install
	$(BIN)/python -m benchmarks.suite

clean:
	rm -rf $(VENV) aivideo.db aivideo.db-wal aivideo.db-shm uploads .pytest_cache
