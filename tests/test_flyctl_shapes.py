"""The fake flyctl against flyctl's own source: the shapes in tests/fakes/flyctl_shapes.json.

Three checks. The record names where each shape was read (file, commit, flyctl version) and that
version is the one the workflows pin. The fake prints exactly the recorded shapes (no field the
record lacks, every field flyctl always prints, the right JSON types). And every reader of flyctl's
output in scripts/ (scripts/lib/fly_query.py, which scripts/fly-bootstrap uses too) reads only
recorded fields: each is handed values that raise on any other field.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.fakes import shapes
from tests.fakes.fake_flyctl import FakeFly
from tests.fakes.shapes import UnrecordedField, mismatches, sample

ROOT = Path(__file__).resolve().parent.parent
RECORD = shapes.record()
APP = "my-blog"
HOST = "blog.example.com"


def test_the_record_names_the_source_it_was_read_from():
    for project in ("flyctl", "fly-go"):
        source = RECORD[project]
        assert re.fullmatch(r"[0-9a-f]{40}", source["commit"]), project
        assert source["repository"] == f"superfly/{project}"
    assert RECORD["flyctl"]["tag"] == "v" + RECORD["flyctl"]["version"]
    sections = [RECORD["json_output"], RECORD["text_output"], RECORD["messages"]]
    for section in sections:
        for name, entry in section.items():
            places = entry["read_from"]
            places = places if isinstance(places, list) else [places]
            assert all(re.match(r"(flyctl|fly-go) \S+\.go\b", place) for place in places), name


@pytest.mark.skipif(
    not (ROOT / ".github").is_dir(), reason=".github is not in the Docker build context"
)
def test_every_workflow_pins_the_flyctl_the_shapes_were_read_from():
    pinned = {
        path.name: yaml.safe_load(path.read_text())["env"]["FLYCTL_VERSION"]
        for path in sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
        if "FLYCTL_VERSION" in path.read_text()
    }
    assert pinned
    assert set(pinned.values()) == {RECORD["flyctl"]["version"]}, pinned


@pytest.mark.skipif(
    not os.environ.get("FLYCTL_SOURCE"),
    reason="set FLYCTL_SOURCE (and FLY_GO_SOURCE) to git checkouts of flyctl and fly-go to check",
)
def test_the_recorded_files_exist_at_the_recorded_commits():
    for project, variable in (("flyctl", "FLYCTL_SOURCE"), ("fly-go", "FLY_GO_SOURCE")):
        directory = os.environ.get(variable)
        if not directory:
            continue
        commit = RECORD[project]["commit"]
        if project == "flyctl":
            tag = subprocess.run(
                ["git", "-C", directory, "rev-parse", RECORD["flyctl"]["tag"] + "^{commit}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            assert tag == commit
        files = subprocess.run(
            ["git", "-C", directory, "ls-tree", "-r", "--name-only", commit],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for section in (RECORD["json_output"], RECORD["text_output"], RECORD["messages"]):
            for entry in section.values():
                places = entry["read_from"]
                for place in places if isinstance(places, list) else [places]:
                    name, path = place.split()[:2]
                    if name == project:
                        assert path in files, place


# The fake prints the recorded shapes


@pytest.fixture
def world(tmp_path):
    fly = FakeFly(tmp_path)
    fly.add_app(
        APP,
        [
            {"id": "148e2d0a7b5c81", "state": "started"},
            {"id": "3d8e5f1a2b4c60", "state": "started", "healthy": False},
            {"id": "9a0b1c2d3e4f57", "state": "started", "checks_pending": 5},
            {"id": "5e7a1c0d2b3f41", "state": "stopped", "standby": True},
        ],
        secrets={"SECRET_KEY": "k" * 50},
        volumes=[{"id": "vol_123", "name": "data", "region": "fra", "size_gb": 1}],
        certificates=[{"hostname": HOST, "status": "pending"}],
        ips=[{"Address": "2a09:8280:1::1:0", "Type": "v6"}],
    )
    fly.add_app(f"{APP}-qa", [])
    fly.update(
        clusters=[
            {
                "id": "c0ffee12345678",
                "name": f"{APP}-db",
                "org": "personal",
                "region": "fra",
                "plan": "basic",
                "password": "pw",
                "databases": ["fly-db"],
                "attached_apps": [APP],
            },
            {
                "id": "beef0012345678",
                "name": f"{APP}-qa-db",
                "org": "personal",
                "region": "fra",
                "plan": "basic",
                "password": "pw",
                "databases": ["fly-db"],
                "attached_apps": [],
            },
        ]
    )
    return fly


def fake(fly: FakeFly, *arguments: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["flyctl", *arguments], env=fly.env(), cwd=cwd, capture_output=True, text=True, timeout=30
    )


CALLS = {
    "machines list --json": ["machines", "list", "--app", APP, "--json"],
    "apps list --json": ["apps", "list", "--json"],
    "orgs list --json": ["orgs", "list", "--json"],
    "secrets list --json": ["secrets", "list", "--app", APP, "--json"],
    "volumes list --json": ["volumes", "list", "--app", APP, "--json"],
    "ips list --json": ["ips", "list", "--app", APP, "--json"],
    "certs list --json": ["certs", "list", "--app", APP, "--json"],
    "certs show --json": ["certs", "show", HOST, "--app", APP, "--json"],
    "mpg list --json": ["mpg", "list", "--org", "personal", "--json"],
    "tokens create --json": ["tokens", "create", "org", "--org", "personal", "--json"],
}


def test_every_recorded_command_is_exercised_here():
    assert set(CALLS) == set(RECORD["json_output"])


@pytest.mark.parametrize("command", sorted(CALLS))
def test_the_fake_prints_the_recorded_shape(world, command):
    result = fake(world, *CALLS[command])
    assert result.returncode == 0, result.stderr
    problems = mismatches(json.loads(result.stdout), shapes.shape_of(command))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("command", "arguments"),
    [
        ("ips list --json", ["ips", "list", "--app", f"{APP}-qa", "--json"]),
        ("certs list --json", ["certs", "list", "--app", f"{APP}-qa", "--json"]),
        ("machines list --json", ["machines", "list", "--app", f"{APP}-qa", "--json"]),
    ],
)
def test_the_fake_prints_the_recorded_shape_when_there_is_nothing(world, command, arguments):
    result = fake(world, *arguments)
    assert result.returncode == 0, result.stderr
    assert not mismatches(json.loads(result.stdout), shapes.shape_of(command))


def test_a_shape_flyctl_no_longer_prints_is_caught():
    # What the fake used to print for `certs show --json`, before flyctl's snake_case structure.
    old = {
        "Hostname": HOST,
        "IsApex": False,
        "DNSValidationHostname": f"_acme-challenge.{HOST}",
        "DNSValidationTarget": f"{HOST}.{APP}.fly-dns.dev",
    }
    problems = mismatches(old, shapes.shape_of("certs show --json"))
    assert "$: field 'IsApex' is not in the record" in problems
    assert "$: field 'dns_requirements' is always printed, but is missing" in problems


def test_mpg_list_prints_a_sentence_when_there_is_no_cluster(tmp_path):
    result = fake(FakeFly(tmp_path), "mpg", "list", "--org", "personal", "--json")
    pattern = RECORD["text_output"]["mpg list with no cluster"]["pattern"]
    assert re.match(pattern, result.stdout.strip())


def test_attach_prints_the_recorded_sentence(world):
    result = fake(world, "mpg", "attach", "beef0012345678", "--app", f"{APP}-qa")
    assert result.returncode == 0, result.stderr
    assert re.search(RECORD["text_output"]["mpg attach"]["pattern"], result.stdout)


def test_tokens_list_prints_the_recorded_title(world):
    result = fake(world, "tokens", "list", "--scope", "org", "--org", "personal")
    assert re.match(RECORD["text_output"]["tokens list"]["pattern"], result.stdout.splitlines()[0])


@pytest.mark.parametrize("for_app", [True, False])
def test_storage_create_prints_the_recorded_secrets_block_which_the_bootstrap_reads(
    world, for_app, tmp_path
):
    from tests.test_bootstrap import bootstrap

    where = ["--app", APP] if for_app else ["--org", "personal"]
    # Where no fly.toml names an app, as the bootstrap runs it.
    result = fake(
        world, "storage", "create", "--name", f"bucket-{for_app}", *where, "--yes", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    found = re.search(RECORD["text_output"]["storage create"]["pattern"], result.stdout)
    assert found, result.stdout
    assert found["app"] == (APP if for_app else None)
    keys = [line.split(":", 1)[0] for line in found["keys"].splitlines()]
    assert keys == sorted(keys)
    printed = bootstrap.printed_keys(result.stdout)
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_S3"} <= printed.keys()


MESSAGE_CALLS = {
    "scale count with no complete release": ("no-release", ["scale", "count", "1", "--yes"]),
    "scale count with as many machines as asked, whatever their state": (
        "stopped",
        ["scale", "count", "1", "--yes"],
    ),
    "ssh console with no started machine": ("stopped", ["ssh", "console", "-C", "true"]),
    "an app that does not exist": ("missing", ["machines", "list", "--json"]),
}


@pytest.mark.parametrize("message", sorted(MESSAGE_CALLS))
def test_the_fake_says_what_flyctl_says(tmp_path, message):
    fly = FakeFly(tmp_path)
    fly.add_app("no-release", [], released=False)
    fly.add_app("stopped", [{"state": "stopped"}])
    app, arguments = MESSAGE_CALLS[message]
    result = fake(fly, *arguments, "--app", app)
    expected = RECORD["messages"][message]
    assert result.returncode == expected["exit"]
    assert expected["text"] in result.stdout + result.stderr


def test_deploy_failures_say_what_flyctl_says(tmp_path):
    fly = FakeFly(tmp_path)
    config = tmp_path / "fly.toml"
    config.write_text(
        f'app = "{APP}"\n[deploy]\n  release_command = "scripts/release"\n'
        '[[http_service.checks]]\n  path = "/healthz"\n'
    )
    fly.add_app(APP, [{"state": "started"}])
    broken = fly.push(APP, "broken", "sha256:" + "1" * 64, release_fails=True)
    unhealthy = fly.push(APP, "unhealthy", "sha256:" + "2" * 64, healthy=False)
    for image, message in (
        (broken, "deploy whose release command fails"),
        (unhealthy, "deploy whose new release fails its health checks"),
        (
            f"registry.fly.io/{APP}:never-pushed",
            "deploy of an image Fly cannot resolve for the app",
        ),
    ):
        result = fake(fly, "deploy", "--app", APP, "--config", str(config), "--image", image)
        expected = RECORD["messages"][message]
        assert result.returncode == expected["exit"], message
        assert expected["text"] in result.stderr, message


def test_a_deploy_to_an_app_with_no_machine_launches_one(tmp_path):
    fly = FakeFly(tmp_path)
    fly.add_app(APP, [])
    config = tmp_path / "fly.toml"
    config.write_text(f'app = "{APP}"\n')
    result = fake(fly, "deploy", "--config", str(config), "--image", "docker.io/x:1", "--ha=false")
    assert result.returncode == 0, result.stderr
    assert RECORD["messages"]["deploy to an app with no machine"]["text"] in result.stdout
    assert [machine["state"] for machine in fly.machines(APP)] == ["started"]


# The readers in scripts/ read only recorded fields


def reader_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "fly_query", ROOT / "scripts" / "lib" / "fly_query.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fly_query = reader_module()

READERS = [
    ("machines list --json", fly_query.machine_rows),
    ("apps list --json", fly_query.app_names),
    ("apps list --json", fly_query.app_organisations),
    ("orgs list --json", fly_query.organisation_slugs),
    ("secrets list --json", fly_query.names),
    ("volumes list --json", fly_query.names),
    ("ips list --json", fly_query.address_records),
    ("ips list --json", fly_query.address_kinds),
    ("certs list --json", fly_query.certificate_hostnames),
    ("certs show --json", fly_query.dns_requirements),
    ("mpg list --json", fly_query.clusters),
    ("tokens create --json", fly_query.token_value),
]


def test_every_recorded_command_has_a_reader_and_every_reader_a_record():
    assert {command for command, _ in READERS} == set(RECORD["json_output"])
    public = {
        name
        for name, value in vars(fly_query).items()
        if callable(value)
        and getattr(value, "__module__", None) == "fly_query"
        and not name.startswith("_")
    }
    # Helpers that read no flyctl JSON of their own.
    helpers = {"load", "configured_checks", "machine_health", "archive_digest"}
    helpers |= {"attached_url", "fetch_first_line", "main"}
    assert public - helpers == {reader.__name__ for _, reader in READERS}


@pytest.mark.parametrize(
    ("command", "reader"), READERS, ids=lambda item: getattr(item, "__name__", item)
)
@pytest.mark.parametrize("optional", [True, False], ids=["all-fields", "required-only"])
def test_the_reader_reads_only_recorded_fields(command, reader, optional):
    value = sample(shapes.shape_of(command), optional_present=optional)
    reader(value)


def test_a_reader_of_an_unrecorded_field_is_caught():
    certificate = sample(shapes.shape_of("certs show --json"))
    with pytest.raises(UnrecordedField, match="'IsApex'"):
        certificate.get("IsApex")


def test_the_attach_reader_reads_the_recorded_sentence():
    text = "The following secret was added to my-blog:\n  DATABASE_URL=postgresql://u:p@h/db"
    assert re.search(RECORD["text_output"]["mpg attach"]["pattern"], text)
    assert fly_query.attached_url(text) == "postgresql://u:p@h/db"
