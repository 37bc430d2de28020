# socialcx: `make run` runs the pipeline once, `make test` runs the tests. `make help` lists the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help

-include .env
export

ROOT := $(CURDIR)
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
VENV_BIN := $(ROOT)/.venv/bin

# Airflow runs against a home inside the repo (git-ignored): SQLite metadata, no examples.
export AIRFLOW_HOME ?= $(ROOT)/airflow_home
export AIRFLOW__CORE__DAGS_FOLDER ?= $(ROOT)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False
# tasks running at once: the 61 models' tasks only read what dbt's one build reported, each waits on Airflow more
# than it computes, so 8 overlap their waits on 2 cores (a 0.1% run at 1M through a scheduler: the models' tasks
# 9.0-9.3 s against 12.7-13.6 s at 4; the DuckDB tasks still take the one-slot pool, benchmarks/README.md)
export AIRFLOW__CORE__PARALLELISM ?= 8
# the scheduler's sleep after a loop that found nothing to do (Airflow's default 1 s): a run's tasks follow one
# another through the one-slot pool, and each waited up to that long to be scheduled (benchmarks/README.md)
export AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME ?= 0.2
# how long a task's supervisor waits between looks at its task process (Airflow's default 5 s): a task that had
# finished often held its executor slot that long more, before the next task could start (benchmarks/README.md)
export AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL ?= 1
export AIRFLOW__CORE__DAG_DISCOVERY_SAFE_MODE ?= True
export AIRFLOW__COSMOS__ENABLE_TELEMETRY ?= False
export AIRFLOW__API__HOST ?= 127.0.0.1
export AIRFLOW__API__PORT ?= 8080
export DO_NOT_TRACK ?= 1
export DBT_SEND_ANONYMOUS_USAGE_STATS ?= False
export PROVIDERS__ENABLE_AIRFLOW_SECRETS ?= false
export UV_PYTHON_DOWNLOADS ?= never

POOL := socialcx_duckdb
PIDS := $(AIRFLOW_HOME)/pids

.PHONY: help setup run test test-celery test-fast lint format env-example dbt-manifest airflow-init up down docs bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV_BIN)/socialcx: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --locked --compile-bytecode  # as the image (UV_COMPILE_BYTECODE): no process compiles a library again
	@touch $@

setup: $(VENV_BIN)/socialcx ## install uv (if missing) and the locked Python environment in .venv

env-example: setup ## rewrite the sources' block of .env.example from the source registry
	@$(VENV_BIN)/socialcx env-example --write .env.example

dbt-manifest: setup ## parse the dbt project into dbt_project/target/manifest.json (cosmos renders the DAG from it)
	@$(VENV_BIN)/python -m socialcx.stages parse  # the registry's sources file, then dbt parse with the pipeline's flags

airflow-init: setup ## migrate the Airflow metadata DB and create the DuckDB pool (idempotent)
	@mkdir -p $(AIRFLOW_HOME)
	@$(VENV_BIN)/airflow db migrate > $(AIRFLOW_HOME)/migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/migrate.log; exit 1)
	@$(VENV_BIN)/airflow pools set $(POOL) 1 "DuckDB allows one writer per file" > /dev/null

run: dbt-manifest airflow-init ## run the whole pipeline once, via Airflow, on the sample world
	@echo "running DAG socialcx_pipeline once (airflow dags test); log: $(AIRFLOW_HOME)/dags_test.log"
	@$(VENV_BIN)/airflow dags test socialcx_pipeline > $(AIRFLOW_HOME)/dags_test.log 2>&1 \
		|| (grep -E "ERROR|Error|FAIL|failed" $(AIRFLOW_HOME)/dags_test.log | tail -40; exit 1)
	@grep -q "state=success" $(AIRFLOW_HOME)/dags_test.log || (tail -40 $(AIRFLOW_HOME)/dags_test.log; exit 1)
	@$(VENV_BIN)/socialcx summary

test: dbt-manifest ## run the test suite (unit and integration) and the linters
	-@bash scripts/compose_cmd.sh > /dev/null  # best effort: the compose test reports a failure itself
	@bash scripts/ensure_chromium.sh > /dev/null  # Debian's chromium for the browser tests (tests/browser)
	@bash scripts/ensure_postgres.sh > /dev/null  # Debian's PostgreSQL server for the PostgreSQL target's tests
	$(VENV_BIN)/ruff check .
	$(VENV_BIN)/pytest

test-celery: dbt-manifest ## the DAG on real Celery workers, Redis and PostgreSQL (about ten minutes; .ci/run runs it)
	@bash scripts/ensure_postgres.sh > /dev/null
	@command -v redis-server > /dev/null || bash scripts/apt_install.sh "make test-celery" redis-server
	$(VENV_BIN)/pytest -m celery tests/dags/test_celery.py

test-fast: dbt-manifest ## run the unit tests only
	$(VENV_BIN)/pytest -m "not integration"

lint: setup ## ruff (with Airflow's AIR3 rules) and format check
	$(VENV_BIN)/ruff check .
	$(VENV_BIN)/ruff format --check .

format: setup ## apply ruff's formatting and fixes
	$(VENV_BIN)/ruff format .
	$(VENV_BIN)/ruff check --fix .

up: dbt-manifest airflow-init ## start Airflow (api-server, scheduler, dag-processor, triggerer) on 127.0.0.1:8080
	@bash scripts/airflow_up.sh

docs: dbt-manifest ## build dbt docs, serve them with the GX Data Docs and the report on 127.0.0.1:8081 (DOCS_PORT)
	@$(VENV_BIN)/socialcx docs --port $${DOCS_PORT:-8081}

down: ## stop every process `make up` started
	@bash scripts/airflow_down.sh

bench: dbt-manifest ## benchmarks with same-run baselines (benchmarks/README.md); BENCH_POSTS=100000 by default
	$(VENV_BIN)/python benchmarks/pipeline.py --posts $${BENCH_POSTS:-100000} --airflow
	$(VENV_BIN)/python benchmarks/enrich.py --posts $${BENCH_POSTS:-100000}
	$(VENV_BIN)/python benchmarks/extract.py --posts $${BENCH_POSTS:-100000}
	$(VENV_BIN)/python benchmarks/freshness.py --posts $${BENCH_POSTS:-100000} --new $$(( $${BENCH_POSTS:-100000} / 1000 ))
	$(VENV_BIN)/python benchmarks/postgres.py --posts $${BENCH_POSTS:-100000}
	$(VENV_BIN)/python benchmarks/celery_enrich.py --posts $${BENCH_POSTS:-100000}

clean: ## remove the warehouse, reports, Airflow home and dbt artefacts
	rm -rf warehouse reports $(AIRFLOW_HOME) dbt_project/target dbt_project/logs
