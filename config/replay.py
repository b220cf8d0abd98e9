"""Writes go to the primary region: outside it, Fly's proxy is asked to replay them there.

On Fly, a response carrying `fly-replay: region=fra` is not sent to the reader: Fly's proxy
sends the same request again to a machine in that region and returns that machine's answer,
adding a `fly-replay-src` header to the replayed request. Machines outside `PRIMARY_REGION` read
from a read replica (config/replica.py), which cannot write, so every request that can write is
replayed before it touches the database: the admin (its login, editing and previews), and every
method but GET and HEAD. A write that still reaches the replica fails with PostgreSQL's
read-only transaction error (SQLSTATE 25006), and that is turned into a replay too, never a 500.

A request that carries `fly-replay-src` has been replayed already and is never replayed again:
an app whose PRIMARY_REGION named a region without a machine would otherwise bounce requests
forever. Without FLY_REGION (locally, in CI) or in the primary region, nothing changes.

Where this sits: anonymous readers' GET and HEAD requests for pages are answered by the page cache
(pagecache/wsgi.py) in front of Django, and the page cache lets every other request through to
Django without reading anything. So this middleware only needs to come before any other that may
read the database (the site, the session, the user); it sits right after the health checks,
which must answer on every machine and are never replayed.
"""

from django.conf import settings
from django.http import HttpResponse

# PostgreSQL's "cannot execute ... in a read-only transaction".
READ_ONLY_SQLSTATE = "25006"
# Methods that read only; anything else is replayed.
READING_METHODS = frozenset({"GET", "HEAD"})
REPLAYED_HEADER = "HTTP_FLY_REPLAY_SRC"


def primary_region_elsewhere() -> str | None:
    """The primary region when this machine is on Fly outside it, else None (it may write)."""
    here, primary = settings.FLY_REGION, settings.PRIMARY_REGION
    if here and primary and here != primary:
        return primary
    return None


def is_read_only_error(error: BaseException | None) -> bool:
    """Whether this exception, or one it was raised from, is PostgreSQL's read-only error."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if getattr(error, "sqlstate", None) == READ_ONLY_SQLSTATE:
            return True
        error = error.__cause__ or error.__context__
    return False


def replay_in(region: str) -> HttpResponse:
    """The answer Fly's proxy turns into a replay; nobody else should see or keep it."""
    response = HttpResponse(
        f"replaying this request in the primary region ({region})\n",
        status=409,
        content_type="text/plain; charset=utf-8",
    )
    response["fly-replay"] = f"region={region}"
    response["Cache-Control"] = "no-store"
    return response


def replay_for(request, error: BaseException | None = None) -> HttpResponse | None:
    """The replay answer for a request that must not be served here, else None.

    With `error`, only when it is the read-only error; without, when the request can write.
    """
    region = primary_region_elsewhere()
    if region is None or REPLAYED_HEADER in request.META:
        return None
    if not (is_read_only_error(error) if error is not None else can_write(request)):
        return None
    # For the log line (config.log_filters.ReplayLine).
    request.replayed_in = region
    return replay_in(region)


def can_write(request) -> bool:
    if request.method not in READING_METHODS:
        return True
    admin = f"/{settings.ADMIN_PATH}"
    return request.path == admin or request.path.startswith(admin + "/")


class ReplayWritesMiddleware:
    """Answers `fly-replay` for requests that can write, outside the primary region."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return replay_for(request) or self.get_response(request)

    def process_exception(self, request, exception):
        # A view that wrote after all. Errors raised elsewhere (another middleware) reach the
        # 500 handler, which asks replay_for too (config.errors.server_error).
        return replay_for(request, exception)
