"""A database that accepts connections but never answers (a network partition, a stopped machine
behind a private address): readers get the 503 page quickly, and no worker is killed."""

import http.client
import socket
import threading
from urllib.parse import urlsplit

import pytest

from tests import server

pytestmark = pytest.mark.slow

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
