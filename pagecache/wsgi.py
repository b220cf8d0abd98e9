"""Serve anonymous readers whole pages from memory, in front of Django, revalidated by ETag.

`PageCache(application)` wraps the Django WSGI application (config/wsgi.py). A reader's request
that carries no session cookie, for a page without a query string (or only `?page=N`), is looked
up by scheme, host, path and query. A hit is answered here, by the WSGI protocol alone: no Django
request or response, no template, no database, only a stat call (blog.changes.generation). A miss
goes to Django; if the answer is a plain 200 with no cookie and no private caching, it is stored
exactly as Django sent it (every middleware's headers included), with gzip and Brotli variants
and a weak ETag, and the reader gets it from the store. Any change readers see moves the content
generation (blog.changes) and makes every stored page stale at once, which keeps invalidation
exact without tracking which page shows what.

A hit can only exist for a scheme and Host that Django served with a 200, so the host check and
the HTTPS redirect Django applies on a miss hold for hits too.
"""

import functools
import gzip
import hashlib
import re
import threading
import weakref
from collections import OrderedDict

import brotli
from django.conf import settings
from django.http.cookie import parse_cookie

from blog.changes import generation
from config.health import HEALTH_PATH, READY_PATH

ALLOWED_QUERY = re.compile(r"(?:page=\d{1,6})?")
UNCACHEABLE_CONTROL = re.compile(r"\b(?:private|no-store|no-cache)\b", re.IGNORECASE)
# Headers a hit recomputes, or that must never be replayed (the server adds Date and Server).
SKIPPED_HEADERS = {"content-length", "content-encoding", "set-cookie", "date", "server", "x-cache"}
# What a 304 repeats of the 200 it stands for.
NOT_MODIFIED_HEADERS = {"etag", "cache-control", "vary", "expires", "content-location"}
MIN_COMPRESS_BYTES = 512
# Compressing is part of every miss. On a 12 kB post, Brotli's quality 9 took 14 ms (as long as
# rendering the page) for 3,965 bytes; quality 5 takes 0.5 ms for 3,985. gzip's level 6 is
# within 1% of level 9's size, a third faster on a 100 kB feed.
BROTLI_QUALITY = 5
GZIP_LEVEL = 6
MEGABYTE = 1024 * 1024

# Every store in this process, so a change made here can empty them all at once.
_stores: "weakref.WeakSet[PageStore]" = weakref.WeakSet()


def forget_every_page(**kwargs) -> None:
    """Receiver of blog.changes.content_changed: free this process's pages now (they would be
    stale on their next read anyway)."""
    for store in list(_stores):
        store.clear()


@functools.lru_cache(maxsize=64)
def accepted_encodings(header: str) -> frozenset[str]:
    """The codings an Accept-Encoding header allows (browsers send a handful of distinct ones,
    so each is parsed once)."""
    accepted = set()
    for part in header.split(","):
        token, _, params = part.strip().partition(";")
        if token and not re.search(r"q=0(?:\.0*)?\s*$", params):
            accepted.add(token.strip().lower())
    return frozenset(accepted)


def header_value(headers: list[tuple[str, str]], name: str) -> str | None:
    name = name.lower()
    return next((value for key, value in headers if key.lower() == name), None)


