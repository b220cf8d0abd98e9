"""The page tree and the pages readers see: home, blog index, posts, tags, years, docs."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from wagtail.models import Page, Site
from wagtail.test.utils import WagtailPageTestCase

from blog.models import BlogIndexPage, BlogPage, DocPage, DocsIndexPage, HomePage
from tests.factories import (
    AuthorFactory,
    BlogPageFactory,
    DocPageFactory,
    ImageFactory,
    blog_index,
    docs_index,
    every_block_body,
    make_private,
)

pytest_plugins = ["tests.site_content"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rendering")]


def text_of(response) -> str:
    """The page's HTML with each run of whitespace squeezed to one space."""
    return " ".join(response.content.decode().split())


# --- The tree the migrations make --------------------------------------------------------


def test_migrations_make_a_home_page_the_sites_root():
    site = Site.objects.get(is_default_site=True)
    assert isinstance(site.root_page.specific, HomePage)
    assert site.root_page.live


def test_migrations_make_an_empty_write_up_and_docs_under_the_home_page():
    home = HomePage.objects.get()
    blog = BlogIndexPage.objects.child_of(home).get()
    docs = DocsIndexPage.objects.child_of(home).get()
    assert (blog.title, blog.url) == ("Write-up", "/blog/")
    assert (docs.title, docs.url) == ("Docs", "/docs/")
    assert blog.live
    assert docs.live
    assert blog.show_in_menus
    assert docs.show_in_menus
    assert not BlogPage.objects.exists()
    assert Page.find_problems() == ([], [], [], [], [])


# --- Page type rules (Wagtail's own helpers) ----------------------------------------------


@pytest.mark.usefixtures("rendering")
class PageTypeRulesTests(WagtailPageTestCase):
    def test_posts_live_only_under_a_blog_index(self):
        self.assertAllowedParentPageTypes(BlogPage, {BlogIndexPage})
        self.assertAllowedSubpageTypes(BlogPage, {})
        self.assertCanCreateAt(BlogIndexPage, BlogPage)
        self.assertCanNotCreateAt(HomePage, BlogPage)
        self.assertCanNotCreateAt(DocsIndexPage, BlogPage)

    def test_docs_pages_form_a_tree_under_the_docs_index(self):
        self.assertAllowedParentPageTypes(DocPage, {DocsIndexPage, DocPage})
        self.assertAllowedSubpageTypes(DocPage, {DocPage})
        self.assertAllowedSubpageTypes(DocsIndexPage, {DocPage})
        self.assertCanCreateAt(DocPage, DocPage)
        self.assertCanNotCreateAt(BlogIndexPage, DocPage)

    def test_sections_sit_under_the_home_page(self):
        self.assertAllowedParentPageTypes(BlogIndexPage, {HomePage})
        self.assertAllowedParentPageTypes(DocsIndexPage, {HomePage})
        self.assertAllowedSubpageTypes(HomePage, {BlogIndexPage, DocsIndexPage})
        self.assertAllowedSubpageTypes(BlogIndexPage, {BlogPage})

    def test_every_page_type_and_route_routes_and_renders(self):
        post = BlogPageFactory(tags=["deploy"], date=datetime.date(2026, 3, 1))
        parent_doc = DocPageFactory()
        child_doc = DocPageFactory(parent=parent_doc)
        index = blog_index()
        for page in (HomePage.objects.get(), index, post, docs_index(), parent_doc, child_doc):
            self.assertPageIsRoutable(page)
            self.assertPageIsRenderable(page)
        for route in ("tags/", "tags/deploy/", "2026/", "feed/rss/", "feed/atom/"):
            self.assertPageIsRoutable(index, route)
            self.assertPageIsRenderable(index, route)
        self.assertPageIsRenderable(index, "tags/deploy/feed/atom/")
        self.assertPageIsRenderable(index, "tags/no-such-tag/", accept_404=True)


@pytest.mark.usefixtures("rendering")
def test_editors_can_open_the_add_and_edit_forms_of_every_page_type(admin_client):
    # (Wagtail's assertPageIsEditable posts the form back from its HTML, which StreamFields,
    # built by the admin's JavaScript, do not allow; the forms are loaded here instead.)
    image = ImageFactory()
    post = BlogPageFactory(
        tags=["deploy"], authors=[AuthorFactory()], hero_image=image, hero_alt="A hero"
    )
    doc = DocPageFactory(body=every_block_body(image=image))
    for page in (HomePage.objects.get(), blog_index(), post, docs_index(), doc):
        response = admin_client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
        assert response.status_code == 200, page
    for model, parent in ((BlogPage, blog_index()), (DocPage, docs_index()), (DocPage, doc)):
        add_url = reverse(
            "wagtailadmin_pages:add", args=["blog", model._meta.model_name, parent.pk]
        )
        assert admin_client.get(add_url).status_code == 200, model


