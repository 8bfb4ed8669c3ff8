# The user interface of the book. `make book` and `make test` set up everything they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
ARGS ?=
# The tests run in two processes (pytest-xdist); each test file stays in one of them.
TEST_WORKERS ?= 2

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: book test lint format bench lock clean help browser-deps

help:
	@echo "make book   build the whole book on the default simulated cohort (sets up .venv)"
	@echo "make test   lint (ruff) and run the test suite (sets up .venv)"
	@echo "make format format the code with ruff"
	@echo "make bench  print the benchmark figures"
	@echo "make lock   re-resolve requirements.lock from pyproject.toml"

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "uv==0.13.8"
	$(UV) pip sync --quiet --python $(PY) requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $@

book: $(STAMP)
	$(VENV)/bin/icb-book run $(ARGS)

test: $(STAMP) browser-deps lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(ARGS)

# Ruff (lint and format, configured in pyproject.toml) is part of the tests.
LINTED := src tests scripts bench
lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

format: $(STAMP)
	$(VENV)/bin/ruff check --fix $(LINTED)
	$(VENV)/bin/ruff format $(LINTED)

# The browser test opens the built book in Debian's headless Chromium (never a downloaded one).
browser-deps:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  echo "installing Debian's chromium and chromium-driver for the browser test"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

bench: $(STAMP)
	$(PY) bench/run.py $(ARGS)

lock: $(STAMP)
	$(UV) pip compile --quiet pyproject.toml --extra test --python-version 3.11 -o requirements.lock

clean:
	rm -rf _build book/chapters .cache
