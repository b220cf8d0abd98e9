"""Run Wagtail's `publish_scheduled` now and then every few minutes, until SIGTERM.

scripts/start runs this beside gunicorn in the production container, so pages and revisions an
editor scheduled go live (and expired ones come down) without a cron daemon or an extra machine.
Each run is on its own: a failure is logged and the next run tries again. With PostgreSQL, several
machines may run the loop; an advisory lock lets one of them publish at a time.
"""

import logging
import signal
import threading
from contextlib import contextmanager

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone
from wagtail.models import Revision

from config.env import env_int

logger = logging.getLogger("blog.publish_scheduled_loop")

DEFAULT_INTERVAL = 300
# An arbitrary constant naming this job's PostgreSQL advisory lock.
ADVISORY_LOCK_ID = 0x466C6967  # "Flig"


@contextmanager
def one_publisher_at_a_time():
    """Yield True when this process may publish now (always, except on a busy PostgreSQL)."""
    if connection.vendor != "postgresql":
        # SQLite lives on one machine's disk: no other machine can run this job against it.
        yield True
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            # A transaction-level lock: released at commit, safe behind PgBouncer.
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ADVISORY_LOCK_ID])
            acquired = cursor.fetchone()[0]
        yield acquired


@contextmanager
def stop_on_signals(stopping: threading.Event):
    """Set `stopping` on SIGTERM or SIGINT while the block runs, then restore the old handlers."""
    # Only the main thread may install handlers; elsewhere (a test's thread) there is no signal.
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signal_number, frame):
        stopping.set()

    previous = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class Command(BaseCommand):
    help = (
        "Publish scheduled pages and unpublish expired ones (Wagtail's publish_scheduled) "
        "at once and then every --interval seconds, until SIGTERM or SIGINT."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=int,
            default=env_int("PUBLISH_SCHEDULED_INTERVAL", DEFAULT_INTERVAL),
            help="Seconds between runs (default: $PUBLISH_SCHEDULED_INTERVAL or 300).",
        )
        parser.add_argument(
            "--runs",
            type=int,
            default=0,
            help="Stop after this many runs (default 0: run until stopped).",
        )

    def handle(self, *args, interval, runs, **options):
        if interval < 1:
            raise CommandError(f"--interval must be at least 1 second, not {interval}")
        if runs < 0:
            raise CommandError(f"--runs must be 0 (no limit) or more, not {runs}")
        stopping = threading.Event()
        with stop_on_signals(stopping):
            logger.info("publishing scheduled pages every %s s", interval)
            done = 0
            while not stopping.is_set():
                self.run_once()
                done += 1
                if runs and done >= runs:
                    break
                stopping.wait(interval)
        logger.info("stopped")

    def run_once(self) -> None:
        close_old_connections()
        try:
            with one_publisher_at_a_time() as acquired:
                if acquired:
                    due = Revision.objects.filter(approved_go_live_at__lt=timezone.now()).count()
                    call_command("publish_scheduled")
                    if due:
                        logger.info("published %s scheduled revision(s)", due)
                else:
                    logger.info("another machine is publishing: skipped this run")
        except DatabaseError as error:
            logger.warning("publish_scheduled failed, trying again next run: %s", error)
        except Exception:
            logger.exception("publish_scheduled failed, trying again next run")
        finally:
            # Hold no connection between runs (a pooler counts idle ones too).
            connection.close()
