"""Which Chromium the suite launches, the message when there is none, and the ffmpeg that records
its videos (no browser needed)."""

import subprocess

import pytest

from tests.e2e.helpers import (
    NoBrowserError,
    find_chromium,
    install_playwright_chromium,
    playwright_ffmpeg,
    registry_with_system_ffmpeg,
)


@pytest.fixture
def executable(tmp_path):
    def make(name: str) -> str:
        path = tmp_path / name
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
        return str(path)

    return make


def test_chromium_path_wins_over_every_other_browser(executable):
    chosen = find_chromium(
        {"CHROMIUM_PATH": executable("mine")}, executable("managed"), executable("debian")
    )
    assert chosen.endswith("/mine")


def test_debians_chromium_comes_before_playwrights_own(executable):
    assert find_chromium({}, executable("managed"), executable("debian")).endswith("/debian")


def test_playwrights_own_chromium_is_used_when_it_is_the_only_one(executable, tmp_path):
    assert find_chromium({}, executable("managed"), str(tmp_path / "absent")) is None


def test_no_chromium_at_all_fails_with_how_to_get_one(tmp_path):
    with pytest.raises(NoBrowserError, match=r"apt-get install -y chromium.*playwright install"):
        find_chromium({}, str(tmp_path / "none"), str(tmp_path / "absent"))


def test_a_chromium_path_that_is_not_there_is_an_error_not_a_fallback(executable, tmp_path):
    with pytest.raises(NoBrowserError, match=r"CHROMIUM_PATH=.*/typo is not an executable"):
        find_chromium({"CHROMIUM_PATH": str(tmp_path / "typo")}, None, executable("debian"))


def test_without_any_chromium_playwrights_own_is_installable(tmp_path):
    with pytest.raises(NoBrowserError) as missing:
        find_chromium({}, str(tmp_path / "none"), str(tmp_path / "absent"))
    assert missing.value.installable


def test_a_failed_install_says_why_and_what_to_install_by_hand():
    def offline(command, **kwargs):
        assert command[-2:] == ["install", "chromium"]
        output = "Downloading Chrome\nError: getaddrinfo ENOTFOUND cdn\n    at x {\n}\n"
        return subprocess.CompletedProcess(command, 1, output, "Failed to install browsers\n")

    said = []
    with pytest.raises(NoBrowserError, match=r"failed \(Error: getaddrinfo ENOTFOUND cdn\)"):
        install_playwright_chromium(said.append, run=offline)
    assert "installing Playwright's" in said[0]


def test_the_systems_ffmpeg_is_lent_to_playwright_beside_its_own_browsers(tmp_path):
    own_registry = tmp_path / "ms-playwright"
    (own_registry / "chromium-1").mkdir(parents=True)
    system_ffmpeg = tmp_path / "ffmpeg"
    system_ffmpeg.write_text("#!/bin/sh\n")
    system_ffmpeg.chmod(0o755)
    environ = {"PLAYWRIGHT_BROWSERS_PATH": str(own_registry)}

    lent = registry_with_system_ffmpeg(environ, tmp_path / "lent", str(system_ffmpeg))

    expected = playwright_ffmpeg({"PLAYWRIGHT_BROWSERS_PATH": str(lent)})
    assert expected.resolve() == system_ffmpeg
    assert (lent / "chromium-1").resolve() == own_registry / "chromium-1"


def test_playwrights_own_ffmpeg_is_left_alone(tmp_path):
    environ = {"PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "ms-playwright")}
    own = playwright_ffmpeg(environ)
    own.parent.mkdir(parents=True)
    own.write_text("#!/bin/sh\n")
    own.chmod(0o755)

    assert registry_with_system_ffmpeg(environ, tmp_path / "lent", "/usr/bin/true") is None
