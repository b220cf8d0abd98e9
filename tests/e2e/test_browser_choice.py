"""Which Chromium the suite launches, and the message when there is none (no browser needed)."""

import pytest

from tests.e2e.helpers import NoBrowserError, find_chromium


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