@pytest.mark.usefixtures("rendering")
def test_every_page_type_renders_as_an_admin_preview():
    image = ImageFactory()
    post = BlogPageFactory(hero_image=image, hero_alt="A hero", body=every_block_body(image))
    doc = DocPageFactory(body=every_block_body())
    for page in (HomePage.objects.get(), blog_index(), post, docs_index(), doc):
        response = page.make_preview_request()
        assert response.status_code == 200, page
        assert page.title.encode() in response.content


# --- Home ----------------------------------------------------------------------------------


def test_home_page_renders(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"<h1>Flight Log</h1>" in response.content


def test_home_page_shows_the_latest_posts_and_the_way_into_the_docs(client):
    BlogPageFactory(title="Older post", date=datetime.date(2026, 1, 1))
    BlogPageFactory(title="Newest post", date=datetime.date(2026, 2, 1))
    DocPageFactory(title="Getting started", summary="Run it on your machine.")
    html = text_of(client.get("/"))
    assert html.index("Newest post") < html.index("Older post")
    assert 'href="/blog/">All posts' in html
    assert 'href="/docs/getting-started/">Getting started</a>' in html
    assert "Run it on your machine." in html


def test_header_links_the_sections_and_marks_the_current_one(client):
    html = text_of(client.get("/blog/"))
    assert '<a href="/blog/" aria-current="page">Write-up</a>' in html
    assert '<a href="/docs/">Docs</a>' in html
    post = BlogPageFactory()
    assert '<a href="/blog/" class="in-section">Write-up</a>' in text_of(client.get(post.url))


def test_footer_shows_region_and_release_when_set(client, settings):
    settings.FLY_REGION = "fra"
    settings.GIT_SHA = "abc1234def5678"
    response = client.get("/")
    assert b"served from fra \xc2\xb7 release abc1234" in response.content


def test_footer_says_nothing_off_fly(client, settings):
    settings.FLY_REGION = ""
    settings.GIT_SHA = ""
    assert b"served from" not in client.get("/").content


def test_outside_the_primary_region_a_page_shows_default_settings_without_writing_them(
    client, settings
):
    """There the database is a read-only replica: creating the settings row on a reader's page
    would fail and send the page to the primary region. The defaults stand in; the primary
    region's first page makes the row."""
    from blog.models import SiteSettings

    SiteSettings.objects.all().delete()
    settings.FLY_REGION, settings.PRIMARY_REGION = "sjc", "fra"
    html = text_of(client.get("/blog/"))
    assert f"<title>Write-up · {settings.WAGTAIL_SITE_NAME}</title>" in html
    assert not SiteSettings.objects.exists()
    settings.FLY_REGION = "fra"
    client.get("/blog/?page=1")
    assert SiteSettings.objects.count() == 1


def test_site_settings_name_tagline_footer_and_social_links_appear(client):
    from blog.models import SiteSettings

    site_settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    site_settings.site_name = "Hangar Notes"
    site_settings.tagline = "Field notes from the hangar."
    site_settings.footer_text = "Words under CC BY 4.0."
    site_settings.social_links = [("link", {"label": "GitHub", "url": "https://github.com/x/y"})]
    site_settings.save()
    html = text_of(client.get("/blog/"))
    assert "<title>Write-up · Hangar Notes</title>" in html
    assert 'class="site-title" href="/">Hangar Notes</a>' in html
    assert "Words under CC BY 4.0." in html
    assert '<a href="https://github.com/x/y" rel="me">GitHub</a>' in html
    assert "Field notes from the hangar." in text_of(client.get("/"))


# --- Blog index, tags, years --------------------------------------------------------------


def test_blog_index_lists_live_posts_newest_first_with_byline_and_tags(client):
    author = AuthorFactory(name="Ada Lovelace", url="https://example.com/ada")
    BlogPageFactory(title="First flight", date=datetime.date(2025, 5, 1), tags=["fly.io"])
    BlogPageFactory(
        title="Second flight", date=datetime.date(2026, 5, 1), authors=[author], tags=["deploy"]
    )
    html = text_of(client.get("/blog/"))
    assert html.index("Second flight") < html.index("First flight")
    assert '<time datetime="2026-05-01">1 May 2026</time>' in html
    assert 'by <a href="https://example.com/ada">Ada Lovelace</a>' in html
    assert '<a href="/blog/tags/deploy/">deploy</a>' in html
    assert '<a href="/blog/tags/flyio/">fly.io</a>' in html


def test_drafts_and_private_posts_never_appear_in_listings(client):
    BlogPageFactory(title="Published post", tags=["deploy"], date=datetime.date(2026, 1, 1))
    BlogPageFactory(title="Draft post", live=False, tags=["deploy"], date=datetime.date(2026, 1, 2))
    make_private(
        BlogPageFactory(title="Private post", tags=["deploy"], date=datetime.date(2026, 1, 3))
    )
    for url in ("/", "/blog/", "/blog/tags/deploy/", "/blog/2026/", "/blog/tags/"):
        html = text_of(client.get(url))
        assert "Draft post" not in html, url
        assert "Private post" not in html, url
    assert "Published post" in text_of(client.get("/blog/tags/deploy/"))


def test_private_post_asks_for_its_password_instead_of_showing_itself(client):
    post = make_private(BlogPageFactory(title="Private post", body=every_block_body()))
    response = client.get(post.url)
    assert "Configuration" not in text_of(response)
    assert "password" in text_of(response).lower()


def test_tag_page_lists_only_posts_with_that_tag_and_offers_its_feeds(client):
    BlogPageFactory(title="Tagged post", tags=["deploy", "fly.io"])
    BlogPageFactory(title="Untagged post", tags=["wagtail"])
    response = client.get("/blog/tags/deploy/")
    html = text_of(response)
    assert response.status_code == 200
    assert "Posts tagged “deploy”" in html
    assert "Tagged post" in html
    assert "Untagged post" not in html
    assert (
        'type="application/atom+xml" title="Posts tagged deploy (Atom)" '
        'href="/blog/tags/deploy/feed/atom/"' in html
    )


def test_tag_list_shows_every_used_tag_with_its_post_count(client):
    BlogPageFactory(tags=["deploy", "fly.io"])
    BlogPageFactory(tags=["deploy"])
    html = text_of(client.get("/blog/tags/"))
    assert '<a href="/blog/tags/deploy/">deploy</a> <span class="count">2 posts</span>' in html
    assert '<a href="/blog/tags/flyio/">fly.io</a> <span class="count">1 post</span>' in html


def test_year_archive_lists_that_years_posts_and_links_other_years(client):
    BlogPageFactory(title="Post from 2025", date=datetime.date(2025, 12, 31))
    BlogPageFactory(title="Post from 2026", date=datetime.date(2026, 1, 1))
    html = text_of(client.get("/blog/2025/"))
    assert "Posts from 2025" in html
    assert "Post from 2025" in html
    assert "Post from 2026" not in html
    assert '<a href="/blog/2026/">2026</a>' in html


def test_blog_index_is_paginated_ten_posts_a_page_with_aria(client):
    for day in range(1, 13):
        BlogPageFactory(title=f"Post of day {day:02}", date=datetime.date(2026, 1, day))
    first = text_of(client.get("/blog/"))
    second = text_of(client.get("/blog/?page=2"))
    assert "Post of day 12" in first
    assert "Post of day 03" in first
    assert "Post of day 02" not in first
    assert "Post of day 02" in second
    assert "Post of day 01" in second
    assert '<nav class="pagination" aria-label="Older and newer posts">' in first
    assert (
        '<a href="/blog/" aria-current="page"><span class="visually-hidden">Page</span> 1</a>'
        in first
    )
    assert 'href="?page=2" rel="next"' in first
    assert '<link rel="canonical" href="http://testserver/blog/?page=2">' in second


# --- Posts ---------------------------------------------------------------------------------


def test_post_page_shows_title_summary_byline_hero_body_and_tags(client):
    image = ImageFactory()
    author = AuthorFactory(name="Grace Hopper", url="")
    post = BlogPageFactory(
        title="Shipping it",
        summary="From push to production.",
        date=datetime.date(2026, 4, 2),
        authors=[author],
        tags=["deploy"],
        hero_image=image,
        hero_alt="The dashboard",
        body=every_block_body(image=image),
    )
    html = text_of(client.get(post.url))
    assert "<h1>Shipping it</h1>" in html
    assert '<p class="lede">From push to production.</p>' in html
    assert "by Grace Hopper" in html
    assert '<time datetime="2026-04-02">2 April 2026</time>' in html
    assert "min read" in html
    assert 'alt="The dashboard"' in html
    assert 'fetchpriority="high"' in html
    assert '<a href="/blog/tags/deploy/">deploy</a>' in html
    assert 'id="configuration"' in html


def test_post_links_the_older_and_newer_posts(client):
    BlogPageFactory(title="January", date=datetime.date(2026, 1, 1))
    middle = BlogPageFactory(title="February", date=datetime.date(2026, 2, 1))
    BlogPageFactory(title="March", date=datetime.date(2026, 3, 1))
    html = text_of(client.get(middle.url))
    assert 'rel="prev"><span class="pager-label">Older</span> January</a>' in html
    assert 'rel="next"><span class="pager-label">Newer</span> March</a>' in html


def test_posts_of_the_same_day_and_time_link_to_each_other_in_listing_order(client):
    # The importer gives every post of one day the same publication time.
    published = datetime.datetime(2026, 2, 1, 9, 0, tzinfo=datetime.UTC)
    posts = [
        BlogPageFactory(title=title, date=datetime.date(2026, 2, 1)) for title in ("A", "B", "C")
    ]
    BlogPage.objects.filter(pk__in=[post.pk for post in posts]).update(first_published_at=published)
    listed = [post.title for post in blog_index().get_published_posts()]
    assert listed == ["C", "B", "A"]
    html = text_of(client.get(posts[1].url))
    assert 'rel="prev"><span class="pager-label">Older</span> A</a>' in html
    assert 'rel="next"><span class="pager-label">Newer</span> C</a>' in html


# With the page cache on as production runs it, a miss takes the index's order from what the
# process keeps (blog.site_data) and finds the neighbours there: every change readers see must
# show in the links on the next render. Transactional, as the process keeps nothing inside a
# transaction; serialized_rollback puts the site's pages back for the tests after these.


@pytest.fixture
def kept_site_data(rendering, miss_renders):
    """tests/conftest.py's miss_renders, set up after `rendering` (which turns the cache off)."""
    return miss_renders


def pager_of(client, post) -> tuple[str | None, str | None]:
    """The titles the post's pager links as older and newer."""
    html = text_of(client.get(post.url))
    older = re.search(r'rel="prev"><span class="pager-label">Older</span> ([^<]+)</a>', html)
    newer = re.search(r'rel="next"><span class="pager-label">Newer</span> ([^<]+)</a>', html)
    return (older and older.group(1), newer and newer.group(1))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("kept_site_data")
def test_kept_neighbours_follow_a_publish_an_unpublish_and_a_new_date(client):
    january = BlogPageFactory(title="January", date=datetime.date(2026, 1, 1))
    march = BlogPageFactory(title="March", date=datetime.date(2026, 3, 1))
    may = BlogPageFactory(title="May", date=datetime.date(2026, 5, 1))
    assert pager_of(client, march) == ("January", "May")

    february = BlogPageFactory(title="February", date=datetime.date(2026, 2, 1))
    assert pager_of(client, march) == ("February", "May")
    assert pager_of(client, january) == (None, "February")

    february.unpublish()
    assert pager_of(client, march) == ("January", "May")
    assert pager_of(client, january) == (None, "March")

    may.date = datetime.date(2025, 12, 1)  # now the oldest
    may.save_revision().publish()
    assert pager_of(client, march) == ("January", None)
    assert pager_of(client, january) == ("May", "March")

    march.title = "Spring"
    march.save_revision().publish()
    assert pager_of(client, january) == ("May", "Spring")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("kept_site_data")
def test_kept_neighbours_skip_a_post_made_private(client):
    first = BlogPageFactory(title="First", date=datetime.date(2026, 1, 1))
    second = BlogPageFactory(title="Second", date=datetime.date(2026, 2, 1))
    BlogPageFactory(title="Third", date=datetime.date(2026, 3, 1))
    assert pager_of(client, first) == (None, "Second")
    make_private(second)
    assert pager_of(client, first) == (None, "Third")


def test_publication_date_defaults_to_the_first_publication_day():
    post = BlogPageFactory(date=None)
    assert post.date == post.first_published_at.date()
    overridden = BlogPageFactory(date=datetime.date(2020, 2, 2))
    assert overridden.date == datetime.date(2020, 2, 2)


@pytest.mark.parametrize("slug", ["tags", "feed", "2026"])
def test_a_post_cannot_take_a_slug_the_blog_index_routes_answer(slug):
    with pytest.raises(ValidationError, match="taken by the blog's own pages"):
        BlogPageFactory(slug=slug)


def test_a_hero_image_needs_alt_text():
    with pytest.raises(ValidationError, match="alt text is required"):
        BlogPageFactory(hero_image=ImageFactory(), hero_alt="")


# --- Docs ----------------------------------------------------------------------------------


def test_docs_read_in_tree_order_with_previous_and_next(client):
    first = DocPageFactory(title="Getting started")
    first_child = DocPageFactory(title="Install the tools", parent=first)
    second = DocPageFactory(title="Deploy")
    html = text_of(client.get(first_child.url))
    assert 'rel="prev"><span class="pager-label">Previous</span> Getting started</a>' in html
    assert 'rel="next"><span class="pager-label">Next</span> Deploy</a>' in html
    last = text_of(client.get(second.url))
    assert 'rel="next"' not in last
    assert 'rel="prev"><span class="pager-label">Previous</span> Install the tools</a>' in last
    opening = text_of(client.get(first.url))
    assert 'rel="prev"><span class="pager-label">Previous</span> Docs</a>' in opening


def test_doc_page_has_breadcrumbs_navigation_toc_and_last_updated(client):
    parent = DocPageFactory(title="Getting started")
    page = DocPageFactory(title="Install the tools", parent=parent, body=every_block_body())
    DocPageFactory(title="Hidden draft", live=False)
    html = text_of(client.get(page.url))
    assert '<nav class="breadcrumbs" aria-label="Breadcrumb">' in html
    assert '<a href="/docs/getting-started/">Getting started</a>' in html
    assert 'aria-current="page">Install the tools</a>' in html
    assert "Hidden draft" not in html
    assert '<h2 id="toc-heading">On this page</h2>' in html
    assert '<a href="#before-you-start">Before you start</a>' in html
    assert '<a href="#configuration">Configuration</a>' in html
    assert '<a href="#before-you-start-2">Before you start</a>' in html
    assert "Last updated <time" in html


def test_docs_index_lists_the_whole_tree_and_where_to_start(client):
    first = DocPageFactory(title="Getting started", summary="Run it locally.")
    DocPageFactory(title="Install the tools", parent=first)
    make_private(DocPageFactory(title="Secret page"))
    html = text_of(client.get("/docs/"))
    assert "Run it locally." in html
    assert '<a href="/docs/getting-started/install-the-tools/">Install the tools</a>' in html
    assert "Secret page" not in html
    assert 'rel="next"><span class="pager-label">Start reading</span> Getting started</a>' in html


# --- Errors --------------------------------------------------------------------------------


def test_unknown_address_gets_the_sites_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = text_of(response)
    assert "Page not found" in html
    assert 'class="site-header"' in html
    assert 'role="search"' in html


@pytest.mark.django_db(databases=[])
def test_500_page_renders_without_the_database():
    from django.template.loader import render_to_string

    # No database access is allowed in this test: pytest-django raises if the template tries.
    html = render_to_string("500.html")
    assert "Something went wrong" in html
    assert 'class="site-header"' in html


# --- Page weight ---------------------------------------------------------------------------


def test_rendered_pages_link_the_hashed_static_files_production_serves(client, rendering):
    html = client.get("/").content.decode()
    assert re.search(r'href="/static/css/site\.[0-9a-f]{12}\.css"', html)
    assert re.search(r'src="/static/js/site\.[0-9a-f]{12}\.js"', html)


def test_a_post_with_every_block_transfers_under_15_kb_compressed(client, rendering):
    import gzip
    import re

    post = BlogPageFactory(
        title="Shipping Wagtail to Fly.io, step by step",
        summary="How this site goes from a git push to a machine in Frankfurt.",
        tags=["deploy", "fly.io", "wagtail"],
        authors=[AuthorFactory(name="Ada Lovelace", url="https://example.com/ada")],
        hero_image=ImageFactory(),
        hero_alt="The dashboard",
        body=every_block_body(image=ImageFactory()),
    )
    html = client.get(post.url).content
    assets = re.findall(rb'(?:href|src)="/static/([^"]+\.(?:css|js))"', html)
    assert {name.rsplit(b".", 2)[-1] for name in assets} == {b"css", b"js"}
    # gzip at its default level: what any proxy or CDN manages (Brotli does better still).
    sizes = [len(gzip.compress(html))] + [
        len(gzip.compress((rendering / name.decode()).read_bytes())) for name in assets
    ]
    assert sum(sizes) < 15_000, sizes
