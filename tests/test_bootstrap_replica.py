"""scripts/fly-bootstrap --database sqlite: a private bucket per app for Litestream's replica,
and its keys as LITESTREAM_* secrets, run against the fake flyctl (tests/fakes/).

The fake reproduces what makes this delicate: `fly storage create` without --app takes the app
from a fly.toml in the working directory (and an app may have only one bucket), so the bootstrap
must create the replica's bucket where no fly.toml is, or its keys would land on the app as the
media bucket's AWS_* secrets.
"""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests import test_bootstrap
from tests.test_bootstrap import NEW, NEW_QA, environment_for, run

# Fixtures of tests/test_bootstrap.py: the fake flyctl, a copy of the files the bootstrap rewrites.
fly = test_bootstrap.fly
checkout = test_bootstrap.checkout

REPLICA_SECRETS = (
    "LITESTREAM_REPLICA_URL",
    "LITESTREAM_ACCESS_KEY_ID",
    "LITESTREAM_SECRET_ACCESS_KEY",
)


def sqlite(media: str) -> tuple[str, ...]:
    return ("--app", NEW, "--region", "fra", "--database", "sqlite", "--media", media, "--yes")


@pytest.mark.parametrize("media", ["volume", "tigris"])
def test_sqlite_gets_a_private_replica_bucket_per_app_with_its_own_keys(fly, checkout, media):
    # Run where a fly.toml names an app (this repository's root), as a forker runs it in a clone.
    result = run(checkout, *sqlite(media), env=environment_for(fly))
    assert result.returncode == 0, result.stdout + result.stderr
    buckets = {bucket["name"]: bucket for bucket in fly.state()["buckets"]}
    for app in (NEW, NEW_QA):
        replica = buckets[f"{app}-db-replica"]
        assert replica["public"] is False
        assert replica["app"] is None  # attached to no app: its keys went nowhere but to us
        secrets = fly.app(app)["secrets"]
        url = urlsplit(secrets["LITESTREAM_REPLICA_URL"])
        assert (url.scheme, url.netloc, url.path) == ("s3", f"{app}-db-replica", "/db")
        assert parse_qs(url.query) == {
            "endpoint": ["https://fly.storage.tigris.dev"],
            "region": ["auto"],
        }
        assert secrets["LITESTREAM_ACCESS_KEY_ID"].startswith("tid_")
        assert secrets["LITESTREAM_SECRET_ACCESS_KEY"].startswith("tsec_")
        if media == "volume":
            assert "AWS_ACCESS_KEY_ID" not in secrets
            assert "BUCKET_NAME" not in secrets
        else:
            # The media bucket's keys are its own, not the replica's.
            assert secrets["BUCKET_NAME"] == f"{app}-media"
            assert secrets["AWS_ACCESS_KEY_ID"] != secrets["LITESTREAM_ACCESS_KEY_ID"]
    creates = [
        c for c in fly.commands() if c.startswith("storage create --name") and "db-replica" in c
    ]
    assert creates == [
        f"storage create --name {app}-db-replica --org personal --yes" for app in (NEW, NEW_QA)
    ]
    assert ("uploads on the volume are not in the replica" in result.stdout) == (media == "volume")
    # The keys were shown to no one: not on a command line, not in the output.
    values = [
        fly.app(app)["secrets"][name] for app in (NEW, NEW_QA) for name in REPLICA_SECRETS[1:]
    ]
    for value in values:
        assert value not in result.stdout + result.stderr
        assert not any(value in command for command in fly.commands())


def test_a_second_run_only_reports_the_replica(fly, checkout):
    assert run(checkout, *sqlite("volume"), env=environment_for(fly)).returncode == 0
    calls = len(fly.commands())
    again = run(checkout, *sqlite("volume"), env=environment_for(fly))
    assert again.returncode == 0, again.stderr
    assert f"already there: LITESTREAM_REPLICA_URL on {NEW}" in again.stdout
    assert not [c for c in fly.commands()[calls:] if c.startswith("storage")]


def test_the_dry_run_plans_the_replica_buckets_and_changes_nothing(fly, checkout):
    arguments = [a for a in sqlite("volume") if a != "--yes"]
    result = run(checkout, *arguments, "--dry-run", env=environment_for(fly))
    assert result.returncode == 0, result.stderr
    for app in (NEW, NEW_QA):
        assert f"would run: flyctl storage create --name {app}-db-replica" in result.stdout
        assert f"would stage {', '.join(REPLICA_SECRETS)} on {app}" in result.stdout
    assert fly.state()["buckets"] == []


def test_a_replica_bucket_left_by_an_interrupted_run_is_explained(fly, checkout):
    fly.update(buckets=[{"name": f"{NEW}-db-replica", "org": "personal", "public": False}])
    result = run(checkout, *sqlite("volume"), env=environment_for(fly))
    assert result.returncode == 1
    assert f"fly storage destroy {NEW}-db-replica" in result.stderr
    assert "shown only once" in result.stderr
    assert "resume by running the same command again" in result.stderr
