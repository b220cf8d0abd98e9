"""Outside the primary region, requests that can write are replayed there (config/replay.py)."""

import psycopg.errors
import pytest
from django.db import InternalError
from django.http import HttpResponse
from django.test import RequestFactory

from config.errors import server_error
from config.replay import ReplayWritesMiddleware, is_read_only_error
from pagecache.wsgi import PageCache


@pytest.fixture
def in_sjc(settings):
    settings.FLY_REGION = "sjc"
    settings.PRIMARY_REGION = "fra"
    return settings


def read_only_error() -> InternalError:
    """What Django raises when a query writes on a hot standby: psycopg's error, wrapped."""
    try:
        try:
            raise psycopg.errors.ReadOnlySqlTransaction(
                "cannot execute INSERT in a read-only transaction"
            )
        except psycopg.Error as cause:
            raise InternalError(*cause.args) from cause
    except InternalError as wrapped:
        return wrapped


def reached(request):
    return HttpResponse("served here")


def answer(method: str, path: str, **headers) -> HttpResponse:
    request = RequestFactory().generic(method, path, **headers)
    return ReplayWritesMiddleware(reached)(request)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/"),
        ("GET", "/admin/login/"),
        ("POST", "/admin/login/"),
        ("GET", "/admin/pages/3/edit/preview/"),
        ("POST", "/admin/pages/3/edit/preview/"),
        ("GET", "/admin"),
        ("POST", "/blog/"),
        ("PUT", "/blog/first-post/"),
        ("PATCH", "/blog/first-post/"),
        ("DELETE", "/blog/first-post/"),
        ("POST", "/_util/authenticate_with_password/1/3/"),
    ],
)
def test_requests_that_can_write_are_replayed_to_the_primary_region(in_sjc, method, path):
    response = answer(method, path)
    assert response.status_code == 409
    assert response["fly-replay"] == "region=fra"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/"), ("HEAD", "/blog/"), ("GET", "/search/?q=fly")]
)
def test_reads_are_served_in_the_region_they_reach(in_sjc, method, path):
    response = answer(method, path)
    assert response.status_code == 200
    assert not response.has_header("fly-replay")


def test_a_request_already_replayed_is_never_replayed_again(in_sjc):
    replayed = {"HTTP_FLY_REPLAY_SRC": "instance=3d8d9930b32189;region=sjc;t=1764700000000000"}
    response = answer("POST", "/admin/login/", **replayed)
    assert response.status_code == 200
    assert response.content == b"served here"


@pytest.mark.parametrize(
    ("fly_region", "primary_region"), [("", ""), ("fra", "fra"), ("sjc", ""), ("", "fra")]
)
def test_nothing_is_replayed_in_the_primary_region_or_off_fly(settings, fly_region, primary_region):
    settings.FLY_REGION = fly_region
    settings.PRIMARY_REGION = primary_region
    assert answer("POST", "/admin/login/").status_code == 200


def test_a_moved_admin_is_replayed_under_its_own_path(in_sjc):
    in_sjc.ADMIN_PATH = "editors"
    assert answer("GET", "/editors/login/").status_code == 409
    assert answer("GET", "/admin/login/").status_code == 200


def test_the_read_only_error_is_recognised_through_djangos_wrapping():
    assert is_read_only_error(read_only_error())
    assert not is_read_only_error(InternalError("something else"))
    assert not is_read_only_error(None)


def test_a_view_that_writes_on_the_replica_is_replayed(in_sjc):
    request = RequestFactory().get("/blog/")
    response = ReplayWritesMiddleware(reached).process_exception(request, read_only_error())
    assert response.status_code == 409
    assert response["fly-replay"] == "region=fra"
    other = ReplayWritesMiddleware(reached).process_exception(request, ValueError("no"))
    assert other is None


def raise_read_only(request):
    raise read_only_error()


def test_a_view_writing_on_the_replica_is_replayed_not_a_500(in_sjc, client, urls_with_a_writer):
    response = client.get("/writes-on-get/")
    assert response.status_code == 409
    assert response["fly-replay"] == "region=fra"


def test_the_500_handler_replays_a_write_on_the_replica_raised_outside_a_view(in_sjc, rf):
    # A middleware's own query (a session saved on the way out) never reaches process_exception.
    try:
        raise read_only_error()
    except InternalError:
        response = server_error(rf.get("/blog/"))
    assert response.status_code == 409
    assert response["fly-replay"] == "region=fra"


def test_in_the_primary_region_a_read_only_database_is_the_503_page(
    settings, client, urls_with_a_writer
):
    settings.FLY_REGION = settings.PRIMARY_REGION = "fra"
    client.raise_request_exception = False
    response = client.get("/writes-on-get/")
    assert response.status_code == 503
    assert not response.has_header("fly-replay")


def test_an_already_replayed_write_on_a_read_only_database_is_the_503_page(
    in_sjc, client, urls_with_a_writer
):
    client.raise_request_exception = False
    response = client.get("/writes-on-get/", HTTP_FLY_REPLAY_SRC="region=sjc")
    assert response.status_code == 503


@pytest.fixture
def urls_with_a_writer(settings):
    settings.ROOT_URLCONF = "tests.test_replay"
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False


def test_the_page_cache_passes_writes_to_django_without_reading_the_generation(in_sjc, monkeypatch):
    """The replay check is Django middleware: nothing in front of it may read the database for a
    request that can write."""
    import pagecache.wsgi

    def no_database():
        raise AssertionError("the page cache read the generation for a write")

    monkeypatch.setattr(pagecache.wsgi, "generation", no_database)
    in_sjc.PAGE_CACHE_ENABLED = True
    seen = []
    cache = PageCache(lambda environ, start_response: seen.append(environ["PATH_INFO"]) or [])
    for method, path in [("POST", "/blog/"), ("GET", "/admin/login/"), ("PUT", "/")]:
        cache({"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": ""}, None)
    assert seen == ["/blog/", "/admin/login/", "/"]


def _writer_urls():
    from django.urls import path

    from config.urls import handler500 as site_handler500

    return [path("writes-on-get/", raise_read_only)], site_handler500


urlpatterns, handler500 = _writer_urls()


def test_a_replay_is_logged_as_one_info_line_not_a_conflict_warning(
    in_sjc, client, urls_with_a_writer, caplog
):
    with caplog.at_level("INFO", logger="django.request"):
        client.post("/admin/login/")
        client.get("/writes-on-get/")
    lines = [(record.levelname, record.getMessage(), record.exc_info) for record in caplog.records]
    assert lines == [
        ("INFO", "POST /admin/login/: replayed in fra", None),
        ("INFO", "GET /writes-on-get/: replayed in fra", None),
    ]
