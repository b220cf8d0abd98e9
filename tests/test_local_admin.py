"""The local admin bootstrap: for `make run` only, never on a deployment."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_mode(settings, tmp_path):
    settings.DEBUG = True
    settings.FLY_APP_NAME = ""
    settings.DATA_DIR = tmp_path
    return tmp_path


def test_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refusing to create a local admin"):
        call_command("create_local_admin")
    assert not get_user_model().objects.exists()


def test_refuses_on_fly_even_with_debug_on(local_mode, settings):
    settings.FLY_APP_NAME = "my-blog"
    with pytest.raises(CommandError, match="refusing"):
        call_command("create_local_admin")
    assert not get_user_model().objects.exists()


def test_creates_a_superuser_and_prints_its_password_once(local_mode, capsys):
    call_command("create_local_admin")
    first = capsys.readouterr().out
    password = (local_mode / "local-admin.txt").read_text().split("password: ")[1].strip()
    assert password in first
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser
    assert user.check_password(password)

    call_command("create_local_admin")
    second = capsys.readouterr().out
    assert "already exists" in second
    assert password not in second
    user.refresh_from_db()
    assert user.check_password(password)
