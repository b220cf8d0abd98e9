"""The page cache: hits cost no database work, and a published change shows on the next request."""

import gzip

import brotli
import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from wagtail.models import PageViewRestriction, Site

from blog.models import BlogIndexPage, HomePage, SiteSettings
from pagecache.generation import GenerationClock, bump
from pagecache.models import Generation

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block's on-commit callbacks (the bump) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def cache_on(settings, tmp_path):
    settings.PAGE_CACHE_ENABLED = True
    settings.DATA_DIR = tmp_path
    # No database polling inside a test: the marker file alone must carry every change here.
    settings.PAGE_CACHE_POLL_SECONDS = 3600


def home() -> HomePage:
    return HomePage.objects.get()


def publish_title(page, title):
    page.title = title
    page.save_revision().publish()


def test_second_read_is_a_hit_with_no_database_queries(client, django_assert_num_queries):
    first = client.get("/")
    assert first["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = client.get("/")
    assert second["X-Cache"] == "hit"
    assert second.content == first.content


def test_hits_still_carry_the_security_headers(client):
    client.get("/")
    hit = client.get("/")
    assert hit["X-Cache"] == "hit"
    assert "script-src 'self'" in hit["Content-Security-Policy"]
    assert hit["X-Content-Type-Options"] == "nosniff"


def test_a_published_change_is_visible_on_the_next_request(client, committed):
    client.get("/")
    with committed():
        publish_title(home(), "Flight Log, revised")
    response = client.get("/")
    assert response["X-Cache"] == "miss"
    assert b"Flight Log, revised" in response.content


def test_saving_a_draft_keeps_the_cached_page(client, committed):
    client.get("/")
    page = home()
    page.title = "Draft title"
    with committed():
        page.save_revision()
    response = client.get("/")
    assert response["X-Cache"] == "hit"
    assert b"Draft title" not in response.content


def test_unpublishing_invalidates(client, committed):
    client.get("/")
    with committed():
        home().unpublish()
    assert client.get("/").status_code == 404


def test_site_settings_change_invalidates(client, committed):
    client.get("/")
    site = Site.objects.get()
    site.site_name = "Renamed"
    with committed():
        site.save()
    assert client.get("/")["X-Cache"] == "miss"


def test_logged_in_editors_bypass_the_cache(client):
    user = get_user_model().objects.create_superuser("ed", "ed@example.com", "pw-ed-123456")
    client.get("/")
    client.force_login(user)
    response = client.get("/")
    assert "X-Cache" not in response


@pytest.mark.parametrize("query", ["q=fly", "page=2&utm_source=x", "page=abc"])
def test_query_strings_other_than_a_page_number_bypass(client, query):
    response = client.get(f"/?{query}")
    assert "X-Cache" not in response


def test_compressed_variants_decode_to_the_same_page(client):
    plain = client.get("/").content
    as_brotli = client.get("/", HTTP_ACCEPT_ENCODING="gzip, br")
    as_gzip = client.get("/", HTTP_ACCEPT_ENCODING="gzip")
    assert as_brotli["Content-Encoding"] == "br"
    assert brotli.decompress(as_brotli.content) == plain
    assert as_gzip["Content-Encoding"] == "gzip"
    assert gzip.decompress(as_gzip.content) == plain
    assert "Accept-Encoding" in as_gzip["Vary"]


def test_refused_encoding_is_not_used(client):
    client.get("/")
    response = client.get("/", HTTP_ACCEPT_ENCODING="br;q=0, gzip")
    assert response["Content-Encoding"] == "gzip"


def test_revalidation_with_the_etag_answers_304(client, committed):
    etag = client.get("/")["ETag"]
    response = client.get("/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    with committed():
        publish_title(home(), "Changed")
    assert client.get("/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_another_worker_sees_a_bump_through_the_marker_file(committed):
    other_worker = GenerationClock()
    before = other_worker.current()
    with committed():
        bump()
    assert other_worker.current() != before


def test_another_machine_sees_a_bump_through_the_database(settings):
    settings.PAGE_CACHE_POLL_SECONDS = 0
    clock = GenerationClock()
    before = clock.current()
    # What a bump on another machine looks like from here: the row moves, the local file does not.
    Generation.objects.filter(pk=1).update(value=before[1] + 1)
    assert clock.current() != before


def test_making_a_page_private_invalidates(client, committed):
    assert client.get("/")["X-Cache"] == "miss"
    with committed():
        PageViewRestriction.objects.create(page=home(), restriction_type=PageViewRestriction.LOGIN)
    response = client.get("/")
    assert response.status_code == 302  # to the login page, not the cached public copy
    assert "X-Cache" not in response


# --- What every page shows, kept per process between misses (pagecache.shared) ---------------
# Transactional like production: the process keeps nothing inside a transaction, and a commit
# that changes content moves the generation. serialized_rollback restores the site's pages.


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("miss_renders")
def test_kept_site_data_follows_every_change_on_the_next_render(client):
    client.get("/")  # the first render creates the site settings row
    assert b"Operated by us" not in client.get("/").content
    settings_row = SiteSettings.objects.get()
    settings_row.footer_text = "Operated by us"
    settings_row.save()
    assert b"Operated by us" in client.get("/").content

    blog_index = BlogIndexPage.objects.get()
    assert b'href="/blog/"' in client.get("/").content
    PageViewRestriction.objects.create(page=blog_index, restriction_type=PageViewRestriction.LOGIN)
    # Gone from the header, and the index itself asks for a login.
    assert b'href="/blog/"' not in client.get("/").content
    assert client.get("/blog/").status_code == 302


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("miss_renders")
def test_nothing_is_kept_inside_a_transaction(client):
    client.get("/")
    with transaction.atomic():
        site_settings = SiteSettings.objects.get()
        site_settings.footer_text = "Rolled back"
        site_settings.save()
        assert b"Rolled back" in client.get("/").content
        transaction.set_rollback(True)
    assert b"Rolled back" not in client.get("/").content
