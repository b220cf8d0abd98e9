"""Create a local admin user for `make run`, once, and print its password once.

Refuses to run when DEBUG is off or on a Fly machine, so default credentials can never exist in
a deployment. The password is kept in DATA_DIR/local-admin.txt (git-ignored) for later look-up.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "admin"


class Command(BaseCommand):
    help = "Create the local development admin user (DEBUG only, never on Fly)."

    def handle(self, *args, **options):
        if not settings.DEBUG or settings.FLY_APP_NAME:
            raise CommandError(
                "refusing to create a local admin: this only runs with DJANGO_DEBUG=1 and off Fly. "
                "On a deployment, create a user with `fly ssh console -C "
                "'python manage.py createsuperuser'`."
            )
        credentials = settings.DATA_DIR / "local-admin.txt"
        User = get_user_model()
        if User.objects.filter(username=USERNAME).exists():
            where = f" (password in {credentials})" if credentials.exists() else ""
            self.stdout.write(f"Local admin user '{USERNAME}' already exists{where}.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(USERNAME, email="admin@localhost", password=password)
        credentials.parent.mkdir(parents=True, exist_ok=True)
        credentials.write_text(f"username: {USERNAME}\npassword: {password}\n")
        credentials.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created local admin user. Log in at /admin/ as '{USERNAME}' with password "
                f"{password}\n(shown once; also saved in {credentials})"
            )
        )
