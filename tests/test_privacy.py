"""Nothing unpublished or private reaches a reader.

Every way a page can be hidden (a draft never published, a newer draft of a live page, a revision
scheduled for later, unpublished, expired, behind a password, a login or a group, or below such a
page) is set up with a word of its own. A reader's crawl of the whole public site then follows
every link, feed, archive and tag page, and reads the sitemap, the search results, the metadata
and the structured data: none of those words may appear anywhere. The crawl runs with the page
cache off and with what the page cache keeps per process (blog.site_data), which answers "is
this public?" by a different path.
"""

import datetime
import os
import re
import time
from html import unescape

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone
from wagtail.models import Page, PageViewRestriction

from tests import server
from tests.factories import (
    BlogPageFactory,
    DocPageFactory,
    blog_index,
    docs_index,
    paragraph,
)

# Committed for real (not one transaction per test), as blog.site_data keeps nothing inside a
# transaction; serialized_rollback puts the site's pages back for the tests after these.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Each hidden state, and the word only a page in that state carries.
HIDDEN_WORDS = {
    "never published": "qzxneverpublished",
    "newer draft of a live post": "qzxdraftwords",
    "scheduled revision of a live post": "qzxscheduledrevision",
    "new post scheduled for later": "qzxscheduledpost",
    "unpublished": "qzxunpublished",
    "expired": "qzxexpired",
    "password": "qzxpasswordprivate",
    "login": "qzxloginprivate",
    "groups": "qzxgroupprivate",
    "below a private docs page": "qzxprivatechild",
    "private docs page": "qzxprivatedocs",
}
HIDDEN_YEAR = 2019
LINK = re.compile(r'(?:href|src)="(/[^"#]*)')
FUTURE = datetime.timedelta(days=30)


def hidden_post(state: str, **kwargs) -> Page:
    word = HIDDEN_WORDS[state]
    return BlogPageFactory(
        title=f"Post {word}",
        slug=f"hidden-{state.replace(' ', '-')}",
        summary=f"About {word}.",
        body=[paragraph(f"Body {word}.")],
        tags=[f"tag-{word}"],
        date=datetime.date(HIDDEN_YEAR, 6, 1),
        **kwargs,
    )


def restrict(page: Page, kind: str) -> Page:
    restriction = PageViewRestriction.objects.create(
        page=page, restriction_type=kind, password="secret" if kind == "password" else ""
    )
    if kind == PageViewRestriction.GROUPS:
        restriction.groups.set([Group.objects.get_or_create(name="Insiders")[0]])
    return page


def draft_over(page: Page, word: str) -> Page:
    """Edit the live page as the editor's form does, and save a draft (not published)."""
    draft = page.specific_class.objects.get(pk=page.pk)
    draft.title = f"Retitled {word}"
    draft.summary = f"Draft summary {word}."
    draft.body = [paragraph(f"Draft body {word}.")]
    draft.tags.add(f"tag-{word}")
    return draft


@pytest.fixture
def hidden_site():
    """Public posts and docs around one page in every hidden state; returns the hidden pages'
    URL paths, and the public neighbours that must link past them."""
    older = BlogPageFactory(title="Public older", date=datetime.date(2026, 1, 1))
    hidden = {}
    hidden["never published"] = hidden_post("never published", live=False)

    live_with_draft = BlogPageFactory(title="Public with draft", date=datetime.date(2026, 1, 2))
    draft_over(live_with_draft, HIDDEN_WORDS["newer draft of a live post"]).save_revision()

    live_scheduled = BlogPageFactory(title="Public with schedule", date=datetime.date(2026, 1, 3))
    live_scheduled.save_revision().publish()  # as the admin leaves it: a live revision
    scheduled = draft_over(live_scheduled, HIDDEN_WORDS["scheduled revision of a live post"])
    scheduled.go_live_at = timezone.now() + FUTURE
    scheduled.save_revision().publish()

    new_scheduled = hidden_post("new post scheduled for later", live=False)
    new_scheduled.go_live_at = timezone.now() + FUTURE
    new_scheduled.save_revision().publish()
    hidden["new post scheduled for later"] = new_scheduled

    unpublished = hidden_post("unpublished")
    unpublished.save_revision().publish()
    unpublished.unpublish()
    hidden["unpublished"] = unpublished

    expired = hidden_post("expired")
    expired.expire_at = timezone.now() - datetime.timedelta(minutes=1)
    expired.save()
    call_command("publish_scheduled", verbosity=0)
    hidden["expired"] = expired

    for kind, state in [
        (PageViewRestriction.PASSWORD, "password"),
        (PageViewRestriction.LOGIN, "login"),
        (PageViewRestriction.GROUPS, "groups"),
    ]:
        hidden[state] = restrict(hidden_post(state), kind)
    newer = BlogPageFactory(title="Public newer", date=datetime.date(2026, 2, 1))

    first_doc = DocPageFactory(title="Public first doc")
    private_doc = restrict(
        DocPageFactory(
            title=f"Doc {HIDDEN_WORDS['private docs page']}",
            slug="hidden-docs",
            summary=HIDDEN_WORDS["private docs page"],
        ),
        PageViewRestriction.PASSWORD,
    )
    hidden["private docs page"] = private_doc
    hidden["below a private docs page"] = DocPageFactory(
        parent=private_doc,
        title=f"Doc {HIDDEN_WORDS['below a private docs page']}",
        slug="hidden-child",
        body=[paragraph(HIDDEN_WORDS["below a private docs page"])],
    )
    last_doc = DocPageFactory(title="Public last doc")
    return {
        "hidden": {state: page.url for state, page in hidden.items()},
        "older": older,
        "newer": newer,
        "first_doc": first_doc,
        "last_doc": last_doc,
    }


