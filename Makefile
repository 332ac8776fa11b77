# Paysite: `make run` to use it, `make test` to check it. `make help` lists every target.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test lint format check template openapi clean bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock package-lock.json
	@command -v $(PYTHON) >/dev/null || { echo "paysite: Python 3.11 ($(PYTHON)) is needed and was not found."; exit 1; }
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@command -v npm >/dev/null || { echo "paysite: npm (Node.js 20) is needed and was not found."; exit 1; }
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $(STAMP)

install: $(STAMP) ## create .venv, install the pinned Python and npm packages

run: install ## start DynamoDB Local, create tables, load demo data, serve http://127.0.0.1:8000 with the task worker
	@$(PY) scripts/dev.py run

test: install ## run every test (moto tier and DynamoDB Local engine tier, browser tests included)
	@$(PY) scripts/dev.py test $(PYTEST_ARGS)

lint: install ## ruff lint and format check, the apps' layers (lint-imports, .importlinter), mypy on core (mypy.ini)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/lint-imports --no-logo
	@$(VENV)/bin/mypy

format: install ## ruff format and fix
	@$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

check: install ## Django's system checks, with the production settings
	@DJANGO_DEBUG=1 $(PY) manage.py check

template: install ## print the AWS CloudFormation template of every table
	@DJANGO_DEBUG=1 $(PY) manage.py dynamodb template

bench: install ## benchmark the payments API (DynamoDB Local + gunicorn); BENCH_PAYMENTS=10000 for a quick run
	@BENCH_PAYMENTS="$(BENCH_PAYMENTS)" BENCH_REQUESTS="$(BENCH_REQUESTS)" $(PY) -W ignore::UserWarning bench/run.py
	@$(PY) -W ignore::UserWarning bench/reconciliation.py $(if $(BENCH_LINES),--lines $(BENCH_LINES))
	@$(PY) -W ignore::UserWarning bench/recovery.py
	@$(PY) -W ignore::UserWarning bench/load.py

openapi: install ## rewrite docs/openapi.json from the code; the contract test compares the served document with it
	@$(PY) scripts/openapi.py

clean: ## remove the venv, node_modules and local data (var/)
	rm -rf $(VENV) node_modules var staticfiles
