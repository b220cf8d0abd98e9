"""A database that accepts connections but never answers (a network partition, a stopped machine
behind a private address): readers get the 503 page quickly, no worker is killed, and readers of
cached pages do not wait on the database."""

import http.client
import socket
import threading
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.db import OperationalError

from blog import changes
from tests import server

VIA_FLY_PROXY = {"Host": "localhost", "X-Forwarded-Proto": "https"}
# Longer than gunicorn's worker timeout (30 s), so a killed worker shows as a dropped connection.
PATIENT_CLIENT_SECONDS = 45


def patient_get(url: str) -> tuple[int, dict[str, str], str]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=PATIENT_CLIENT_SECONDS
    )
    try:
        connection.request("GET", parts.path, headers=VIA_FLY_PROXY)
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read().decode()
    finally:
        connection.close()


@pytest.fixture
def silent_database():
    """A port that completes TCP handshakes and then says nothing, as a database does whose
    packets stop arriving; yields its PostgreSQL URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held = []
    stop = threading.Event()

    def accept_and_ignore():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept_and_ignore, daemon=True)
    thread.start()
    yield f"postgres://postgres@127.0.0.1:{listener.getsockname()[1]}/flightlog"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


@pytest.mark.slow
def test_a_database_that_never_answers_gives_the_503_page_not_a_killed_worker(
    silent_database, tmp_path, static_root
):
    with server.run_server(
        tmp_path,
        static_root,
        prepare=False,
        database_url=silent_database,
        WEB_CONCURRENCY="1",
        DATABASE_CONNECT_TIMEOUT="2",
    ) as site:
        status, headers, body = patient_get(site.url + "/")
        assert status == 503
        assert headers["retry-after"] == "30"
        assert "database is not answering" in body
        assert server.fetch(site.url + "/healthz", {"Host": "172.19.2.10:8000"}).status == 200
        assert "WORKER TIMEOUT" not in site.log_text()


def test_cached_pages_ask_a_failing_database_once_per_backoff_not_once_per_poll(
    monkeypatch, settings
):
    """Each cached page checks whether content changed (blog.changes). With a database
    that does not answer, every check waits DATABASE_CONNECT_TIMEOUT; after one failure the
    checks stop for FAILED_POLL_BACKOFF_SECONDS, so readers of cached pages rarely wait."""
    settings.PAGE_CACHE_POLL_SECONDS = 2
    now = [1000.0]
    monkeypatch.setattr(
        changes,
        "time",
        SimpleNamespace(monotonic=lambda: now[0], time=lambda: now[0], time_ns=time.time_ns),
    )
    attempts = []
    database_answers = [False]

    class Rows:
        def __init__(self, using):
            pass

        def first(self):
            attempts.append(now[0])
            if not database_answers[0]:
                raise OperationalError("connection timeout expired")
            return 7

    monkeypatch.setattr(changes, "generation_rows", Rows)
    # No connection kept from before: the first failure is the database's, not a stale socket's.
    monkeypatch.setattr(
        changes, "connections", {"default": SimpleNamespace(connection=None, in_atomic_block=False)}
    )
    clock = changes.GenerationClock()

    # A cached page every 0.3 s for just under the backoff: one attempt, at the first page.
    backoff = changes.FAILED_POLL_BACKOFF_SECONDS
    for _ in range(int(backoff / 0.3)):
        clock.current()
        now[0] += 0.3
    assert attempts == [1000.0]

    # The database is back: the next check after the backoff sees it, and polling resumes.
    database_answers[0] = True
    now[0] = 1000.0 + backoff + 0.1
    assert clock.current()[1] == 7
    now[0] += settings.PAGE_CACHE_POLL_SECONDS
    clock.current()
    assert len(attempts) == 3


def test_a_kept_connection_the_server_closed_is_replaced_without_a_backoff(monkeypatch, settings):
    """An idle connection closed by the server (or a pooler) fails once; the poll reconnects and
    asks again, so other machines' changes are not held back for FAILED_POLL_BACKOFF_SECONDS."""
    settings.PAGE_CACHE_POLL_SECONDS = 2
    answers = iter([OperationalError("server closed the connection unexpectedly"), 9])
    closed = []

    class Rows:
        def __init__(self, using):
            pass

        def first(self):
            answer = next(answers)
            if isinstance(answer, Exception):
                raise answer
            return answer

    kept = SimpleNamespace(
        connection=object(), in_atomic_block=False, close=lambda: closed.append(1)
    )
    monkeypatch.setattr(changes, "generation_rows", Rows)
    monkeypatch.setattr(changes, "connections", {"default": kept})
    assert changes.GenerationClock().current()[1] == 9
    assert closed == [1]
