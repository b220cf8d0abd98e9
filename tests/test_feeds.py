"""RSS and Atom feeds: valid, newest first, full content with absolute URLs, per tag."""

import datetime

import feedparser
import pytest

from tests.factories import BlogPageFactory, ImageFactory, every_block_body, make_private

pytest_plugins = ["tests.site_content"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rendering")]

FEEDS = ["/blog/feed/rss/", "/blog/feed/atom/"]


def parse(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return response, feed


@pytest.fixture
def posts():
    image = ImageFactory()
    return [
        BlogPageFactory(title="Oldest", date=datetime.date(2025, 1, 1), tags=["deploy"]),
        BlogPageFactory(
            title="Newest",
            date=datetime.date(2026, 6, 1),
            tags=["deploy", "fly.io"],
            body=every_block_body(image=image),
            hero_image=image,
            hero_alt="Hero",
        ),
        BlogPageFactory(title="Middle", date=datetime.date(2025, 9, 1), tags=["wagtail"]),
    ]


@pytest.mark.usefixtures("posts")
@pytest.mark.parametrize("url", FEEDS)
def test_feed_is_valid_and_lists_posts_newest_first(client, url):
    _, feed = parse(client, url)
    assert [entry.title for entry in feed.entries] == ["Newest", "Middle", "Oldest"]
    assert feed.feed.title == "Flight Log: Write-up"
    assert feed.feed.link == "http://testserver/blog/"
    published = [entry.published_parsed for entry in feed.entries]
    assert published == sorted(published, reverse=True)


@pytest.mark.usefixtures("posts")
@pytest.mark.parametrize(
    ("url", "content_type"),
    [(FEEDS[0], "application/rss+xml"), (FEEDS[1], "application/atom+xml")],
)
def test_feeds_have_their_content_types(client, url, content_type):
    assert client.get(url)["Content-Type"].startswith(content_type)


@pytest.mark.usefixtures("posts")
@pytest.mark.parametrize("url", FEEDS)
def test_entries_carry_the_full_post_with_absolute_links_and_images(client, url):
    _, feed = parse(client, url)
    newest = feed.entries[0]
    assert newest.link == "http://testserver/blog/newest/"
    assert newest.summary == "What “Newest” is about."
    content = newest.content[0].value
    assert "Configuration" in content
    assert "ALLOWED_HOSTS" in content
    assert 'src="http://testserver/media/images/' in content
    assert 'src="/' not in content
    assert 'href="/' not in content
    assert 'href="https://fly.io/docs/flyctl/"' in content
    assert "copy-button" not in content
    assert "<picture" not in content
    assert [tag.term for tag in newest.tags] == ["deploy", "fly.io"]


@pytest.mark.parametrize("url", FEEDS)
def test_feed_entries_name_their_authors(client, url):
    from tests.factories import AuthorFactory

    BlogPageFactory(authors=[AuthorFactory(name="Ada"), AuthorFactory(name="Grace")])
    _, feed = parse(client, url)
    assert feed.entries[0].author == "Ada and Grace"


@pytest.mark.usefixtures("posts")
@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_tag_feed_lists_only_posts_with_that_tag(client, kind):
    _, feed = parse(client, f"/blog/tags/deploy/feed/{kind}/")
    assert [entry.title for entry in feed.entries] == ["Newest", "Oldest"]
    assert feed.feed.title == "Flight Log: posts tagged “deploy”"
    assert feed.feed.link == "http://testserver/blog/tags/deploy/"


@pytest.mark.parametrize("url", FEEDS)
def test_drafts_and_private_posts_never_appear_in_feeds(client, url):
    BlogPageFactory(title="Public", tags=["deploy"])
    BlogPageFactory(title="Draft", live=False, tags=["deploy"])
    make_private(BlogPageFactory(title="Private", tags=["deploy"]))
    for feed_url in (url, url.replace("/blog/", "/blog/tags/deploy/")):
        _, feed = parse(client, feed_url)
        assert [entry.title for entry in feed.entries] == ["Public"]


@pytest.mark.parametrize("url", FEEDS)
def test_a_feed_with_no_posts_is_still_valid(client, url):
    _, feed = parse(client, url)
    assert feed.entries == []


def test_feed_keeps_to_the_newest_twenty_posts(client):
    for day in range(1, 23):
        BlogPageFactory(title=f"Post {day}", date=datetime.date(2026, 1, day))
    _, feed = parse(client, FEEDS[1])
    assert len(feed.entries) == 20
    assert feed.entries[0].title == "Post 22"


@pytest.mark.usefixtures("posts")
def test_every_page_advertises_the_feeds_and_tag_pages_their_own(client):
    html = " ".join(client.get("/docs/").content.decode().split())
    assert (
        '<link rel="alternate" type="application/rss+xml" title="Flight Log (RSS)" '
        'href="/blog/feed/rss/">' in html
    )
    assert 'type="application/atom+xml" title="Flight Log (Atom)" href="/blog/feed/atom/"' in html
    tag_page = " ".join(client.get("/blog/tags/deploy/").content.decode().split())
    assert 'title="Posts tagged deploy (RSS)" href="/blog/tags/deploy/feed/rss/"' in tag_page
