"""The release command, run as Fly runs it on every deploy, never loses an editor's change.

Fly runs `scripts/release` (fly.toml's release_command: migrate, then import site/) on a temporary
machine with RELEASE_COMMAND=1 and the app's environment. These tests do the same from a copy of
the application laid out as the image lays it out, against a database of their own: PostgreSQL
when DATABASE_URL names it, as on Fly, or SQLite, where the machine with the volume runs the same
script at start-up (MIGRATE_ON_START=1) instead.
"""

import json
import os
import secrets
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests import server

# Fly runs the release command against PostgreSQL: .ci/run runs these on both databases.
pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parent.parent
# What the Dockerfile copies into /app.
APP_PARTS = ["manage.py", "config", "blog", "pagecache", "templates", "static", "site", "scripts"]
EDITED_FILE = "blog/2026-11-25-what-it-costs.md"
UNTOUCHED_FILE = "docs/operations/02-rollback.md"
EDITORS_SUMMARY = "What the site costs a month, updated by the editor after the price change."


@pytest.fixture
def app(tmp_path) -> Path:
    """The application as the image holds it, so the test can change its site/ files."""
    app = tmp_path / "app"
    app.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in APP_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, app / part, ignore=ignore)
        else:
            shutil.copy2(source, app / part)
    return app


@pytest.fixture
def release_env(tmp_path, static_root):
    """The environment of Fly's release machine: the app's [env] and secrets, Fly's variables,
    RELEASE_COMMAND=1, and a fresh database."""
    database_url = os.environ.get("DATABASE_URL", "")
    with server.throwaway_database(database_url or None) as throwaway_url:
        env = server.production_env(
            tmp_path / "release-machine-disk",
            PYTHON=sys.executable,
            FLY_APP_NAME="my-blog",
            FLY_REGION="ams",
            PRIMARY_REGION="ams",
            FLY_MACHINE_ID="1781973f666d89",
            SECRET_KEY=secrets.token_urlsafe(50),
            LOG_LEVEL="INFO",
            # The image holds collected static files; pages render with their hashed names.
            STATIC_ROOT=str(static_root),
        )
        env.pop("ALLOWED_HOSTS")
        if throwaway_url:
            env["DATABASE_URL"] = throwaway_url
            env["RELEASE_COMMAND"] = "1"
        else:
            # SQLite lives on the machine's volume: the release runs there at start-up, the same
            # script without RELEASE_COMMAND (scripts/start with MIGRATE_ON_START=1).
            env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'volume' / 'db.sqlite3'}"
        yield env


