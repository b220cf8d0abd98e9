"""Nothing unpublished or private reaches a reader: search, listings, feeds, metadata, cache."""

import pytest

from tests.factories import BlogPageFactory, paragraph

pytest_plugins = ["tests.site_content"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rendering")]


def search_html(client, query: str) -> str:
    return " ".join(client.get("/search/", {"q": query}).content.decode().split())


def test_a_draft_of_a_live_post_is_not_searchable(client):
    post = BlogPageFactory(title="Live post", body=[paragraph("Published words only.")])
    draft = post.specific_class.objects.get(pk=post.pk)
    draft.body = [paragraph("A zeppelinword in the draft.")]
    draft.save_revision()
    assert "Live post" not in search_html(client, "zeppelinword")
    assert "Live post" in search_html(client, "published")
