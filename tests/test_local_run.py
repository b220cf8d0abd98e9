"""What `make run` (DEBUG on) shows: the site's own 404 page for a missing address, Django's debug
page for a real error, and a quiet console."""

import subprocess
import sys

import pytest
from django.http import Http404
from django.test import Client
from django.urls import include, path

from tests import server

pytestmark = pytest.mark.django_db


def broken_view(request):
    raise RuntimeError("a bug under make run")


def missing_view(request):
    raise Http404("no such thing")


# This module is also the URLconf of the tests marked with it: the site's routes plus two views
# that fail on purpose.
urlpatterns = [
    path("broken/", broken_view),
    path("missing/", missing_view),
    path("", include("config.urls")),
]


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def text_of(response) -> str:
    return " ".join(response.content.decode().split())


@pytest.mark.usefixtures("debug")
@pytest.mark.parametrize(
    "address",
    [
        "/no-such-page/",  # Wagtail's page tree has nothing there (its view raises Http404)
        "/no-such-file.txt",  # no URL pattern matches at all
        "/static/css/no-such.css",  # a static file that does not exist
        "/blog/tags/no-such-tag/",  # a route of the blog index with nothing behind it
    ],
)
def test_under_debug_a_missing_page_gets_the_sites_own_404_page(client, address):
    response = client.get(address)

    assert response.status_code == 404
    html = text_of(response)
    assert "There is nothing at this address" in html
    assert 'class="site-header"' in html
    assert "Using the URLconf" not in html
    assert "DEBUG = True" not in html


@pytest.mark.usefixtures("debug")
def test_under_debug_a_missing_slash_still_redirects(client):
    response = client.get("/blog")

    assert response.status_code == 301
    assert response["Location"] == "/blog/"


@pytest.mark.urls("tests.test_local_run")
@pytest.mark.usefixtures("debug")
def test_under_debug_a_view_raising_not_found_gets_the_sites_404_page(client):
    response = client.get("/missing/")

    assert response.status_code == 404
    assert "There is nothing at this address" in text_of(response)


@pytest.mark.urls("tests.test_local_run")
@pytest.mark.usefixtures("debug")
def test_under_debug_an_error_still_gets_djangos_debug_page():
    response = Client(raise_request_exception=False).get("/broken/")

    assert response.status_code == 500
    html = text_of(response)
    assert "RuntimeError at /broken/" in html
    assert "a bug under make run" in html


def test_management_commands_start_without_the_axes_banner(tmp_path):
    env = server.production_env(tmp_path, DJANGO_DEBUG="1")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=server.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "AXES" not in result.stdout + result.stderr
