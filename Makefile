# One target per habit. `make help` lists them.
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= plans

.PHONY: help setup validate plan test lint typecheck bench runtime-image clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

setup: ## create the virtualenv and install Slipway with its dev tools
	python3 -m venv $(VENV) && $(VENV)/bin/pip install -q --upgrade pip && $(VENV)/bin/pip install -q -e ".[runtime,dev]"

validate: ## check every stack declaration
	$(VENV)/bin/slipway validate

plan: ## plan every stack offline into $(OUT)/<stack>/
	$(VENV)/bin/slipway plan --all --out $(OUT)

test: ## run the whole suite (lint and type checks included)
	$(PY) -m pytest

lint: ## ruff lint and format check
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

typecheck: ## mypy, strict, on the packages
	$(PY) -m mypy

bench: ## run the benchmarks: lead time, serving against mlflow, drift against Evidently
	$(PY) benchmarks/lead_time.py
	$(PY) benchmarks/serving_vs_mlflow.py
	$(PY) benchmarks/drift_vs_evidently.py

runtime-image: ## build the runtime image as $(IMAGE) (needs Docker), e.g. IMAGE=<registry>/<cluster>/runtime:0.1.0
	@test -n "$(IMAGE)" || (echo "set IMAGE=<registry>/<name>/runtime:<version>" >&2; exit 2)
	docker build -f pipelines/runtime/Dockerfile -t $(IMAGE) .

clean: ## remove plans and caches
	rm -rf $(OUT) .pytest_cache .mypy_cache .ruff_cache
