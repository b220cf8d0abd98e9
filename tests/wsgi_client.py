"""Requests through the whole WSGI stack the server runs (the page cache in front of Django), in
the test's own process and database transaction."""

import contextlib
import io
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from pagecache.wsgi import PageCache


@dataclass
class Response:
    status_code: int
    headers: dict[str, str]
    content: bytes

    def __getitem__(self, name: str) -> str:
        return self.headers[name.lower()]

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.headers


@contextlib.contextmanager
def connections_kept():
    """As Django's test client does: a request must not close the test's database connection
    (it holds the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


class WSGIClient:
    def __init__(self, application=None):
        self.application = application or PageCache(WSGIHandler())

    def get(self, url: str, method: str = "GET", **headers: str) -> Response:
        """`headers` as Django's test client takes them: HTTP_ACCEPT_ENCODING="br" and so on."""
        parts = urlsplit(url)
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "testserver",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            **headers,
        }
        answer = {}

        def start_response(status, response_headers, exc_info=None):
            answer["status"] = int(status.split()[0])
            answer["headers"] = {name.lower(): value for name, value in response_headers}

        with connections_kept():
            result = self.application(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        return Response(answer["status"], answer["headers"], body)
