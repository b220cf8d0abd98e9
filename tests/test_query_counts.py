"""Database queries per page stay flat as posts and tags grow (no N+1 in listings or posts)."""

import datetime

import pytest
from django.db import connection
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