def crawl(client, start: list[str], limit: int = 300) -> dict[str, str]:
    """Every page a reader can reach from `start` by links (and feed and stylesheet links),
    with its body as text."""
    seen: dict[str, str] = {}
    queue = list(start)
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen or url.startswith(("/admin/", "/documents/", "/static/", "/media/")):
            continue
        response = client.get(url, follow=True)
        body = response.content.decode(errors="replace")
        seen[url] = body
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for link in LINK.findall(body):
            link = unescape(link)
            if link not in seen:
                queue.append(link)
    return seen


def without_echo(url: str, body: str) -> str:
    """The body without the address the reader asked for (a 404 page's canonical link, the
    search page's "Nothing matches “word”"): echoing what the reader typed leaks nothing."""
    if not any(word in url for word in HIDDEN_WORDS.values()):
        return body
    path, _, query = url.partition("?q=")
    return body.replace(path, "").replace(query, "") if query else body.replace(path, "")


def reader_text(client) -> dict[str, str]:
    """What a reader can see, each page without the echo of its own address."""
    pages = crawl(
        client,
        [
            "/",
            "/blog/",
            "/blog/tags/",
            "/blog/feed/rss/",
            "/blog/feed/atom/",
            "/docs/",
            "/sitemap.xml",
            f"/blog/{HIDDEN_YEAR}/",
            *(f"/search/?q={word}" for word in HIDDEN_WORDS.values()),
            *(f"/blog/tags/tag-{word}/" for word in HIDDEN_WORDS.values()),
        ],
    )
    return {url: without_echo(url, body) for url, body in pages.items()}


@pytest.fixture(params=["page cache off", "kept per process"])
def serving(request, settings, static_root, tmp_path):
    """Pages rendered as the app does, with the page cache off, or on but storing no page so
    that what blog.site_data keeps per process decides what is public."""
    from blog.site_data import ProcessMemo, memo

    settings.STATIC_ROOT = static_root
    settings.PAGE_CACHE_ENABLED = request.param == "kept per process"
    settings.PAGE_CACHE_MAX_MB = 0
    settings.DATA_DIR = tmp_path
    settings.PAGE_CACHE_POLL_SECONDS = 3600
    memo.clear()
    if request.param == "kept per process":
        assert ProcessMemo.usable()
    yield request.param
    memo.clear()


def test_a_draft_of_a_live_post_is_not_searchable(client, serving):
    post = BlogPageFactory(title="Live post", body=[paragraph("Published words only.")])
    draft_over(post, "zeppelinword").save_revision()

    def found(word):
        return "Live post" in client.get("/search/", {"q": word}).content.decode()

    assert not found("zeppelinword")
    assert found("published")


def test_whoever_indexes_a_page_indexes_it_as_stored(client, serving):
    """Not only Wagtail's own save: any code asking for an instance holding a draft's values to
    be indexed (a signal, a command, a later change of ours) gets the stored row indexed."""
    from wagtail.search import index

    post = BlogPageFactory(title="Live post", body=[paragraph("Published words only.")])
    index.insert_or_update_object(draft_over(post, "dirigibleword"))

    results = client.get("/search/", {"q": "dirigibleword"}).content.decode()
    assert "Live post" not in results
    assert "Live post" in client.get("/search/", {"q": "published"}).content.decode()


def test_no_hidden_word_or_link_reaches_any_public_page(client, hidden_site, serving):
    pages = reader_text(client)
    assert len(pages) > 20, sorted(pages)  # the crawl really went round the site
    leaks = [
        f"{state!r} leaks on {url}"
        for url, body in pages.items()
        for state, word in HIDDEN_WORDS.items()
        if word in body
    ]
    assert not leaks
    links = [
        f"{state!r} is linked from {url}"
        for url, body in pages.items()
        for state, hidden_url in hidden_site["hidden"].items()
        if f'"{hidden_url}"' in body or f"{hidden_url}<" in body
    ]
    assert not links
    for word in HIDDEN_WORDS.values():
        assert "Nothing matches" in pages[f"/search/?q={word}"]
        assert "Page not found" in pages[f"/blog/tags/tag-{word}/"]
    assert "Page not found" in pages[f"/blog/{HIDDEN_YEAR}/"]
    everything = "".join(pages.values())
    assert f'href="/blog/{HIDDEN_YEAR}/"' not in everything
    for title in ["Public older", "Public with draft", "Public with schedule", "Public newer"]:
        assert title in everything
    assert "Public first doc" in everything
    assert "Public last doc" in everything


