"""The container's own scripts, run here as the image runs them: scripts/start (the image's
command) and scripts/release (Fly's release step); and what the Dockerfile must copy.

`make image-test` builds the image and runs these behaviours inside it too.
"""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands

from tests import server
from tests.server import ROOT

VIA_FLY_PROXY = {"Host": "localhost", "X-Forwarded-Proto": "https"}


def script_env(data_dir, **extra: str) -> dict[str, str]:
    # SQLite in data_dir, whatever DATABASE_URL the test run itself uses.
    return server.production_env(data_dir, PYTHON=sys.executable, **extra)


def run_script(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "scripts" / args[0]), *args[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def sqlite_tables(path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def wait_for_line(log: Path, text: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        assert time.monotonic() < deadline, f"{text!r} not in {log.name} within {timeout} s"
        time.sleep(0.2)


def children_of(pid: int) -> dict[int, str]:
    """A process's children (pid: command line), read from /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found[int(entry)] = command
    return found


# --- scripts/release -------------------------------------------------------------------------


@pytest.mark.slow
def test_release_migrates_a_fresh_database_says_what_it_did_and_runs_again_changing_nothing(
    tmp_path,
):
    env = script_env(tmp_path)
    result = run_script("release", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "release: migrating" in result.stdout
    assert "wagtailcore_page" in sqlite_tables(tmp_path / "db.sqlite3")
    if "load_content" in get_commands():
        assert "importing the site's content" in result.stdout
    else:
        assert "skipping the content import" in result.stdout

    again = run_script("release", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No migrations to apply" in again.stdout


@pytest.mark.slow
def test_release_dry_run_changes_nothing(tmp_path):
    result = run_script("release", "--dry-run", env=script_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Planned operations" in result.stdout
    database = tmp_path / "db.sqlite3"
    assert not database.exists() or "django_migrations" not in sqlite_tables(database)


def test_release_machine_with_sqlite_leaves_migrating_to_the_machine_with_the_volume(tmp_path):
    result = run_script("release", env=script_env(tmp_path, RELEASE_COMMAND="1"))
    assert result.returncode == 0
    assert "MIGRATE_ON_START=1" in result.stdout
    assert not (tmp_path / "db.sqlite3").exists()


def test_release_that_cannot_reach_the_database_fails_so_fly_cancels_the_deploy(tmp_path):
    env = script_env(tmp_path, DATABASE_URL="postgres://blog:pw@127.0.0.1:9/flightlog")
    result = run_script("release", env=env)
    assert result.returncode != 0


@pytest.mark.parametrize(
    "script", ["release", "start", "image", "image-test", "container-engine", "restore-drill"]
)
def test_scripts_explain_themselves(script):
    result = run_script(script, "--help", env={"PATH": os.environ["PATH"]})
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: scripts/{script}")


# --- scripts/start ---------------------------------------------------------------------------


@pytest.mark.slow
def test_start_migrates_when_asked_serves_runs_the_loop_and_stops_cleanly_on_sigterm(tmp_path):
    port = server.free_port()
    env = script_env(tmp_path, PORT=str(port), MIGRATE_ON_START="1")
    env["STATIC_ROOT"] = str(tmp_path / "static")
    server.collect_static(tmp_path / "static")
    log = (tmp_path / "start.log").open("w")
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "start")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        server.wait_for(f"http://127.0.0.1:{port}/healthz", timeout=120, process=process)
        home = server.fetch(f"http://127.0.0.1:{port}/", VIA_FLY_PROXY)
        assert home.status == 200
        children = children_of(process.pid)
        assert any("publish_scheduled_loop" in command for command in children.values())
        assert any("gunicorn" in command for command in children.values())
        # Without LITESTREAM_REPLICA_URL, start itself runs the site: no Litestream above it.
        with open(f"/proc/{process.pid}/cmdline", "rb") as cmdline:
            program = Path(cmdline.read().split(b"\0")[0].decode()).name
        assert program == "bash"
        # The loop is a process as soon as it starts, but runs once Django has loaded.
        wait_for_line(tmp_path / "start.log", "publishing scheduled pages every 300 s")

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    output = (tmp_path / "start.log").read_text()
    assert "release: migrating" in output
    assert "publishing scheduled pages every 300 s" in output
    assert "Traceback" not in output
    # Nothing is left running once start has exited.
    assert not [pid for pid in children if os.path.exists(f"/proc/{pid}")]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PUBLISH_SCHEDULED_INTERVAL", "soon", "not a whole number of seconds"),
        ("MIGRATE_ON_START", "maybe", "not a yes/no value"),
    ],
)
def test_start_refuses_unreadable_settings_with_a_message(tmp_path, variable, value, message):
    result = run_script("start", env=script_env(tmp_path, **{variable: value}))
    assert result.returncode == 2
    assert f"{variable}={value}" in result.stderr
    assert message in result.stderr


# --- The Dockerfile ---------------------------------------------------------------------------


def builder_copies() -> set[str]:
    """Top-level names the builder stage copies into the image (COPY without --from)."""
    text = (ROOT / "Dockerfile").read_text()
    builder = text.split(" AS builder", 1)[1].split("\nFROM ", 1)[0]
    copied = set()
    for line in re.findall(r"^COPY (?!--from)(.+)$", builder, re.MULTILINE):
        for source in line.split()[:-1]:
            copied.add(source.removeprefix("./").split("/")[0])
    return copied


def first_party_names_in_settings() -> set[str]:
    """Repository folders and modules the settings load: the production image needs each."""
    dotted = [
        *settings.INSTALLED_APPS,
        *settings.MIDDLEWARE,
        settings.ROOT_URLCONF,
        settings.WSGI_APPLICATION,
        *settings.AUTHENTICATION_BACKENDS,
        *(p for t in settings.TEMPLATES for p in t["OPTIONS"].get("context_processors", [])),
    ]
    names = {name.split(".")[0] for name in dotted}
    names |= {path.relative_to(ROOT).parts[0] for t in settings.TEMPLATES for path in t["DIRS"]}
    names |= {path.relative_to(ROOT).parts[0] for path in settings.STATICFILES_DIRS}
    return {name for name in names if (ROOT / name).is_dir() or (ROOT / f"{name}.py").is_file()}


def test_production_image_gets_every_package_and_folder_the_settings_use():
    missing = first_party_names_in_settings() - builder_copies()
    lines = "; ".join(f"COPY {name}/ {name}/" for name in sorted(missing))
    assert not missing, f"add to the Dockerfile's builder stage: {lines}"


def test_every_python_package_the_image_copies_is_compiled_at_build_time():
    """The running container cannot write next to its code (it runs as a non-root user over a
    root-owned /app), so a package left out of compileall is compiled again in every process."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    compiled = set(
        re.search(r"compileall -q [^\n]*?((?: [\w./]+)+)\s*$", dockerfile, re.M)[1].split()
    )
    packages = {
        name
        for name in builder_copies()
        if (ROOT / name / "__init__.py").is_file() or name.endswith(".py")
    }
    assert packages, "no Python package found among the builder's COPY lines"
    assert packages <= compiled, (
        f"add to the Dockerfile's compileall: {sorted(packages - compiled)}"
    )


def test_production_image_gets_the_scripts_its_command_and_release_step_run():
    copied = builder_copies()
    assert {"manage.py", "scripts", "site"} <= copied
    assert "tests" not in copied


def test_dockerignore_keeps_local_data_secrets_and_tooling_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for pattern in (".git", ".env", "*.sqlite3", "/data/", "/.venv/", "/staticfiles/"):
        assert pattern in ignored