class Entry:
    """One stored page: its bodies per encoding and the headers to send with each."""

    __slots__ = ("bodies", "etag", "generation", "headers", "not_modified", "size")

    def __init__(self, headers: list[tuple[str, str]], body: bytes, generation):
        self.generation = generation
        self.etag = 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        self.bodies = {"identity": body}
        if len(body) >= MIN_COMPRESS_BYTES:
            self.bodies["br"] = brotli.compress(body, quality=BROTLI_QUALITY)
            self.bodies["gzip"] = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        kept = [(name, value) for name, value in headers if name.lower() not in SKIPPED_HEADERS]
        if len(self.bodies) > 1:
            vary = header_value(kept, "Vary")
            if not vary or "accept-encoding" not in vary.lower():
                kept = [(name, value) for name, value in kept if name.lower() != "vary"]
                kept.append(("Vary", f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"))
        if header_value(kept, "Cache-Control") is None:
            # Browsers may keep the page but must check it is current (a cheap 304) each time.
            kept.append(("Cache-Control", "public, max-age=0, must-revalidate"))
        kept.append(("ETag", self.etag))
        self.not_modified = [(n, v) for n, v in kept if n.lower() in NOT_MODIFIED_HEADERS]
        # Each encoding's full header list, made once here rather than on every hit.
        self.headers = {
            encoding: [
                *kept,
                *([("Content-Encoding", encoding)] if encoding != "identity" else []),
                ("Content-Length", str(len(variant))),
            ]
            for encoding, variant in self.bodies.items()
        }
        self.size = sum(len(variant) for variant in self.bodies.values())

    def respond(self, environ, start_response, outcome: str) -> list[bytes]:
        if self.etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            start_response("304 Not Modified", [*self.not_modified, ("X-Cache", outcome)])
            return []
        accepted = accepted_encodings(environ.get("HTTP_ACCEPT_ENCODING", ""))
        encoding = next(
            (name for name in ("br", "gzip") if name in accepted and name in self.bodies),
            "identity",
        )
        start_response("200 OK", [*self.headers[encoding], ("X-Cache", outcome)])
        if environ.get("REQUEST_METHOD") == "HEAD":
            return []
        return [self.bodies[encoding]]


class PageStore:
    """A bounded least-recently-used map shared by the threads of one process."""

    def __init__(self):
        self.bytes = 0
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()
        _stores.add(self)

    @staticmethod
    def max_bytes() -> int:
        return settings.PAGE_CACHE_MAX_MB * MEGABYTE

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key, entry: Entry) -> None:
        limit = self.max_bytes()
        if entry.size > limit:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.bytes -= old.size
            self.entries[key] = entry
            self.bytes += entry.size
            while self.bytes > limit:
                _, evicted = self.entries.popitem(last=False)
                self.bytes -= evicted.size

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.bytes = 0


class PageCache:
    """The WSGI application that answers from the store, else from the application it wraps."""

    def __init__(self, application):
        self.application = application
        self.store = PageStore()
        # Media and static files stream (never stored) and need no database; the admin and
        # documents are never for anonymous readers; health checks must reach Django.
        self.bypass_prefixes = (
            f"/{settings.ADMIN_PATH}/",
            "/documents/",
            settings.MEDIA_URL,
            settings.STATIC_URL,
        )
        self.bypass_paths = {HEALTH_PATH, READY_PATH}

    def request_is_cacheable(self, environ) -> bool:
        if not settings.PAGE_CACHE_ENABLED or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return False
        path = environ.get("PATH_INFO", "")
        if path in self.bypass_paths or path.startswith(self.bypass_prefixes):
            return False
        if ALLOWED_QUERY.fullmatch(environ.get("QUERY_STRING", "")) is None:
            return False
        cookies = environ.get("HTTP_COOKIE")
        return not (cookies and settings.SESSION_COOKIE_NAME in parse_cookie(cookies))

    def storable(self, environ, status: str, headers: list[tuple[str, str]]) -> bool:
        """A plain 200 to a GET, with nothing private about it and a known, storable size."""
        if environ.get("REQUEST_METHOD") != "GET" or not status.startswith("200 "):
            return False
        if header_value(headers, "Set-Cookie") is not None:
            return False
        if UNCACHEABLE_CONTROL.search(header_value(headers, "Cache-Control") or ""):
            return False
        length = header_value(headers, "Content-Length")
        return length is not None and length.isdigit() and 0 < int(length) <= PageStore.max_bytes()

    @staticmethod
    def key(environ) -> tuple:
        return (
            scheme(environ),
            environ.get("HTTP_HOST")
            or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}",
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
        )

    def __call__(self, environ, start_response):
        if not self.request_is_cacheable(environ):
            return self.application(environ, start_response)
        key = self.key(environ)
        current = generation()  # read before rendering: a change mid-render wins
        entry = self.store.get(key)
        if entry is not None and entry.generation == current:
            return entry.respond(environ, start_response, "hit")

        held = {}

        def hold_if_storable(status, headers, exc_info=None):
            if exc_info is None and self.storable(environ, status, headers):
                held["headers"] = headers
                return held.setdefault("body", []).append
            return start_response(status, headers, exc_info)

        result = self.application(environ, hold_if_storable)
        if not held:
            return result
        try:
            body = b"".join([*held["body"], *result])
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        entry = Entry(held["headers"], body, current)
        self.store.put(key, entry)
        return entry.respond(environ, start_response, "miss")


def scheme(environ) -> str:
    """ "https" or "http", as Django's request.scheme decides it (SECURE_PROXY_SSL_HEADER)."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        forwarded = environ.get(header)
        if forwarded is not None:
            return "https" if forwarded.split(",", 1)[0].strip() == secure_value else "http"
    return environ.get("wsgi.url_scheme", "http")
