"""When what readers see changes: the content generation, and the signal that announces it.

Anything kept between requests (whole pages in the page cache, the site data every page shows in
blog.site_data) records `generation()` when it is made and is stale once that differs. A change
(publishing, unpublishing, moving a page, editing a snippet, the site settings, an image, a
redirect, a view restriction) moves the generation once its transaction commits, and sends
`content_changed` in the process that made it.

On one machine, gunicorn's workers share a marker file in DATA_DIR: a bump rewrites it, and a
reader of the generation compares its modification time (one stat call). Other machines learn of a
bump from the database row, polled at most every PAGE_CACHE_POLL_SECONDS, so on a multi-machine
deploy a change reaches every machine within that time; on the machine that made it, at once.

The row is read from the database pages are rendered from: on a machine outside the primary
region, its read replica (config/replica.py). A replica has the row's new value only once it has
the change itself, so a page rendered after the generation was read is never older than it. When
this process switches databases (a replica stops answering, or answers again), the row is read
again from the new one before the old value is used.
"""

import os
import time

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connections, router, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal
from wagtail.models import Page
from wagtail.signals import page_slug_changed, post_page_move, published, unpublished

# Sent (with no arguments) in the process that made a change readers see, after it committed.
content_changed = Signal()

# After a failed poll, the database is left alone this long. A database that does not answer at
# all costs each attempt DATABASE_CONNECT_TIMEOUT, and readers of cached pages would pay it every
# PAGE_CACHE_POLL_SECONDS; this way one reader in this many seconds does.
FAILED_POLL_BACKOFF_SECONDS = 30


class GenerationClock:
    """This process's view of the current generation.

    A poll is due when PAGE_CACHE_POLL_SECONDS have passed by either clock. The monotonic clock
    is immune to the wall clock being set, but a machine Fly suspends and later resumes (a
    Firecracker snapshot, `auto_stop_machines = "suspend"`) finds it where it stopped, however
    long it slept; the wall clock is right again after a resume, so it says a poll is due, and
    the first page served after waking checks for what other machines published meanwhile."""

    def __init__(self):
        self._marker_mtime = None
        self._database_value = None
        # The database _database_value was read from.
        self._source = None
        self._next_poll_at = 0.0
        self._next_poll_wall = 0.0

    @property
    def marker(self):
        return settings.DATA_DIR / "page-cache-generation"

    def current(self) -> tuple:
        """A token that changes whenever the generation does."""
        try:
            marker_mtime = os.stat(self.marker).st_mtime_ns
        except FileNotFoundError:
            marker_mtime = 0
        now, wall = time.monotonic(), time.time()
        source = router.db_for_read(apps.get_model("blog", "ContentGeneration"))
        if now >= self._next_poll_at or wall >= self._next_poll_wall or source != self._source:
            self._schedule_poll(settings.PAGE_CACHE_POLL_SECONDS)
            # Recorded even when the poll fails, so the backoff below holds for this database.
            self._source = source
            try:
                self._database_value = self._poll(source)
            except DatabaseError:
                # Database down: keep serving what we have (the outage page covers misses).
                self._schedule_poll(FAILED_POLL_BACKOFF_SECONDS)
        return (marker_mtime, self._database_value)

    def _schedule_poll(self, seconds: float) -> None:
        self._next_poll_at = time.monotonic() + seconds
        self._next_poll_wall = time.time() + seconds

    def _poll(self, source: str):
        rows = generation_rows(source)
        connection = connections[source]
        reused = connection.connection is not None
        try:
            return rows.first()
        except DatabaseError:
            if connection.in_atomic_block or not reused:
                raise
            # A kept connection the server has since closed (an idle timeout, a pooler's
            # restart): drop it and ask once more on a new one before calling the database down.
            connection.close()
            return rows.first()

    def forget(self) -> None:
        """Poll the database on the next call (used after this process bumps)."""
        self._next_poll_at = 0.0
        self._next_poll_wall = 0.0


def generation_rows(using: str = "default"):
    """The generation's row in that database, as a query for its value."""
    model = apps.get_model("blog", "ContentGeneration")
    return model.objects.using(using).filter(pk=1).values_list("value", flat=True)


clock = GenerationClock()


def generation() -> tuple:
    """The current content generation, as a token to compare (cheap: see the module's doc)."""
    return clock.current()


def bump() -> None:
    """Mark everything kept stale, once the current transaction has committed."""
    transaction.on_commit(_bump_now)


def _bump_now() -> None:
    ContentGeneration = apps.get_model("blog", "ContentGeneration")
    try:
        updated = ContentGeneration.objects.filter(pk=1).update(value=F("value") + 1)
        if not updated:
            ContentGeneration.objects.get_or_create(pk=1)
    except DatabaseError:
        pass  # the marker file below still tells this machine
    marker = clock.marker
    marker.parent.mkdir(parents=True, exist_ok=True)
    # A fresh write moves the modification time even within the same clock tick on most
    # filesystems; the explicit nanosecond bump guards the rest.
    previous = marker.stat().st_mtime_ns if marker.exists() else 0
    marker.write_text(str(time.time_ns()))
    if marker.stat().st_mtime_ns <= previous:
        os.utime(marker, ns=(previous + 1, previous + 1))
    clock.forget()
    content_changed.send(sender=GenerationClock)


# --- What counts as a change readers see --------------------------------------------------------

# Page fields that saving a draft touches; changing only these leaves the live page as it was.
DRAFT_ONLY_FIELDS = frozenset(
    {
        "draft_title",
        "has_unpublished_changes",
        "latest_revision",
        "latest_revision_created_at",
        "locked",
        "locked_at",
        "locked_by",
    }
)
# Models whose rows readers see (besides pages): any app label here, or a "label.Model" name.
SHOWN_APPS = {"blog", "taggit"}
SHOWN_MODELS = {
    "wagtailcore.site",
    # Making a page private must stop its cached copy reaching anonymous readers at once.
    "wagtailcore.pageviewrestriction",
    "wagtailimages.image",
    "wagtaildocs.document",
    "wagtailredirects.redirect",
}
# Rows of the blog app that readers never see: the generation itself, the importer's records.
UNSHOWN_MODELS = {"blog.contentgeneration", "blog.contentsource"}


def _on_publish_change(sender, **kwargs):
    bump()


def _page_change_is_public(page, update_fields, created) -> bool:
    if update_fields is not None and set(update_fields) <= DRAFT_ONLY_FIELDS:
        return False
    return bool(page.live or created)


def _on_row_saved(sender, instance, created=False, update_fields=None, **kwargs):
    # Django sends post_save with the concrete class as sender, so page subclasses arrive here
    # too; they are told apart by instance, not by sender.
    if isinstance(instance, Page):
        if _page_change_is_public(instance, update_fields, created):
            bump()
    elif _shown_to_readers(sender):
        bump()


def _on_row_deleted(sender, instance, **kwargs):
    if isinstance(instance, Page) or _shown_to_readers(sender):
        bump()


def _shown_to_readers(model) -> bool:
    meta = model._meta
    if meta.label_lower in UNSHOWN_MODELS:
        return False
    return meta.app_label in SHOWN_APPS or meta.label_lower in SHOWN_MODELS


def connect() -> None:
    for signal in (published, unpublished, page_slug_changed, post_page_move):
        signal.connect(_on_publish_change, dispatch_uid=f"content-changes-{id(signal)}")
    post_save.connect(_on_row_saved, dispatch_uid="content-changes-row-saved")
    post_delete.connect(_on_row_deleted, dispatch_uid="content-changes-row-deleted")
