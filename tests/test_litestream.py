"""SQLite replicated to a bucket with Litestream: what scripts/start, scripts/release and
scripts/replica do with LITESTREAM_REPLICA_URL set, with real parts.

A real S3 server on loopback (moto's server mode), the real litestream binary and scripts/start
as the image runs it. The edit-to-replica time is measured and printed (`pytest -s` shows it).
Litestream replicates SQLite only, so on a PostgreSQL run the servers here are skipped: they
start on SQLite whatever the run uses, and the SQLite run has covered them.
"""

import contextlib
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import replicated_site as rs
from tests.server import ROOT
from tests.test_container import run_script as run

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
sqlite_only = pytest.mark.skipif(
    ON_POSTGRES, reason="Litestream replicates SQLite; the SQLite run covers these servers"
)
# An edit must be in the bucket this soon (Litestream syncs every second; moto answers at once).
REPLICATION_LIMIT_SECONDS = 10
# Run under `scripts/replica replicate`, writing to the database Litestream watches: a note, a
# moment written to MOMENT_FILE more than a second later, another note after it.
TWO_MOMENTS = """
import os, sqlite3, time
db = sqlite3.connect(os.environ["LITESTREAM_DATABASE"])
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE note (text)")
db.execute("INSERT INTO note VALUES ('before')")
db.commit()
time.sleep(2.5)
with open(os.environ["MOMENT_FILE"], "w") as moment:
    moment.write(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
time.sleep(1.5)
db.execute("INSERT INTO note VALUES ('after')")
db.commit()
time.sleep(0.2)
"""


def replica(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "replica"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: str) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", int(port))) == 0


def unique(name: str) -> str:
    return f"{name}-{os.getpid()}-{time.monotonic_ns()}"


@pytest.fixture(scope="module")
def bucket():
    with rs.s3_server() as (endpoint, client):
        yield endpoint, client


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A volume's database as a live site has it: migrated, the shipped content, an editor."""
    if ON_POSTGRES:
        pytest.skip("Litestream replicates SQLite; the SQLite run covers these servers")
    directory = tmp_path_factory.mktemp("prepared-volume")
    rs.prepare_database(directory)
    return directory


def seeded_replica(tmp_path: Path, env: dict[str, str]) -> None:
    """A small database replicated by the real binary, then left: a replica with content."""
    seed_env = dict(env, DATA_DIR=str(tmp_path / "seed"), MOMENT_FILE=str(tmp_path / "moment"))
    (tmp_path / "seed").mkdir()
    result = replica("replicate", "--", sys.executable, "-c", TWO_MOMENTS, env=seed_env)
    assert result.returncode == 0, result.stdout + result.stderr


# --- The site with a replica ---------------------------------------------------------------------


@pytest.mark.slow
@sqlite_only
def test_an_admin_edit_reaches_the_bucket_in_seconds_and_an_empty_volume_comes_back_with_it(
    bucket, prepared, static_root, tmp_path
):
    endpoint, _ = bucket
    secrets = rs.replica_env(endpoint, unique("site"))
    first_volume = tmp_path / "volume"
    rs.copy_database(prepared, first_volume)
    env = rs.site_env(first_volume, static_root, **secrets)

    with rs.running_site(env, tmp_path / "first.log") as site:
        assert "replicating to" in site.log_text()
        editor = rs.Editor(site)
        editor.log_in()
        editor.add_redirect("/old-deploy-notes/", "https://example.com/measured")
        edited_at = time.monotonic()
        scratch = tmp_path / "scratch" / "replica.sqlite3"
        scratch.parent.mkdir()
        while True:
            copy = rs.restore_latest(env, scratch)
            if rs.redirect_in(copy, "/old-deploy-notes") == "https://example.com/measured":
                lag = time.monotonic() - edited_at
                break
            assert time.monotonic() - edited_at < REPLICATION_LIMIT_SECONDS, (
                f"the edit was not in the replica within {REPLICATION_LIMIT_SECONDS} s"
            )
        print(f"\nreplication: the admin edit was restorable from the bucket after {lag:.2f} s")
        assert site.get("/old-deploy-notes/").headers["location"] == "https://example.com/measured"

        # The last edit before SIGTERM gets no time to sync on its own: the shutdown flushes it.
        editor.add_redirect("/edited-just-before-sigterm/", "https://example.com/flushed")
        stopped_at = time.monotonic()
        assert site.stop() == 0, site.log_text()
        stopping = time.monotonic() - stopped_at
        print(f"replication: SIGTERM to exit, the final upload included: {stopping:.1f} s")
    assert "Traceback" not in site.log_text()
    pages_before = rs.pages_in(first_volume / "db.sqlite3")

    # The volume is lost: a new machine starts on an empty one.
    second_volume = tmp_path / "new-volume"
    second_volume.mkdir()
    env = rs.site_env(second_volume, static_root, **secrets)
    answers: list[tuple[float, str, object]] = []
    with rs.running_site(env, tmp_path / "second.log", ready=False) as site:
        started = time.monotonic()
        while time.monotonic() - started < 180:
            assert site.process.poll() is None, site.log_text()
            try:
                for path in ("/readyz", "/"):
                    answers.append((time.monotonic(), path, site.get(path).status))
            except OSError:
                answers.append((time.monotonic(), "any", "refused"))
            if answers[-1][1:] == ("/", 200):
                break
            time.sleep(0.05)
        log = site.log_text()
        assert "restoring from" in log, log
        assert "restored" in log
        # While the database was coming back nothing answered: no reader or health check ever
        # saw a page, or a ready /readyz, from an empty database.
        first_answer = next(index for index, answer in enumerate(answers) if answer[2] != "refused")
        assert answers[first_answer][1:] == ("/readyz", 200), answers[first_answer]
        assert log.index("restored") < log.index("Listening at")
        serving = answers[first_answer][0] - started
        print(f"restore: the empty volume's machine was serving {serving:.1f} s after its start")

        assert site.get("/old-deploy-notes/").headers["location"] == "https://example.com/measured"
        assert site.get("/edited-just-before-sigterm/").headers["location"] == (
            "https://example.com/flushed"
        )
        # The page cache starts empty and fills from the restored database.
        assert site.get("/blog/").headers["x-cache"] == "miss"
        # Each of the two workers stores its own copy: within a few reads both answer hits.
        again = [site.get("/blog/") for _ in range(6)]
        assert all(answer.status == 200 for answer in again)
        assert again[-1].headers["x-cache"] == "hit"
        assert site.stop() == 0
    assert rs.pages_in(second_volume / "db.sqlite3") == pages_before


