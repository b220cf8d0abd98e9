"""Security headers (the HTTP Observatory's rules), the admin's own policy, login throttling,
request limits and uploads."""

import re

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


# The MDN HTTP Observatory's rules, as a production server answers a reader over HTTPS.
VIA_FLY_PROXY = {"Host": "localhost", "X-Forwarded-Proto": "https"}
# Sources that let a policy run script from anywhere, or inline; any one costs the CSP test.
UNSAFE_SCRIPT_SOURCES = {"'unsafe-inline'", "'unsafe-eval'", "data:", "http:", "https:", "*"}
PRIVATE_REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}
SIX_MONTHS = 15_768_000


def assert_meets_the_observatorys_rules(headers: dict[str, str]) -> None:
    policy = directives(headers["content-security-policy"])
    assert policy["default-src"] in (["'none'"], ["'self'"])
    script_sources = policy.get("script-src", policy["default-src"])
    assert not UNSAFE_SCRIPT_SOURCES & set(script_sources), script_sources
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]

    hsts = dict(
        part.strip().partition("=")[::2] for part in headers["strict-transport-security"].split(";")
    )
    assert int(hsts["max-age"]) >= SIX_MONTHS
    assert {"includeSubDomains", "preload"} <= hsts.keys()

    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] in PRIVATE_REFERRER_POLICIES
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"]
    # No cookie on a reader's page, so nothing for the cookie test to mark down.
    assert "set-cookie" not in headers


def test_a_public_page_meets_the_http_observatorys_a_plus_rules(production_server):
    # Rendered, and from the page cache (which must keep every header): two workers, so it
    # may take a few requests before one answers from its cache.
    answers = [server.fetch(production_server.url + "/", VIA_FLY_PROXY) for _ in range(10)]
    assert {answer.status for answer in answers} == {200}
    assert {answer.headers.get("x-cache") for answer in answers} == {"miss", "hit"}
    for answer in answers:
        assert_meets_the_observatorys_rules(answer.headers)


def test_the_error_pages_carry_the_same_headers(production_server):
    missing = server.fetch(production_server.url + "/no-such-page/", VIA_FLY_PROXY)
    assert missing.status == 404
    assert_meets_the_observatorys_rules(missing.headers)


def test_the_admins_csrf_cookie_is_secure_http_only_and_same_site(production_server):
    response = server.fetch(production_server.url + "/admin/login/", VIA_FLY_PROXY)
    assert response.status == 200
    attributes = [part.strip() for part in response.headers["set-cookie"].split(";")]
    assert attributes[0].startswith("csrftoken=")
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= set(attributes)


def test_the_editors_session_cookie_is_secure_http_only_and_same_site(client, editor):
    response = attempt(client, "editor", "correct horse battery staple")
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


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


@pytest.mark.slow
def test_admin_path_is_configurable(tmp_path, static_root):
    with server.run_server(tmp_path, static_root, ADMIN_PATH="/editors-door/") as running:
        headers = {"Host": "localhost", "X-Forwarded-Proto": "https"}
        moved = server.fetch(running.url + "/editors-door/login/", headers)
        old = server.fetch(running.url + "/admin/login/", headers)
    assert moved.status == 200
    assert b"Sign in" in moved.body or b"Log in" in moved.body
    assert old.status == 404


# --- Uploads: raster formats only, bounded in bytes and pixels, sanitised names ---------------

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>'
)


def png(width: int = 40, height: int = 30, mode: str = "RGB") -> bytes:
    import io

    from PIL import Image as PillowImage

    buffer = io.BytesIO()
    PillowImage.new(mode, (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def uploads(client, editor, settings, tmp_path):
    """The admin's own upload forms, as a signed-in editor; files land in a temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(editor)

    def upload(kind: str, name: str, content: bytes):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return client.post(
            f"/admin/{kind}/add/",
            {"title": "Upload", "file": SimpleUploadedFile(name, content)},
        )

    return upload


def stored_images():
    from wagtail.images import get_image_model

    return list(get_image_model().objects.all())


def form_errors(response) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.context["form"].errors)


def test_a_raster_image_uploads_through_the_admin(uploads):
    # The control for the refusals below: the same form accepts an ordinary PNG.
    response = uploads("images", "runway.png", png())
    assert response.status_code == 302
    assert len(stored_images()) == 1


@pytest.mark.parametrize(
    ("name", "refusal"),
    [
        ("drawing.svg", "Not a supported image format"),
        ("drawing.SVG", "Not a supported image format"),
        # Renamed, it is still recognised for what it is.
        ("drawing.png", "does not match the file format (svg)"),
    ],
)
def test_svg_image_uploads_are_refused_whatever_their_name(uploads, name, refusal):
    # An SVG can carry script, which would run if the file were ever opened from our origin.
    assert refusal in form_errors(uploads("images", name, SVG))
    assert stored_images() == []


def test_svg_document_uploads_are_refused(uploads):
    from wagtail.documents import get_document_model

    response = uploads("documents", "drawing.svg", SVG)
    assert "File extension" in form_errors(response)
    assert not get_document_model().objects.exists()


def test_an_image_over_the_size_limit_is_refused(uploads, settings):
    # A valid PNG padded past WAGTAILIMAGES_MAX_UPLOAD_SIZE (10 MB), under MAX_REQUEST_BYTES.
    padded = png() + b"\0" * settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE
    assert len(padded) < settings.MAX_REQUEST_BYTES
    errors = form_errors(uploads("images", "huge.png", padded))
    assert "This file is too big" in errors
    assert stored_images() == []


def test_an_image_over_the_pixel_limit_is_refused(uploads, settings):
    # A few kilobytes of one-bit PNG can still decode to more than 40 million pixels.
    width = 8000
    height = settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS // width + 1
    errors = form_errors(uploads("images", "bomb.png", png(width, height, mode="1")))
    assert "too many pixels" in errors
    assert stored_images() == []


def test_uploaded_file_names_are_sanitised(uploads, settings):
    response = uploads("images", "../../ev il<script>&name;ünï 🚀.png", png())
    assert response.status_code == 302
    (image,) = stored_images()
    folder, name = image.file.name.split("/")
    assert folder == "original_images"
    assert re.fullmatch(r"[A-Za-z0-9_.-]+\.png", name), name
    stored = (settings.MEDIA_ROOT / image.file.name).resolve()
    assert stored.is_relative_to(settings.MEDIA_ROOT.resolve())


@pytest.fixture
def media_root(settings, tmp_path):
    """The folder the media route serves image files from."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.parametrize("name", ["stray-drawing.svg", "stray-drawing.SVG", "stray.html"])
def test_media_route_serves_only_raster_images_so_a_stray_svg_is_never_served(
    client, media_root, name
):
    # No upload can put an SVG in media (above), but a file copied onto the volume by hand
    # must not be served inline either: the route answers the upload formats only.
    folder = media_root / "original_images"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(SVG)
    (folder / "stray-photo.PNG").write_bytes(png())
    try:
        assert client.get(f"/media/original_images/{name}").status_code == 404
        photo = client.get("/media/original_images/stray-photo.PNG")
        assert photo.status_code == 200
        assert photo["X-Content-Type-Options"] == "nosniff"
    finally:
        (folder / name).unlink()
        (folder / "stray-photo.PNG").unlink()
