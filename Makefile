# Salesbrain: `make run` starts the product with demo data, `make test` runs every check.
# Only Python 3.11 and make are needed: the virtualenv, the packages and (when DATABASE_URL is
# unset) an embedded PostgreSQL are all set up here.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
SANDBOX_PORT ?= 8765
# The demo runs as production does, with DEBUG off (branded error pages, no debug pages), but
# on plain http://127.0.0.1 with no proxy in front (no HTTPS redirect, HSTS or Secure cookies),
# with secrets generated once into var/demo.env. Anything set in the environment wins.
DEMO_ENV := var/demo.env
export DEBUG ?= 0
export SESSION_COOKIE_SECURE ?= 0
export SECURE_SSL_REDIRECT ?= 0
export SECURE_HSTS_SECONDS ?= 0
export BEHIND_TLS_PROXY ?= 0
# No mail server here: notification emails are printed (production's default is SMTP, which
# failed three times per email, 3 s of retries each, and logged a warning).
export EMAIL_BACKEND ?= django.core.mail.backends.console.EmailBackend
-include $(DEMO_ENV)
export SECRET_KEY SECRETS_ENCRYPTION_KEYS APP_DB_PASSWORD

.PHONY: run test lint imports format venv migrate demo worker beat sandbox clean-db

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

$(DEMO_ENV): | $(STAMP)
	$(PY) -m salesbrain.demo_env $@

migrate: venv $(DEMO_ENV)
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo --url http://$(HOST):$(PORT)/

# The demo talks to the local Instantly sandbox (serving the demo workspace) unless you set
# INSTANTLY_API_KEY yourself; the sandbox stops with the server.
run: demo
	@mkdir -p var
	@if [ -z "$$INSTANTLY_API_KEY" ]; then \
	  $(PY) manage.py instantly_sandbox serve --demo --port $(SANDBOX_PORT) > var/sandbox.log 2>&1 & \
	  sandbox=$$!; trap "kill $$sandbox 2>/dev/null" EXIT INT TERM; \
	  export INSTANTLY_API_KEY=sandbox-key INSTANTLY_API_BASE_URL=http://127.0.0.1:$(SANDBOX_PORT); \
	  echo "Instantly sandbox on $$INSTANTLY_API_BASE_URL (log: var/sandbox.log)"; \
	fi; \
	$(PY) manage.py collectstatic --noinput --verbosity 0; \
	echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"; \
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The import contract (pyproject.toml, [tool.importlinter]) holds the one-way layers.
imports: venv
	$(VENV)/bin/lint-imports

test: lint imports
	$(PY) -m pytest $(PYTEST_ARGS)

# The worker's pool counts into var/prometheus-worker, served on 127.0.0.1:9808/metrics.
worker: venv
	PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/var/prometheus-worker METRICS_WORKER_PORT=9808 \
	  $(VENV)/bin/celery -A salesbrain worker --loglevel=INFO

beat: venv
	$(VENV)/bin/celery -A salesbrain beat --loglevel=INFO

sandbox: venv
	$(PY) manage.py instantly_sandbox serve --demo --port $(SANDBOX_PORT)

clean-db:
	rm -rf var/pgdata
