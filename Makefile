# The two commands: `make run` starts everything locally, `make test` runs every check and test.
# Both install what is missing into .venv first (pip, from the project's own files).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROTOS := $(shell find protos -name '*.proto')
PYPROJECTS := $(wildcard libs/*/pyproject.toml services/*/pyproject.toml gateway/pyproject.toml sandboxes/pyproject.toml)
GENERATED := libs/protos/bridge/.generated
INSTALLED := $(VENV)/.installed
STRICT_PACKAGES := $(wildcard services/*/bridge_*/domain services/*/bridge_*/app)

export TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: install browser run test lint typecheck architecture pytest protos clean

install: $(INSTALLED) browser

# Debian's chromium for the browser tests (tests/ui), when `chromium` is not on PATH; a no-op when it is.
browser:
	@bash scripts/install_browser.sh

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(GENERATED): $(BIN)/python $(PROTOS) scripts/gen_protos.py constraints.txt
	$(BIN)/python -m pip install -q -c constraints.txt grpcio-tools
	$(BIN)/python scripts/gen_protos.py
	touch $@

$(INSTALLED): $(GENERATED) requirements-dev.txt constraints.txt $(PYPROJECTS)
	$(BIN)/python -m pip install -q -c constraints.txt -r requirements-dev.txt
	touch $@

protos: $(GENERATED)

run: install
	$(BIN)/python scripts/dev.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# One mypy run per package: each package's tests live in a folder named `tests`, which mypy would
# otherwise see as one module twice. Then a --strict pass over every domain/ and app/.
typecheck: install
	@for package in libs/platform libs/upstreams sandboxes services/auth services/catalog services/orders gateway "scripts tests bench conftest.py"; do \
		echo "mypy $$package"; $(BIN)/mypy $$package || exit 1; \
	done
	$(BIN)/mypy --strict $(STRICT_PACKAGES)

architecture: install
	$(BIN)/lint-imports

pytest: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck architecture pytest

clean:
	rm -rf $(VENV) libs/protos/bridge .mypy_cache .ruff_cache .pytest_cache
