"""The environment contract: each variable does what the README says, with safe defaults.

Settings are read once per process: each case runs the settings module again in this process
with only the variables it names set (settings_under). What a process does with them (stopping
with one line, gunicorn refusing to start, the system checks) runs in a fresh interpreter.
"""

import json
import os
import runpy
import subprocess
import sys
from unittest import mock

import pytest

from config.env import ConfigurationError
from tests.server import ROOT

PRODUCTION = {"SECRET_KEY": "s" * 50, "ALLOWED_HOSTS": "example.com"}


def run_python(code: str, env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_under(env: dict[str, str], tmp_path, *names: str) -> dict:
    """The named settings as config/settings.py computes them with only `env` set (and PATH,
    DATA_DIR, HOME), as JSON would carry them (tuples as lists, paths as strings)."""
    base = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    with mock.patch.dict(os.environ, {**base, **env}, clear=True):
        values = runpy.run_path(str(ROOT / "config" / "settings.py"))
    return json.loads(json.dumps({name: values[name] for name in names}, default=str))


def settings_error(env: dict[str, str], tmp_path) -> str:
    """The message config/settings.py stops with under `env`."""
    with pytest.raises(ConfigurationError) as error:
        settings_under(env, tmp_path)
    return str(error.value)


def test_debug_is_off_by_default(tmp_path):
    values = settings_under(PRODUCTION, tmp_path, "DEBUG", "SECURE_SSL_REDIRECT")
    assert values == {"DEBUG": False, "SECURE_SSL_REDIRECT": True}


def test_production_turns_on_https_hsts_and_secure_cookies(tmp_path):
    values = settings_under(
        PRODUCTION,
        tmp_path,
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
    )
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["SESSION_COOKIE_SECURE"]
    assert values["CSRF_COOKIE_SECURE"]


def test_missing_secret_key_stops_manage_py_with_one_line_naming_the_fix(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SECRET_KEY" in lines[0]
    assert "fly secrets set SECRET_KEY=" in lines[0]


def test_missing_secret_key_stops_gunicorn_before_it_serves(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "PORT": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("error: SECRET_KEY is not set")
    assert "Traceback" not in result.stderr


def test_local_mode_generates_a_secret_key_once_and_keeps_it(tmp_path):
    first = settings_under({"DJANGO_DEBUG": "1"}, tmp_path, "SECRET_KEY")["SECRET_KEY"]
    second = settings_under({"DJANGO_DEBUG": "1"}, tmp_path, "SECRET_KEY")["SECRET_KEY"]
    assert len(first) >= 50
    assert first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_default_database_is_sqlite_in_data_dir_with_wal(tmp_path):
    database = settings_under(PRODUCTION, tmp_path, "DATABASES")["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / "db.sqlite3")
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]


def test_sqlite_database_really_runs_in_wal_mode(tmp_path):
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'\n"
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "cursor = connection.cursor(); cursor.execute('PRAGMA journal_mode')\n"
        "print(cursor.fetchone()[0])"
    )
    result = run_python(code, PRODUCTION, tmp_path)
    assert result.stdout.strip() == "wal", result.stderr


def test_sqlite_keeps_its_connection_between_requests_with_its_pragmas(tmp_path):
    # Django opens and closes connections around each request through these two signals.
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'\n"
        "import django; django.setup()\n"
        "from django.core.signals import request_finished, request_started\n"
        "from django.db import connection\n"
        "seen = []\n"
        "for _ in range(3):\n"
        "    request_started.send(sender=None)\n"
        "    cursor = connection.cursor(); cursor.execute('PRAGMA synchronous')\n"
        "    seen.append((id(connection.connection), cursor.fetchone()[0]))\n"
        "    request_finished.send(sender=None)\n"
        "print(len({handle for handle, _ in seen}), sorted({mode for _, mode in seen}))"
    )
    result = run_python(code, PRODUCTION, tmp_path)
    # One connection for all three requests, still in synchronous=NORMAL (1).
    assert result.stdout.strip() == "1 [1]", result.stderr


def test_database_url_switches_to_postgresql_with_persistent_connections(tmp_path):
    env = {**PRODUCTION, "DATABASE_URL": "postgres://blog:pw@db.internal:5433/flightlog"}
    database = settings_under(env, tmp_path, "DATABASES")["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == (
        "db.internal",
        5433,
        "flightlog",
    )
    assert (database["USER"], database["PASSWORD"]) == ("blog", "pw")
    assert database["CONN_MAX_AGE"] == 300
    assert database["CONN_HEALTH_CHECKS"] is True


def test_database_pool_uses_psycopg_pool(tmp_path):
    env = {**PRODUCTION, "DATABASE_URL": "postgres://u:p@h/db", "DATABASE_POOL": "1"}
    database = settings_under(env, tmp_path, "DATABASES")["DATABASES"]["default"]
    assert database["CONN_MAX_AGE"] == 0
    assert database["OPTIONS"]["pool"]["max_lifetime"] == 600
    # Each connection is checked as it leaves the pool (one closed during a suspend is replaced).
    assert "check_connection" in database["OPTIONS"]["pool"]["check"]


def test_release_command_migrates_over_the_direct_url(tmp_path):
    env = {
        **PRODUCTION,
        "DATABASE_URL": "postgres://u:p@pooler.flympg.net:6432/db",
        "DATABASE_DIRECT_URL": "postgres://u:p@direct.flympg.net:5432/db",
    }
    serving = settings_under(env, tmp_path, "DATABASES")["DATABASES"]["default"]
    releasing = settings_under({**env, "RELEASE_COMMAND": "1"}, tmp_path, "DATABASES")
    assert serving["HOST"] == "pooler.flympg.net"
    assert releasing["DATABASES"]["default"]["HOST"] == "direct.flympg.net"


def test_malformed_database_url_is_a_readable_error(tmp_path):
    message = settings_error({**PRODUCTION, "DATABASE_URL": "mysqlish://nothing"}, tmp_path)
    assert "DATABASE_URL is not a database URL" in message


def test_fly_app_name_allows_and_trusts_its_fly_dev_host(tmp_path):
    env = {"SECRET_KEY": "s" * 50, "FLY_APP_NAME": "x"}
    values = settings_under(
        env, tmp_path, "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "WAGTAILADMIN_BASE_URL"
    )
    assert values["ALLOWED_HOSTS"] == ["x.fly.dev"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://x.fly.dev"]
    assert values["WAGTAILADMIN_BASE_URL"] == "https://x.fly.dev"


def test_custom_domains_add_to_the_fly_host(tmp_path):
    env = {
        "SECRET_KEY": "s" * 50,
        "FLY_APP_NAME": "x",
        "ALLOWED_HOSTS": "blog.example.com, www.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://blog.example.com",
    }
    values = settings_under(env, tmp_path, "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS")
    assert values["ALLOWED_HOSTS"] == ["blog.example.com", "www.example.com", "x.fly.dev"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://blog.example.com", "https://x.fly.dev"]


@pytest.mark.parametrize("word", ["maybe", "2"])
def test_unreadable_yes_no_value_names_the_variable(tmp_path, word):
    message = settings_error({**PRODUCTION, "DJANGO_DEBUG": word}, tmp_path)
    assert f"DJANGO_DEBUG={word!r} is not a yes/no value" in message


def test_check_deploy_is_clean_in_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DATA_DIR": str(tmp_path),
            "SECRET_KEY": "k7#Jq2$vN9!mZ4pX8wR1tY6uB3eC5oL0aS7dF2gH9jK4lQ-pW8e",
            "ALLOWED_HOSTS": "blog.example.com",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.database
def test_system_checks_pass_on_the_configured_database(tmp_path):
    # Runs against DATABASE_URL when set, so the PostgreSQL CI run checks PostgreSQL's needs
    # (such as django.contrib.postgres for Wagtail's search index).
    import os

    env = {**PRODUCTION, "PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path)}
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_secret_key_fallbacks_are_empty_unless_set(tmp_path):
    assert settings_under(PRODUCTION, tmp_path, "SECRET_KEY_FALLBACKS") == {
        "SECRET_KEY_FALLBACKS": []
    }
    env = {**PRODUCTION, "SECRET_KEY_FALLBACKS": "old-key-one, old-key-two,"}
    values = settings_under(env, tmp_path, "SECRET_KEY_FALLBACKS")
    assert values["SECRET_KEY_FALLBACKS"] == ["old-key-one", "old-key-two"]


# Signs a value and an editor's session hash with whatever key the process runs with, or checks
# ones made earlier: what a rotation must keep working (the docs' "Rotate without signing out").
SIGNED_UNDER = """
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
import django; django.setup()
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.crypto import constant_time_compare
editor = get_user_model()(username="editor", password="pbkdf2_sha256$1$salt$hash")
if sys.argv[1] == "sign":
    print(json.dumps([signing.dumps("reset-me"), editor.get_session_auth_hash()]))
else:
    value, session_hash = json.loads(sys.argv[2])
    try:
        signed_ok = signing.loads(value) == "reset-me"
    except signing.BadSignature:
        signed_ok = False
    session_ok = any(
        constant_time_compare(session_hash, candidate)
        for candidate in [editor.get_session_auth_hash(), *editor.get_session_auth_fallback_hash()]
    )
    print(json.dumps([signed_ok, session_ok]))
"""


def signed_under(env: dict[str, str], tmp_path, *args: str):
    result = subprocess.run(
        [sys.executable, "-c", SIGNED_UNDER, *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_rotating_with_the_old_key_as_a_fallback_keeps_signed_values_and_sessions(tmp_path):
    old_key, new_key = "o" * 50, "n" * 50
    signed = json.dumps(signed_under({**PRODUCTION, "SECRET_KEY": old_key}, tmp_path, "sign"))
    rotated = {**PRODUCTION, "SECRET_KEY": new_key}
    assert signed_under(rotated, tmp_path, "check", signed) == [False, False]
    with_fallback = {**rotated, "SECRET_KEY_FALLBACKS": old_key}
    assert signed_under(with_fallback, tmp_path, "check", signed) == [True, True]


def test_gunicorn_workers_run_with_the_garbage_collector_on_even_after_a_reload(tmp_path):
    # Reading the config as gunicorn does (also on SIGHUP, in the master) turns the collector
    # off for the app's import; when_ready turns it on once only, so each worker must too.
    script = (
        "import gc, runpy, sys\n"
        "sys.argv[0] = 'gunicorn'\n"
        "hooks = runpy.run_path('config/gunicorn.conf.py')\n"
        "assert not gc.isenabled()\n"
        "hooks['post_fork'](None, None)\n"
        "print('worker gc enabled:', gc.isenabled())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "SECRET_KEY": "x" * 50},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "worker gc enabled: True", result.stderr
