"""The models and the committed migrations agree, so a deploy's release command migrates
everything a change to the models needs."""

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:
        pytest.fail(
            f"models changed without a migration (make one with makemigrations):\n"
            f"{out.getvalue()} (exit {exit_.code})"
        )
