"""Shared fixtures: a production-like server, and the paths it needs."""

import fcntl
import os

import pytest

from tests import server

# Fixtures through which a test reaches the database pytest-django manages.
DATABASE_FIXTURES = {"db", "transactional_db", "django_db_setup", "client", "admin_client"}


def pytest_collection_modifyitems(items):
    """A test on the production-like server starts gunicorn and migrates a database: slow, and
    on PostgreSQL a different server path (.ci/run runs the postgres-marked ones on both). A test
    that reaches the test database is marked `database`: the ones .ci/run repeats on PostgreSQL."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "production_server" in fixtures:
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.postgres)
        if item.get_closest_marker("django_db") or fixtures & DATABASE_FIXTURES:
            item.add_marker(pytest.mark.database)


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """In-process tests do not depend on a collectstatic run: unhashed static URLs.

    The production-like server below serves the real hashed, compressed files.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="session")
def static_root(tmp_path_factory, worker_id):
    """collectstatic once per run, as the image build does: one run shared by every xdist
    worker (compressing Wagtail's admin files is the slowest part of a worker's start)."""
    if worker_id == "master":
        root = tmp_path_factory.mktemp("static") / "staticfiles"
        server.collect_static(root)
        return root
    # The workers' base temporary directories share a parent for this run.
    shared = tmp_path_factory.getbasetemp().parent / "static"
    shared.mkdir(exist_ok=True)
    root = shared / "staticfiles"
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "collected").exists():
            server.collect_static(root)
            (shared / "collected").touch()
    return root


@pytest.fixture(scope="session")
def production_server(tmp_path_factory, static_root):
    """gunicorn + whitenoise with DEBUG off on a fresh database (SQLite, or PostgreSQL when
    DATABASE_URL says so), stopped after the session."""
    data_dir = tmp_path_factory.mktemp("server-data")
    with (
        server.throwaway_database(os.environ.get("DATABASE_URL")) as database_url,
        server.run_server(data_dir, static_root, database_url=database_url) as running,
    ):
        yield running


@pytest.fixture
def miss_renders(settings, tmp_path):
    """The page cache on but storing no page (PAGE_CACHE_MAX_MB=0), so every request renders
    with what blog.site_data keeps per process, which starts and ends empty."""
    from blog.site_data import memo

    settings.PAGE_CACHE_ENABLED = True
    settings.PAGE_CACHE_MAX_MB = 0
    settings.DATA_DIR = tmp_path
    # No database polling: the every-2-seconds poll is one query that could land in any request,
    # and the marker file alone carries this process's changes.
    settings.PAGE_CACHE_POLL_SECONDS = 3600
    memo.clear()
    yield
    memo.clear()
