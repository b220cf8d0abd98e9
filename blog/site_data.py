"""What every page shows, kept in each process between requests: the Site, its settings, the
top-level sections and the page view restrictions.

A page rendered on a page-cache miss then asks the database only for what is its own. The values
are dropped whenever the content generation moves (blog.changes), so they are exactly as fresh as
cached pages: on this machine from the next request after a change, on other machines within
PAGE_CACHE_POLL_SECONDS. Nothing is kept when the page cache is off (DEBUG, tests), nor inside a
transaction, whose reads may yet be rolled back and which never moves the generation before it
commits. Callers get their own copies of model instances (`copy.copy`, and the Site's root page
copied too), so nothing a request sets on one leaks into the next.
"""

import copy
import threading

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError, connection
from django.http.request import split_domain_port
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.models.sites import get_site_for_hostname

from blog.changes import generation
from config.upstream.wagtail import give_request_its_site


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
        token = generation()  # read before computing: a bump meanwhile wins next time
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


# --- Page view restrictions ------------------------------------------------------------------


def view_restrictions() -> list:
    """Every page view restriction, with its page (a site has few, usually none)."""
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
    return Page.objects.filter(alias_of__isnull=False).exists()


# --- The site a request is for -----------------------------------------------------------------


def site_copy(site):
    """A copy of a Site whose specific root page is a copy too."""
    duplicate = copy.copy(site)
    duplicate.root_page = copy.copy(site.root_page)
    return duplicate


class KeptSiteMiddleware:
    """Gives each request the Site Wagtail would find for it, root page included, from what this
    process keeps; unless the page cache is off (then Wagtail looks it up as usual)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if ProcessMemo.usable():
            self.attach_site(request)
        return self.get_response(request)

    @staticmethod
    def attach_site(request) -> None:
        try:
            hostname, port = split_domain_port(request.get_host())[0], request.get_port()
        except DisallowedHost:
            return  # Django answers 400 further on
        try:
            site = memo.get(site_key(hostname, port), lambda: _find_site(hostname, port))
        except DatabaseError:
            # Database down: views that never needed the Site (robots.txt) still answer; pages
            # look it up themselves and get the outage page as before.
            return
        if site is not None:
            give_request_its_site(request, site_copy(site))


def site_key(hostname: str, port) -> tuple:
    """The memo's key for the Site of a request to hostname:port. A host name that no Site has
    gets the default site whatever its port (as get_site_for_hostname decides), so those requests
    share one key, which warm() can fill before any request comes."""
    if hostname not in memo.get("site-hostnames", _site_hostnames):
        return ("site", None, None)
    # A request's port is a string, a Site's an integer.
    return ("site", hostname, int(port) if str(port).isdigit() else port)


def _site_hostnames() -> frozenset:
    return frozenset(Site.objects.values_list("hostname", flat=True))


def _find_site(hostname: str, port):
    """The Site for a request to hostname:port, with its root page as its specific type."""
    try:
        site = get_site_for_hostname(hostname, port)
    except Site.DoesNotExist:
        return None
    site.root_page = site.root_page.specific
    return site


# --- Filled before the first request -----------------------------------------------------------


def warm() -> None:
    """Fill what this module keeps (the Sites, as every host name finds them, the view
    restrictions, whether any page is an alias) and Wagtail's site root paths, before any request
    needs them. config.wsgi.warm calls it in gunicorn's master, with the rest of what every page
    shows; a DatabaseError is for the caller to handle."""
    if not ProcessMemo.usable():
        return
    Site.get_site_root_paths()
    view_restrictions()
    memo.get("any-alias", _any_alias)
    for site in Site.objects.all():
        key = site_key(site.hostname, site.port)
        found = memo.get(key, lambda site=site: _find_site(site.hostname, site.port))
        if site.is_default_site:
            # Every host name no Site has gets the default site.
            memo.get(("site", None, None), lambda found=found: found)
