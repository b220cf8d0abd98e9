"""The page tree and the pages readers see."""

import pytest
from wagtail.models import Site

from blog.models import HomePage

pytestmark = pytest.mark.django_db


def test_migrations_make_a_home_page_the_sites_root():
    site = Site.objects.get(is_default_site=True)
    assert isinstance(site.root_page.specific, HomePage)
    assert site.root_page.live


def test_home_page_renders(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"<h1>Flight Log</h1>" in response.content


def test_footer_shows_region_and_release_when_set(client, settings):
    settings.FLY_REGION = "fra"
    settings.GIT_SHA = "abc1234def5678"
    response = client.get("/")
    assert b"served from fra \xc2\xb7 release abc1234" in response.content


def test_footer_says_nothing_off_fly(client, settings):
    settings.FLY_REGION = ""
    settings.GIT_SHA = ""
    assert b"served from" not in client.get("/").content


@pytest.mark.django_db(databases=[])
def test_500_page_renders_without_the_database():
    from django.template.loader import render_to_string

    # No database access is allowed in this test: pytest-django raises if the template tries.
    html = render_to_string("500.html")
    assert "Something went wrong" in html
