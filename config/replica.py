"""Reads from a PostgreSQL read replica in this machine's region, when there is one.

Settings add the `replica` database (DATABASE_REPLICA_URL) and this router only on a machine
outside PRIMARY_REGION. There every read goes to the replica, and so does every write, which the
replica refuses: such a write is replayed in the primary region (config/replay.py), so a write
never reaches the primary from another region while the replica answers. (Requests that can
write are replayed before they touch a database; what is left are the rare writes of a reader's
page, such as a first image rendition.)

One database per request. The page cache records the content generation (blog.changes) before a
page is rendered and stores the page under it; a page rendered from older data than the
generation it is stored under would be served until the next publish. So the database a thread
reads from is chosen at its first read and kept until the request ends (OneDatabasePerRequest,
Django's request_finished); the generation and the page then come from the same database, and a
streaming replica only moves forward.

When the replica does not answer, reads (and those rare writes) go to the primary for
RETRY_SECONDS before the replica is tried again (DATABASE_REPLICA_FALLBACK, on by default); with
the fallback off they fail, and readers get the cached pages and the 503 page for the rest.
"""

import logging
import threading
import time

from django.conf import settings
from django.core.signals import request_finished
from django.db import DatabaseError, connections

PRIMARY = "default"
REPLICA = "replica"
# How long a replica that did not answer is left alone.
RETRY_SECONDS = 10

logger = logging.getLogger(__name__)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_problem() -> str | None:
    """None when the replica can be used, else why not.

    A kept connection is trusted unless a query on it has failed since it was opened (then it
    is tested and replaced): checking it on every choice would cost a page-cache hit, which
    otherwise reads nothing, a round trip. So the first request to meet a replica that has just
    gone may get the 503 page; the connection is dropped after it, and the next finds out here.
    """
    connection = connections[REPLICA]
    try:
        failed = connection.connection is not None and connection.errors_occurred
        if failed and not connection.is_usable():
            connection.close()
        connection.ensure_connection()
    except DatabaseError as error:
        connection.close()
        first_line = (str(error).strip().splitlines() or [""])[0]
        return f"{type(error).__name__} {first_line}".strip()
    return None


class ReadDatabase:
    """Which database this thread reads from until its request ends."""

    def __init__(self):
        self._local = threading.local()
        self._replica_down_until = 0.0
        # Why the replica was last found unusable, for /readyz.
        self.problem: str | None = None

    def alias(self) -> str:
        chosen = getattr(self._local, "alias", None)
        if chosen is None:
            chosen = self._local.alias = self._choose()
        return chosen

    def _choose(self) -> str:
        if not replica_configured():
            return PRIMARY
        if time.monotonic() >= self._replica_down_until:
            self.problem = replica_problem()
            if self.problem is None:
                return REPLICA
            self._replica_down_until = time.monotonic() + RETRY_SECONDS
            logger.warning(
                "the read replica does not answer (%s): %s for %s s",
                self.problem,
                "reading from the primary" if settings.DATABASE_REPLICA_FALLBACK else "no reads",
                RETRY_SECONDS,
            )
        return PRIMARY if settings.DATABASE_REPLICA_FALLBACK else REPLICA

    def release(self, **kwargs) -> None:
        """Choose again at the next read (Django's request_finished)."""
        self._local.alias = None


reading = ReadDatabase()
request_finished.connect(reading.release, dispatch_uid="config-replica-release")


class OneDatabasePerRequest:
    """WSGI middleware in front of the page cache (config/wsgi.py): each request, a page-cache
    hit included, starts with a fresh choice, which holds until it ends."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        reading.release()
        return self.application(environ, start_response)


def replica_lag_seconds() -> float | None:
    """How far the replica's data is behind the primary's, in seconds (0 when it has replayed
    everything it received); None when the replica database is not in recovery at all."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(
            "SELECT pg_is_in_recovery(), CASE"
            " WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
            " ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
        )
        in_recovery, lag = cursor.fetchone()
    if not in_recovery:
        return None
    return float(lag or 0)


class ReplicaRouter:
    """Everything to the database `reading` chose; migrations only on the primary."""

    def db_for_read(self, model, **hints):
        return reading.alias()

    def db_for_write(self, model, **hints):
        # Where this request reads. The replica refuses a write, and the request is replayed in
        # the primary region. While reads fall back to the primary, so do writes: Django reads
        # through the write database too (get_or_create, select_for_update), and a dead
        # replica would otherwise fail a reader's page that the primary can serve.
        return reading.alias()

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY
