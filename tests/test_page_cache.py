"""The page cache: hits cost no database work, and a published change shows on the next request.

Requests go through the WSGI stack gunicorn runs (tests/wsgi_client.py): the page cache in front
of Django, as config/wsgi.py puts it.
"""

import gzip
import time
from types import SimpleNamespace

import brotli
import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from wagtail.models import PageViewRestriction, Site

from blog.changes import GenerationClock, bump
from blog.models import BlogIndexPage, ContentGeneration, HomePage, SiteSettings
from tests.wsgi_client import WSGIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block's on-commit callbacks (the bump) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def client():
    """A reader, through a page cache of its own."""
    return WSGIClient()


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
    editor = Client()
    editor.force_login(user)
    session = editor.cookies["sessionid"].value
    response = client.get("/", HTTP_COOKIE=f"theme=dark; sessionid={session}")
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
    ContentGeneration.objects.filter(pk=1).update(value=before[1] + 1)
    assert clock.current() != before


def test_a_machine_resumed_from_suspend_polls_on_its_first_page(monkeypatch, settings):
    """Fly resumes a suspended machine from a snapshot: the monotonic clock carries on from where
    it stopped, while the wall clock shows the hours that passed. A change another machine made
    meanwhile must show on the first page after waking, not PAGE_CACHE_POLL_SECONDS later."""
    from blog import changes

    settings.PAGE_CACHE_POLL_SECONDS = 2
    monotonic, wall = [100.0], [1_800_000_000.0]
    fake = SimpleNamespace(
        monotonic=lambda: monotonic[0], time=lambda: wall[0], time_ns=time.time_ns
    )
    monkeypatch.setattr(changes, "time", fake)
    clock = GenerationClock()
    before = clock.current()
    ContentGeneration.objects.filter(pk=1).update(value=before[1] + 1)  # another machine
    monotonic[0] += 0.5  # suspended half a second after that poll...
    wall[0] += 6 * 3600  # ...and resumed six hours later
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


# --- The cache in front of Django --------------------------------------------------------------


class CountingApplication:
    """The Django application, counting the requests that reach it."""

    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler

        self.django = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.django(environ, start_response)


def test_a_hit_never_reaches_django():
    from pagecache.wsgi import PageCache

    django = CountingApplication()
    reader = WSGIClient(PageCache(django))
    reader.get("/")
    reader.get("/")
    reader.get("/", HTTP_ACCEPT_ENCODING="br")
    assert django.calls == 1


def test_a_hit_keeps_every_header_django_sent_over_https(client):
    https = {"HTTP_X_FORWARDED_PROTO": "https"}
    miss = client.get("/", **https)
    hit = client.get("/", **https)
    assert (miss["X-Cache"], hit["X-Cache"]) == ("miss", "hit")
    assert hit["Strict-Transport-Security"].startswith("max-age=31536000")
    for name in ("Content-Security-Policy", "Permissions-Policy", "Referrer-Policy", "ETag"):
        assert hit[name] == miss[name], name


def test_http_and_https_are_kept_apart(settings):
    settings.SECURE_SSL_REDIRECT = True
    client = WSGIClient()  # Django's middleware reads the setting when it is built
    client.get("/", HTTP_X_FORWARDED_PROTO="https")
    plain = client.get("/")
    assert plain.status_code == 301  # Django's redirect, not the page stored for HTTPS
    assert plain["Location"] == "https://testserver/"


def test_head_of_a_stored_page_has_its_headers_and_no_body(client):
    page = client.get("/")
    head = client.get("/", method="HEAD")
    assert head["X-Cache"] == "hit"
    assert head.content == b""
    assert head["Content-Length"] == str(len(page.content))


def plain_page(headers):
    """A WSGI application answering every request with a small page and these headers."""
    body = b"<p>" + b"x" * 600 + b"</p>"

    def application(environ, start_response):
        start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
        return [body]

    return application


@pytest.mark.parametrize(
    "headers",
    [
        [("Set-Cookie", "csrftoken=abc; Path=/")],
        [("Cache-Control", "private")],
        [("Cache-Control", "no-store")],
    ],
    ids=["sets-a-cookie", "private", "no-store"],
)
def test_a_response_that_must_not_be_shared_is_passed_on_and_never_stored(headers):
    from pagecache.wsgi import PageCache

    reader = WSGIClient(PageCache(plain_page([("Content-Type", "text/html"), *headers])))
    for _ in range(2):
        response = reader.get("/")
        assert response.status_code == 200
        assert "X-Cache" not in response
        assert response[headers[0][0]] == headers[0][1]


def test_a_plain_page_is_stored_with_its_own_headers():
    from pagecache.wsgi import PageCache

    reader = WSGIClient(PageCache(plain_page([("Content-Type", "text/html"), ("X-Own", "1")])))
    assert reader.get("/")["X-Cache"] == "miss"
    hit = reader.get("/")
    assert hit["X-Cache"] == "hit"
    assert hit["X-Own"] == "1"
