# chargetransport: build the executable book and run the test suite.
#
#   make book   -- set up the environment, execute every chapter, build _build/html
#                  (tools/build_book.py: chapters come from the execution cache unless
#                  the chapter, the package under src/ or the environment changed; the
#                  chapters to execute run side by side, one per core)
#   make test   -- set up the environment (+ Debian chromium), run pytest over tests/
#   make pdf    -- the book as one PDF, _build/pdf/chargetransport.pdf (headless Chromium
#                  prints each page of _build/html once MathJax has run; pypdf joins them)
#   make problems -- the problem-set edition (exercises without solutions),
#                  _build/problems/_build/html, from the execution cache of make book
#
# Both work on a fresh clone with nothing installed but python3 (with venv), npm and
# apt-get. The environment step is stamp based: it reruns only when requirements.txt,
# pyproject.toml or the MathJax version change.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The first Python new enough for the pinned requirements: the package needs 3.11
# (pyproject.toml: requires-python), the pinned book and test environment 3.11.5
# (soupsieve 4.1.2, used by Beautiful Soup); Debian 12's /usr/bin/python3 is 3.11.2.
# Override with `make PYTHON=/path/to/python3`.
PYTHON ?= $(firstword $(shell for p in python3 python3.13 python3.12 python3.11 \
    $$HOME/.pyenv/shims/python3 /usr/local/bin/python3; do \
    command -v $$p >/dev/null 2>&1 && $$p -c 'import sys, venv; sys.exit(sys.version_info < (3, 11, 5))' \
    >/dev/null 2>&1 && command -v $$p; done) python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
ENV_STAMP := $(VENV)/.chargetransport-env.stamp

MATHJAX_VERSION := 3.2.2
NPM_PREFIX := .cache/npm
# Copied into _build/html/_static/mathjax through html_extra_path (see _config.yml).
MATHJAX_DIR := .cache/html_extra/_static/mathjax
MATHJAX_STAMP := .cache/mathjax-$(MATHJAX_VERSION).stamp

CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

JB_CHECKS := -W -n --keep-going
JB_FLAGS := --path-output . $(JB_CHECKS)

# Tools of the virtualenv come first; pip stays quiet about its own version.
export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export DEBIAN_FRONTEND := noninteractive

.PHONY: help env book test pdf problems chromium clean distclean

help:
	@echo "make book   build the executable book into _build/html (executes every chapter)"
	@echo "make test   run the whole test suite (unit tests, chapter execution, headless browser)"
	@echo "make pdf    the whole book as one PDF: _build/pdf/chargetransport.pdf (after make book)"
	@echo "make problems  the problem-set edition without solutions: _build/problems/_build/html"
	@echo "make env    only set up .venv and the local MathJax copy"
	@echo "make clean  remove _build;  make distclean  also .venv and .cache"

env: $(ENV_STAMP) $(MATHJAX_STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(ENV_STAMP): requirements.txt pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --progress-bar off -r requirements.txt
	$(BIN)/python -m pip install --progress-bar off --no-deps -e .
	touch $@

$(MATHJAX_STAMP):
	npm install --no-save --no-audit --no-fund --no-package-lock --loglevel=error \
	    --prefix $(NPM_PREFIX) mathjax@$(MATHJAX_VERSION)
	test -f $(NPM_PREFIX)/node_modules/mathjax/es5/tex-chtml.js
	rm -rf $(MATHJAX_DIR)
	mkdir -p $(dir $(MATHJAX_DIR))
	cp -r $(NPM_PREFIX)/node_modules/mathjax/es5 $(MATHJAX_DIR)
	test -f $(MATHJAX_DIR)/tex-chtml.js
	touch $@

# The execution cache is keyed on the package too: if src/, requirements.txt,
# pyproject.toml or the Python environment changed since the last successful build,
# tools/build_book.py empties _build/.jupyter_cache and every chapter is executed again.
book: env
	$(BIN)/python tools/build_book.py $(JB_FLAGS)

# Offline: prints the HTML of `make book` (the chapters are not executed again unless
# they changed). Chromium also renders the PDF's first pages to PNG in the tests when
# poppler's pdftoppm is missing.
pdf: book chromium
	$(BIN)/python tools/build_pdf.py

# The same pages with every {solution} left out (sphinx-exercise's hide_solutions); the
# chapters come from the execution cache that `make book` filled.
problems: book
	$(BIN)/python tools/build_problems.py $(JB_CHECKS)

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	    echo "installing Debian chromium (headless browser for tests/test_browser.py, make pdf)"; \
	    $(SUDO) apt-get update -q < /dev/null; \
	    $(SUDO) apt-get install -y -q chromium poppler-utils < /dev/null; \
	fi

test: env chromium
	$(BIN)/python -m pytest

clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV) .cache .pytest_cache
