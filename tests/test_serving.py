"""The site as production serves it: gunicorn + whitenoise, DEBUG off, behind Fly's proxy."""

import json
import re

from tests import server

# Fly's proxy terminates TLS and tells the app so.
VIA_FLY_PROXY = {"Host": "localhost", "X-Forwarded-Proto": "https"}


def hashed_name(static_root, name: str) -> str:
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    return manifest["paths"][name]


def test_home_page_renders_under_production_settings(production_server):
    response = server.fetch(production_server.url + "/", VIA_FLY_PROXY)
    assert response.status == 200
    assert "<h1>Flight Log</h1>" in response.text
    # The page links the hashed stylesheet, not the plain name.
    assert re.search(r'href="/static/css/site\.[0-9a-f]{12}\.css"', response.text)


def test_plain_http_is_redirected_to_https(production_server):
    response = server.fetch(production_server.url + "/", {"Host": "localhost"})
    assert response.status == 301
    assert response.headers["location"] == "https://localhost/"


def test_https_responses_carry_hsts(production_server):
    response = server.fetch(production_server.url + "/", VIA_FLY_PROXY)
    assert "max-age=31536000" in response.headers["strict-transport-security"]


def test_healthz_answers_a_fly_check_on_the_real_server(production_server):
    response = server.fetch(production_server.url + "/healthz", {"Host": "172.19.2.10:8000"})
    assert response.status == 200
    assert response.text.startswith("ok")


def test_hashed_static_file_is_immutable_for_a_year(production_server, static_root):
    path = "/static/" + hashed_name(static_root, "css/site.css")
    response = server.fetch(production_server.url + path, VIA_FLY_PROXY)
    assert response.status == 200
    cache_control = response.headers["cache-control"]
    assert "immutable" in cache_control
    max_age = int(re.search(r"max-age=(\d+)", cache_control).group(1))
    assert max_age >= 31_536_000


def test_static_file_is_sent_brotli_or_gzip_compressed_when_asked(production_server, static_root):
    path = "/static/" + hashed_name(static_root, "css/site.css")
    plain = server.fetch(production_server.url + path, VIA_FLY_PROXY)
    brotli = server.fetch(production_server.url + path, {**VIA_FLY_PROXY, "Accept-Encoding": "br"})
    gzip = server.fetch(production_server.url + path, {**VIA_FLY_PROXY, "Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert brotli.headers["content-encoding"] == "br"
    assert gzip.headers["content-encoding"] == "gzip"
    assert len(brotli.body) < len(plain.body)
    assert "Accept-Encoding" in brotli.headers["vary"]


def test_unknown_path_gets_the_sites_404_page(production_server):
    response = server.fetch(production_server.url + "/no-such-page/", VIA_FLY_PROXY)
    assert response.status == 404
    assert "Page not found" in response.text


def test_unknown_host_is_a_400_not_a_server_error(production_server):
    response = server.fetch(production_server.url + "/", {"Host": "evil.example"})
    assert response.status == 400
    assert "Traceback" not in production_server.log_text()