def release(app: Path, env: dict[str, str]) -> str:
    """One deploy's release step; fails the test if it fails, as it would fail the deploy."""
    result = subprocess.run(
        ["scripts/release"], cwd=app, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def status_of(output: str, relative_path: str) -> str:
    """What the import did with one file: the first word of the line that names it."""
    return next(line for line in output.splitlines() if f"site/{relative_path}" in line).split()[0]


def django(app: Path, env: dict[str, str], code: str) -> dict:
    """Run Python with Django set up in the app, as `fly ssh console` would; returns the JSON
    the code prints last."""
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=app,
        env={key: value for key, value in env.items() if key != "RELEASE_COMMAND"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# The admin's "Publish": a new revision saved by the editor's account, then published.
EDIT_IN_ADMIN = f"""
import json
from django.contrib.auth import get_user_model
from blog.models import ContentSource

editor = get_user_model().objects.create_superuser("editor", "editor@example.com", "long password")
page = ContentSource.objects.get(path={EDITED_FILE!r}).page.specific
page.summary = {EDITORS_SUMMARY!r}
revision = page.save_revision(user=editor, log_action=True)
revision.publish(user=editor)
print(json.dumps({{"revision": revision.pk, "url": page.url}}))
"""

# Every page, and what a reader sees of the edited one and the untouched one.
SITE_STATE = f"""
import json
from django.test import Client
from wagtail.models import Page
from blog.models import ContentSource

pages = {{
    page.url_path: [page.title, page.live, page.live_revision_id, page.latest_revision_id]
    for page in Page.objects.filter(depth__gt=1).order_by("path")
}}
client = Client(HTTP_HOST="my-blog.fly.dev", HTTP_X_FORWARDED_PROTO="https")
seen = {{}}
for path in ({EDITED_FILE!r}, {UNTOUCHED_FILE!r}):
    page = ContentSource.objects.get(path=path).page.specific
    response = client.get(page.url)
    seen[path] = {{
        "status": response.status_code,
        "html": response.content.decode(),
        "summary": page.summary,
        "live_revision": page.live_revision_id,
        "editor": page.live_revision.user.username if page.live_revision.user else None,
    }}
print(json.dumps({{"pages": pages, "seen": seen}}))
"""


def test_deploys_keep_the_editors_change_and_update_untouched_pages_from_changed_files(
    app, release_env
):
    first = release(app, release_env)
    assert "importing the site's content" in first
    assert " 0 failed" in first
    edit = django(app, release_env, EDIT_IN_ADMIN)
    before = django(app, release_env, SITE_STATE)

    # The next deploy, with the same files.
    second = release(app, release_env)

    after_second = django(app, release_env, SITE_STATE)
    assert "0 created, 0 updated" in second, second
    # Nothing lost or changed anywhere: every page, its title, state and revisions as they were.
    assert after_second["pages"] == before["pages"]
    edited = after_second["seen"][EDITED_FILE]
    assert edited["live_revision"] == edit["revision"]
    assert edited["editor"] == "editor"
    assert edited["summary"] == EDITORS_SUMMARY
    assert edited["status"] == 200
    assert EDITORS_SUMMARY in edited["html"]

    # A deploy whose commit changed two files: the one the editor changed in the admin
    # meanwhile, and one nobody touched.
    for relative_path, sentence in [
        (EDITED_FILE, "A paragraph the next commit adds to the costs post."),
        (UNTOUCHED_FILE, "A paragraph the next commit adds to the rollback page."),
    ]:
        path = app / "site" / relative_path
        path.write_text(path.read_text().rstrip("\n") + f"\n\n{sentence}\n")

    third = release(app, release_env)

    after_third = django(app, release_env, SITE_STATE)
    assert status_of(third, UNTOUCHED_FILE) == "updated", third
    assert status_of(third, EDITED_FILE) == "skipped", third
    untouched = after_third["seen"][UNTOUCHED_FILE]
    assert untouched["status"] == 200
    assert "A paragraph the next commit adds to the rollback page." in untouched["html"]
    assert untouched["live_revision"] != before["seen"][UNTOUCHED_FILE]["live_revision"]
    edited = after_third["seen"][EDITED_FILE]
    assert edited["live_revision"] == edit["revision"]
    assert EDITORS_SUMMARY in edited["html"]
    assert "A paragraph the next commit adds to the costs post." not in edited["html"]
    # Every other page is exactly as it was.
    changed = {
        url for url, state in after_third["pages"].items() if before["pages"].get(url) != state
    }
    assert len(changed) == 1, changed
    assert after_third["pages"].keys() == before["pages"].keys()


# The browser tests' editor: QA's release creates it from the secrets; production's refuses them.
E2E_SECRETS = {"E2E_ADMIN_USER": "e2e-editor", "E2E_ADMIN_PASSWORD": secrets.token_urlsafe(24)}

EDITOR_LOGS_IN = f"""
import json
import os
from django.contrib.auth import get_user_model
from django.test import Client

users = list(get_user_model().objects.values_list("username", "is_superuser"))
host = os.environ["FLY_APP_NAME"] + ".fly.dev"
client = Client(HTTP_HOST=host, HTTP_X_FORWARDED_PROTO="https")
# The admin's login form, as the browser suite fills it in.
password = {E2E_SECRETS["E2E_ADMIN_PASSWORD"]!r}
client.post("/admin/login/", {{"username": "e2e-editor", "password": password, "next": "/admin/"}})
logged_in = "_auth_user_id" in client.session
admin = client.get("/admin/").status_code
print(json.dumps({{"users": users, "logged_in": logged_in, "admin": admin}}))
"""


def fly_env(config: str) -> dict[str, str]:
    """The [env] of a Fly config, as the release machine gets it."""
    return {
        key: str(value) for key, value in tomllib.loads((ROOT / config).read_text())["env"].items()
    }


def test_qas_release_creates_the_e2e_editor_and_productions_refuses_it(app, release_env):
    qa_app = tomllib.loads((ROOT / "fly.qa.toml").read_text())["app"]
    qa = release_env | fly_env("fly.qa.toml") | {"FLY_APP_NAME": qa_app} | E2E_SECRETS
    assert qa["E2E_EDITOR_ALLOWED"] == "1"
    output = release(app, qa)
    assert "e2e-editor" in output
    assert E2E_SECRETS["E2E_ADMIN_PASSWORD"] not in output
    state = django(app, qa, EDITOR_LOGS_IN)
    assert state == {"users": [["e2e-editor", True]], "logged_in": True, "admin": 200}

    production = release_env | fly_env("fly.toml") | {"FLY_APP_NAME": "my-blog"} | E2E_SECRETS
    assert "E2E_EDITOR_ALLOWED" not in production
    result = subprocess.run(
        ["scripts/release"], cwd=app, env=production, capture_output=True, text=True, timeout=600
    )
    assert result.returncode != 0
    assert "refusing to create an end-to-end editor on my-blog" in result.stderr
    assert "fly secrets unset E2E_ADMIN_USER E2E_ADMIN_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr
