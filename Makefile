# MixAdvice: `make demo` sets up and serves the platform; `make test` sets up and runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

export NLTK_DATA ?= $(CURDIR)/var/nltk_data
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export HF_HUB_DISABLE_TELEMETRY ?= 1
export PIP_DISABLE_PIP_VERSION_CHECK ?= 1

.DEFAULT_GOAL := help
.PHONY: help setup system demo serve test test-sqlite test-postgres lint format

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

system:  ## Install Debian packages (chromium, WordNet, ffmpeg) and lay out WordNet for nltk
	@.ci/system-packages "$(NLTK_DATA)"

setup: $(VENV)/.installed system  ## Create .venv, install requirements and system packages (idempotent)

demo: setup  ## Set up, build the demo content, create a researcher account and serve on $(HOST):$(PORT)
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py demo_researcher
	@$(MAKE) --no-print-directory serve

serve:  ## Serve on $(HOST):$(PORT) with a queue worker beside it (after make demo); Ctrl-C stops both
	@echo ""
	@echo "  MixAdvice is running:"
	@echo "    start page     http://$(HOST):$(PORT)/"
	@echo "    participant    http://$(HOST):$(PORT)/study/"
	@echo "    advisor        http://$(HOST):$(PORT)/advisor/"
	@echo "    researcher     http://$(HOST):$(PORT)/admin/"
	@echo "  Stop with Ctrl-C (stops the web server and the advisor's queue worker)."
	@echo ""
	@worker=; trap 'test -n "$$worker" && kill -TERM $$worker 2>/dev/null; wait' EXIT; \
	$(PY) manage.py qcluster & worker=$$!; \
	$(PY) manage.py runserver --noreload $(HOST):$(PORT)

test: setup test-sqlite test-postgres  ## Set up, run the whole suite on SQLite, then the database tests on PostgreSQL

test-sqlite:
	$(PY) -m pytest

test-postgres:
	.ci/with-postgres $(PY) -m pytest -m db

lint: $(VENV)/.installed  ## Check the code with ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed  ## Format the code with ruff
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
