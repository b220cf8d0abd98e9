"""The editor's preview: Wagtail sends a made-up request for the page's public URL through the
whole middleware stack, then shows the answer in a frame of the admin's preview panel."""

import pytest

from tests.factories import BlogPageFactory
from tests.test_security import directives

pytestmark = pytest.mark.django_db


def test_a_preview_may_be_framed_by_the_admin_and_keeps_the_public_policy(rf, admin_user):
    post = BlogPageFactory(title="Previewed post")
    original = rf.get(f"/admin/pages/{post.pk}/edit/preview/")
    original.user = admin_user
    response = post.make_preview_request(original, post.default_preview_mode)

    assert response.status_code == 200
    assert b"Previewed post" in response.content
    policy = directives(response["Content-Security-Policy"])
    # The admin's panel (same origin) may show it; no other site may.
    assert policy["frame-ancestors"] == ["'self'"]
    # Otherwise the page is previewed under the policy readers get: no inline code.
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def test_the_public_page_itself_still_refuses_every_frame(client):
    post = BlogPageFactory(title="Published post")
    policy = directives(client.get(post.url)["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'none'"]
