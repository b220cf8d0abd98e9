"""Reads from a read replica outside the primary region (config/replica.py), in one process.

The real replica, servers and proxy are rehearsed in tests/test_multi_region.py.
"""

from types import SimpleNamespace

import pytest

from blog import changes
from config import replica
from tests.test_settings import PRODUCTION, settings_error, settings_under

POSTGRES = {**PRODUCTION, "DATABASE_URL": "postgres://app:pw@primary.internal:5432/blog"}
REPLICA_URL = "postgres://app:pw@{region}.blog-db.internal:5433/blog"


def test_outside_the_primary_region_reads_go_to_the_regions_replica(tmp_path):
    env = {**POSTGRES, "FLY_REGION": "sjc", "PRIMARY_REGION": "fra"}
    values = settings_under(
        {**env, "DATABASE_REPLICA_URL": REPLICA_URL}, tmp_path, "DATABASES", "DATABASE_ROUTERS"
    )
    assert values["DATABASE_ROUTERS"] == ["config.replica.ReplicaRouter"]
    assert values["DATABASES"]["replica"]["HOST"] == "sjc.blog-db.internal"
    assert values["DATABASES"]["replica"]["PORT"] == 5433
    assert values["DATABASES"]["default"]["HOST"] == "primary.internal"


@pytest.mark.parametrize(
    "regions",
    [
        {"FLY_REGION": "fra", "PRIMARY_REGION": "fra"},
        {"FLY_REGION": "sjc"},
        {},
    ],
)
def test_in_the_primary_region_or_off_fly_the_replica_is_not_used(tmp_path, regions):
    env = {**POSTGRES, **regions, "DATABASE_REPLICA_URL": REPLICA_URL}
    values = settings_under(env, tmp_path, "DATABASES", "DATABASE_ROUTERS")
    assert list(values["DATABASES"]) == ["default"]
    assert values["DATABASE_ROUTERS"] == []


def test_a_replica_of_sqlite_stops_with_the_fix(tmp_path):
    env = {
        **PRODUCTION,
        "FLY_REGION": "sjc",
        "PRIMARY_REGION": "fra",
        "DATABASE_REPLICA_URL": REPLICA_URL,
    }
    message = settings_error(env, tmp_path)
    assert "DATABASE_REPLICA_URL is set but DATABASE_URL is not PostgreSQL" in message
    assert "fly secrets unset DATABASE_REPLICA_URL" in message


def test_a_malformed_replica_url_is_named(tmp_path):
    env = {**POSTGRES, "FLY_REGION": "sjc", "PRIMARY_REGION": "fra"}
    message = settings_error({**env, "DATABASE_REPLICA_URL": "nonsense://x"}, tmp_path)
    assert message.startswith("DATABASE_REPLICA_URL is not a database URL")


@pytest.fixture
def with_replica(settings, monkeypatch):
    """A `replica` database in settings whose health the test decides."""
    monkeypatch.setattr(replica, "replica_configured", lambda: True)
    settings.DATABASE_REPLICA_FALLBACK = True
    health = {"problem": None, "checks": 0}

    def problem():
        health["checks"] += 1
        return health["problem"]

    monkeypatch.setattr(replica, "replica_problem", problem)
    now = [1000.0]
    monkeypatch.setattr(replica, "time", SimpleNamespace(monotonic=lambda: now[0]))
    health["now"] = now
    return health


def test_the_choice_holds_until_the_request_ends(with_replica):
    reading = replica.ReadDatabase()
    assert reading.alias() == "replica"
    with_replica["problem"] = "OperationalError connection refused"
    # Mid-request the replica went away: this request still reads where it started.
    assert reading.alias() == "replica"
    assert with_replica["checks"] == 1
    reading.release()
    assert reading.alias() == "default"
    assert reading.problem == "OperationalError connection refused"


