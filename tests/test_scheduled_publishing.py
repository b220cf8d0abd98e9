"""Scheduled publishing: the loop scripts/start runs beside gunicorn puts scheduled pages live and
takes expired ones down, and survives a failed run."""

import logging
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.utils import timezone
from wagtail.models import Page, Revision, Site

from blog.management.commands import publish_scheduled_loop

# The loop closes its database connection after each run, as it does in production, which a
# test wrapped in a transaction would not survive. serialized_rollback restores the page tree.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def home() -> Page:
    return Site.objects.get(is_default_site=True).root_page


def scheduled_page(slug: str, go_live_in: timedelta) -> Revision:
    """A page an editor published with a go-live time: stored, approved, not yet live."""
    page = Page(title=f"Scheduled {slug}", slug=slug, live=False)
    home().add_child(instance=page)
    page.go_live_at = timezone.now() + go_live_in
    revision = page.save_revision()
    revision.publish()
    page.refresh_from_db()
    assert not page.live
    return revision


def let_time_pass(revision: Revision) -> None:
    """Move the go-live time into the past, as waiting would: the approved time the job looks
    for and the one stored in the revision, which publishing checks again."""
    past = timezone.now() - timedelta(minutes=1)
    revision.content["go_live_at"] = past.isoformat()
    revision.approved_go_live_at = past
    revision.save(update_fields=["content", "approved_go_live_at"])


def test_page_goes_live_when_the_loop_runs_after_its_go_live_time(client):
    revision = scheduled_page("launch-notes", go_live_in=timedelta(hours=1))
    assert client.get("/launch-notes/").status_code == 404

    let_time_pass(revision)
    call_command("publish_scheduled_loop", runs=1)

    response = client.get("/launch-notes/")
    assert response.status_code == 200
    assert "Scheduled launch-notes" in response.content.decode()


def test_page_scheduled_for_later_stays_unpublished(client):
    scheduled_page("next-week", go_live_in=timedelta(days=7))
    call_command("publish_scheduled_loop", runs=1)
    assert client.get("/next-week/").status_code == 404


def test_page_past_its_expiry_time_comes_down(client):
    page = Page(title="Limited offer", slug="limited-offer")
    home().add_child(instance=page)
    page.save_revision().publish()
    assert client.get("/limited-offer/").status_code == 200
    Page.objects.filter(pk=page.pk).update(expire_at=timezone.now() - timedelta(minutes=1))

    call_command("publish_scheduled_loop", runs=1)

    assert client.get("/limited-offer/").status_code == 404
    page.refresh_from_db()
    assert page.expired


def test_a_failed_run_is_logged_and_the_next_run_publishes(client, monkeypatch, caplog):
    revision = scheduled_page("after-outage", go_live_in=timedelta(hours=1))
    let_time_pass(revision)
    real_call_command = publish_scheduled_loop.call_command
    attempts = []

    def database_down_once(name, *args, **kwargs):
        attempts.append(name)
        if len(attempts) == 1:
            raise OperationalError("could not connect to server")
        return real_call_command(name, *args, **kwargs)

    monkeypatch.setattr(publish_scheduled_loop, "call_command", database_down_once)
    loop = publish_scheduled_loop.Command()

    with caplog.at_level(logging.WARNING, logger="blog.publish_scheduled_loop"):
        loop.run_once()
    assert "could not connect to server" in caplog.text
    assert client.get("/after-outage/").status_code == 404

    loop.run_once()
    assert client.get("/after-outage/").status_code == 200


@pytest.mark.skipif(
    "postgresql" not in connection.settings_dict["ENGINE"],
    reason="several machines share a database only with PostgreSQL (DATABASE_URL=postgres://...)",
)
def test_only_one_machine_publishes_at_a_time_on_postgresql(client, caplog):
    import psycopg

    revision = scheduled_page("one-at-a-time", go_live_in=timedelta(hours=1))
    let_time_pass(revision)
    loop = publish_scheduled_loop.Command()
    # Another machine's loop, mid-run, holds the lock.
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other_machine:
        other_machine.execute(
            "SELECT pg_advisory_lock(%s)", [publish_scheduled_loop.ADVISORY_LOCK_ID]
        )
        with caplog.at_level(logging.INFO, logger="blog.publish_scheduled_loop"):
            loop.run_once()
        assert "another machine is publishing" in caplog.text
        assert client.get("/one-at-a-time/").status_code == 404

    loop.run_once()
    assert client.get("/one-at-a-time/").status_code == 200


@pytest.mark.parametrize(("option", "value"), [("interval", 0), ("runs", -1)])
def test_nonsense_options_are_refused_with_a_readable_error(option, value):
    with pytest.raises(CommandError, match=f"--{option}"):
        call_command("publish_scheduled_loop", **{option: value})
