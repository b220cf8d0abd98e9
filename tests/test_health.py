"""/healthz and /readyz answer Fly's checks: plain HTTP, a private IP as Host, no redirects."""

import pytest

from tests import server

FLY_CHECK = {"HTTP_HOST": "172.19.2.10:8000"}


@pytest.fixture
def production_security(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["blog.example.com"]


@pytest.mark.django_db
def test_healthz_answers_a_fly_check_despite_unknown_host_and_https_redirect(
    client, production_security
):
    response = client.get("/healthz", **FLY_CHECK)
    assert response.status_code == 200
    assert response.content.decode().startswith("ok")
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_other_paths_still_reject_the_unknown_host(client, production_security):
    # Proves the exemption is specific to the health paths, not a hole in host validation.
    assert client.get("/", **FLY_CHECK).status_code == 400


@pytest.mark.django_db
def test_other_paths_still_redirect_to_https(client, production_security):
    response = client.get("/", HTTP_HOST="blog.example.com")
    assert response.status_code == 301
    assert response["Location"] == "https://blog.example.com/"


def test_healthz_names_the_release_and_region(client, settings):
    settings.GIT_SHA = "abc1234def"
    settings.FLY_REGION = "fra"
    assert client.get("/healthz").content.decode() == "ok release=abc1234def region=fra\n"


@pytest.mark.django_db
def test_readyz_checks_the_database(client, production_security):
    response = client.get("/readyz", **FLY_CHECK)
    assert response.status_code == 200
    assert response.content.decode().startswith("ok")


def test_readyz_is_503_and_healthz_200_when_the_database_is_unreachable(tmp_path, static_root):
    closed_port = server.free_port()
    with server.run_server(
        tmp_path,
        static_root,
        prepare=False,
        database_url=f"postgres://nobody@127.0.0.1:{closed_port}/nothing",
    ) as running:
        ready = server.fetch(running.url + "/readyz", {"Host": "172.19.2.10:8000"})
        health = server.fetch(running.url + "/healthz", {"Host": "172.19.2.10:8000"})
    assert ready.status == 503
    assert ready.text.startswith("database unavailable: OperationalError")
    assert ready.headers["retry-after"] == "5"
    assert health.status == 200
