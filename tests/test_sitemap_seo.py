"""What search engines and link previews see: sitemap, robots.txt, canonical and meta tags,
Open Graph, Twitter cards and JSON-LD."""

import json
import re
import xml.etree.ElementTree as ET

import pytest
from wagtail.models import Page

from tests.factories import (
    AuthorFactory,
    BlogPageFactory,
    DocPageFactory,
    ImageFactory,
    make_private,
)

pytest_plugins = ["tests.site_content"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rendering")]

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def html_of(client, url: str) -> str:
    return " ".join(client.get(url).content.decode().split())


def sitemap_entries(client) -> dict[str, str | None]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 - our own response
    return {
        url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod")
        for url in root.iter(f"{SITEMAP}url")
    }


def test_sitemap_lists_exactly_the_live_public_pages_with_lastmod(client):
    post = BlogPageFactory(title="Public post")
    doc = DocPageFactory(title="Public doc")
    child = DocPageFactory(title="Child doc", parent=doc)
    BlogPageFactory(title="Draft post", live=False)
    make_private(BlogPageFactory(title="Private post"))
    private_doc = make_private(DocPageFactory(title="Private doc"))
    DocPageFactory(title="Below a private doc", parent=private_doc)

    entries = sitemap_entries(client)
    expected = {
        "http://testserver/",
        "http://testserver/blog/",
        "http://testserver/docs/",
        f"http://testserver{post.url}",
        f"http://testserver{doc.url}",
        f"http://testserver{child.url}",
    }
    assert set(entries) == expected
    assert entries[f"http://testserver{post.url}"] == post.last_published_at.date().isoformat()


def test_sitemap_matches_the_database_view_of_live_public_pages(client):
    BlogPageFactory()
    DocPageFactory(live=False)
    live_public = Page.objects.live().public().filter(depth__gte=2)
    assert len(sitemap_entries(client)) == live_public.count()


def test_robots_txt_points_at_the_sitemap_and_keeps_crawlers_out_of_admin_and_search(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    body = response.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in body
    assert "Disallow: /admin/" in body
    assert "Disallow: /search/" in body


def test_https_requests_get_https_canonical_and_sitemap_urls(client):
    BlogPageFactory(title="Secure")
    # As through Fly's proxy: the browser's Host header, and the proxy saying it was HTTPS.
    headers = {"HTTP_HOST": "testserver", "HTTP_X_FORWARDED_PROTO": "https"}
    html = " ".join(client.get("/blog/secure/", **headers).content.decode().split())
    assert '<link rel="canonical" href="https://testserver/blog/secure/">' in html
    sitemap = client.get("/sitemap.xml", **headers).content
    assert b"<loc>https://testserver/blog/secure/</loc>" in sitemap


def test_pages_have_canonical_description_and_open_graph(client):
    DocPageFactory(title="Volumes", summary="Keep SQLite on a volume.")
    html = html_of(client, "/docs/volumes/")
    assert "<title>Volumes · Flight Log</title>" in html
    assert '<link rel="canonical" href="http://testserver/docs/volumes/">' in html
    assert '<meta name="description" content="Keep SQLite on a volume.">' in html
    assert '<meta property="og:title" content="Volumes">' in html
    assert '<meta property="og:type" content="website">' in html
    assert '<meta property="og:url" content="http://testserver/docs/volumes/">' in html
    assert '<meta property="og:description" content="Keep SQLite on a volume.">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert "og:image" not in html


def test_the_promote_tabs_seo_title_and_description_win(client):
    DocPageFactory(
        title="Volumes", seo_title="Fly volumes for SQLite", search_description="Short and sharp."
    )
    html = html_of(client, "/docs/volumes/")
    assert "<title>Fly volumes for SQLite · Flight Log</title>" in html
    assert '<meta name="description" content="Short and sharp.">' in html


def test_home_page_title_is_the_site_name_and_description_the_tagline(client):
    html = html_of(client, "/")
    assert "<title>Flight Log</title>" in html
    assert '<meta name="description" content="Shipping a Wagtail site to Fly.io' in html


def test_a_post_with_a_hero_image_shares_it_as_a_large_card(client):
    BlogPageFactory(title="Hero post", hero_image=ImageFactory(), hero_alt="The dashboard")
    html = html_of(client, "/blog/hero-post/")
    assert '<meta property="og:type" content="article">' in html
    image = re.search(r'<meta property="og:image" content="([^"]+)">', html)
    assert image
    assert image[1].startswith("http://testserver/media/images/")
    assert '<meta property="og:image:width" content="1200">' in html
    assert '<meta property="og:image:height" content="630">' in html
    assert '<meta property="og:image:alt" content="The dashboard">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html


def structured_data(html: str) -> dict:
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(found) == 1
    return json.loads(found[0])


def test_posts_describe_themselves_as_a_blogposting(client):
    post = BlogPageFactory(
        title="Release day",
        summary="What the release step does.",
        authors=[AuthorFactory(name="Ada", url="https://example.com/ada")],
        tags=["deploy"],
        hero_image=ImageFactory(),
        hero_alt="A rocket",
    )
    data = structured_data(html_of(client, post.url))
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "BlogPosting"
    assert data["headline"] == "Release day"
    assert data["description"] == "What the release step does."
    assert data["url"] == f"http://testserver{post.url}"
    assert data["datePublished"].startswith(post.date.isoformat())
    assert data["author"] == [{"@type": "Person", "name": "Ada", "url": "https://example.com/ada"}]
    assert data["keywords"] == ["deploy"]
    assert data["image"].startswith("http://testserver/media/images/")
    assert data["publisher"] == {"@type": "Organization", "name": "Flight Log"}


def test_json_ld_cannot_break_out_of_its_script_element(client):
    post = BlogPageFactory(
        title="</script><script>alert(1)</script>", summary="Ampersands & <angles>"
    )
    html = client.get(post.url).content.decode()
    assert "<script>alert(1)</script>" not in html
    data = structured_data(html)
    assert data["headline"] == "</script><script>alert(1)</script>"
    assert data["description"] == "Ampersands & <angles>"


def test_docs_and_listings_carry_no_json_ld(client):
    DocPageFactory(title="Volumes")
    for url in ("/", "/blog/", "/docs/", "/docs/volumes/"):
        assert "application/ld+json" not in html_of(client, url)
