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
export MIXADVICE_DATA_DIR ?= $(CURDIR)/var/data

# The demo pipeline: synthetic corpus -> dataset -> tiny Qwen2-Audio trained with LoRA -> advice
# from five systems -> demo study -> simulated pilot ratings -> scores -> analysis report.
MANAGE := $(PY) manage.py
DEMO := $(MIXADVICE_DATA_DIR)/demo
DEMO_SONGS ?= 16
DEMO_SECONDS ?= 30
DEMO_SEED ?= 7
DEMO_STEPS ?= 48
DEMO_PARTICIPANTS ?= 24
DEMO_TINY_CONFIG ?=
DEMO_SYSTEMS := finetuned base baseline ideal sham
DEMO_ADVICE := $(DEMO_SYSTEMS:%=$(DEMO)/advice/%.jsonl)

.DEFAULT_GOAL := help
.PHONY: help setup system demo demo-data demo-study serve test test-sqlite test-postgres lint format

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

demo: setup  ## Set up, run the whole demo pipeline, create a researcher account and serve on $(HOST):$(PORT)
	@$(MAKE) --no-print-directory demo-study
	@$(MANAGE) demo_researcher
	@$(MAKE) --no-print-directory serve

demo-data: $(DEMO)/eval/summary.json $(DEMO_ADVICE)  ## Build the demo files only (corpus, dataset, model, advice, evaluation)

demo-study: demo-data  ## Import the demo study, open it, simulate pilot ratings, score the advice, write the report
	@$(MANAGE) migrate --noinput -v 0
	@$(MANAGE) import_study --dataset $(DEMO)/dataset --advice $(DEMO_ADVICE) --slug demo \
		--title "MixAdvice demo study"
	@$(MANAGE) open_study --slug demo --publish-consent
	@$(MANAGE) simulate_ratings --study demo --participants $(DEMO_PARTICIPANTS) --seed $(DEMO_SEED) --up-to
	@$(MANAGE) shell -v 0 -c "$$DEMO_STATE_PY" > $(DEMO)/study-state.new
	@cmp -s $(DEMO)/study-state.new $(DEMO)/study-state || mv $(DEMO)/study-state.new $(DEMO)/study-state
	@rm -f $(DEMO)/study-state.new
	@$(MAKE) --no-print-directory $(MIXADVICE_DATA_DIR)/reports/demo/report.html
	@echo "Demo report: $(MIXADVICE_DATA_DIR)/reports/demo/report.html"

# What the report depends on in the database: it changes when the study, its ratings or its scores do.
define DEMO_STATE_PY
from analysis.models import MetricScore
from study.models import Rating, Study
study = Study.objects.get(slug="demo")
print(study.pk, Rating.objects.filter(trial__participant__study=study).count(),
      MetricScore.objects.filter(advice_item__scenario__study=study).count())
endef
export DEMO_STATE_PY

$(MIXADVICE_DATA_DIR)/reports/demo/report.html: $(DEMO)/study-state $(DEMO_ADVICE)
	$(MANAGE) score_advice --study demo
	$(MANAGE) analysis_report --study demo --include-simulated
	@$(MANAGE) shell -v 0 -c "$$DEMO_STATE_PY" > $(DEMO)/study-state
	@touch $@

# Each step writes its output atomically (or resumes), so an interrupted demo picks up where it stopped.
$(DEMO)/corpus/tracklist.csv: | $(VENV)/.installed
	$(MANAGE) make_synthetic_corpus --out $(DEMO)/corpus --songs $(DEMO_SONGS) --seconds $(DEMO_SECONDS) \
		--seed $(DEMO_SEED)

$(DEMO)/dataset/manifest.json: $(DEMO)/corpus/tracklist.csv
	$(MANAGE) build_dataset --corpus $(DEMO)/corpus --out $(DEMO)/dataset --seed $(DEMO_SEED) --jobs 2

$(DEMO)/tiny/config.json: $(DEMO)/dataset/manifest.json
	$(MANAGE) build_tiny_model --dataset $(DEMO)/dataset --out $(DEMO)/tiny --seed $(DEMO_SEED) \
		$(if $(DEMO_TINY_CONFIG),--config $(DEMO_TINY_CONFIG))

$(DEMO)/run/metrics.json: $(DEMO)/tiny/config.json
	$(MANAGE) train_advisor --dataset $(DEMO)/dataset --base-model $(DEMO)/tiny --out $(DEMO)/run \
		--preset llm-projector-encoder --max-steps $(DEMO_STEPS) --batch-size 4 --grad-accum 1 \
		--learning-rate 5e-3 --eval-steps 16 --save-steps 16 $(if $(wildcard $(DEMO)/run/config.json),--resume)

$(DEMO)/advice/finetuned.jsonl: $(DEMO)/run/metrics.json
	$(MANAGE) generate_advice --dataset $(DEMO)/dataset --system finetuned --base-model $(DEMO)/tiny \
		--adapter $(DEMO)/run/adapter --out $@.partial
	@mv $@.partial $@

$(DEMO)/advice/base.jsonl: $(DEMO)/tiny/config.json
	$(MANAGE) generate_advice --dataset $(DEMO)/dataset --system base --base-model $(DEMO)/tiny --out $@.partial
	@mv $@.partial $@

$(DEMO)/advice/%.jsonl: $(DEMO)/dataset/manifest.json
	$(MANAGE) generate_advice --dataset $(DEMO)/dataset --system $* --out $@.partial
	@mv $@.partial $@

$(DEMO)/eval/summary.json: $(DEMO_ADVICE)
	$(MANAGE) evaluate_advice --dataset $(DEMO)/dataset --advice $(DEMO_ADVICE) --out $(DEMO)/eval \
		--seed $(DEMO_SEED)

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
