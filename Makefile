# Paysite: `make run` to use it, `make test` to check it. `make help` lists every target.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Python packages: requirements.lock is what production runs, requirements-dev.lock the test and lint
# tools on top of it; `make lock` compiles both from requirements.in and requirements-dev.in. uv
# installs them (pinned here, bootstrapped into the venv by pip); `make install PIP=1` uses pip alone.
UV_VERSION := 0.13.8
UV := $(VENV)/bin/uv
LOCKS := requirements.lock requirements-dev.lock
LOCK_FLAGS := --quiet --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock"

.DEFAULT_GOAL := help
.PHONY: help install lock run test lint format check template lambda openapi clean bench stack stack-test

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

define venv
	@command -v $(PYTHON) >/dev/null || { echo "paysite: Python 3.11 ($(PYTHON)) is needed and was not found."; exit 1; }
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
endef

define uv
	@$(UV) --version 2>/dev/null | grep -qE '^uv $(subst .,\.,$(UV_VERSION))( |$$)' || \
		$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
endef

$(STAMP): $(LOCKS) package-lock.json
	$(venv)
ifeq ($(PIP),1)
	@$(PY) -m pip install --quiet --disable-pip-version-check $(addprefix -r ,$(LOCKS))
else
	$(uv)
	@$(UV) pip sync --quiet --python $(PY) $(LOCKS)
endif
	@command -v npm >/dev/null || { echo "paysite: npm (Node.js 20) is needed and was not found."; exit 1; }
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $(STAMP)

install: $(STAMP) ## create .venv, install both Python locks (uv; PIP=1 for pip alone) and the npm packages

lock: ## recompile requirements.lock and requirements-dev.lock from the .in files (LOCK_ARGS=--upgrade to refresh pins)
	$(venv)
	$(uv)
	@$(UV) pip compile $(LOCK_FLAGS) $(LOCK_ARGS) requirements.in -o requirements.lock
	@$(UV) pip compile $(LOCK_FLAGS) $(LOCK_ARGS) requirements-dev.in -o requirements-dev.lock

run: install ## start DynamoDB Local, create tables, load demo data, serve http://127.0.0.1:8000 with the task worker
	@$(PY) scripts/dev.py run

test: install ## run every test (moto tier and DynamoDB Local engine tier, browser tests included)
	@$(PY) scripts/dev.py test $(PYTEST_ARGS)

stack: install ## the production topology on this machine: PostgreSQL, Redis, DynamoDB Local, S3 (moto), 2 HTTPS gunicorn nodes, 2 workers
	@$(PY) scripts/stack.py start

stack-test: install ## start the stack, run the tests marked `stack` against it (tests/stack), stop it
	@$(PY) scripts/stack.py test $(PYTEST_ARGS)

lint: install ## ruff lint and format check, the apps' layers (lint-imports, .importlinter), mypy on core (mypy.ini)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/lint-imports --no-logo
	@$(VENV)/bin/mypy

format: install ## ruff format and fix
	@$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

check: install ## Django's system checks, with the production settings
	@DJANGO_DEBUG=1 $(PY) manage.py check

template: install ## print the AWS SAM template of the deployment (tables, buckets, Lambda functions, HTTP API, schedules)
	@DJANGO_DEBUG=1 $(PY) manage.py sam

lambda: install ## build var/lambda/paysite.zip, the code of every Lambda function (runtime lock, Linux wheels, static files)
	@$(PY) scripts/lambda_build.py

bench: install ## benchmark the payments API (DynamoDB Local + gunicorn) and the Lambda cold start; BENCH_PAYMENTS=10000 for a quick run
	@BENCH_PAYMENTS="$(BENCH_PAYMENTS)" BENCH_REQUESTS="$(BENCH_REQUESTS)" BENCH_THREADS="$(BENCH_THREADS)" BENCH_WORKERS="$(BENCH_WORKERS)" $(PY) -W ignore::UserWarning bench/run.py
	@$(PY) -W ignore::UserWarning bench/reconciliation.py $(if $(BENCH_LINES),--lines $(BENCH_LINES))
	@$(PY) -W ignore::UserWarning bench/recovery.py
	@$(PY) -W ignore::UserWarning bench/compliance.py $(if $(BENCH_COMPLIANCE_PAYMENTS),--payments $(BENCH_COMPLIANCE_PAYMENTS))
	@$(PY) -W ignore::UserWarning bench/load.py
	@$(PY) -W ignore::UserWarning bench/pages.py $(if $(BENCH_PAGES_PAYMENTS),--payments $(BENCH_PAGES_PAYMENTS))
	@$(PY) scripts/lambda_invoke.py --cold-start 10
	@if [ -x /usr/bin/python3.11 ]; then $(PY) scripts/lambda_invoke.py --cold-start 10 --python /usr/bin/python3.11; fi

openapi: install ## rewrite docs/openapi.json from the code; the contract test compares the served document with it
	@$(PY) scripts/openapi.py

clean: ## remove the venv, node_modules and local data (var/)
	rm -rf $(VENV) node_modules var staticfiles
