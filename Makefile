# Aftercare. `make help` lists the targets.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_URL ?= redis://127.0.0.1:6379/0

.DEFAULT_GOAL := help
.PHONY: help run test check test-postgres worker beat web bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime ## Quickstart: install, migrate SQLite, load demo data, serve on 127.0.0.1:8000
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(VENV)/.dev ## Run the whole test suite (SQLite unless DATABASE_URL says otherwise)
	$(BIN)/python -m pytest -p no:cacheprovider

check: $(VENV)/.dev ## Lint, system checks, missing migrations, OpenAPI schema without warnings
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py makemigrations --check --dry-run workflowapp
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

test-postgres: $(VENV)/.dev ## The suite on PostgreSQL, with the real-worker tests on Redis
	DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=$(REDIS_URL) REQUIRE_CELERY_WORKER=1 $(BIN)/python -m pytest -p no:cacheprovider

web: $(VENV)/.runtime ## Production web process (gunicorn); configure with the environment
	$(BIN)/gunicorn core.wsgi --bind $${BIND:-127.0.0.1:8000} --workers $${WEB_WORKERS:-3} --access-logfile -

worker: $(VENV)/.runtime ## Celery worker (needs CELERY_BROKER_URL)
	$(BIN)/celery -A core worker --loglevel INFO --queues aftercare

beat: $(VENV)/.runtime ## Celery beat: notification sweep, idempotency-key purge (needs CELERY_BROKER_URL)
	$(BIN)/celery -A core beat --loglevel INFO

bench: $(VENV)/.dev ## Timeline benchmark on PostgreSQL (see bench/README.md)
	$(BIN)/python bench/timeline_bench.py

clean: ## Remove the virtualenv and the SQLite database
	rm -rf $(VENV) db.sqlite3 db.sqlite3-shm db.sqlite3-wal
