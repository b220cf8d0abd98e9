"""Bad input from the address bar gets a normal page or a 404, never a 500."""

import datetime

import pytest

from tests.factories import BlogPageFactory

pytest_plugins = ["tests.site_content"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rendering")]

LISTINGS = ["/blog/", "/blog/tags/deploy/", "/blog/2026/", "/search/?q=deploy&"]
BAD_PAGE_NUMBERS = [
    "abc",
    "0",
    "-1",
    "99999",
    "99999999999999999999999999",
    "1.5",
    "%00",
    "",
    "1e3",
    "%F0%9F%9A%80",
]


@pytest.fixture
def posts():
    for day in range(1, 12):
        BlogPageFactory(
            title=f"Deploy note {day}",
            date=datetime.date(2026, 1, day),
            tags=["deploy"],
            summary="deploy",
        )


def get(client, url: str, page: str):
    separator = "&" if "?" in url else "?"
    return client.get(f"{url}{separator}page={page}")


@pytest.mark.usefixtures("posts")
@pytest.mark.parametrize("url", LISTINGS)
def test_a_bad_page_number_gives_a_normal_listing_page(client, url):
    for page in BAD_PAGE_NUMBERS:
        response = get(client, url, page)
        assert response.status_code == 200, page
        assert b"Deploy note" in response.content, page


@pytest.mark.usefixtures("posts")
def test_a_page_number_past_the_end_shows_the_last_page(client):
    response = get(client, "/blog/", "99999")
    html = response.content.decode()
    assert "Deploy note 1<" in html
    assert "Deploy note 11" not in html
    assert '<link rel="canonical" href="http://testserver/blog/?page=2">' in html


@pytest.mark.usefixtures("posts")
@pytest.mark.parametrize("page", ["abc", "0", "-1"])
def test_an_unreadable_or_too_small_page_number_shows_the_first_page(client, page):
    html = get(client, "/blog/", page).content.decode()
    assert "Deploy note 11" in html
    assert '<link rel="canonical" href="http://testserver/blog/">' in html


@pytest.mark.parametrize(
    "url",
    [
        "/blog/tags/no-such-tag/",
        "/blog/tags/no-such-tag/feed/rss/",
        "/blog/tags/no-such-tag/feed/atom/",
        "/blog/tags/%F0%9F%9A%80/",
        "/blog/tags/" + "x" * 500 + "/",
        "/blog/tags/%00/",
        "/blog/tags/'%20OR%201=1--/",
        "/blog/1999/",
        "/blog/0000/",
        "/blog/9999/",
        "/blog/20260/",
        "/blog/99999999999999999999/",
        "/blog/2026/extra/",
        "/blog/feed/",
        "/blog/feed/json/",
        "/docs/no-such-page/",
    ],
)
def test_unknown_tags_years_and_routes_are_404s(client, url):
    BlogPageFactory(tags=["deploy"], date=datetime.date(2026, 1, 1))
    response = client.get(url)
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_a_tag_only_drafts_use_is_a_404(client):
    BlogPageFactory(live=False, tags=["secret-plans"])
    assert client.get("/blog/tags/secret-plans/").status_code == 404
    assert client.get("/blog/tags/secret-plans/feed/rss/").status_code == 404


def test_a_year_with_only_drafts_is_a_404(client):
    BlogPageFactory(live=False, date=datetime.date(2024, 6, 1))
    assert client.get("/blog/2024/").status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_search_only_answers_get(client, method):
    response = getattr(client, method)("/search/", {"q": "x"})
    assert response.status_code == 405
