"""scripts/fly-bootstrap --regions fra,sjc: production machines in several regions, against the
fake flyctl (tests/fakes/fake_flyctl.py). QA stays in the primary region."""

import pytest

from tests.test_bootstrap import checkout, environment_for, fly, run  # noqa: F401 (fixtures)

NEW, NEW_QA = "my-blog", "my-blog-qa"


def deployed(fly, regions=("fra",)):  # noqa: F811
    """Both apps as after the first deploy: a release, and machines in these regions."""
    fly.add_app(NEW, [{"region": region} for region in regions])
    fly.add_app(NEW_QA, [{"region": "fra", "state": "stopped"}])


def regions_of(fly, app: str) -> list[str]:  # noqa: F811
    return sorted(machine["region"] for machine in fly.machines(app))


def bootstrap(checkout, fly, *arguments: str):  # noqa: F811
    return run(checkout, "--app", NEW, "--yes", *arguments, env=environment_for(fly))


def test_regions_add_a_production_machine_in_each_region_after_the_primary(fly, checkout):  # noqa: F811
    deployed(fly)
    result = bootstrap(checkout, fly, "--regions", "fra,sjc,syd")
    assert result.returncode == 0, result.stderr
    assert regions_of(fly, NEW) == ["fra", "sjc", "syd"]
    assert regions_of(fly, NEW_QA) == ["fra"]
    commands = fly.commands()
    assert f"scale count 1 --region sjc --app {NEW} --yes" in commands
    assert f"scale count 1 --region syd --app {NEW} --yes" in commands
    assert not any(NEW_QA in command for command in commands if command.startswith("scale"))
    assert 'primary_region = "fra"' in (checkout / "fly.toml").read_text()
    assert "QA (my-blog-qa) stays in fra" in result.stdout


def test_re_running_with_fewer_regions_removes_those_machines_and_changes_nothing_else(
    fly,  # noqa: F811
    checkout,  # noqa: F811
):
    deployed(fly, ("fra", "sjc", "syd"))
    result = bootstrap(checkout, fly, "--regions", "fra,sjc")
    assert result.returncode == 0, result.stderr
    assert regions_of(fly, NEW) == ["fra", "sjc"]
    assert f"scale count 0 --region syd --app {NEW} --yes" in fly.commands()
    assert "already there: a machine in sjc" in result.stdout

    again = bootstrap(checkout, fly, "--regions", "fra,sjc")
    assert again.returncode == 0, again.stderr
    assert [c for c in fly.commands() if c.startswith("scale")] == [
        f"scale count 0 --region syd --app {NEW} --yes"
    ]


def test_before_the_first_deploy_it_says_to_run_again_afterwards(fly, checkout):  # noqa: F811
    result = bootstrap(checkout, fly, "--regions", "fra,sjc")
    assert result.returncode == 0, result.stderr
    assert "has no machines yet: its first deploy starts one in fra" in result.stdout
    assert "Run this command again after that deploy to add sjc" in result.stdout
    assert not [c for c in fly.commands() if c.startswith("scale")]


def test_the_dry_run_plans_the_regions_and_changes_nothing(fly, checkout):  # noqa: F811
    deployed(fly)
    result = bootstrap(checkout, fly, "--regions", "fra,sjc", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"scale count 1 --region sjc --app {NEW} --yes" in result.stdout
    assert regions_of(fly, NEW) == ["fra"]


def test_legacy_postgres_is_told_how_to_add_a_replica_per_region(fly, checkout):  # noqa: F811
    deployed(fly)
    result = bootstrap(checkout, fly, "--regions", "fra,sjc", "--database", "postgres")
    assert result.returncode == 0, result.stderr
    assert "fly machine clone" in result.stdout
    assert "DATABASE_REPLICA_URL='postgres://USER:PASSWORD@{region}." in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--regions", "fra,sjc", "--region", "ams"], "disagree: the first of --regions"),
        (["--regions", "fra,california"], "'california' is not a region code"),
        (["--regions", "fra,sjc", "--database", "sqlite"], "--regions with SQLite"),
    ],
)
def test_bad_region_lists_are_refused_with_the_fix(fly, checkout, arguments, message):  # noqa: F811
    result = bootstrap(checkout, fly, *arguments)
    assert result.returncode == 2
    assert message in result.stderr
    assert fly.commands() == []
