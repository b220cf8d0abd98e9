"""Serve anonymous readers whole pages from memory, compressed once, revalidated by ETag.

A reader's request that carries no session cookie, for a page without a query string (or only
`?page=N`), is looked up by scheme, host, path and query. A hit costs a dictionary look-up and a
stat call: no template, no database. A miss renders normally and, if the response is a plain
200 with no cookie and no private caching, stores it with gzip and Brotli variants and a weak
ETag. Any change to published content moves the generation (pagecache.signals) and makes every
stored page stale at once, which keeps invalidation exact without tracking which page shows what.
"""

import functools
import gzip
import hashlib
import re
import threading
from collections import OrderedDict

import brotli
from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified

from pagecache import shared
from pagecache.generation import clock

ALLOWED_QUERY = re.compile(r"(?:page=\d{1,6})?")
UNCACHEABLE_CONTROL = re.compile(r"\b(?:private|no-store|no-cache)\b")
# Headers a hit recomputes or must never replay.
SKIPPED_HEADERS = {"content-length", "content-encoding", "set-cookie", "date", "x-cache"}
MIN_COMPRESS_BYTES = 512


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


class Entry:
    """One stored page: its bodies per encoding and the headers to send with them."""

    __slots__ = ("bodies", "etag", "generation", "header_stores", "headers", "size")

    def __init__(self, response, generation):
        body = response.content
        self.generation = generation
        self.etag = 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        self.bodies = {"identity": body}
        if len(body) >= MIN_COMPRESS_BYTES:
            self.bodies["br"] = brotli.compress(body, quality=9)
            self.bodies["gzip"] = gzip.compress(body, compresslevel=9, mtime=0)
        self.headers = [
            (name, value)
            for name, value in response.headers.items()
            if name.lower() not in SKIPPED_HEADERS
        ]
        if len(self.bodies) > 1:
            vary = response.headers.get("Vary")
            if not vary or "accept-encoding" not in vary.lower():
                self.headers = [(n, v) for n, v in self.headers if n.lower() != "vary"]
                self.headers.append(
                    ("Vary", f"{vary}, Accept-Encoding" if vary else "Accept-Encoding")
                )
        if not response.has_header("Cache-Control"):
            # Browsers may keep the page but must check it is current (a cheap 304) each time.
            self.headers.append(("Cache-Control", "public, max-age=0, must-revalidate"))
        self.headers.append(("ETag", self.etag))
        self.size = sum(len(variant) for variant in self.bodies.values())
        # Each encoding's full header set, checked and encoded once here rather than header by
        # header on every hit (a third of a hit's time in Django's code): a hit copies it in.
        self.header_stores = {}
        for encoding, variant in self.bodies.items():
            prepared = HttpResponse()
            for name, value in self.headers:
                prepared[name] = value
            if encoding != "identity":
                prepared["Content-Encoding"] = encoding
            prepared["Content-Length"] = str(len(variant))
            self.header_stores[encoding] = dict(prepared.headers._store)

    def respond(self, request, outcome: str):
        if self.etag in request.META.get("HTTP_IF_NONE_MATCH", ""):
            response = HttpResponseNotModified()
            for name, value in self.headers:
                if name.lower() in {"etag", "cache-control", "vary"}:
                    response[name] = value
        else:
            accepted = accepted_encodings(request.META.get("HTTP_ACCEPT_ENCODING", ""))
            encoding = next(
                (name for name in ("br", "gzip") if name in accepted and name in self.bodies),
                "identity",
            )
            response = HttpResponse(self.bodies[encoding])
            response.headers._store.update(self.header_stores[encoding])
        response["X-Cache"] = outcome
        return response


class PageStore:
    """A bounded least-recently-used map shared by the threads of one process."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key, entry: Entry) -> None:
        if entry.size > self.max_bytes:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.bytes -= old.size
            self.entries[key] = entry
            self.bytes += entry.size
            while self.bytes > self.max_bytes:
                _, evicted = self.entries.popitem(last=False)
                self.bytes -= evicted.size

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.bytes = 0


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.store = PageStore(settings.PAGE_CACHE_MAX_MB * 1024 * 1024)
        # Media files stream (never stored) and need no database: they skip the cache entirely,
        # so serving images asks nothing of a database that may be down.
        self.bypass_prefixes = (f"/{settings.ADMIN_PATH}/", "/documents/", settings.MEDIA_URL)

    def request_is_cacheable(self, request) -> bool:
        return (
            settings.PAGE_CACHE_ENABLED
            and request.method in ("GET", "HEAD")
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and not request.path.startswith(self.bypass_prefixes)
            and ALLOWED_QUERY.fullmatch(request.META.get("QUERY_STRING", "")) is not None
        )

    @staticmethod
    def response_is_cacheable(response) -> bool:
        return (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and not UNCACHEABLE_CONTROL.search(response.get("Cache-Control", ""))
        )

    def __call__(self, request):
        if not self.request_is_cacheable(request):
            return self.get_response(request)
        key = (
            request.is_secure(),
            request.get_host(),
            request.path,
            request.META.get("QUERY_STRING", ""),
        )
        generation = clock.current()  # read before rendering: a bump mid-render wins
        entry = self.store.get(key)
        if entry is not None and entry.generation == generation:
            return entry.respond(request, "hit")
        # A miss renders the page, with what every page shows kept from earlier requests.
        shared.attach_site(request)
        response = self.get_response(request)
        if (
            self.store.max_bytes
            and request.method == "GET"
            and self.response_is_cacheable(response)
        ):
            entry = Entry(response, generation)
            self.store.put(key, entry)
            return entry.respond(request, "miss")
        return response
