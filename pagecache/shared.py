"""What every page shows, kept in each process between requests: the Site, its settings, the
top-level sections and the page view restrictions.

A page rendered on a cache miss then asks the database only for what is its own. The values are
dropped whenever the page cache's generation moves (pagecache.generation), so they are exactly as
fresh as cached pages: on this machine from the next request after a change, on other machines
within PAGE_CACHE_POLL_SECONDS. Nothing is kept when the page cache is off (DEBUG, tests), nor
inside a transaction, whose reads may yet be rolled back and which never moves the generation
before it commits. Callers get their own copies of model instances, so nothing a request sets on
one leaks into the next.
"""

import copy
import threading

from django.conf import settings
from django.db import DatabaseError, connection

from pagecache.generation import clock


class ProcessMemo:
    """Values computed once per generation and process."""

    def __init__(self):
        self._token = None
        self._values: dict = {}
        self._lock = threading.Lock()

    @staticmethod
    def usable() -> bool:
        return settings.PAGE_CACHE_ENABLED and not connection.in_atomic_block

    def get(self, key, compute):
        if not self.usable():
            return compute()
        token = clock.current()  # read before computing: a bump meanwhile wins next time
        with self._lock:
            if token != self._token:
                self._values = {}
                self._token = token
            values = self._values
            if key in values:
                return values[key]
        value = compute()
        with self._lock:
            if values is self._values:
                values[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._values = {}
            self._token = None


memo = ProcessMemo()


def own_copy(instance):
    """A copy of a model instance whose attributes and cached relations a request may change."""
    duplicate = copy.copy(instance)
    for name, related in list(duplicate._state.fields_cache.items()):
        if related is not None and hasattr(related, "_state"):
            duplicate._state.fields_cache[name] = copy.copy(related)
    return duplicate


# --- Page view restrictions ------------------------------------------------------------------


def view_restrictions() -> list:
    """Every page view restriction, with its page (a site has few, usually none)."""
    from wagtail.models import PageViewRestriction

    return memo.get(
        "view-restrictions",
        lambda: list(PageViewRestriction.objects.select_related("page")),
    )


def public(queryset):
    """`queryset.public()`, without reading the restrictions again on every call."""
    if not ProcessMemo.usable():
        return queryset.public()
    restrictions = view_restrictions()
    if not restrictions:
        return queryset
    private = None
    for restriction in restrictions:
        q = queryset.descendant_of_q(restriction.page, inclusive=True)
        private = q if private is None else private | q
    return queryset.exclude(private)


def restriction_ids_for(page):
    """The ids of the restrictions that apply to `page` (set on it or on an ancestor), or None
    when the answer needs the database: aliases take their source page's restrictions."""
    if not ProcessMemo.usable() or page.alias_of_id:
        return None
    restrictions = view_restrictions()
    if not restrictions:
        return []
    if memo.get("any-alias", _any_alias):
        return None
    return [
        restriction.pk
        for restriction in restrictions
        if page.path.startswith(restriction.page.path)
    ]


def _any_alias() -> bool:
    from wagtail.models import Page

    return Page.objects.filter(alias_of__isnull=False).exists()


# --- The site a request is for -----------------------------------------------------------------


def attach_site(request) -> None:
    """Give the request the Site Wagtail would find for it, root page included, unless the
    page cache is off (then Wagtail looks it up as usual)."""
    if hasattr(request, "_wagtail_site") or not ProcessMemo.usable():
        return
    from django.http.request import split_domain_port
    from wagtail.models import Site

    key = ("site", split_domain_port(request._get_raw_host())[0], request.get_port())
    try:
        site = memo.get(key, lambda: _site_with_specific_root(Site._find_for_request(request)))
    except DatabaseError:
        # Database down: views that never needed the Site (robots.txt) still answer; pages
        # look it up themselves and get the outage page as before.
        return
    request._wagtail_site = own_copy(site) if site is not None else None


def _site_with_specific_root(site):
    if site is not None:
        site.root_page = site.root_page.specific
    return site
