"""Security headers, the admin's own policy, login throttling and request limits."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests import server

pytestmark = pytest.mark.django_db

LOGIN_URL = "/admin/login/"


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def test_public_pages_get_a_strict_content_security_policy(client):
    policy = directives(client.get("/")["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]


def test_admin_gets_its_own_policy_that_allows_the_editors_inline_code(client):
    policy = directives(client.get(LOGIN_URL)["Content-Security-Policy"])
    assert "'unsafe-inline'" in policy["style-src"]
    # Still no code from other origins, and only our own pages may frame the admin (previews).
    assert all(source.startswith("'") for source in policy["script-src"])
    assert policy["frame-ancestors"] == ["'self'"]


def test_security_headers_on_every_page(client):
    response = client.get("/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.fixture
def editor():
    return get_user_model().objects.create_superuser(
        "editor", "editor@example.com", "correct horse battery staple"
    )


def attempt(client, username, password, ip="198.51.100.7"):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_login_works_for_a_real_editor(client, editor):
    response = attempt(client, "editor", "correct horse battery staple")
    assert response.status_code == 302


def test_repeated_failures_from_one_address_lock_logins_with_a_clear_message(
    client, editor, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "editor", "wrong").status_code == 200
    # The failure that reaches the limit is already refused.
    assert attempt(client, "editor", "wrong").status_code == 429
    locked = attempt(client, "editor", "correct horse battery staple")
    assert locked.status_code == 429
    assert b"Too many login attempts" in locked.content
    # The lockout holds for the address even with another username.
    assert attempt(client, "someone-else", "x").status_code == 429


def test_repeated_failures_for_one_username_lock_it_from_any_address(client, editor, settings):
    for number in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "editor", "wrong", ip=f"203.0.113.{number + 1}")
    fresh_client = Client()
    locked = attempt(fresh_client, "editor", "correct horse battery staple", ip="192.0.2.99")
    assert locked.status_code == 429


def test_fly_client_ip_is_trusted_only_on_fly(settings, rf):
    from config.security import client_ip

    request = rf.get("/", REMOTE_ADDR="172.16.0.2", HTTP_FLY_CLIENT_IP="198.51.100.1")
    settings.FLY_APP_NAME = ""
    assert client_ip(request) == "172.16.0.2"
    settings.FLY_APP_NAME = "my-blog"
    assert client_ip(request) == "198.51.100.1"


def test_oversized_request_body_is_refused_with_413(client, settings):
    settings.MAX_REQUEST_BYTES = 1024
    response = client.post(LOGIN_URL, data=b"x" * 2048, content_type="application/octet-stream")
    assert response.status_code == 413
    assert b"Request too large" in response.content


def test_svg_uploads_are_not_accepted(settings):
    assert "svg" not in settings.WAGTAILIMAGES_EXTENSIONS


def test_admin_path_is_configurable(tmp_path, static_root):
    with server.run_server(tmp_path, static_root, ADMIN_PATH="/editors-door/") as running:
        headers = {"Host": "localhost", "X-Forwarded-Proto": "https"}
        moved = server.fetch(running.url + "/editors-door/login/", headers)
        old = server.fetch(running.url + "/admin/login/", headers)
    assert moved.status == 200
    assert b"Sign in" in moved.body or b"Log in" in moved.body
    assert old.status == 404