def test_a_replica_that_failed_is_left_alone_for_a_while_then_tried_again(with_replica):
    reading = replica.ReadDatabase()
    with_replica["problem"] = "OperationalError connection refused"
    assert reading.alias() == "default"
    for _ in range(5):
        reading.release()
        with_replica["now"][0] += 1
        assert reading.alias() == "default"
    assert with_replica["checks"] == 1
    with_replica["problem"] = None
    with_replica["now"][0] += replica.RETRY_SECONDS
    reading.release()
    assert reading.alias() == "replica"
    assert with_replica["checks"] == 2


def test_without_the_fallback_reads_stay_on_the_replica_that_failed(with_replica, settings):
    settings.DATABASE_REPLICA_FALLBACK = False
    with_replica["problem"] = "OperationalError connection refused"
    assert replica.ReadDatabase().alias() == "replica"


def test_without_a_replica_everything_reads_the_primary(settings):
    assert "replica" not in settings.DATABASES
    assert replica.ReadDatabase().alias() == "default"


def test_writes_go_where_the_request_reads_and_migrations_to_the_primary(with_replica, monkeypatch):
    """To the replica, which refuses them (and the request is replayed); to the primary while
    reads fall back to it, since Django reads through the write database too (get_or_create):
    a dead replica there would fail a page the primary can serve."""
    monkeypatch.setattr(replica, "reading", replica.ReadDatabase())
    router = replica.ReplicaRouter()
    assert router.db_for_write(None) == "replica"
    replica.reading.release()
    with_replica["problem"] = "OperationalError connection refused"
    assert router.db_for_write(None) == "default"
    assert router.db_for_read(None) == "default"
    assert router.allow_migrate("default", "blog")
    assert not router.allow_migrate("replica", "blog")


def test_the_generation_is_read_again_from_a_database_the_process_switches_to(
    monkeypatch, settings
):
    """A value polled from the primary during a replica outage is newer than what a lagging
    replica renders from when it comes back: it must not be used for pages rendered there."""
    settings.PAGE_CACHE_POLL_SECONDS = 3600
    values = {"default": 8, "replica": 7}
    polled = []

    class Rows:
        def __init__(self, using):
            self.using = using

        def first(self):
            polled.append(self.using)
            return values[self.using]

    source = ["default"]
    monkeypatch.setattr(changes, "generation_rows", Rows)
    monkeypatch.setattr(
        changes,
        "router",
        SimpleNamespace(db_for_read=lambda model: source[0]),
    )
    monkeypatch.setattr(
        changes,
        "connections",
        {alias: SimpleNamespace(connection=None, in_atomic_block=False) for alias in values},
    )
    clock = changes.GenerationClock()
    assert clock.current()[1] == 8
    assert clock.current()[1] == 8
    source[0] = "replica"
    assert clock.current()[1] == 7
    assert polled == ["default", "replica"]


@pytest.mark.django_db
def test_readyz_names_the_database_it_reads(client):
    response = client.get("/readyz", HTTP_HOST="172.19.2.10:8000")
    assert response.status_code == 200
    assert response.content.decode().rstrip().endswith("database=primary")


def test_readyz_says_when_the_replica_is_unavailable_and_the_primary_is_read(
    with_replica, monkeypatch, client
):
    from config import health

    with_replica["problem"] = "OperationalError connection refused"
    monkeypatch.setattr(health.replica, "reading", replica.ReadDatabase())
    monkeypatch.setattr(health, "database_problem", lambda alias: None)
    response = client.get("/readyz", HTTP_HOST="172.19.2.10:8000")
    assert response.status_code == 200
    assert response.content.decode().endswith(
        "database=primary replica=unavailable (OperationalError connection refused)\n"
    )


def test_every_wsgi_request_starts_with_a_fresh_choice(monkeypatch):
    """A page-cache hit sends no request_finished: without the WSGI wrapper, a choice made
    before the replica went away would outlive it into the next request."""
    reading = replica.ReadDatabase()
    monkeypatch.setattr(replica, "reading", reading)
    reading._local.alias = "replica"
    seen = []

    def application(environ, start_response):
        seen.append(getattr(reading._local, "alias", None))
        return []

    replica.OneDatabasePerRequest(application)({}, None)
    assert seen == [None]
