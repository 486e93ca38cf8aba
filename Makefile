# The two commands a newcomer needs: `make run` and `make test`. Both create .venv and install
# what they need; nothing else has to be installed by hand (Python 3.11 only).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-pg e2e serve bench-search bench-pages clean-instance

$(VENV)/.run-deps: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: $(VENV)/.run-deps requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## Install and run the site with demo data at http://127.0.0.1:5000/
run: $(VENV)/.run-deps
	$(PY) app.py

## Install and run the test suite (SQLite; set TEST_DATABASE_URL for PostgreSQL)
test: $(VENV)/.dev-deps
	$(PY) -m pytest -m "not e2e"

## The test suite against the local PostgreSQL
test-pg: $(VENV)/.dev-deps
	TEST_DATABASE_URL=$(PG_URL) $(PY) -m pytest -m "not e2e"

## Browser journeys in headless Chromium (Debian's chromium package)
e2e: $(VENV)/.dev-deps
	$(PY) -m pytest -m e2e tests/e2e

## Remove the local SQLite database, search index and secret key (demo data reloads on next run)
clean-instance:
	rm -rf instance

## Production shape on this machine: gunicorn + one search applier (the Procfile, run by honcho)
## against the local PostgreSQL (database $(SERVE_DB), created and filled with the demo data when
## missing) and Redis (rate limits). Ctrl+C stops both.
SERVE_DB ?= gdws
serve: $(VENV)/.run-deps
	SERVE_DB=$(SERVE_DB) PY=$(PY) bash scripts/serve.sh