@pytest.mark.slow
@sqlite_only
def test_an_unreachable_replica_stops_the_start_on_an_empty_volume_and_names_the_fix(
    static_root, tmp_path
):
    secrets = rs.replica_env(f"http://127.0.0.1:{closed_port()}", "site")
    volume = tmp_path / "volume"
    volume.mkdir()
    env = rs.site_env(volume, static_root, **secrets)
    started = time.monotonic()
    result = run("start", env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "cannot reach the replica" in output
    assert "does not start on an empty database" in output
    assert "unset LITESTREAM_REPLICA_URL" in output
    assert not (volume / "db.sqlite3").exists()
    assert not listening(env["PORT"])
    print(f"\nunreachable replica: refused in {time.monotonic() - started:.1f} s")


@pytest.mark.slow
@sqlite_only
def test_a_corrupt_replica_stops_the_start_and_leaves_no_database(bucket, static_root, tmp_path):
    endpoint, client = bucket
    path = unique("corrupt")
    secrets = rs.replica_env(endpoint, path)
    seeded_replica(tmp_path, rs.site_env(tmp_path, static_root, **secrets))
    keys = [
        item["Key"] for item in client.list_objects_v2(Bucket=rs.BUCKET, Prefix=path)["Contents"]
    ]
    assert any(key.endswith(".ltx") for key in keys)
    for key in keys:
        body = client.get_object(Bucket=rs.BUCKET, Key=key)["Body"].read()
        client.put_object(Bucket=rs.BUCKET, Key=key, Body=body[:40] + b"\0bitrot\0" * 8)

    volume = tmp_path / "volume"
    volume.mkdir()
    env = rs.site_env(volume, static_root, **secrets)
    result = run("start", env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Litestream could not restore" in output
    assert "LITESTREAM_RESTORE_TIMESTAMP" in output
    assert "does not start on an empty database" in output
    assert list(volume.iterdir()) == []
    assert not listening(env["PORT"])


@sqlite_only
def test_a_path_holding_other_files_is_refused_rather_than_taken_for_an_empty_replica(
    bucket, tmp_path
):
    endpoint, client = bucket
    path = unique("not-a-replica")
    client.put_object(Bucket=rs.BUCKET, Key=f"{path}/notes.txt", Body=b"hello")
    env = rs.site_env(tmp_path, tmp_path, **rs.replica_env(endpoint, path))
    result = replica("prepare", env=env)
    assert result.returncode == 1
    assert "not Litestream's" in result.stderr
    assert "notes.txt" in result.stderr
    assert not (tmp_path / "db.sqlite3").exists()


@sqlite_only
def test_a_volume_with_its_database_starts_even_when_the_replica_is_unreachable(tmp_path):
    (tmp_path / "db.sqlite3").write_bytes(b"")
    env = rs.site_env(
        tmp_path, tmp_path, **rs.replica_env(f"http://127.0.0.1:{closed_port()}", "site")
    )
    result = replica("prepare", env=env)
    assert result.returncode == 0, result.stderr
    assert "warning: cannot reach the replica" in result.stderr
    assert "changes stay on this volume until it answers" in result.stderr


# --- Point-in-time restore -----------------------------------------------------------------------


@sqlite_only
def test_a_point_in_time_restore_brings_back_that_moment_and_keeps_the_database_it_replaces(
    bucket, tmp_path
):
    endpoint, _ = bucket
    env = rs.site_env(tmp_path, tmp_path, **rs.replica_env(endpoint, unique("pitr")))
    moments = tmp_path / "moments"
    env["MOMENT_FILE"] = str(moments)
    result = replica("replicate", "--", sys.executable, "-c", TWO_MOMENTS, env=env, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    chosen = moments.read_text()

    def notes(path: Path) -> list[str]:
        with contextlib.closing(sqlite3.connect(path)) as db:
            return [row[0] for row in db.execute("SELECT text FROM note ORDER BY rowid")]

    assert notes(tmp_path / "db.sqlite3") == ["before", "after"]
    plan = replica("restore", "--timestamp", chosen, "--dry-run", env=env)
    assert plan.returncode == 0, plan.stderr
    assert "Restore plan" in plan.stdout
    assert not (tmp_path / "db.sqlite3.restored").exists()

    restored = replica("restore", "--timestamp", chosen, env=env)
    assert restored.returncode == 0, restored.stderr
    assert notes(tmp_path / "db.sqlite3.restored") == ["before"]
    assert notes(tmp_path / "db.sqlite3") == ["before", "after"]  # the live file is untouched

    # The next start puts it in place and keeps the database it replaces, WAL included.
    prepared = replica("prepare", env=env)
    assert prepared.returncode == 0, prepared.stderr
    assert notes(tmp_path / "db.sqlite3") == ["before"]
    (kept,) = tmp_path.glob("db.sqlite3.replaced-*[0-9]Z")
    assert notes(kept) == ["before", "after"]
    assert not (tmp_path / "db.sqlite3.restored").exists()

    # An empty volume restores the latest copy, or the moment LITESTREAM_RESTORE_TIMESTAMP names.
    for moment, expected in ((None, ["before", "after"]), (chosen, ["before"])):
        volume = tmp_path / f"empty-{len(expected)}"
        volume.mkdir()
        fresh = dict(env, DATA_DIR=str(volume))
        if moment:
            fresh["LITESTREAM_RESTORE_TIMESTAMP"] = moment
        started = replica("prepare", env=fresh)
        assert started.returncode == 0, started.stderr
        assert notes(volume / "db.sqlite3") == expected


def test_a_timestamp_that_is_no_moment_is_refused_with_the_format(tmp_path):
    env = rs.site_env(tmp_path, tmp_path, **rs.replica_env("http://127.0.0.1:9", "site"))
    result = replica("restore", "--timestamp", "yesterday", env=env)
    assert result.returncode == 1
    assert "ISO 8601 in UTC, e.g. 2026-12-01T09:30:00Z" in result.stderr


# --- Fly's release machine -----------------------------------------------------------------------


@sqlite_only
def test_the_release_machine_reads_the_replica_and_writes_nothing(bucket, tmp_path):
    endpoint, _ = bucket
    env = rs.site_env(tmp_path, tmp_path, RELEASE_COMMAND="1", **rs.replica_env(endpoint, "new"))
    result = run("release", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MIGRATE_ON_START=1" in result.stdout
    assert "empty (nothing replicated yet)" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_release_with_an_unreachable_replica_stops_the_deploy(tmp_path):
    secrets = rs.replica_env(f"http://127.0.0.1:{closed_port()}", "site")
    env = rs.site_env(tmp_path, tmp_path, RELEASE_COMMAND="1", **secrets)
    result = run("release", env=env)
    assert result.returncode == 1
    assert "cannot reach the replica" in result.stderr
    assert not (tmp_path / "db.sqlite3").exists()


# --- Settings that cannot work -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"LITESTREAM_ACCESS_KEY_ID": ""}, "LITESTREAM_ACCESS_KEY_ID is not"),
        ({"LITESTREAM_SECRET_ACCESS_KEY": ""}, "LITESTREAM_SECRET_ACCESS_KEY is not"),
        ({"LITESTREAM_REPLICA_URL": "https://bucket/db"}, "is not an s3:// URL"),
        ({"DATABASE_URL": "postgres://blog@127.0.0.1/blog"}, "replicates SQLite files only"),
    ],
)
def test_replica_settings_that_cannot_work_are_refused_naming_the_fix(tmp_path, change, message):
    env = rs.site_env(tmp_path, tmp_path, **rs.replica_env("http://127.0.0.1:9", "site"))
    env.update(change)
    result = replica("prepare", env=env)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_replica_explains_itself():
    result = replica("--help", env={"PATH": os.environ["PATH"]})
    assert result.returncode == 0
    assert result.stdout.startswith("usage: scripts/replica")
    assert "LITESTREAM_REPLICA_URL" in result.stdout
