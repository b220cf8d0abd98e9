"""Search over posts and docs: what it finds, what it never shows, and odd queries."""

import pytest

from tests.factories import BlogPageFactory, DocPageFactory, make_private, paragraph

pytest_plugins = ["tests.site_content"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rendering")]


def search(client, query: str, **params):
    response = client.get("/search/", {"q": query, **params})
    return response, " ".join(response.content.decode().split())


def test_search_finds_posts_and_docs_by_their_words(client):
    BlogPageFactory(title="Scaling to zero", body=[paragraph("Machines stop when idle.")])
    DocPageFactory(title="Volumes", body=[paragraph("Idle machines keep their volume.")])
    BlogPageFactory(title="Unrelated", body=[paragraph("Nothing to see.")])
    response, html = search(client, "idle")
    assert response.status_code == 200
    assert "Scaling to zero" in html
    assert "Volumes" in html
    assert "Unrelated" not in html
    assert "2 results for “idle”" in html


def test_search_finds_a_post_by_its_summary_and_tag(client):
    BlogPageFactory(title="Release day", summary="The release command migrates.", tags=["tigris"])
    assert "Release day" in search(client, "migrates")[1]
    assert "Release day" in search(client, "tigris")[1]


def test_search_never_shows_drafts_or_private_pages(client):
    BlogPageFactory(title="Draft about volumes", live=False, body=[paragraph("volumes")])
    make_private(BlogPageFactory(title="Private about volumes", body=[paragraph("volumes")]))
    make_private(DocPageFactory(title="Private doc about volumes", body=[paragraph("volumes")]))
    BlogPageFactory(title="Public about volumes", body=[paragraph("volumes")])
    html = search(client, "volumes")[1]
    assert "Public about volumes" in html
    assert "Draft about volumes" not in html
    assert "Private about volumes" not in html
    assert "Private doc about volumes" not in html


def test_search_results_are_paginated(client):
    for number in range(12):
        BlogPageFactory(title=f"Region note {number}", body=[paragraph("regions everywhere")])
    first = search(client, "regions")[1]
    second = search(client, "regions", page=2)[1]
    assert "12 results" in first
    assert first.count('class="post-summary"') == 10
    assert second.count('class="post-summary"') == 2
    assert 'href="?q=regions&amp;page=2"' in first


def test_search_page_is_not_indexed_by_search_engines(client):
    response, html = search(client, "anything")
    assert '<meta name="robots" content="noindex">' in html
    assert response["X-Robots-Tag"] == "noindex"


def test_search_says_so_when_nothing_matches(client):
    response, html = search(client, "zeppelin")
    assert response.status_code == 200
    assert "Nothing matches “zeppelin”" in html


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "x" * 2000,
        "deploy " * 300,
        "'; DROP TABLE wagtailcore_page; --",
        '" OR 1=1 --',
        "fly* AND (NOT OR) NEAR/3 ^2",
        "🚀✈️ deploy 🛩",
        "deploy\x00volumes",
        "\x00",
        "%00",
        "<script>alert(1)</script>",
        "ümlaut ß 東京",
    ],
    ids=[
        "empty",
        "spaces",
        "2000-characters",
        "2000-characters-of-words",
        "sql-drop",
        "sql-or",
        "search-operators",
        "emoji",
        "nul-inside",
        "nul-only",
        "percent-00",
        "html",
        "non-ascii",
    ],
)
def test_odd_queries_answer_200_with_a_sensible_page(client, query):
    BlogPageFactory(title="Deploy volumes", body=[paragraph("deploy volumes")])
    response, html = search(client, query)
    assert response.status_code == 200
    assert "<h1>Search</h1>" in html
    assert "<script>alert" not in html


def test_a_nul_byte_in_the_raw_query_string_is_harmless(client):
    response = client.get("/search/?q=deploy%00volumes&page=%00")
    assert response.status_code == 200


def test_a_very_long_query_is_shortened_and_says_so(client):
    html = search(client, "deploy " * 300)[1]
    assert "only its first 200 characters were used" in html


def test_empty_query_invites_a_search(client):
    _, html = search(client, "")
    assert "Type a word or two" in html
    assert "result" not in html.split("<main", 1)[1].split("Type a word")[0]
