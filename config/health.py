"""Health endpoints answered before host validation and the HTTPS redirect.

Fly's health checks reach the machine over plain HTTP with its private address as the Host
(for example `172.19.2.10:8000`) and do not follow redirects. Served by ordinary views, they would
get a DisallowedHost 400 or a 301 to HTTPS and mark every machine unhealthy. So this middleware,
first in the stack, answers `/healthz` and `/readyz` without ever reading the Host header.
"""

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpResponse

from config import replica

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"


def release_line() -> str:
    """`ok release=abc1234 region=fra`, naming what is known about this machine."""
    parts = ["ok"]
    if settings.GIT_SHA:
        parts.append(f"release={settings.GIT_SHA}")
    if settings.FLY_REGION:
        parts.append(f"region={settings.FLY_REGION}")
    return " ".join(parts)


def database_problem(alias: str = replica.PRIMARY) -> str | None:
    """None when the database answers a trivial query, else a short reason."""
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        # Drop the broken connection so the next check (or request) reconnects.
        connection.close_if_unusable_or_obsolete()
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"database unavailable: {type(error).__name__} {first_line}".strip()
    return None


def reading_line(alias: str) -> str:
    """Which database this machine reads from, and with a replica how far behind it is:
    `database=replica replica_lag=0.03s`, or `database=primary replica=unavailable (...)`."""
    if not replica.replica_configured():
        return "database=primary"
    if alias == replica.PRIMARY:
        return f"database=primary replica=unavailable ({replica.reading.problem})"
    try:
        lag = replica.replica_lag_seconds()
    except DatabaseError:
        return "database=replica replica_lag=unknown"
    if lag is None:
        return "database=replica replica_lag=none (it is not in recovery: is it a primary?)"
    return f"database=replica replica_lag={lag:.2f}s"


def _plain(body: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(body + "\n", content_type="text/plain; charset=utf-8", status=status)
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    """Answers the health paths itself; passes every other request on untouched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == HEALTH_PATH:
            return _plain(release_line())
        if request.path == READY_PATH:
            # Chosen afresh (a page-cache hit may have left this thread's last choice).
            replica.reading.release()
            alias = replica.reading.alias()
            problem = database_problem(alias)
            if problem:
                if alias == replica.REPLICA:
                    problem = f"replica {problem}"
                response = _plain(problem, status=503)
                response["Retry-After"] = "5"
                return response
            return _plain(f"{release_line()} {reading_line(alias)}")
        return self.get_response(request)
