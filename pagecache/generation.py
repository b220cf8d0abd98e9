"""Reading and bumping the cache generation cheaply enough to do on every request.

On one machine, gunicorn's workers share a marker file in DATA_DIR: a bump rewrites it, and a
request compares its modification time (one stat call). Other machines learn about a bump from
the database row, polled at most every PAGE_CACHE_POLL_SECONDS, so on a multi-machine deploy a
change reaches every machine within that time; on the machine that made it, on the next request.
"""

import os
import time

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F

from pagecache.models import Generation

# After a failed poll, the database is left alone this long. A database that does not answer at
# all costs each attempt DATABASE_CONNECT_TIMEOUT, and readers of cached pages would pay it every
# PAGE_CACHE_POLL_SECONDS; this way one reader in this many seconds does.
FAILED_POLL_BACKOFF_SECONDS = 30


class GenerationClock:
    """This process's view of the current generation."""

    def __init__(self):
        self._marker_mtime = None
        self._database_value = None
        self._next_poll_at = 0.0

    @property
    def marker(self):
        return settings.DATA_DIR / "page-cache-generation"

    def current(self) -> tuple:
        """A token that changes whenever the generation does."""
        try:
            marker_mtime = os.stat(self.marker).st_mtime_ns
        except FileNotFoundError:
            marker_mtime = 0
        now = time.monotonic()
        if now >= self._next_poll_at:
            self._next_poll_at = now + settings.PAGE_CACHE_POLL_SECONDS
            try:
                self._database_value = (
                    Generation.objects.values_list("value", flat=True).filter(pk=1).first()
                )
            except DatabaseError:
                # Database down: keep serving what we have (the outage page covers misses).
                self._next_poll_at = time.monotonic() + FAILED_POLL_BACKOFF_SECONDS
        return (marker_mtime, self._database_value)

    def forget(self) -> None:
        """Poll the database on the next call (used after this process bumps)."""
        self._next_poll_at = 0.0


clock = GenerationClock()


def bump() -> None:
    """Mark every cached page stale, once the current transaction has committed."""
    transaction.on_commit(_bump_now)


def _bump_now() -> None:
    try:
        updated = Generation.objects.filter(pk=1).update(value=F("value") + 1)
        if not updated:
            Generation.objects.get_or_create(pk=1)
    except DatabaseError:
        pass  # the marker file below still invalidates this machine
    marker = clock.marker
    marker.parent.mkdir(parents=True, exist_ok=True)
    # A fresh write moves the modification time even within the same clock tick on most
    # filesystems; the explicit nanosecond bump guards the rest.
    previous = marker.stat().st_mtime_ns if marker.exists() else 0
    marker.write_text(str(time.time_ns()))
    if marker.stat().st_mtime_ns <= previous:
        os.utime(marker, ns=(previous + 1, previous + 1))
    clock.forget()