def test_the_hidden_pages_themselves_show_nothing(client, hidden_site, serving):
    for state, url in hidden_site["hidden"].items():
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code in (200, 302, 404), (state, response.status_code)
        assert HIDDEN_WORDS[state] not in body, state
        if response.status_code == 200:  # only a password form is a 200 here
            assert 'type="password"' in body, state


def test_older_newer_and_previous_next_links_step_over_hidden_pages(client, hidden_site, serving):
    older, newer = hidden_site["older"], hidden_site["newer"]
    with_draft = Page.objects.get(title="Public with draft")
    scheduled = Page.objects.get(title="Public with schedule")
    assert f'href="{with_draft.url}"' in client.get(older.url).content.decode()
    # Between "with schedule" (3 January) and "newer" (1 February) every post is hidden.
    assert f'href="{newer.url}"' in client.get(scheduled.url).content.decode()
    assert f'href="{scheduled.url}"' in client.get(newer.url).content.decode()
    first, last = hidden_site["first_doc"], hidden_site["last_doc"]
    assert f'href="{last.url}"' in client.get(first.url).content.decode()
    assert f'href="{first.url}"' in client.get(last.url).content.decode()


def test_a_private_blog_index_hides_every_post_everywhere(client, serving):
    post = BlogPageFactory(title="Inside qzxprivateblog", slug="inside", summary="qzxprivateblog")
    restrict(blog_index(), PageViewRestriction.PASSWORD)
    DocPageFactory(title="Public doc")
    pages = reader_text(client)
    assert not [url for url, body in pages.items() if "qzxprivateblog" in body]
    home = pages["/"]
    assert 'href="/blog/feed/rss/"' not in home  # no feed advertised for a private blog
    assert "qzxprivateblog" not in client.get(post.url).content.decode()
    assert docs_index().url in home


# --- The page cache across processes ----------------------------------------------------------

VIA_FLY_PROXY = {"Host": "localhost", "X-Forwarded-Proto": "https"}
CREATE_POST = """
from tests.factories import BlogPageFactory, paragraph
post = BlogPageFactory(title="Soon private", slug="soon-private", body=[paragraph("qzxcachedcopy")])
post.save_revision().publish()
"""
RESTRICT_POST = """
from wagtail.models import Page, PageViewRestriction
PageViewRestriction.objects.create(
    page=Page.objects.get(slug="soon-private"), restriction_type=PageViewRestriction.LOGIN
)
"""


def run_in_app(env: dict[str, str], code: str) -> None:
    """Python with Django set up, as another process of the deploy (`fly ssh console`) runs it."""
    server.manage(env, "shell", "--no-imports", "-c", code)


def reads(url: str, count: int) -> list[tuple[int, str]]:
    """`count` anonymous reads, each as (status, whether the post's words were in the page)."""
    results = []
    for _ in range(count):
        response = server.fetch(url, VIA_FLY_PROXY)
        results.append((response.status, "qzxcachedcopy" in response.text))
    return results


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("writer", ["another worker on this machine", "another machine"])
def test_a_cached_page_made_private_is_never_served_again(tmp_path, static_root, writer):
    """Both gunicorn workers hold the public copy; a restriction added by another process
    (same data folder: the marker file; another machine: only the shared database) stops every
    worker serving it, at once on this machine and within PAGE_CACHE_POLL_SECONDS elsewhere."""
    data_dir = tmp_path / "server"
    data_dir.mkdir()
    database = server.throwaway_database(os.environ.get("DATABASE_URL"))
    with (
        database as database_url,
        server.run_server(
            data_dir,
            static_root,
            database_url=database_url or f"sqlite:///{data_dir / 'db.sqlite3'}",
            PAGE_CACHE_POLL_SECONDS="1",
        ) as running,
    ):
        run_in_app(running.env, CREATE_POST)
        url = running.url + "/blog/soon-private/"
        before = reads(url, 12)
        assert before[-6:] == [(200, True)] * 6, before  # both workers have served it
        writer_env = dict(running.env)
        if writer == "another machine":
            writer_env["DATA_DIR"] = str(tmp_path / "other-machine")
        run_in_app(writer_env, RESTRICT_POST)
        if writer == "another machine":
            time.sleep(1.5)  # one poll interval, and a margin
        after = reads(url, 12)
        assert after == [(302, False)] * 12, after
