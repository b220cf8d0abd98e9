"""The browser tests' editor account: created by QA's release step from its secrets, refused
anywhere else (blog/management/commands/ensure_e2e_editor.py)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-generated-password-for-qa-0123"


@pytest.fixture
def qa(monkeypatch):
    monkeypatch.setenv("E2E_EDITOR_ALLOWED", "1")
    monkeypatch.setenv("FLY_APP_NAME", "my-blog-qa")
    monkeypatch.setenv("E2E_ADMIN_USER", "e2e-editor")
    monkeypatch.setenv("E2E_ADMIN_PASSWORD", PASSWORD)
    return monkeypatch


def test_qa_gets_a_superuser_it_can_log_in_with(qa, capsys):
    call_command("ensure_e2e_editor")
    user = get_user_model().objects.get(username="e2e-editor")
    assert user.is_active
    assert user.is_superuser
    assert user.check_password(PASSWORD)
    out = capsys.readouterr().out
    assert "Created the end-to-end editor 'e2e-editor'" in out
    assert PASSWORD not in out


def test_every_release_sets_the_password_the_secret_holds_now(qa):
    call_command("ensure_e2e_editor")
    qa.setenv("E2E_ADMIN_PASSWORD", PASSWORD + "-rotated")
    call_command("ensure_e2e_editor")
    user = get_user_model().objects.get(username="e2e-editor")
    assert user.check_password(PASSWORD + "-rotated")
    assert get_user_model().objects.count() == 1


def test_production_refuses_the_secrets_and_names_the_fix(qa):
    qa.delenv("E2E_EDITOR_ALLOWED")
    qa.setenv("FLY_APP_NAME", "my-blog")
    with pytest.raises(CommandError, match="refusing to create an end-to-end editor on my-blog"):
        call_command("ensure_e2e_editor")
    assert not get_user_model().objects.exists()
    with pytest.raises(CommandError, match="fly secrets unset E2E_ADMIN_USER E2E_ADMIN_PASSWORD"):
        call_command("ensure_e2e_editor")


def test_without_the_secrets_nothing_happens_anywhere(monkeypatch, capsys):
    monkeypatch.delenv("E2E_ADMIN_USER", raising=False)
    monkeypatch.delenv("E2E_ADMIN_PASSWORD", raising=False)
    call_command("ensure_e2e_editor")
    assert "No end-to-end editor configured" in capsys.readouterr().out
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("E2E_ADMIN_PASSWORD", "", "E2E_ADMIN_PASSWORD is not set"),
        ("E2E_ADMIN_USER", "", "E2E_ADMIN_USER is not set"),
        ("E2E_ADMIN_PASSWORD", "short", "use at least 16"),
    ],
)
def test_incomplete_or_weak_secrets_are_refused(qa, variable, value, message):
    qa.setenv(variable, value)
    with pytest.raises(CommandError, match=message):
        call_command("ensure_e2e_editor")
    assert not get_user_model().objects.exists()


def test_dry_run_changes_nothing(qa, capsys):
    call_command("ensure_e2e_editor", "--dry-run")
    assert "Would create the end-to-end editor 'e2e-editor'" in capsys.readouterr().out
    assert not get_user_model().objects.exists()
