"""Database queries per page stay flat as posts and tags grow (no N+1 in listings or posts)."""

import datetime
import re

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    AuthorFactory,
    BlogPageFactory,
    DocPageFactory,
    ImageFactory,
    docs_index,
    every_block_body,
)

pytest_plugins = ["tests.site_content"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rendering")]

URLS = [
    "/",
    "/blog/",
    "/blog/?page=2",
    "/blog/tags/deploy/",
    "/blog/tags/",
    "/blog/2026/",
    "/blog/the-post/",
    "/docs/",
    "/docs/guide/",
    "/search/?q=deploy",
    "/sitemap.xml",
]
# Feeds render each post in full (its body's images are looked up per post), so they hold at
# most blog.feeds.FEED_LENGTH (20) posts: flat once there are more posts than that.
FEED_URLS = ["/blog/feed/atom/", "/blog/tags/deploy/feed/rss/"]


def add_posts(count: int, start: int, authors, image) -> None:
    for number in range(start, start + count):
        BlogPageFactory(
            title=f"Post {number}",
            date=datetime.date(2026, 1, 1) + datetime.timedelta(days=number),
            tags=["deploy", f"topic-{number}", f"series-{number % 3}"],
            authors=authors,
            summary="deploy notes",
            hero_image=image,
            hero_alt="A hero",
            body=every_block_body(image=image),
        )


def queries_for(client, url: str) -> int:
    client.get(url)  # warm up: renditions and site settings are created on first use
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def small_site(tags: list[str]):
    """The post under test (every block, a hero image, two authors), four more posts and a docs
    page with a child. Returns what growing it needs: (authors, image, the docs page)."""
    authors = [AuthorFactory(name="Ada"), AuthorFactory(name="Grace")]
    image = ImageFactory()
    BlogPageFactory(
        title="The post",
        date=datetime.date(2026, 6, 1),
        tags=tags,
        authors=authors,
        hero_image=image,
        hero_alt="A hero",
        body=every_block_body(image=image),
    )
    guide = DocPageFactory(title="Guide")
    DocPageFactory(title="Guide child", parent=guide)
    add_posts(4, start=1, authors=authors, image=image)
    return authors, image, guide


def test_queries_per_page_do_not_grow_from_5_to_50_posts(client):
    authors, image, guide = small_site(tags=["deploy"])
    few = {url: queries_for(client, url) for url in URLS}

    add_posts(20, start=5, authors=authors, image=image)
    full_feeds = {url: queries_for(client, url) for url in FEED_URLS}

    add_posts(25, start=25, authors=authors, image=image)
    for number in range(10):
        DocPageFactory(title=f"More docs {number}", parent=guide if number % 2 else docs_index())
    many = {url: queries_for(client, url) for url in URLS}

    assert many == few
    assert {url: queries_for(client, url) for url in FEED_URLS} == full_feeds
    # And the numbers stay small enough to notice when a change adds a query per item.
    assert few["/blog/"] <= 15, few
    assert few["/blog/the-post/"] <= 15, few


# --- With the page cache on, as production runs -----------------------------------------------
# A page rendered on a cache miss takes what every page shows (the Site, the site settings, the
# sections, the view restrictions) from the process (pagecache.shared), so only the page's own
# data is queried. PAGE_CACHE_MAX_MB=0 stores no page, so every request renders. Transactional,
# because the process keeps nothing inside a transaction and forgets it all when one commits a
# change; serialized_rollback puts the site's pages back for the tests after this one.

POST_QUERY_CEILING = 6


@pytest.fixture
def miss_renders(rendering, miss_renders):
    """tests/conftest.py's, set up after `rendering`, which turns the page cache off."""
    return miss_renders


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("miss_renders")
def test_a_post_rendered_on_a_cache_miss_takes_6_queries_or_fewer_however_many_posts(client):
    authors, image, guide = small_site(tags=["deploy", "fly", "wagtail"])
    client.get("/")  # the first render creates the site settings row, a change like any other
    few = {url: queries_for(client, url) for url in URLS}
    assert b"Post 4" in client.get("/blog/the-post/").content  # the older post, linked

    add_posts(45, start=5, authors=authors, image=image)
    for number in range(10):
        DocPageFactory(title=f"More docs {number}", parent=guide if number % 2 else docs_index())
    many = {url: queries_for(client, url) for url in URLS}

    assert few["/blog/the-post/"] <= POST_QUERY_CEILING, few
    assert many == few


# --- A worker's first request ------------------------------------------------------------------
# gunicorn's master loads what every page shows before it forks (config.wsgi.warm, run by
# config/gunicorn.conf.py), so a worker's very first request, whichever page it is, queries only
# that page's own rows: what its next request for the page would. The one exception is what
# Wagtail itself caches per process on first use, image renditions and embeds, looked up once per
# image. Each URL is tried as the first request of a fresh process: nothing kept, no content type
# known, Django's cache empty (Wagtail's site root paths, renditions), then the master's warm-up.

FIRST_REQUEST_CEILING = 6
WAGTAIL_CACHED_TABLES = ('"wagtailimages_rendition"', '"wagtailembeds_embed"')


def as_a_fresh_worker() -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache

    from blog.site_data import memo
    from config.wsgi import warm

    memo.clear()
    ContentType.objects.clear_cache()
    cache.clear()
    warm()
    # Django keeps the last 9,000 queries; once full, a capture's slice of them shifts.
    reset_queries()


TRANSACTION_CONTROL = re.compile(r"^(?:BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b")


def page_queries(queries) -> int:
    """Queries, less Wagtail's first lookups of renditions and embeds (cached after them), and
    the transaction around a rendition Wagtail makes on first use: Django logs its BEGIN and
    COMMIT too, so a worker that made one counted two queries that are not the page's."""
    sql = [query["sql"] for query in queries.captured_queries]

    def wagtails(index: int) -> bool:
        return 0 <= index < len(sql) and any(table in sql[index] for table in WAGTAIL_CACHED_TABLES)

    def around_wagtails(index: int) -> bool:
        if not TRANSACTION_CONTROL.match(sql[index]):
            return False
        opening = sql[index].startswith(("BEGIN", "SAVEPOINT"))
        # A block opens just before Wagtail's write, or closes just after it.
        return wagtails(index + 1) if opening else wagtails(index - 1)

    return sum(1 for index in range(len(sql)) if not (wagtails(index) or around_wagtails(index)))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("miss_renders")
def test_a_workers_first_request_queries_only_the_pages_own_rows_whatever_the_page(client):
    small_site(tags=["deploy", "fly", "wagtail"])
    for url in [*URLS, *FEED_URLS]:
        client.get(url)  # renditions and the site settings row exist from now on
    first, next_time = {}, {}
    for url in [*URLS, *FEED_URLS]:
        as_a_fresh_worker()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        first[url] = page_queries(queries)
        next_time[url] = queries_for(client, url)
    assert first == next_time
    # Every HTML page; the sitemap and the feeds list many pages, each with its own rows.
    pages = [url for url in URLS if url != "/sitemap.xml"]
    assert all(first[url] <= FIRST_REQUEST_CEILING for url in pages), first
