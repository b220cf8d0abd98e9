"""The error pages: 500 and 503 render without the database, under the fork's own site name, with
the same head as every other page."""

import pytest
from django.template.loader import render_to_string


def text_of(response) -> str:
    return " ".join(response.content.decode().split())


@pytest.fixture
def fork(settings):
    settings.WAGTAIL_SITE_NAME = "Harbour Notes"


@pytest.mark.django_db(databases=[])
@pytest.mark.usefixtures("fork")
@pytest.mark.parametrize(
    ("template", "title"), [("500.html", "Server error"), ("503.html", "Back soon")]
)
def test_error_pages_name_the_site_from_its_settings_without_the_database(template, title):
    # No database access is allowed here: pytest-django raises if the template tries.
    html = " ".join(render_to_string(template).split())

    assert f"<title>{title} · Harbour Notes</title>" in html
    assert '<a class="site-title" href="/">Harbour Notes</a>' in html
    assert "Flight Log" not in html
    assert '<html lang="en-GB">' in html
    assert '<meta name="color-scheme" content="light dark">' in html
    assert '<meta name="robots" content="noindex">' in html
    assert 'href="#main">Skip to content</a>' in html


@pytest.mark.django_db
def test_the_404_page_shares_the_head_of_every_page(client):
    html = text_of(client.get("/no-such-page/"))

    assert '<html lang="en-GB">' in html
    assert '<meta name="color-scheme" content="light dark">' in html
    assert 'href="/static/css/site.css"' in html
