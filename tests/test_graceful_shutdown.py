"""SIGTERM in the middle of load, as Fly sends it on every deploy: no in-flight request is lost.

Client threads keep requesting an uncached page from the production-like server (gunicorn, two
sync workers) while the test sends SIGTERM to the gunicorn master. Each request is classified by
what its client saw:

- answered: a complete response (status line, headers, and as many body bytes as
  Content-Length says);
- refused: the connection was never accepted (the listener had closed): not in flight;
- dropped: the connection was accepted and the request sent, but no complete response came back.

Dropped must be zero, and gunicorn must exit with status 0 before its graceful timeout runs out.
"""

import contextlib
import os
import signal
import socket
import threading
import time

import pytest

from tests import server

pytestmark = pytest.mark.slow

CLIENTS = 8
# Enough answered requests before the signal that both workers are busy and connections queue.
ANSWERED_BEFORE_SIGNAL = 40
# gunicorn's graceful_timeout (config/gunicorn.conf.py), and a margin for a loaded machine.
GRACEFUL_TIMEOUT = 20
EXIT_MARGIN = 10
PAGE = "/search/?q=fly+deploy"
REQUEST = (
    f"GET {PAGE} HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-Proto: https\r\n"
    "Connection: close\r\n\r\n"
).encode()


class Tally:
    """What the clients saw, shared between their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answered = 0
        self.refused = 0
        self.dropped: list[str] = []
        self.statuses: dict[int, int] = {}
        # Requests sent before SIGTERM and answered after it: the in-flight ones.
        self.answered_across_signal = 0
        self.signal_sent_at: float | None = None

    def answer(self, status: int, sent_at: float) -> None:
        with self.lock:
            self.answered += 1
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if self.signal_sent_at is not None and sent_at < self.signal_sent_at:
                self.answered_across_signal += 1


def read_response(connection: socket.socket) -> int:
    """The status of a complete response; raises if the response is cut short."""
    received = b""
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            break
        received += chunk
    head, separator, body = received.partition(b"\r\n\r\n")
    if not separator:
        raise ConnectionError(f"no complete headers ({len(received)} bytes)")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    length = {name.lower(): value for name, value in headers.items()}.get("content-length")
    if length is None:
        raise ConnectionError("no Content-Length, so completeness cannot be checked")
    if len(body) != int(length):
        raise ConnectionError(f"body cut short: {len(body)} of {length} bytes")
    return status


def client(port: int, tally: Tally, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            connection = socket.create_connection(("127.0.0.1", port), timeout=GRACEFUL_TIMEOUT)
        except ConnectionRefusedError:
            with tally.lock:
                tally.refused += 1
            if tally.signal_sent_at is not None:
                return  # the listener has closed: this client is done
            continue
        with connection:
            sent_at = time.monotonic()
            try:
                connection.sendall(REQUEST)
                status = read_response(connection)
            except (OSError, ValueError, IndexError) as error:
                with tally.lock:
                    tally.dropped.append(f"{type(error).__name__}: {error}")
                continue
        tally.answer(status, sent_at)


@pytest.fixture
def site(tmp_path, static_root):
    """The production-like server with the shipped content, every page rendered per request."""
    with (
        server.throwaway_database(os.environ.get("DATABASE_URL")) as database_url,
        server.run_server(
            tmp_path,
            static_root,
            database_url=database_url,
            WEB_CONCURRENCY="2",
            PAGE_CACHE="0",
            GUNICORN_MAX_REQUESTS="0",
            SECURE_HSTS_SECONDS="0",
        ) as running,
    ):
        server.manage(running.env, "load_content", "-v", "0")
        yield running


def test_sigterm_during_load_drops_no_in_flight_request(site):
    port = int(site.env["PORT"])
    first = server.fetch(site.url + PAGE, {"Host": "localhost", "X-Forwarded-Proto": "https"})
    assert first.status == 200, first.text[:500]
    assert "Search" in first.text

    tally = Tally()
    stop = threading.Event()
    threads = [
        threading.Thread(target=client, args=(port, tally, stop), daemon=True)
        for _ in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 120
        while tally.answered < ANSWERED_BEFORE_SIGNAL and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tally.answered >= ANSWERED_BEFORE_SIGNAL, "the server never got under load"
        assert not tally.dropped, tally.dropped[:5]

        tally.signal_sent_at = time.monotonic()
        os.kill(site.process.pid, signal.SIGTERM)
        exit_status = site.process.wait(timeout=GRACEFUL_TIMEOUT + EXIT_MARGIN)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=GRACEFUL_TIMEOUT)
        with contextlib.suppress(ProcessLookupError):
            site.process.kill()

    report = (
        f"answered {tally.answered} (statuses {tally.statuses}), "
        f"{tally.answered_across_signal} of them in flight at SIGTERM; "
        f"refused after the listener closed {tally.refused}; dropped {len(tally.dropped)}"
    )
    print(report)
    assert not tally.dropped, f"{report}: {tally.dropped[:5]}"
    assert tally.statuses.keys() == {200}, report
    # Requests sent before the signal were still being served after it: the test really caught
    # requests in flight, and they were finished.
    assert tally.answered_across_signal > 0, report
    assert exit_status == 0, site.log_text()[-3000:]
    assert "Shutting down: Master" in site.log_text()
