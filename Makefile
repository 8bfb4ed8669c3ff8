# The user interface of the book. `make book` and `make test` set up everything they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
ARGS ?=

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: book test bench lock clean help browser-deps

help:
	@echo "make book   build the whole book on the default simulated cohort (sets up .venv)"
	@echo "make test   run the test suite (sets up .venv)"
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

test: $(STAMP) browser-deps
	$(PY) -m pytest $(ARGS)

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
