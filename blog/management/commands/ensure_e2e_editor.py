"""Create or update the browser tests' editor account on QA, from E2E_ADMIN_USER/E2E_ADMIN_PASSWORD.

The release step (scripts/release) runs it on every deploy, so a fork's first push to QA already
has the account the pipeline's e2e job logs in with, and a new password in the secrets takes
effect at the next deploy. Only an app whose [env] says E2E_EDITOR_ALLOWED=1 (fly.qa.toml) may
have one: anywhere else the secrets are refused, and the release fails saying how to remove them,
because a superuser whose password sits in GitHub's secrets must never exist on production.
"""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

MINIMUM_PASSWORD_LENGTH = 16


class Command(BaseCommand):
    help = "Create or update the end-to-end tests' editor from E2E_ADMIN_USER (QA only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would happen; change nothing"
        )

    def handle(self, *args, **options):
        username = os.environ.get("E2E_ADMIN_USER", "").strip()
        password = os.environ.get("E2E_ADMIN_PASSWORD", "")
        app = os.environ.get("FLY_APP_NAME") or "this app"
        if not username and not password:
            self.stdout.write("No end-to-end editor configured (E2E_ADMIN_USER is not set).")
            return
        if os.environ.get("E2E_EDITOR_ALLOWED") != "1":
            raise CommandError(
                f"refusing to create an end-to-end editor on {app}: E2E_ADMIN_USER or "
                "E2E_ADMIN_PASSWORD is set, but only QA may have that account "
                '(E2E_EDITOR_ALLOWED = "1" in fly.qa.toml\'s [env]). Remove them: '
                f"fly secrets unset E2E_ADMIN_USER E2E_ADMIN_PASSWORD --app {app}"
            )
        if not username or not password:
            missing = "E2E_ADMIN_PASSWORD" if username else "E2E_ADMIN_USER"
            raise CommandError(
                f"{missing} is not set: the editor needs both E2E_ADMIN_USER and "
                "E2E_ADMIN_PASSWORD (scripts/fly-bootstrap sets them on QA and in GitHub)"
            )
        if len(password) < MINIMUM_PASSWORD_LENGTH:
            raise CommandError(
                f"E2E_ADMIN_PASSWORD has {len(password)} characters: use at least "
                f"{MINIMUM_PASSWORD_LENGTH} (python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'), on QA and in GitHub's secrets"
            )
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if options["dry_run"]:
            verb = "update" if user else "create"
            self.stdout.write(f"Would {verb} the end-to-end editor {username!r}.")
            return
        created = user is None
        if created:
            user = User(username=username, email=f"{username}@example.invalid")
        user.is_active = user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} the end-to-end editor {username!r} (password from the secret).")
