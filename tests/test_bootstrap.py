"""scripts/fly-bootstrap, a fork's one command to live apps, run against fake flyctl and gh.

Fly and GitHub cannot be reached from CI: tests/fakes/ stands in for both, records every call and
keeps what was created, so these tests check the plan, the calls in order, that a second run only
looks, that a failure stops where it happened and a re-run finishes, that no secret is ever on a
command line or in the output (except the token shown once when gh is missing), and, in a fork
rehearsal, that a copy of the repository renamed by the bootstrap still passes its own tests.
"""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path

import pytest

from tests.fakes.fake_flyctl import FakeFly
from tests.fakes.fake_gh import FakeGitHub

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "fly-bootstrap"


def load_script(path: Path):
    """The script as a module (it has no .py suffix), for its name-matching functions."""
    loader = SourceFileLoader("fly_bootstrap", str(path))
    module = module_from_spec(spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


bootstrap = load_script(SCRIPT)

# The apps this checkout deploys to, whatever a bootstrap named them, and names for a new fork.
CURRENT_PRODUCTION = tomllib.loads((ROOT / "fly.toml").read_text())["app"]
CURRENT_QA = tomllib.loads((ROOT / "fly.qa.toml").read_text())["app"]
# This project's own apps are named after it (pyproject's name), QA with -qa: in a fork, the names
# a bootstrap replaced.
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
PROJECT_APPS = [PROJECT, f"{PROJECT}-qa"]
NEW = "my-blog" if CURRENT_PRODUCTION != "my-blog" else "another-blog"
NEW_QA = f"{NEW}-qa"
HAS_WORKFLOWS = (ROOT / ".github" / "workflows").is_dir()

# Variables of the surrounding shell or CI that would change what the script does.
AMBIENT = (
    "CI",
    "GITHUB_ACTIONS",
    "FLYCTL",
    "FLY_ORG",
    "FLY_API_TOKEN",
    "FLY_ACCESS_TOKEN",
    "GH_TOKEN",
)
# What looks at Fly without changing it: a second run makes only these calls.
READS = (
    "auth whoami",
    "orgs list",
    "apps list",
    "secrets list",
    "mpg list",
    "volumes list",
    "tokens list",
    "certs list",
    "certs show",
    "ips list",
)
# Files that may name the project's Fly apps: the ones the bootstrap rewrites...
REWRITTEN = ("fly.toml", "fly.qa.toml", ".github/workflows/")
# ...and the project's own name, which is also production's app name upstream: the Python
# distribution, the local image's name in the Dockerfile's examples, and the site's posts, which
# tell this project's own story (a fork writes its own). None of them deploys anything.
PROJECT_NAME = ("pyproject.toml", "uv.lock", "Dockerfile", "site/blog/")


@pytest.fixture
def fly(tmp_path):
    return FakeFly(tmp_path)


@pytest.fixture
def checkout(tmp_path):
    """The files the bootstrap rewrites, copied, so a test never touches this repository's."""
    directory = tmp_path / "checkout"
    (directory / ".github" / "workflows").mkdir(parents=True)
    for name in ("fly.toml", "fly.qa.toml"):
        shutil.copy2(ROOT / name, directory / name)
    for workflow in (ROOT / ".github" / "workflows").glob("*.yml"):
        shutil.copy2(workflow, directory / ".github" / "workflows" / workflow.name)
    return directory


def clean_environment() -> dict[str, str]:
    """This process's environment without ambient settings and without any flyctl, fly or gh."""
    environment = {key: value for key, value in os.environ.items() if key not in AMBIENT}
    kept = [
        entry
        for entry in environment.get("PATH", "").split(os.pathsep)
        if entry and not any((Path(entry) / tool).exists() for tool in ("flyctl", "fly", "gh"))
    ]
    environment["PATH"] = os.pathsep.join(kept)
    return environment


def environment_for(fly: FakeFly, github: FakeGitHub | None = None) -> dict[str, str]:
    environment = fly.env(clean_environment())
    return github.env(environment) if github else environment


def run(checkout: Path, *arguments: str, env: dict[str, str], script: Path = SCRIPT):
    return subprocess.run(
        [str(script), "--directory", str(checkout), *arguments],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def snapshot(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): path.read_text()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def is_read(command: str) -> bool:
    return command.startswith(READS)


def secret_values(fly: FakeFly, github: FakeGitHub | None = None) -> list[str]:
    """Every credential the fakes hold: app secrets, database passwords, tokens."""
    state = fly.state()
    secret_names = {"SECRET_KEY", "DATABASE_URL", "DATABASE_DIRECT_URL"}
    secret_names |= {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    values = [
        value
        for app in state["apps"].values()
        for name, value in app.get("secrets", {}).items()
        if name in secret_names
    ]
    values += [cluster["password"] for cluster in state["clusters"]]
    values += [app["password"] for app in state["apps"].values() if app.get("password")]
    values += [token["value"] for token in state["tokens"]]
    if github:
        values += list(github.secrets().values())
    return [value for value in values if value]


def repository_files(root: Path) -> list[Path]:
    """The repository's files: tracked ones where git knows them, else every file but caches."""
    if (root / ".git").exists() and shutil.which("git"):
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=True
        ).stdout
        return [root / name for name in listed.split("\0") if name and (root / name).is_file()]
    skipped = {".venv", ".git", "data", "node_modules", "staticfiles", "media", "__pycache__"}
    return [
        path
        for path in root.rglob("*")
        if path.is_file()
        and not skipped & set(path.relative_to(root).parts)
        and not any(
            part.startswith((".pytest_cache", ".ruff_cache", ".hypothesis")) for part in path.parts
        )
    ]


def app_name_places(root: Path, names: list[str]) -> list[str]:
    """ "path:line: text" for each place outside the allowed files that names one of the apps."""
    places = []
    for path in repository_files(root):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(REWRITTEN + PROJECT_NAME):
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for match in bootstrap.app_name_references(text, names):
            line = text.count("\n", 0, match.start()) + 1
            places.append(f"{relative}:{line}: {text.splitlines()[line - 1].strip()}")
    return places


# Names in files


def test_renaming_changes_app_references_and_keeps_local_image_tags_and_longer_names():
    text = (
        "app = 'old-app'\n"
        "FLY_APP_QA: ${{ vars.FLY_APP_QA || 'old-app-qa' }}\n"
        "PREVIEW_APP: old-app-pr-42 at https://old-app.fly.dev\n"
        "image registry.fly.io/old-app-qa:abc\n"
        "docker build -t old-app:test && docker run old-app:test\n"
        "marker <!-- old-app-preview --> bucket old-app-media, not-old-app\n"
    )
    renamed, count = bootstrap.rename_apps(
        text, {"old-app": "new-blog", "old-app-qa": "new-blog-qa"}
    )
    assert count == 5
    assert renamed == (
        "app = 'new-blog'\n"
        "FLY_APP_QA: ${{ vars.FLY_APP_QA || 'new-blog-qa' }}\n"
        "PREVIEW_APP: new-blog-pr-42 at https://new-blog.fly.dev\n"
        "image registry.fly.io/new-blog-qa:abc\n"
        "docker build -t old-app:test && docker run old-app:test\n"
        "marker <!-- old-app-preview --> bucket old-app-media, not-old-app\n"
    )


def test_renaming_two_apps_at_once_never_renames_a_name_it_just_wrote():
    renamed, _ = bootstrap.rename_apps("a-qa and a", {"a-qa": "a", "a": "b"})
    assert renamed == "a and b"


# The plan


def test_dry_run_plans_every_step_for_a_new_name_and_changes_nothing(fly, checkout):
    before = snapshot(checkout)
    result = run(checkout, "--app", NEW, "--region", "fra", "--dry-run", env=environment_for(fly))
    assert result.returncode == 0, result.stderr
    assert snapshot(checkout) == before
    assert fly.commands(), "the plan is made from what exists on Fly"
    assert all(is_read(command) for command in fly.commands()), fly.commands()
    assert fly.state()["apps"] == {}
    out = result.stdout
    headers = re.findall(r"^\[(\d)/6\] (.+)$", out, re.MULTILINE)
    assert [title for _, title in headers] == [
        "Rewrite the Fly configuration and the workflows",
        "Create the apps",
        "Database: Fly Managed Postgres",
        "Media: a Tigris bucket per app",
        "Secrets",
        "GitHub secrets: Fly tokens and the end-to-end editor",
    ]
    expected = [
        f"would rewrite fly.toml: app {CURRENT_PRODUCTION} -> {NEW}",
        f"would rewrite fly.qa.toml: app {CURRENT_QA} -> {NEW_QA}",
        f"would run: flyctl apps create {NEW} --org personal",
        f"would run: flyctl apps create {NEW_QA} --org personal",
        f"would run: flyctl mpg create --name {NEW}-db --org personal --region fra --plan basic",
        f"would run: flyctl mpg attach NEW_CLUSTER_ID --app {NEW}",
        f"would run: flyctl mpg create --name {NEW_QA}-db --org personal --region fra --plan basic",
        f"would run: flyctl mpg attach NEW_CLUSTER_ID --app {NEW_QA}",
        f"would run: flyctl storage create --name {NEW}-media --app {NEW} --public --yes",
        f"would run: flyctl secrets import --app {NEW_QA} --stage (SECRET_KEY on standard input)",
        "would run: flyctl tokens create org --org personal",
        "would show the new token once, for the GitHub secret FLY_API_TOKEN",
        f"would run: flyctl secrets import --app {NEW_QA} --stage "
        "(E2E_ADMIN_USER, E2E_ADMIN_PASSWORD on standard input)",
        "Dry run: nothing was changed.",
    ]
    if HAS_WORKFLOWS:
        expected.append("would rewrite .github/workflows/pipeline.yml: 4 app name(s)")
    for line in expected:
        assert line in out, line
    positions = [out.index(line) for line in expected[:-1]]
    assert positions[:13] == sorted(positions[:13]), "steps are planned in order"


def test_dry_run_without_a_fly_login_still_prints_the_whole_plan(fly, checkout):
    fly.token = None
    result = run(checkout, "--app", NEW, "--region", "fra", "--dry-run", env=environment_for(fly))
    assert result.returncode == 0, result.stderr
    assert "flyctl is not logged in: this plan assumes nothing exists on Fly yet" in result.stdout
    assert f"would run: flyctl apps create {NEW} --org personal" in result.stdout
    assert fly.commands() == ["auth whoami"]


# A real run


def test_a_real_run_creates_everything_with_these_calls_in_this_order(fly, checkout):
    result = run(checkout, "--app", NEW, "--region", "fra", "--yes", env=environment_for(fly))
    assert result.returncode == 0, result.stderr
    clusters = {cluster["name"]: cluster for cluster in fly.state()["clusters"]}
    assert set(clusters) == {f"{NEW}-db", f"{NEW_QA}-db"}
    production_cluster, qa_cluster = clusters[f"{NEW}-db"]["id"], clusters[f"{NEW_QA}-db"]["id"]
    token_name = f"GitHub Actions for {NEW} (fly-bootstrap)"
    assert fly.commands() == [
        "auth whoami",
        "orgs list --json",
        "apps list --json",
        f"apps create {NEW} --org personal",
        f"apps create {NEW_QA} --org personal",
        "mpg list --org personal --json",
        f"mpg create --name {NEW}-db --org personal --region fra --plan basic",
        "mpg list --org personal --json",
        f"mpg attach {production_cluster} --app {NEW}",
        f"secrets import --app {NEW} --stage",
        f"mpg create --name {NEW_QA}-db --org personal --region fra --plan basic",
        "mpg list --org personal --json",
        f"mpg attach {qa_cluster} --app {NEW_QA}",
        f"secrets import --app {NEW_QA} --stage",
        f"storage create --name {NEW}-media --app {NEW} --public --yes",
        f"storage create --name {NEW_QA}-media --app {NEW_QA} --public --yes",
        f"secrets import --app {NEW} --stage",
        f"secrets import --app {NEW_QA} --stage",
        "tokens list --scope org --org personal",
        f"tokens create org --org personal --name {token_name} --json",
        f"secrets import --app {NEW_QA} --stage",
    ]
    production, qa = fly.app(NEW), fly.app(NEW_QA)
    assert production["org"] == qa["org"] == "personal"
    # Defect 7: QA's credentials reach QA's own cluster only, never production's.
    assert clusters[f"{NEW}-db"]["attached_apps"] == [NEW]
    assert clusters[f"{NEW_QA}-db"]["attached_apps"] == [NEW_QA]
    assert production_cluster in production["secrets"]["DATABASE_URL"]
    assert production_cluster not in qa["secrets"]["DATABASE_URL"]
    for app in (production, qa):
        pooled, direct = app["secrets"]["DATABASE_URL"], app["secrets"]["DATABASE_DIRECT_URL"]
        assert "@pgbouncer." in pooled
        assert direct == pooled.replace("@pgbouncer.", "@direct.")
        assert {"BUCKET_NAME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(app["secrets"])
        assert len(app["secrets"]["SECRET_KEY"]) >= 50
    # Defect 3: QA holds the editor its release step creates; production never does.
    assert qa["secrets"]["E2E_ADMIN_USER"] == "e2e-editor"
    assert len(qa["secrets"]["E2E_ADMIN_PASSWORD"]) >= 32
    assert "E2E_ADMIN_USER" not in production["secrets"]
    assert production["secrets"]["SECRET_KEY"] != qa["secrets"]["SECRET_KEY"]
    assert production["secrets"]["BUCKET_NAME"] == f"{NEW}-media"
    assert all(bucket["public"] for bucket in fly.state()["buckets"])
    assert "ALLOWED_HOSTS" not in production["secrets"]  # <app>.fly.dev is allowed by the settings


def test_a_real_run_rewrites_the_configs_and_the_workflow_defaults(fly, checkout):
    arguments = ("--app", NEW, "--region", "syd", "--org", "acme", "--yes")
    result = run(checkout, *arguments, env=environment_for(fly))
    assert result.returncode == 1  # acme is not one of the fake's organisations
    assert "organisation 'acme' is not one of yours: personal (pass --org)" in result.stderr
    fly.update(orgs=["personal", "acme"])
    result = run(checkout, *arguments, env=environment_for(fly))
    assert result.returncode == 0, result.stderr
    production = tomllib.loads((checkout / "fly.toml").read_text())
    qa = tomllib.loads((checkout / "fly.qa.toml").read_text())
    assert (production["app"], production["primary_region"]) == (NEW, "syd")
    assert (qa["app"], qa["primary_region"]) == (NEW_QA, "syd")
    # Everything but the names stays as it was.
    original = tomllib.loads((ROOT / "fly.toml").read_text())
    assert {k: v for k, v in production.items() if k not in {"app", "primary_region"}} == {
        k: v for k, v in original.items() if k not in {"app", "primary_region"}
    }
    if HAS_WORKFLOWS:
        pipeline = (checkout / ".github" / "workflows" / "pipeline.yml").read_text()
        preview = (checkout / ".github" / "workflows" / "preview.yml").read_text()
        assert f"vars.FLY_APP_PRODUCTION || '{NEW}' }}" in pipeline
        assert f"vars.FLY_APP_QA || '{NEW_QA}' }}" in pipeline
        assert f"vars.FLY_APP_PRODUCTION || '{NEW}' }}}}-pr-" in preview
        assert "vars.FLY_ORG || 'acme' }}" in preview
        old = [CURRENT_PRODUCTION, CURRENT_QA]
        assert not bootstrap.app_name_references(pipeline + preview, old)


def test_sqlite_gets_a_volume_per_app_and_migrates_at_start_up(fly, checkout):
    arguments = ("--app", NEW, "--region", "fra", "--database", "sqlite", "--media", "volume")
    result = run(checkout, *arguments, "--yes", env=environment_for(fly))
    assert result.returncode == 0, result.stderr
    for app, config in ((NEW, "fly.toml"), (NEW_QA, "fly.qa.toml")):
        (volume,) = fly.app(app)["volumes"]
        assert (volume["name"], volume["region"]) == ("data", "fra")
        settings = tomllib.loads((checkout / config).read_text())
        assert settings["mounts"] == {"source": "data", "destination": settings["env"]["DATA_DIR"]}
        assert settings["env"]["MIGRATE_ON_START"] == "1"
        assert "BUCKET_NAME" not in fly.app(app)["secrets"]
    # No Postgres and no media bucket (tests/test_bootstrap_replica.py: the replica's bucket).
    assert not any(command.startswith(("mpg", "postgres")) for command in fly.commands())
    assert not any("--public" in command for command in fly.commands())
    # QA still runs what production runs (tests/test_fly_config.py's rule holds after the rewrite).
    production = tomllib.loads((checkout / "fly.toml").read_text())
    qa = tomllib.loads((checkout / "fly.qa.toml").read_text())
    for config in (production, qa):
        del config["app"]
        del config["http_service"]["min_machines_running"]
        # Production suspends idle machines, QA (a new image every run) stops them.
        del config["http_service"]["auto_stop_machines"]
    del qa["env"]["E2E_EDITOR_ALLOWED"]
    assert production == qa
    again = run(checkout, *arguments, "--yes", env=environment_for(fly))
    assert again.returncode == 0, again.stderr
    assert "already there: volume data on" in again.stdout
    assert [len(fly.app(app)["volumes"]) for app in (NEW, NEW_QA)] == [1, 1]


def test_legacy_postgres_is_a_postgres_app_per_app(fly, checkout):
    # `postgres attach` makes a superuser, who reaches every database on its server: QA and
    # production get a server each.
    result = run(
        checkout,
        *("--app", NEW, "--region", "fra", "--database", "postgres", "--yes"),
        env=environment_for(fly),
    )
    assert result.returncode == 0, result.stderr
    creates = [command for command in fly.commands() if command.startswith("postgres create")]
    assert creates == [
        f"postgres create --name {app}-db --org personal --region fra --initial-cluster-size 1 "
        "--vm-size shared-cpu-1x --volume-size 1"
        for app in (NEW, NEW_QA)
    ]
    for app in (NEW, NEW_QA):
        assert fly.app(f"{app}-db")["databases"] == [app.replace("-", "_")]
        assert "DATABASE_URL" in fly.app(app)["secrets"]
        assert f"postgres attach {app}-db --app {app} --yes" in fly.commands()


def test_an_earlier_shared_cluster_is_reported_with_the_fix(fly, checkout):
    fly.update(
        clusters=[
            {
                "id": "c0ffee12345678",
                "name": f"{NEW}-db",
                "org": "personal",
                "region": "fra",
                "plan": "basic",
                "password": "pw-shared-cluster",
                "databases": ["fly-db"],
                "attached_apps": [NEW, NEW_QA],
            }
        ]
    )
    result = run(checkout, "--app", NEW, "--region", "fra", "--dry-run", env=environment_for(fly))
    assert result.returncode == 0, result.stderr
    assert f"warning: {NEW_QA} is attached to production's cluster {NEW}-db" in result.stdout
    assert f"fly mpg detach c0ffee12345678 --app {NEW_QA}" in result.stdout


def test_a_custom_domain_gets_its_certificate_hosts_and_dns_records(fly, checkout):
    domain = "blog.example.com"
    result = run(
        checkout,
        "--app",
        NEW,
        "--region",
        "fra",
        "--domain",
        domain,
        "--yes",
        env=environment_for(fly),
    )
    assert result.returncode == 0, result.stderr
    production, qa = fly.app(NEW), fly.app(NEW_QA)
    assert [c["hostname"] for c in production["certificates"]] == [domain]
    assert not qa["certificates"]
    assert production["secrets"]["ALLOWED_HOSTS"] == domain
    assert production["secrets"]["CSRF_TRUSTED_ORIGINS"] == f"https://{domain}"
    assert production["secrets"]["WAGTAILADMIN_BASE_URL"] == f"https://{domain}"
    assert "ALLOWED_HOSTS" not in qa["secrets"]
    assert {address["Type"] for address in production["ips"]} == {"v6", "shared_v4"}
    addresses = {address["Type"]: address["Address"] for address in production["ips"]}
    assert re.search(
        rf"A +{re.escape(domain)}  ->  {re.escape(addresses['shared_v4'])}", result.stdout
    )
    assert re.search(rf"AAAA +{re.escape(domain)}  ->  {re.escape(addresses['v6'])}", result.stdout)
    # Defect 4: what `certs show --json` asks for today (dns_requirements), ACME record included.
    assert f"one CNAME: {domain}  ->  {NEW}.fly.dev" in result.stdout
    assert f"CNAME _acme-challenge.{domain}  ->  {domain}.{NEW}.fly-dns.dev" in result.stdout
    assert f"fly certs check {domain} --app {NEW}" in result.stdout


# Running it again


def test_a_second_run_only_looks_and_says_what_is_already_there(fly, checkout):
    arguments = ("--app", NEW, "--region", "fra", "--domain", "blog.example.com", "--yes")
    github = FakeGitHub(checkout.parent)
    first = run(checkout, *arguments, env=environment_for(fly, github))
    assert first.returncode == 0, first.stderr
    files, world, repository = snapshot(checkout), fly.state(), github.state()
    calls_before = len(fly.commands())
    second = run(checkout, *arguments, env=environment_for(fly, github))
    assert second.returncode == 0, second.stderr
    calls = fly.commands()[calls_before:]
    assert calls
    assert all(is_read(command) for command in calls), calls
    assert fly.state() == world
    assert github.state() == repository
    assert snapshot(checkout) == files
    assert not [line for line in second.stdout.splitlines() if line.strip().startswith("+ ")]
    for line in [
        "already there: fly.toml, fly.qa.toml and .github/workflows/ name",
        f"already there: app {NEW}",
        f"already there: app {NEW_QA}",
        f"already there: Managed Postgres cluster {NEW}-db",
        f"already there: DATABASE_URL on {NEW_QA}",
        f"already there: BUCKET_NAME on {NEW}",
        "already there: SECRET_KEY, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, WAGTAILADMIN_BASE_URL "
        f"on {NEW}",
        f"already there: SECRET_KEY on {NEW_QA} (kept: a new key would sign everyone out)",
        "already there: GitHub secret FLY_API_TOKEN on octo/my-blog",
        "already there: certificate for blog.example.com",
    ]:
        assert line in second.stdout, line


def test_a_failure_stops_at_its_step_and_the_same_command_resumes(fly, checkout):
    arguments = ("--app", NEW, "--region", "fra", "--yes")
    fly.fail_on("storage create", "failed to create bucket: the Tigris service is unavailable")
    failed = run(checkout, *arguments, env=environment_for(fly))
    assert failed.returncode == 1
    assert "step 4/6 (Media: a Tigris bucket per app) failed: " in failed.stderr
    assert (
        f"`flyctl storage create --name {NEW}-media --app {NEW} --public --yes` exited"
        in failed.stderr
    )
    assert "Error: failed to create bucket: the Tigris service is unavailable" in failed.stderr
    resume = f"scripts/fly-bootstrap --app {NEW} --qa-app {NEW_QA} --org personal --region fra"
    assert "resume by running the same command again:" in failed.stderr
    assert resume in failed.stderr
    assert fly.commands()[-1].startswith("storage create")
    assert not any(command.startswith("tokens") for command in fly.commands())
    assert "SECRET_KEY" not in fly.app(NEW)["secrets"]

    fly.stop_failing()
    calls_before = len(fly.commands())
    resumed = run(checkout, *arguments, env=environment_for(fly))
    assert resumed.returncode == 0, resumed.stderr
    calls = fly.commands()[calls_before:]
    changes = [command for command in calls if not is_read(command)]
    assert changes[:2] == [
        f"storage create --name {NEW}-media --app {NEW} --public --yes",
        f"storage create --name {NEW_QA}-media --app {NEW_QA} --public --yes",
    ]
    assert not any(
        command.startswith(("apps create", "mpg create", "mpg attach")) for command in changes
    )
    assert "SECRET_KEY" in fly.app(NEW)["secrets"]
    assert "already there: DATABASE_URL on" in resumed.stdout


def test_an_app_in_another_organisation_stops_before_anything_is_created(fly, checkout):
    fly.update(orgs=["personal", "acme"])
    fly.add_app(NEW_QA, org="acme")
    result = run(checkout, "--app", NEW, "--region", "fra", "--yes", env=environment_for(fly))
    assert result.returncode == 1
    assert f"{NEW_QA} exists in organisation acme, not personal" in result.stderr
    assert not any(command.startswith("apps create") for command in fly.commands())


def test_a_name_taken_on_fly_names_the_fix(fly, checkout):
    fly.fail_on(f"apps create {NEW}", "Validation failed: Name has already been taken")
    result = run(checkout, "--app", NEW, "--region", "fra", "--yes", env=environment_for(fly))
    assert result.returncode == 1
    assert f"the name {NEW} belongs to another Fly account (app names are global)" in result.stderr
    assert "choose another with --app" in result.stderr


# Secrets and tokens


def test_secrets_never_travel_on_a_command_line_or_reach_the_output(fly, checkout):
    github = FakeGitHub(checkout.parent)
    arguments = ("--app", NEW, "--region", "fra", "--domain", "blog.example.com", "--yes")
    result = run(checkout, *arguments, env=environment_for(fly, github))
    assert result.returncode == 0, result.stderr
    values = secret_values(fly, github)
    assert len(values) >= 12
    arguments_seen = [" ".join(call["argv"]) for call in fly.calls() + github.calls()]
    for value in values:
        assert not any(value in command for command in arguments_seen)
        assert value not in result.stdout
        assert value not in result.stderr
    # Secrets went to flyctl on standard input, the token from flyctl to gh the same way.
    imports = [call for call in fly.calls() if call["argv"][:2] == ["secrets", "import"]]
    assert {name for call in imports for name in call["stdin_names"]} == {
        "SECRET_KEY",
        "DATABASE_DIRECT_URL",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "WAGTAILADMIN_BASE_URL",
        "E2E_ADMIN_USER",
        "E2E_ADMIN_PASSWORD",
    }
    (token,) = fly.state()["tokens"]
    assert token["scope"] == "org"
    assert github.secrets() == {
        "FLY_API_TOKEN": token["value"],
        "E2E_ADMIN_USER": "e2e-editor",
        "E2E_ADMIN_PASSWORD": fly.app(NEW_QA)["secrets"]["E2E_ADMIN_PASSWORD"],
    }
    secret_sets = [call for call in github.calls() if call["argv"][:2] == ["secret", "set"]]
    assert [call["argv"][2] for call in secret_sets] == [
        "FLY_API_TOKEN",
        "E2E_ADMIN_USER",
        "E2E_ADMIN_PASSWORD",
    ]
    assert all(call["argv"][3:] == ["--repo", "octo/my-blog"] for call in secret_sets)
    assert all(call["stdin"] is True for call in secret_sets)
    assert "set GitHub secret FLY_API_TOKEN on octo/my-blog" in result.stdout


def test_without_gh_the_token_is_shown_once_saying_so_and_never_again(fly, checkout):
    arguments = ("--app", NEW, "--region", "fra", "--yes")
    result = run(checkout, *arguments, env=environment_for(fly))
    assert result.returncode == 0, result.stderr
    (token,) = fly.state()["tokens"]
    assert result.stdout.count(token["value"]) == 1
    assert "gh (the GitHub CLI) is not installed" in result.stdout
    assert (
        "GitHub secret FLY_API_TOKEN: shown ONCE, here, and stored nowhere else." in result.stdout
    )
    for value in secret_values(fly):
        if value != token["value"]:
            assert value not in result.stdout + result.stderr
    again = run(checkout, *arguments, env=environment_for(fly))
    assert again.returncode == 0, again.stderr
    assert token["value"] not in again.stdout
    assert len(fly.state()["tokens"]) == 1
    assert "already there: Fly token 'GitHub Actions for" in again.stdout


def test_a_logged_out_gh_is_not_used_and_the_token_is_shown_instead(fly, checkout):
    github = FakeGitHub(checkout.parent, logged_in=False)
    result = run(
        checkout, "--app", NEW, "--region", "fra", "--yes", env=environment_for(fly, github)
    )
    assert result.returncode == 0, result.stderr
    assert "gh is not logged in (`gh auth login`)" in result.stdout
    (token,) = fly.state()["tokens"]
    assert result.stdout.count(token["value"]) == 1
    assert github.commands() == ["auth status"]


def test_per_app_tokens_are_deploy_tokens_stored_under_the_pipelines_names(fly, checkout):
    github = FakeGitHub(checkout.parent)
    arguments = ("--app", NEW, "--region", "fra", "--tokens", "app", "--yes")
    result = run(checkout, *arguments, env=environment_for(fly, github))
    assert result.returncode == 0, result.stderr
    tokens = {token["app"]: token for token in fly.state()["tokens"]}
    assert {app: token["scope"] for app, token in tokens.items()} == {NEW: "app", NEW_QA: "app"}
    assert github.secrets() == {
        "FLY_API_TOKEN_PRODUCTION": tokens[NEW]["value"],
        "FLY_API_TOKEN_QA": tokens[NEW_QA]["value"],
        "E2E_ADMIN_USER": "e2e-editor",
        "E2E_ADMIN_PASSWORD": fly.app(NEW_QA)["secrets"]["E2E_ADMIN_PASSWORD"],
    }
    assert "add an organisation token as FLY_API_TOKEN if you use them" in result.stdout


# Usage


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--region", "fra", "--yes"], "--app is required"),
        (["--app", NEW, "--yes"], "--region is required"),
        (["--app", "My_Blog", "--region", "fra", "--yes"], "is not a Fly app name"),
        (["--app", NEW, "--qa-app", NEW, "--region", "fra", "--yes"], "--qa-app must differ"),
        (["--app", NEW, "--region", "frankfurt", "--yes"], "is not a region code"),
        (
            ["--app", NEW, "--region", "fra", "--media", "volume", "--yes"],
            "with a Postgres database",
        ),
        (
            ["--app", NEW, "--region", "fra", "--domain", "not a domain", "--yes"],
            "is not a host name",
        ),
        (["--app", NEW, "--region", "fra"], "pass --yes to go ahead, or --dry-run"),
    ],
)
def test_bad_input_is_a_usage_error_naming_the_fix_and_nothing_runs(
    fly, checkout, arguments, message
):
    result = run(checkout, *arguments, env=environment_for(fly))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert fly.commands() == []


def run_on_a_terminal(checkout: Path, answers: list[str], env: dict[str, str]):
    """The script with a terminal for standard input, answering its questions in order."""
    terminal, script_side = os.openpty()
    try:
        process = subprocess.Popen(
            [str(SCRIPT), "--directory", str(checkout)],
            stdin=script_side,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        os.write(terminal, "".join(answer + "\n" for answer in answers).encode())
        out, err = process.communicate(timeout=120)
    finally:
        os.close(script_side)
        os.close(terminal)
    return process.returncode, out, err


def test_on_a_terminal_it_asks_for_what_is_missing_then_for_a_go_ahead(fly, checkout):
    # App, QA app (default), organisation (default), region, database, media, domain (none), go.
    answers = [NEW, "", "", "fra", "sqlite", "volume", "", "y"]
    status, out, err = run_on_a_terminal(checkout, answers, environment_for(fly))
    assert status == 0, err
    for question in (
        "Production app name (becomes <name>.fly.dev): ",
        f"QA app name [{NEW_QA}]: ",
        "Fly organisation [personal]: ",
        "Database: mpg, postgres or sqlite [mpg]: ",
        "Create these on Fly (billed to organisation personal) and rewrite the files? [y/N]",
    ):
        assert question in out
    # The plan (which only looks) comes before the question, the changes after it.
    question = out.index("Create these on Fly")
    assert out.index(f"would run: flyctl apps create {NEW} --org personal") < question
    assert out.index(f"+ flyctl apps create {NEW} --org personal") > question
    assert [volume["name"] for volume in fly.app(NEW_QA)["volumes"]] == ["data"]


def test_on_a_terminal_anything_but_yes_stops_before_any_change(fly, checkout):
    before = snapshot(checkout)
    answers = [NEW, "", "", "fra", "", "", "", "n"]
    status, _, err = run_on_a_terminal(checkout, answers, environment_for(fly))
    assert status == 2
    assert "stopped before changing anything" in err
    assert snapshot(checkout) == before
    assert fly.commands()
    assert all(is_read(command) for command in fly.commands())


def test_missing_flyctl_names_the_install_fix(checkout):
    result = run(checkout, "--app", NEW, "--region", "fra", "--dry-run", env=clean_environment())
    assert result.returncode == 2
    assert (
        "flyctl is not installed: install it (https://fly.io/docs/flyctl/install/)" in result.stderr
    )


def test_a_real_run_without_a_fly_login_changes_nothing(fly, checkout):
    fly.token = None
    before = snapshot(checkout)
    result = run(checkout, "--app", NEW, "--region", "fra", "--yes", env=environment_for(fly))
    assert result.returncode == 1
    assert "flyctl is not logged in: run `fly auth login`" in result.stderr
    assert snapshot(checkout) == before


def test_help_explains_the_steps_and_the_make_target_runs_it(checkout):
    result = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("usage: scripts/fly-bootstrap --app NAME --region CODE")
    for text in ("--dry-run", "Re-running is safe and is how you resume", "make fly-bootstrap"):
        assert text in result.stdout
    if shutil.which("make"):
        target = subprocess.run(
            ["make", "--no-print-directory", "fly-bootstrap", "ARGS=--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert target.returncode == 0, target.stderr
        assert target.stdout == result.stdout


# Template hygiene


def test_only_the_fly_configs_and_workflows_name_this_projects_fly_apps():
    places = app_name_places(ROOT, PROJECT_APPS)
    assert not places, (
        "These name this project's Fly apps, which a fork's bootstrap would leave behind: say "
        "production's / QA's app (the app in fly.toml), or my-blog in examples:\n"
        + "\n".join(places)
    )


def test_the_repository_carries_a_license_and_dependabot():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    if HAS_WORKFLOWS:
        assert (ROOT / ".github" / "dependabot.yml").is_file()


@pytest.mark.slow
@pytest.mark.skipif(not HAS_WORKFLOWS, reason=".github is not in the Docker build context")
def test_fork_rehearsal_a_renamed_copy_keeps_no_old_name_and_passes_its_own_tests(fly, tmp_path):
    fork = tmp_path / "fork"
    for path in repository_files(ROOT):
        target = fork / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    github = FakeGitHub(tmp_path)
    result = subprocess.run(
        [str(fork / "scripts" / "fly-bootstrap"), "--app", NEW, "--region", "fra", "--yes"],
        cwd=fork,
        env=environment_for(fly, github),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert fly.app(NEW)
    assert fly.app(NEW_QA)

    configs_and_workflows = "".join(
        path.read_text()
        for path in [
            fork / "fly.toml",
            fork / "fly.qa.toml",
            *(fork / ".github" / "workflows").glob("*.yml"),
        ]
    )
    assert not bootstrap.app_name_references(
        configs_and_workflows, [CURRENT_PRODUCTION, CURRENT_QA]
    )
    assert f'app = "{NEW}"' in (fork / "fly.toml").read_text()
    assert f'app = "{NEW_QA}"' in (fork / "fly.qa.toml").read_text()
    leftovers = app_name_places(fork, PROJECT_APPS)
    assert not leftovers, "\n".join(leftovers)
    # The fork's own tests: its configs, its workflows, and its name rule, now for the new names.
    tests = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_fly_config.py",
            "tests/test_workflows.py",
            "tests/test_bootstrap.py::test_only_the_fly_configs_and_workflows_name_this_projects_fly_apps",
        ],
        cwd=fork,
        # SQLite: a PostgreSQL DATABASE_URL would point the copy at this run's test database.
        env={key: value for key, value in clean_environment().items() if key != "DATABASE_URL"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout


def test_an_apex_domain_is_not_told_to_add_a_cname(fly, checkout):
    result = run(
        checkout,
        *("--app", NEW, "--region", "fra", "--domain", "example.com", "--yes"),
        env=environment_for(fly),
    )
    assert result.returncode == 0, result.stderr
    assert "one CNAME" not in result.stdout
    assert re.search(r"A +example\.com  ->  \S+", result.stdout)
    assert f"CNAME _acme-challenge.example.com  ->  example.com.{NEW}.fly-dns.dev" in (
        result.stdout
    )


def test_without_gh_the_editor_password_is_shown_once_and_kept_on_a_second_run(fly, checkout):
    arguments = ("--app", NEW, "--region", "fra", "--yes")
    first = run(checkout, *arguments, env=environment_for(fly))
    assert first.returncode == 0, first.stderr
    password = fly.app(NEW_QA)["secrets"]["E2E_ADMIN_PASSWORD"]
    assert first.stdout.count(password) == 1
    assert "GitHub secret E2E_ADMIN_USER: e2e-editor" in first.stdout
    again = run(checkout, *arguments, env=environment_for(fly))
    assert again.returncode == 0, again.stderr
    assert password not in again.stdout
    assert fly.app(NEW_QA)["secrets"]["E2E_ADMIN_PASSWORD"] == password
    assert f"already there: E2E_ADMIN_USER and E2E_ADMIN_PASSWORD on {NEW_QA}" in again.stdout
