"""The few views outside the page tree: search and robots.txt."""

import re
import unicodedata

from django.shortcuts import render
from django.views.decorators.http import require_GET
from wagtail.models import Page

from blog import site_data
from blog.links import absolute_url
from blog.models import BlogPage, DocPage
from blog.pagination import paginate

RESULTS_PER_PAGE = 10
# Longer queries are cut here: no reader types more, and the search index need not see it.
MAX_QUERY_LENGTH = 200


# Words sent to the search backend at most; more only slows the query down.
MAX_SEARCH_WORDS = 12
WORD = re.compile(r"\w+")


def clean_query(raw: str) -> str:
    """The query as the reader sees it again: no control characters (NUL and friends),
    whitespace squeezed, at most MAX_QUERY_LENGTH characters."""
    printable = "".join(
        character if unicodedata.category(character)[0] != "C" else " " for character in raw
    )
    return " ".join(printable.split())[:MAX_QUERY_LENGTH].strip()


def search_words(query: str) -> str:
    """Only the query's words, so quotes, operators and punctuation never reach the backend's
    own query syntax (SQLite FTS5 and PostgreSQL tsquery each have one)."""
    return " ".join(WORD.findall(query)[:MAX_SEARCH_WORDS])


@require_GET
def search(request):
    """Search posts and docs pages (live and public only) with Wagtail's search backend."""
    raw_query = request.GET.get("q", "")
    query = clean_query(raw_query)
    words = search_words(query)
    results = None
    if words:
        matches = (
            site_data.public(Page.objects.live())
            .type(BlogPage, DocPage)
            .specific()
            .search(words, operator="and")
        )
        results = paginate(request, matches, RESULTS_PER_PAGE)
    response = render(
        request,
        "blog/search.html",
        {
            "search_query": query,
            "query_was_shortened": len(" ".join(raw_query.split())) > MAX_QUERY_LENGTH,
            "results": results,
            "noindex": True,
        },
    )
    # Result pages are for readers, not for search engines (robots.txt says so too).
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def robots_txt(request):
    return render(
        request,
        "robots.txt",
        {"sitemap_url": absolute_url(request, "/sitemap.xml")},
        content_type="text/plain; charset=utf-8",
    )
