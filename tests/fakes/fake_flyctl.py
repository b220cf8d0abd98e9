"""A fake `flyctl` backed by a stateful fake Fly: it records its calls and does what flyctl does.

Fly cannot be reached from CI, so the pipeline's scripts are tested against this stand-in on PATH
(tests/fakes/bin/flyctl runs it). It keeps the world in a JSON state file and appends one JSON line
per call to a log, so a test can arrange apps and machines, run a real script (or a workflow's own
steps, tests/rehearsal.py), then assert on what the script asked Fly to do and what Fly now holds.
What it prints for the commands the scripts parse follows the shapes recorded from flyctl's source
in flyctl_shapes.json (tests/test_flyctl_shapes.py checks that it does).

Environment:
    FAKE_FLY_STATE  path of the state file (required; a missing file is an empty world)
    FAKE_FLY_LOG    path of the call log (default: the state file's path + ".calls.jsonl")

State (JSON), every key optional:
    {"logged_in": false,      # true: calls work without FLY_API_TOKEN
     "orgs": ["personal"],
     "fail": {"storage create": "message"},  # a call whose words start so fails, changing nothing
     "strict_tokens": false,  # true: FLY_API_TOKEN must be one of "tokens", and acts in its scope
     "tokens": [{"id", "name", "scope": "org"|"app", "org", "app", "value"}],
     "registry": {"<app>": {"tags": {"<tag>": "sha256:..."}, "manifests": ["sha256:..."]}},
                              # present: an image must be pushed before it can be deployed
     "images": {"sha256:...": {"healthy": true, "release_fails": false}},
     "deploy_by_tag": false,  # true: machines get whatever the tag names at deploy time
     "clusters": [{"id", "name", "org", "region", "plan", "password", "databases": ["fly-db"],
                   "attached_apps": ["<app>"]}],  # Fly Managed Postgres (`mpg`)
     "buckets": [{"name", "org", "public", "app"}], # Tigris (`storage`)
     "apps": {"<name>": {
         "org": "personal",
         "postgres": false,            # true: a legacy Fly Postgres app (`postgres create`)
         "releases": [{"version", "image", "digest", "status": "complete"|"failed", ...}],
         "secrets": {"NAME": "value"},
         "e2e_editor": {"username", "password"},  # made by the release step (scripts/release)
         "volumes": [...], "certificates": [{"hostname", "status"}], "ips": [{"Address", "Type"}],
         "deploy_fails": "",           # non-empty: deploys fail with this message
         "machines": [{
             "id": "148e1a2b3c4d5e", "region": "fra", "state": "stopped",  # or started, failed...
             "image": "registry.fly.io/app:tag@sha256:...",
             "healthy": true,          # overrides the image's health
             "checks_pass_after": 0,   # listings that still show a failing check after boot
             "checks_pending": 0,      # listings that show no check result yet after boot
             "ignore_starts": 0,       # `machine start` calls that report success, do nothing
             "boot_polls": 0,          # listings that show "starting" after a start
             "standby": false}]}}}

Behaviours reproduced (each from flyctl's source, named in flyctl_shapes.json):
    - `scale count N` counts machines whatever their state ("App already scaled to desired
      state"), needs a complete release, needs --yes when not interactive.
    - `deploy --image` resolves the image for the target app with the caller's token; it runs the
      release command first (a failure aborts before any machine changes); on an app without
      machines it launches one (two without --ha=false); it updates every machine, and leaves
      stopped, suspended and standby ones stopped (SkipLaunch), starts failed ones, and waits
      for each started machine's checks, stopping at the first that fails and keeping what it
      updated (no roll back).
    - a freshly started machine lists no checks for a moment; checks of an unhealthy image stay
      critical.
    - tokens: an org token acts on every app of its organisation, a deploy token on its own app.
    - `ssh console` refuses an app with no started machine.
    - what a new site needs (scripts/fly-bootstrap): mpg, postgres, storage, volumes, tokens,
      certs and ips, with the outputs flyctl prints.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

VERSION = "0.4.87"
SERVICE_CHECK = "servicecheck-00-http-8000"
# The release step's marker for the one app allowed an end-to-end editor (fly.qa.toml's [env]).
E2E_MARKER = "E2E_EDITOR_ALLOWED"

# Flags that take a value; every other flag is a boolean. Unknown flags are an error, as in flyctl,
# so a typo in a script fails its test instead of passing silently.
VALUE_FLAGS = {
    "--app": "app",
    "-a": "app",
    "--config": "config",
    "-c": "config",
    "--image": "image",
    "-i": "image",
    "--strategy": "strategy",
    "--org": "org",
    "-o": "org",
    "--region": "region",
    "-r": "region",
    "--build-arg": "build-arg",
    "--env": "env",
    "-e": "env",
    "--build-target": "build-target",
    "--name": "name",
    "--wait-timeout": "wait-timeout",
    "--vm-size": "vm-size",
    "--vm-memory": "vm-memory",
    "--primary-region": "primary-region",
    "--signal": "signal",
    "--timeout": "timeout",
    "--plan": "plan",
    "--volume-size": "volume-size",
    "--initial-cluster-size": "initial-cluster-size",
    "--database": "database",
    "-d": "database",
    "--variable-name": "variable-name",
    "--size": "size",
    "-s": "scope",
    "--scope": "scope",
    "--expiry": "expiry",
    "-x": "expiry",
    "-n": "name",
    "--command": "command",
    "-C": "command",
}
BOOLEAN_FLAGS = {
    "--json": "json",
    "-j": "json",
    "--yes": "yes",
    "-y": "yes",
    "--stage": "stage",
    "--detach": "detach",
    "--remote-only": "remote-only",
    "--local-only": "local-only",
    "--ha": "ha",
    "--quiet": "quiet",
    "-q": "quiet",
    "--verbose": "verbose",
    "--no-deploy": "no-deploy",
    "--force": "force",
    "--public": "public",
    "-p": "public",
    "--shared": "shared",
    "--pty": "pty",
    "--superuser": "superuser",
}
COMMAND_ALIASES = {
    "machines": "machine",
    "m": "machine",
    "app": "apps",
    "ls": "list",
    "pg": "postgres",
    "managed-postgres": "mpg",
    "volume": "volumes",
    "vol": "volumes",
    "certificates": "certs",
    "ip": "ips",
    "token": "tokens",
    "organizations": "orgs",
    "db": "databases",
    "database": "databases",
}
WARM_STATES = {"started", "starting", "failed", "replacing"}


class FlyError(Exception):
    """A failure flyctl would print as `Error: ...` and exit 1 on."""


def parse_arguments(argv: list[str]) -> tuple[list[str], dict[str, object]]:
    words: list[str] = []
    flags: dict[str, object] = {"build-arg": [], "env": []}
    index = 0
    while index < len(argv):
        token = argv[index]
        index += 1
        if not token.startswith("-") or token == "-":
            words.append(token)
            continue
        name, has_value, inline_value = token.partition("=")
        if name in VALUE_FLAGS:
            key = VALUE_FLAGS[name]
            if has_value:
                value = inline_value
            elif index < len(argv):
                value = argv[index]
                index += 1
            else:
                raise FlyError(f"flag needs an argument: {name}")
            if key in {"build-arg", "env"}:
                flags[key].append(value)
            else:
                flags[key] = value
        elif name in BOOLEAN_FLAGS:
            flags[BOOLEAN_FLAGS[name]] = inline_value.lower() != "false" if has_value else True
        else:
            raise FlyError(f"unknown flag: {name}")
    words = [COMMAND_ALIASES.get(word, word) for word in words[:2]] + words[2:]
    return words, flags


class World:
    """The state file: apps, their machines, releases and secrets, the registry, the tokens."""

    def __init__(self, path: Path):
        self.path = path
        self.data = json.loads(path.read_text()) if path.exists() else {}
        self.data.setdefault("orgs", ["personal"])
        self.data.setdefault("apps", {})
        for key in ("clusters", "buckets", "tokens"):
            self.data.setdefault(key, [])
        self.caller = self.find_caller()

    def save(self) -> None:
        self.path.write_text(json.dumps(self.data, indent=2, sort_keys=True))

    def find_caller(self) -> dict | None:
        """The token in FLY_API_TOKEN, or None for a caller with every right (a logged-in user)."""
        value = os.environ.get("FLY_API_TOKEN") or os.environ.get("FLY_ACCESS_TOKEN")
        for token in self.data["tokens"]:
            if value and docker_credential(token["value"]) == docker_credential(value):
                return token
        if value and self.data.get("strict_tokens"):
            raise FlyError("You must be authenticated to view this. (the token is not valid)")
        return None

    def authorize(self, app_name: str, app: dict) -> None:
        token = self.caller
        if token is None:
            return
        allowed = (
            token["app"] == app_name
            if token["scope"] == "app"
            else (token["org"] == app.get("org", "personal"))
        )
        if not allowed:
            raise FlyError(f"unauthorized: the token cannot act on app {app_name}")

    def app(self, name: object) -> dict:
        if not name:
            raise FlyError(
                "the config for your app is missing an app name, add an app field to the fly.toml "
                "file or specify with the -a flag"
            )
        app = self.data["apps"].get(name)
        if app is None:
            raise FlyError("Could not find App")
        self.authorize(str(name), app)
        for key in ("machines", "releases", "volumes", "certificates", "ips"):
            app.setdefault(key, [])
        app.setdefault("secrets", {})
        return app

    def org(self, slug: object) -> str:
        slug = slug or "personal"
        if slug not in self.data["orgs"]:
            raise FlyError(f"Could not find Organization {slug!r}")
        if self.caller and self.caller["scope"] == "app":
            raise FlyError(f"unauthorized: a deploy token cannot act on organization {slug}")
        return str(slug)

    def cluster(self, cluster_id: str) -> dict:
        for cluster in self.data["clusters"]:
            if cluster["id"] == cluster_id:
                return cluster
        raise FlyError(
            f"failed retrieving cluster {cluster_id}: "
            f'managed postgres cluster "{cluster_id}" not found'
        )

    def machine(self, app: dict, machine_id: str) -> dict:
        for machine in app["machines"]:
            if machine["id"] == machine_id:
                return machine
        raise FlyError(f"could not get machine {machine_id}: machine not found")

    def image_health(self, digest: str | None) -> dict:
        return {"healthy": True, "release_fails": False} | self.data.get("images", {}).get(
            digest or "", {}
        )


def new_machine_id(app: dict) -> str:
    return f"{len(app['machines']) + 1:02d}" + "e8a0f37d4c91" + str(len(app["releases"]))


def split_image(image: str) -> tuple[str, str, str, str]:
    """registry, repository, tag, digest of an image reference (missing parts are '')."""
    rest, _, digest = image.partition("@")
    registry, slash, path = rest.partition("/")
    if not slash or "." not in registry:
        registry, path = "docker.io", rest
    repository, _, tag = path.partition(":")
    return registry, repository, tag, digest


def machine_healthy(world: World, machine: dict) -> bool:
    if "healthy" in machine:
        return bool(machine["healthy"])
    return bool(world.image_health(machine.get("digest")).get("healthy"))


def machine_checks(world: World, machine: dict) -> list[dict]:
    if machine.get("state") != "started" or machine.get("checks_pending", 0) > 0:
        return []
    if machine_healthy(world, machine) and machine.get("checks_pass_after", 0) <= 0:
        status, output = "passing", "HTTP GET http://172.19.0.2:8000/healthz: 200 OK"
    else:
        # A Django app that validates Host before answering its check fails exactly like this.
        status, output = "critical", "HTTP GET http://172.19.0.2:8000/healthz: 400 Bad Request"
    return [
        {
            "name": SERVICE_CHECK,
            "status": status,
            "output": output,
            "updated_at": "2026-11-01T10:00:00Z",
        }
    ]


def machine_json(world: World, app_name: str, machine: dict) -> dict:
    image = machine.get("image", f"registry.fly.io/{app_name}:unknown")
    registry, repository, tag, digest = split_image(image)
    digest = machine.get("digest") or digest
    image_ref = {"registry": registry, "repository": repository}
    if tag:
        image_ref["tag"] = tag
    if digest:
        image_ref["digest"] = digest
    service = {"protocol": "tcp", "internal_port": 8000, "force_instance_key": None}
    if machine.get("config_checks", 1):
        service["checks"] = [{"type": "http", "path": "/healthz"}] * machine.get("config_checks", 1)
    config = {
        "image": image,
        "init": {},
        "metadata": {"fly_process_group": "app", "fly_platform_version": "v2"},
        "services": [service],
    }
    if machine.get("standby"):
        config["standbys"] = ["0000000000000"]
    listed = {
        "id": machine["id"],
        "name": f"machine-{machine['id'][:6]}",
        "state": machine.get("state", "started"),
        "region": machine.get("region", "fra"),
        "image_ref": image_ref,
        "instance_id": "01FAKE" + machine["id"].upper(),
        "private_ip": "fdaa:0:1:a7b:1::2",
        "created_at": "2026-11-01T10:00:00Z",
        "updated_at": "2026-11-01T10:00:00Z",
        "config": config,
        "host_status": "ok",
        "cordoned": False,
    }
    checks = machine_checks(world, machine)
    if checks:  # omitempty in fly-go's Machine
        listed["checks"] = checks
    return listed


def advance_boot(app: dict) -> None:
    """Each listing is a moment later: booting machines progress, checks settle."""
    for machine in app["machines"]:
        if machine.get("state") == "starting":
            if machine.get("boot_polls", 0) > 0:
                machine["boot_polls"] -= 1
            else:
                machine["state"] = "started"
        elif machine.get("state") == "started":
            if machine.get("checks_pending", 0) > 0:
                machine["checks_pending"] -= 1
            elif machine.get("checks_pass_after", 0) > 0:
                machine["checks_pass_after"] -= 1


def read_config(config: Path) -> dict:
    try:
        return tomllib.loads(config.read_text())
    except tomllib.TOMLDecodeError as error:
        raise FlyError(f"failed loading app config from {config}: {error}") from None


def config_app_name(config: Path) -> str | None:
    match = re.search(r'^\s*app\s*=\s*["\']([^"\']+)["\']', config.read_text(), re.MULTILINE)
    return match.group(1) if match else None


def require_yes(flags: dict, what: str) -> None:
    if not flags.get("yes"):
        raise FlyError(f"--yes flag must be specified when not running interactively ({what})")


def complete_releases(app: dict) -> list[dict]:
    return [
        release for release in app["releases"] if release.get("status", "complete") == "complete"
    ]


def command_version(world, words, flags, out):
    out.append(f"flyctl v{VERSION} linux/amd64 Commit: fake BuildDate: 2026-08-20T00:00:00Z")


def docker_config_path() -> Path:
    return Path(os.environ.get("HOME", "/nonexistent")) / ".docker" / "config.json"


def write_registry_auth(host: str, auth: str) -> None:
    """auths[host].auth in ~/.docker/config.json, other entries and fields kept, mode 0600."""
    path = docker_config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    current = json.loads(path.read_text()) if path.exists() and path.read_text().strip() else {}
    current.setdefault("auths", {}).setdefault(host, {})["auth"] = auth
    path.write_text(json.dumps(current))
    path.chmod(0o600)


def docker_login(argv: list[str], password: str) -> int:
    """What `docker login --username=U --password-stdin HOST` leaves without a credential store:
    auths[HOST].auth = base64("U:password") in ~/.docker/config.json."""
    users = [word.removeprefix("--username=") for word in argv if word.startswith("--username=")]
    hosts = [word for word in argv[1:] if not word.startswith("-")]
    if argv[:1] != ["login"] or "--password-stdin" not in argv or not users or len(hosts) != 1:
        print(f"fake docker: only `login --username=U --password-stdin HOST`, not {argv}")
        return 1
    if not password.strip():
        print("Error: Cannot perform an interactive login from a non TTY device")
        return 1
    write_registry_auth(hosts[0], base64.b64encode(f"{users[0]}:{password}".encode()).decode())
    print("Login Succeeded")
    return 0


def docker_credential(token: str) -> str:
    """The token as flyctl hands it to Docker (fly-go Tokens.Docker): without its scheme."""
    return ",".join(part.strip().removeprefix("FlyV1 ") for part in token.split(","))


def command_auth(world, words, flags, out):
    action = words[1] if len(words) > 1 else ""
    if action == "docker":
        # flyctl internal/command/auth/docker.go: with a docker CLI on PATH it runs
        # `docker login --username=x --password-stdin registry.fly.io` with the token on standard
        # input; without one it writes ~/.docker/config.json itself (base64url of x:<token>).
        token = os.environ.get("FLY_API_TOKEN") or os.environ.get("FLY_ACCESS_TOKEN") or ""
        if not token and not world.data.get("logged_in"):
            raise FlyError("no access token available. Please login with 'flyctl auth login'")
        credential = docker_credential(token or "fake-user-token")
        docker = shutil.which("docker")
        if docker:
            login = subprocess.run(
                [docker, "login", "--username=x", "--password-stdin", "registry.fly.io"],
                input=credential,
                capture_output=True,
                text=True,
                check=False,
            )
            if login.returncode != 0:
                output = login.stdout + login.stderr
                raise FlyError(f"failed authenticating with registry.fly.io: {output}")
        else:
            auth = base64.urlsafe_b64encode(f"x:{credential}".encode()).decode()
            write_registry_auth("registry.fly.io", auth)
        out.append("Authentication successful. Credential expiration: unknown.")
        out.append("")
        out.append("You can now tag and push images to registry.fly.io/{your-app}")
    elif action in {"whoami", "token"}:
        out.append("ci@example.invalid")
    else:
        raise FlyError(f"unknown command {action!r} for auth")


def app_listing(name: str, app: dict) -> dict:
    org = app.get("org", "personal")
    return {
        "ID": name,
        "Name": name,
        "Status": "deployed" if complete_releases(app) else "pending",
        "Deployed": bool(complete_releases(app)),
        "Hostname": f"{name}.fly.dev",
        "Organization": {"Slug": org, "Name": org.replace("-", " ").title()},
    }


def command_apps(world, words, flags, out):
    action = words[1] if len(words) > 1 else ""
    name = words[2] if len(words) > 2 else flags.get("name") or flags.get("app")
    if action == "create":
        org = world.org(flags.get("org"))
        if not name:
            raise FlyError("an app name is required (flyctl apps create NAME)")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", name):
            raise FlyError(f"Validation failed: {name!r} is not a valid app name")
        if name in world.data["apps"]:
            raise FlyError("Validation failed: Name has already been taken")
        world.data["apps"][name] = {"org": org, "machines": [], "releases": [], "secrets": {}}
        out.append(f"New app created: {name}")
    elif action in {"destroy", "delete"}:
        world.app(name)
        require_yes(flags, "apps destroy")
        del world.data["apps"][name]
        out.append(f"Destroyed app {name}")
    elif action == "list":
        apps = []
        for app_name, app in sorted(world.data["apps"].items()):
            try:
                world.authorize(app_name, app)
            except FlyError:
                continue  # a token sees only the apps it may act on
            if not flags.get("org") or app.get("org", "personal") == flags["org"]:
                apps.append(app_listing(app_name, app))
        if flags.get("json"):
            out.append(json.dumps(apps, indent=4))
        else:
            out.append("\n".join(a["Name"] for a in apps) or "No apps found")
    else:
        raise FlyError(f"unknown command {action!r} for apps")


def start_machine(machine: dict) -> None:
    if machine.get("ignore_starts", 0) > 0:
        machine["ignore_starts"] -= 1  # reports success, changes nothing
        return
    machine["state"] = "starting" if machine.get("boot_polls", 0) > 0 else "started"
    machine["checks_pending"] = machine.get("pending_after_start", 0)


def command_machine(world, words, flags, out):
    action = words[1] if len(words) > 1 else ""
    name = flags.get("app")
    app = world.app(name)
    if action == "list":
        advance_boot(app)
        machines = [machine_json(world, name, m) for m in app["machines"]]
        if flags.get("json"):
            out.append(json.dumps(machines, indent=4))
        elif machines:
            out.append("ID\tSTATE\tREGION")
            out.extend(f"{m['id']}\t{m['state']}\t{m['region']}" for m in machines)
        else:
            out.append(f"No machines are available on this app {name}")
        return
    if len(words) < 3:
        raise FlyError(f"machine {action} needs a machine ID")
    machine = world.machine(app, words[2])
    if action == "start":
        if machine.get("state") in {"stopped", "suspended", "created", "failed"}:
            start_machine(machine)
        out.append(f"{machine['id']} has been started")
    elif action == "stop":
        machine["state"] = "stopped"
        out.append(f"Sending kill signal to machine {machine['id']}...")
        out.append(f"{machine['id']} has been successfully stopped")
    elif action == "status":
        out.append(f"Machine ID: {machine['id']}\nState: {machine.get('state')}")
    else:
        raise FlyError(f"unknown command {action!r} for machine")


def command_scale(world, words, flags, out):
    if len(words) < 3 or words[1] != "count" or not words[2].isdigit():
        raise FlyError("usage: flyctl scale count N")
    name = flags.get("app")
    app = world.app(name)
    wanted = int(words[2])
    releases = complete_releases(app)
    if not releases:
        raise FlyError(
            "this app has no complete releases. "
            "Run `fly deploy` to create one and rerun this command"
        )
    # --region sjc: the count is of that region's machines (new ones go there).
    region = flags.get("region")
    machines = [m for m in app["machines"] if region in (None, m.get("region", "fra"))]
    # Fly counts machines whatever their state: stopped ones count as "scaled".
    if wanted == len(machines):
        out.append("App already scaled to desired state. No need for changes")
        return
    require_yes(flags, "scale count")
    out.append(f"App '{name}' is going to be scaled according to this plan:")
    if wanted > len(machines):
        out.append(
            f"{wanted - len(machines):+4d} machines for group 'app' on region '{region or 'fra'}'"
        )
        for _ in range(wanted - len(machines)):
            machine = {"id": new_machine_id(app), "region": region or "fra", "state": "started"}
            machine["image"] = releases[-1]["image"]
            if releases[-1].get("digest"):
                machine["digest"] = releases[-1]["digest"]
            app["machines"].append(machine)
    else:
        for machine in machines[wanted:]:
            app["machines"].remove(machine)


def resolve_image(world: World, app_name: str, app: dict, image: str) -> tuple[str, str]:
    """The image reference and digest machines will run, as Fly's API resolves it for the app."""
    registry, repository, tag, digest = split_image(image)
    pushed = world.data.get("registry")
    if pushed is None or registry != "registry.fly.io":
        return image, digest  # no registry modelled: any reference deploys as given
    owner = world.data["apps"].get(repository)
    tags = pushed.get(repository, {}).get("tags", {})
    known = set(pushed.get(repository, {}).get("manifests", []))
    readable = owner is not None or repository in pushed
    token = world.caller
    if token is not None and repository != app_name:
        # Resolved through the API as the target app: another app's repository is readable only
        # with an organisation token of the organisation both apps belong to.
        readable = token["scope"] == "org" and (owner or {}).get("org") == app.get("org")
    found = digest in known if digest else tag in tags
    if not readable or not found:
        raise FlyError(f'could not find image "{image}"')
    if world.data.get("deploy_by_tag") and tag:
        digest = tags[tag]
    resolved = f"{registry}/{repository}:{tag}" if tag else f"{registry}/{repository}"
    return f"{resolved}@{digest or tags[tag]}", digest or tags[tag]


def run_release_command(world: World, app: dict, digest: str, env: dict, out_err: list) -> None:
    """The image's release step, as scripts/release does it: migrate, and the QA editor."""
    machine_id = "1781e92b4d6e08"
    failure = None
    if world.image_health(digest).get("release_fails"):
        failure = "django.db.utils.ProgrammingError: the migration failed"
    elif app["secrets"].get("E2E_ADMIN_USER") or app["secrets"].get("E2E_ADMIN_PASSWORD"):
        if env.get(E2E_MARKER) != "1":
            failure = "ensure_e2e_editor: refusing to create an end-to-end editor on this app"
        elif not (
            app["secrets"].get("E2E_ADMIN_USER") and app["secrets"].get("E2E_ADMIN_PASSWORD")
        ):
            failure = "ensure_e2e_editor: E2E_ADMIN_USER and E2E_ADMIN_PASSWORD go together"
        else:
            app["e2e_editor"] = {
                "username": app["secrets"]["E2E_ADMIN_USER"],
                "password": app["secrets"]["E2E_ADMIN_PASSWORD"],
            }
    if failure:
        out_err.append(
            f"Error release_command failed running on machine {machine_id} with exit code 1.\n"
            f"Checking logs: fetching the last 100 lines below:\n{failure}"
        )
        raise FlyError(
            "release command failed - aborting deployment. "
            f"machine {machine_id} exited with non-zero status of 1"
        )


def command_deploy(world, words, flags, out, out_err):
    config_path = Path(str(flags.get("config", "fly.toml")))
    if not config_path.is_file():
        raise FlyError(f"the config file {config_path} does not exist")
    config = read_config(config_path)
    name = flags.get("app") or config.get("app")
    app = world.app(name)
    strategy = flags.get("strategy", "rolling")
    if strategy not in {"rolling", "immediate", "canary", "bluegreen"}:
        raise FlyError(f"unsupported deployment strategy {strategy!r}")
    image = flags.get("image")
    if not image:
        if flags.get("local-only"):
            raise FlyError("Cannot connect to the Docker daemon (the fake builds remotely only)")
        image = f"registry.fly.io/{name}:deployment-{len(app['releases']) + 1:04d}"
        out.append(f"==> Building image with Fly's builders ({' '.join(flags['build-arg'])})")
    out_err.append(f"Searching for image '{image}' remotely...")
    image, digest = resolve_image(world, str(name), app, image)
    if app.get("deploy_fails"):
        raise FlyError(app["deploy_fails"])
    env = dict(config.get("env", {}))
    env.update(dict(pair.partition("=")[::2] for pair in flags["env"]))
    release = {
        "version": len(app["releases"]) + 1,
        "image": image,
        "digest": digest,
        "strategy": strategy,
        "config": str(config_path),
        "env": {key: value for key, value in env.items() if key not in config.get("env", {})},
        "status": "failed",
    }
    app["releases"].append(release)
    if (config.get("deploy") or {}).get("release_command"):
        run_release_command(world, app, digest, env, out_err)
    checks = len((config.get("http_service") or {}).get("checks", []))
    out.append(f"==> Release v{release['version']}: image {image}")
    if not app["machines"]:
        out.append("No machines in group app, launching a new machine")
        for _ in range(2 if flags.get("ha", True) else 1):
            app["machines"].append({"id": new_machine_id(app), "region": "fra", "state": "created"})
    for machine in app["machines"]:
        was = machine.get("state", "started")
        machine["image"], machine["digest"], machine["config_checks"] = image, digest, checks
        machine.pop("healthy", None)  # the new image's health from now on
        running = was in {"started", "starting", "failed"}
        if was in {"stopped", "suspended"} or (machine.get("standby") and not running):
            # Every machine of the group is updated; a stopped or suspended one, and a standby
            # that is not running, gets the new image and config with SkipLaunch: it is not
            # booted (flyctl's shouldSkipLaunch).
            out.append(f"Updated machine {machine['id']} [{was}]")
            continue
        machine["state"] = "started"
        if checks and not machine_healthy(world, machine):
            raise FlyError(
                "Unrecoverable error: timeout reached waiting for health checks to pass for "
                f"machine {machine['id']}: context deadline exceeded"
            )
        out.append(f"Machine {machine['id']} is now in a good state")
    release["status"] = "complete"
    out.append(f"Visit your newly deployed app at https://{name}.fly.dev/")


def command_secrets(world, words, flags, out, stdin_names):
    action = words[1] if len(words) > 1 else ""
    app = world.app(flags.get("app"))
    if action == "set":
        pairs = words[2:]
    elif action == "import":
        pairs = [line for line in sys.stdin.read().splitlines() if line.strip()]
    elif action == "list":
        names = sorted(app["secrets"])
        digest = lambda name: hashlib.sha256(app["secrets"][name].encode()).hexdigest()[:16]  # noqa: E731
        listing = [{"name": n, "digest": digest(n), "status": "Deployed"} for n in names]
        out.append(json.dumps(listing, indent=4) if flags.get("json") else "\n".join(names))
        return
    elif action == "unset":
        for secret_name in words[2:]:
            app["secrets"].pop(secret_name, None)
        return
    else:
        raise FlyError(f"unknown command {action!r} for secrets")
    if not pairs:
        raise FlyError("requires at least one SECRET=VALUE pair")
    for pair in pairs:
        secret_name, separator, value = pair.partition("=")
        if not separator or not secret_name:
            raise FlyError(f"Secrets must be provided as NAME=VALUE pairs ({secret_name} is not)")
        app["secrets"][secret_name] = value
        if action == "import":
            stdin_names.append(secret_name)
    out.append(
        "Secrets have been staged, but not set on VMs. Deploy or update machines in this app "
        "for the secrets to take effect."
        if flags.get("stage")
        else "Secrets are deployed"
    )


def new_value(world: World, prefix: str) -> str:
    """A fresh credential, unique in this world (the fake's stand-in for Fly's random ones)."""
    world.data["serial"] = world.data.get("serial", 0) + 1
    return f"{prefix}{os.urandom(12).hex()}{world.data['serial']}"


def first_argument(words: list[str], what: str) -> str:
    if len(words) < 3:
        raise FlyError(f"{what} is required")
    return words[2]


def set_new_secret(app_name: str, app: dict, name: str, value: str) -> None:
    if name in app["secrets"]:
        raise FlyError(
            f"app {app_name} already has {name} set. "
            f"Use 'fly secrets unset {name}' to remove it first"
        )
    app["secrets"][name] = value


def command_orgs(world, words, flags, out):
    if (words[1] if len(words) > 1 else "") != "list":
        raise FlyError("unknown command for orgs")
    slugs = world.data["orgs"]
    if flags.get("json"):
        out.append(json.dumps({slug: slug.replace("-", " ").title() for slug in slugs}, indent=4))
    else:
        out.extend(slugs)


def command_mpg(world, words, flags, out):
    action = words[1] if len(words) > 1 else ""
    if action == "create":
        org = world.org(flags.get("org"))
        name, region = flags.get("name"), flags.get("region")
        if not name or not region:
            raise FlyError("prompt: non interactive (pass --name and --region)")
        if any(c["name"] == name and c["org"] == org for c in world.data["clusters"]):
            raise FlyError(f"failed creating managed postgres cluster: name {name!r} is taken")
        cluster = {
            "id": new_value(world, "")[:14],
            "name": name,
            "org": org,
            "region": region,
            "plan": str(flags.get("plan", "basic")).lower(),
            "password": new_value(world, "pw"),
            "databases": ["fly-db"],
            "attached_apps": [],
        }
        world.data["clusters"].append(cluster)
        out.append(f"Waiting for cluster {name} ({cluster['id']}) to be ready...")
        out.append("\nManaged Postgres cluster created successfully!")
        out.append(f"  ID: {cluster['id']}\n  Name: {name}\n  Organization: {org}")
        out.append(f"  Region: {region}\n  Plan: {cluster['plan']}")
        out.append(f"  Connection string: {cluster_uri(cluster, 'pgbouncer', 'fly-db')}")
    elif action == "list":
        org = world.org(flags.get("org"))
        clusters = [c for c in world.data["clusters"] if c["org"] == org]
        if not clusters:
            # flyctl says so in words even when asked for JSON.
            out.append(f"No managed postgres clusters found in organization {org}")
        elif flags.get("json"):
            out.append(json.dumps([cluster_json(c) for c in clusters], indent=4))
        else:
            out.extend(f"{c['id']}\t{c['name']}\t{c['region']}" for c in clusters)
    elif action == "attach":
        cluster = world.cluster(first_argument(words, "a cluster ID"))
        app_name = flags.get("app")
        app = world.app(app_name)
        database = flags.get("database") or "fly-db"
        variable = flags.get("variable-name") or "DATABASE_URL"
        uri = cluster_uri(cluster, "pgbouncer", database)
        set_new_secret(app_name, app, variable, uri)
        cluster["attached_apps"].append(app_name)
        out.append(f"\nPostgres cluster {cluster['id']} is being attached to {app_name}")
        out.append(f"The following secret was added to {app_name}:\n  {variable}={uri}")
    else:
        raise FlyError(f"unknown command {action!r} for mpg")


def cluster_uri(cluster: dict, host: str, database: str) -> str:
    return (
        f"postgresql://fly-user:{cluster['password']}@{host}.{cluster['id']}.flympg.net/{database}"
    )


def cluster_json(cluster: dict) -> dict:
    org = cluster["org"]
    return {
        "id": cluster["id"],
        "mpgd_cluster_id": "mpgd-" + cluster["id"],
        "version": 2,
        "name": cluster["name"],
        "region": cluster["region"],
        "status": "ready",
        "plan": cluster["plan"],
        "disk": 10,
        "replicas": 0,
        "organization": {"Slug": org, "Name": org.replace("-", " ").title()},
        "ip_assignments": {"direct": "fdaa:0:1:a7b::3"},
        "attached_apps": [
            {"name": name, "id": index + 1} for index, name in enumerate(cluster["attached_apps"])
        ]
        or None,
    }


def command_postgres(world, words, flags, out):
    action = words[1] if len(words) > 1 else ""
    if action == "create":
        org = world.org(flags.get("org"))
        name = flags.get("name")
        if not name or not flags.get("region"):
            raise FlyError("prompt: non interactive (pass --name and --region)")
        if name in world.data["apps"]:
            raise FlyError("Validation failed: Name has already been taken")
        password = new_value(world, "pw")
        world.data["apps"][name] = {
            "org": org,
            "postgres": True,
            "password": password,
            "databases": [],
            "machines": [{"id": "0801e2a7c5d3f9", "region": flags["region"], "state": "started"}],
            "releases": [{"version": 1, "image": "flyio/postgres-flex:16"}],
            "secrets": {},
        }
        out.append(f"Postgres cluster {name} created")
        out.append(f"  Username:    postgres\n  Password:    {password}")
        out.append(f"  Connection string: postgres://postgres:{password}@{name}.flycast:5432")
    elif action == "attach":
        postgres_name = first_argument(words, "a Postgres app name")
        postgres = world.app(postgres_name)
        if not postgres.get("postgres"):
            raise FlyError(f"app {postgres_name} is not a postgres app")
        app_name = flags.get("app")
        app = world.app(app_name)
        if "DATABASE_URL" in app["secrets"]:
            raise FlyError(f"Consumer app {app_name} already contains a secret named DATABASE_URL")
        database = str(app_name).replace("-", "_")
        postgres["databases"].append(database)
        password = new_value(world, "pw")
        uri = f"postgres://{database}:{password}@{postgres_name}.flycast:5432/{database}"
        app["secrets"]["DATABASE_URL"] = uri + "?sslmode=disable"
        postgres.setdefault("users", {})[database] = {"superuser": flags.get("superuser", True)}
        out.append(f"The following secret was added to {app_name}:\n  DATABASE_URL={uri}")
    else:
        raise FlyError(f"unknown command {action!r} for postgres")


def command_storage(world, words, flags, out):
    action = words[1] if len(words) > 1 else ""
    if action != "create":
        raise FlyError(f"unknown command {action!r} for storage")
    # As flyctl does: without --app, the app comes from FLY_APP or a fly.toml in the working
    # directory, if either names one; an app gets one Tigris bucket.
    local_config = Path("fly.toml")
    app_name = (
        flags.get("app")
        or os.environ.get("FLY_APP")
        or (config_app_name(local_config) if local_config.is_file() else None)
    )
    app = world.app(app_name) if app_name else None
    org = app["org"] if app else world.org(flags.get("org"))
    name = flags.get("name") or new_value(world, "bucket-")[:20]
    if any(bucket["name"] == name for bucket in world.data["buckets"]):
        raise FlyError(f"bucket name {name!r} is already taken")
    if app_name and any(bucket.get("app") == app_name for bucket in world.data["buckets"]):
        raise FlyError(f"A Tigris project already exists for app {app_name}")
    world.data["buckets"].append(
        {"name": name, "org": org, "public": bool(flags.get("public")), "app": app_name}
    )
    values = {
        "AWS_ACCESS_KEY_ID": new_value(world, "tid_"),
        "AWS_SECRET_ACCESS_KEY": new_value(world, "tsec_"),
        "AWS_ENDPOINT_URL_S3": "https://fly.storage.tigris.dev",
        "AWS_REGION": "auto",
        "BUCKET_NAME": name,
    }
    # As flyctl's ProvisionExtension and setSecretsFromExtension print it (flyctl_shapes.json,
    # "storage create"); the instructions at the end of the first line come from Fly's API.
    out.append(
        f"Your Tigris project ({name}) is ready. See details and next steps with: "
        f"https://fly.io/docs/tigris/\n"
    )
    if app is not None:
        app["secrets"].update(values)
        out.append(f"Setting the following secrets on {app_name}:")
    else:
        out.append("Set the following secrets on your target app.")
    out.extend(f"{key}: {values[key]}" for key in sorted(values))


def command_volumes(world, words, flags, out):
    action = words[1] if len(words) > 1 else ""
    app = world.app(flags.get("app"))
    if action == "list":
        volumes = [
            {
                "id": volume["id"],
                "name": volume["name"],
                "state": "created",
                "size_gb": volume["size_gb"],
                "region": volume["region"],
                "zone": "a1b2",
                "encrypted": True,
                "attached_machine_id": None,
                "attached_alloc_id": None,
                "created_at": "2026-11-01T10:00:00Z",
                "host_dedication_id": "",
                "snapshot_retention": 5,
                "auto_backup_enabled": True,
            }
            for volume in app["volumes"]
        ]
        out.append(
            json.dumps(volumes) if flags.get("json") else "\n".join(v["id"] for v in volumes)
        )
    elif action == "create":
        name = first_argument(words, "a volume name")
        if not re.fullmatch(r"[a-z0-9_]{1,30}", name):
            raise FlyError("volume name may only contain lowercase letters, digits and underscores")
        if not flags.get("region"):
            raise FlyError("--region is required when not running interactively")
        require_yes(flags, "volumes create")
        volume = {
            "id": "vol_" + new_value(world, "")[:16],
            "name": name,
            "region": flags["region"],
            "size_gb": int(flags.get("size", 1)),
        }
        app["volumes"].append(volume)
        out.append(
            f"        ID: {volume['id']}\n      Name: {name}\n    Region: {volume['region']}"
        )
    else:
        raise FlyError(f"unknown command {action!r} for volumes")


def command_tokens(world, words, flags, out):
    action = words[1] if len(words) > 1 else ""
    if action == "create":
        kind = words[2] if len(words) > 2 else ""
        if kind == "org":
            token = {"scope": "org", "org": world.org(flags.get("org")), "app": None}
            default_name = "Org deploy token"
        elif kind == "deploy":
            app_name = flags.get("app")
            world.app(app_name)
            token = {"scope": "app", "org": None, "app": app_name}
            default_name = "flyctl deploy token"
        else:
            raise FlyError(f"unknown command {kind!r} for tokens create")
        token["id"] = "tok_" + new_value(world, "")[:10]
        token["name"] = flags.get("name") or default_name
        token["value"] = new_value(world, "FlyV1 fm2_")
        world.data["tokens"].append(token)
        out.append(
            json.dumps({"token": token["value"]}, indent=4) if flags.get("json") else token["value"]
        )
    elif action == "list":
        scope = flags.get("scope", "app")
        if scope == "org":
            org = world.org(flags.get("org"))
            tokens = [t for t in world.data["tokens"] if t["scope"] == "org" and t["org"] == org]
        else:
            app_name = flags.get("app")
            world.app(app_name)
            org = None
            tokens = [
                t for t in world.data["tokens"] if t["scope"] == "app" and t["app"] == app_name
            ]
        owner = f'organization "{org}"' if scope == "org" else f'app "{app_name}"'
        out.append(f"Tokens for {owner}:")
        out.append("ID\tNAME\tCREATED BY\tEXPIRES AT\tREVOKED AT")
        out.extend(
            f"{t['id']}\t{t['name']}\tci@example.invalid\t2046-11-01 00:00:00 +0000 UTC\t"
            for t in tokens
        )
    else:
        raise FlyError(f"unknown command {action!r} for tokens")


def certificate_summary(certificate: dict) -> dict:
    issued = certificate["status"] == "active"
    return {
        "hostname": certificate["hostname"],
        "status": certificate["status"],
        "acme_dns_configured": False,
        "acme_alpn_configured": issued,
        "acme_http_configured": False,
        "ownership_txt_configured": False,
        "configured": issued,
        "acme_requested": True,
        "has_custom_certificate": False,
        "has_fly_certificate": issued,
        "created_at": "2026-11-01T10:00:00Z",
        "updated_at": "2026-11-01T10:00:00Z",
    }


def certificate_detail(app_name: str, app: dict, certificate: dict) -> dict:
    hostname = certificate["hostname"]
    a = [ip["Address"] for ip in app["ips"] if ip["Type"] in {"v4", "shared_v4"}]
    aaaa = [ip["Address"] for ip in app["ips"] if ip["Type"] == "v6"]
    return {
        "hostname": hostname,
        "configured": certificate["status"] == "active",
        "acme_requested": True,
        "status": certificate["status"],
        "certificates": [{"source": "fly", "status": certificate["status"], "issued": None}],
        "validation": {
            "dns_configured": False,
            "alpn_configured": False,
            "http_configured": False,
            "ownership_txt_configured": False,
        },
        "dns_requirements": {
            "a": a or None,
            "aaaa": aaaa or None,
            "cname": f"{app_name}.fly.dev",
            # Where Fly answers the ACME DNS challenge for this hostname.
            "acme_challenge": {
                "name": f"_acme-challenge.{hostname}",
                "target": f"{hostname}.{app_name}.fly-dns.dev",
            },
            "ownership": {
                "name": f"_fly-ownership.{hostname}",
                "app_value": f"app-{app_name}",
                "org_value": f"org-{app.get('org', 'personal')}",
            },
        },
    }


def command_certs(world, words, flags, out):
    action = words[1] if len(words) > 1 else ""
    app_name = flags.get("app")
    app = world.app(app_name)
    if action == "list":
        out.append(
            json.dumps([certificate_summary(c) for c in app["certificates"]] or None, indent=4)
        )
        return
    hostname = first_argument(words, "a hostname")
    existing = [c for c in app["certificates"] if c["hostname"] == hostname]
    if action in {"add", "create"}:
        if existing:
            raise FlyError(f"Hostname '{hostname}' already exists on app")
        app["certificates"].append({"hostname": hostname, "status": "pending"})
        out.append(f"Certificate created for {hostname}")
    elif action in {"show", "check"}:
        if not existing:
            raise FlyError(f"Could not find hostname {hostname!r} on app {app_name}")
        detail = certificate_detail(app_name, app, existing[0])
        out.append(json.dumps(detail, indent=4) if flags.get("json") else f"Hostname = {hostname}")
    else:
        raise FlyError(f"unknown command {action!r} for certs")


def ip_json(ip: dict) -> dict:
    return {
        "ID": "ip_" + hashlib.sha256(ip["Address"].encode()).hexdigest()[:8],
        "Address": ip["Address"],
        "Type": ip["Type"],
        "Region": "global",
        "CreatedAt": "2026-11-01T10:00:00Z",
        "ServiceName": "",
        "Network": None,
    }


def command_ips(world, words, flags, out):
    action = words[1] if len(words) > 1 else ""
    app = world.app(flags.get("app"))
    if action == "list":
        out.append(json.dumps([ip_json(ip) for ip in app["ips"]] or None, indent=4))
    elif action == "allocate-v6":
        app["ips"].append({"Address": f"2a09:8280:1::{len(app['ips']) + 1:x}:0", "Type": "v6"})
        out.append("Allocated a dedicated ipv6 address")
    elif action == "allocate-v4":
        kind = "shared_v4" if flags.get("shared") else "v4"
        app["ips"].append({"Address": f"66.241.124.{len(app['ips']) + 10}", "Type": kind})
        out.append("Allocated a shared ipv4 address" if flags.get("shared") else "Allocated")
    else:
        raise FlyError(f"unknown command {action!r} for ips")


def command_releases(world, words, flags, out):
    app = world.app(flags.get("app"))
    out.append(json.dumps(app["releases"]) if flags.get("json") else str(len(app["releases"])))


def command_logs(world, words, flags, out):
    world.app(flags.get("app"))
    out.append("2026-11-01T10:00:00Z app[148e] fra [info] (fake logs)")


def command_ssh(world, words, flags, out):
    if (words[1] if len(words) > 1 else "") != "console":
        raise FlyError("unknown command for ssh")
    name = flags.get("app")
    app = world.app(name)
    if not [m for m in app["machines"] if m.get("state") == "started"]:
        raise FlyError(
            f"app {name} has no started VMs.\nIt may be unhealthy or not have been deployed yet.\n"
            "Try the following command to verify:\n\nfly status"
        )
    out.append(f"(fake) ran {flags.get('command', 'a shell')!r} on {name}")


COMMANDS = {
    "version": command_version,
    "auth": command_auth,
    "apps": command_apps,
    "machine": command_machine,
    "scale": command_scale,
    "releases": command_releases,
    "logs": command_logs,
    "orgs": command_orgs,
    "mpg": command_mpg,
    "postgres": command_postgres,
    "storage": command_storage,
    "volumes": command_volumes,
    "tokens": command_tokens,
    "certs": command_certs,
    "ips": command_ips,
    "ssh": command_ssh,
}


def has_token() -> bool:
    return bool(os.environ.get("FLY_API_TOKEN") or os.environ.get("FLY_ACCESS_TOKEN"))


def record_push(data: dict, app: str, tag: str, digest: str) -> None:
    """A manifest pushed to app's repository: the tag moves to it, older manifests stay."""
    repository = data.setdefault("registry", {}).setdefault(app, {"tags": {}, "manifests": []})
    repository["tags"][tag] = digest
    if digest not in repository["manifests"]:
        repository["manifests"].append(digest)


def write_oci_archive(path: Path, label: str) -> str:
    """A tiny OCI image layout archive (what buildx's type=oci output writes), and its digest."""
    import io
    import tarfile

    config = json.dumps({"config": {"Labels": {"org.opencontainers.image.revision": label}}})
    config_digest = "sha256:" + hashlib.sha256(config.encode()).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [],
        }
    ).encode()
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    index = {"schemaVersion": 2, "manifests": [{"digest": digest, "size": len(manifest)}]}
    files = {
        "oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
        "index.json": json.dumps(index).encode(),
        f"blobs/sha256/{digest.split(':')[1]}": manifest,
        f"blobs/sha256/{config_digest.split(':')[1]}": config.encode(),
    }
    with tarfile.open(path, "w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return digest


class FakeFly:
    """Test-side handle on the fake: arrange its world, put it on PATH, read its call log."""

    bin_dir = Path(__file__).resolve().parent / "bin"

    def __init__(self, directory: Path, token: str | None = "fake-org-token"):  # noqa: S107
        directory = directory.resolve()
        self.state_path = directory / "fly-state.json"
        self.log_path = directory / "fly-calls.jsonl"
        self.token = token
        self.state_path.write_text(json.dumps({"apps": {}}))

    def add_app(
        self, name: str, machines: list[dict] | None = None, released: bool = True, **extra
    ):
        data = json.loads(self.state_path.read_text())
        releases = (
            [{"version": 1, "image": f"registry.fly.io/{name}:previous", "status": "complete"}]
            if released
            else []
        )
        app = {"org": "personal", "releases": releases, "secrets": {}, **extra}
        app["machines"] = [
            {"id": f"{index + 1:02d}d8e2f1a7c3b9", "region": "fra", "state": "started"} | machine
            for index, machine in enumerate(machines or [])
        ]
        data["apps"][name] = app
        self.state_path.write_text(json.dumps(data))

    def app(self, name: str) -> dict | None:
        return json.loads(self.state_path.read_text())["apps"].get(name)

    def state(self) -> dict:
        return json.loads(self.state_path.read_text())

    def update(self, **values) -> None:
        """Set top-level keys of the world, e.g. update(orgs=["personal", "acme"])."""
        self.state_path.write_text(json.dumps(self.state() | values))

    def change_app(self, name: str, **values) -> None:
        data = self.state()
        data["apps"][name].update(values)
        self.state_path.write_text(json.dumps(data))

    def push(self, app: str, tag: str, digest: str, **health) -> str:
        """An image in app's registry repository; health: healthy=..., release_fails=..."""
        data = self.state()
        record_push(data, app, tag, digest)
        if health:
            data.setdefault("images", {})[digest] = health
        self.state_path.write_text(json.dumps(data))
        return f"registry.fly.io/{app}:{tag}@{digest}"

    def add_token(self, scope: str, owner: str) -> str:
        """A token of scope "org" (owner: the organisation) or "app" (owner: the app)."""
        data = self.state()
        value = f"FlyV1 fm2_{scope}_{owner}_{len(data.get('tokens', [])) + 1}"
        token = {"id": f"tok_{len(data.get('tokens', [])) + 1}", "name": f"{scope} {owner}"}
        token |= {"scope": scope, "value": value}
        token |= {"org": owner, "app": None} if scope == "org" else {"org": None, "app": owner}
        data.setdefault("tokens", []).append(token)
        data["strict_tokens"] = True
        self.state_path.write_text(json.dumps(data))
        return value

    def fail_on(self, command: str, message: str) -> None:
        """Calls starting with `command` (e.g. "storage create") fail with `message`."""
        self.update(fail=self.state().get("fail", {}) | {command: message})

    def stop_failing(self) -> None:
        self.update(fail={})

    def machines(self, name: str) -> list[dict]:
        return self.app(name)["machines"]

    def calls(self) -> list[dict]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]

    def commands(self) -> list[str]:
        """Every call as one string, e.g. "machine start 01d8e2f1a7c3b9 --app my-blog-qa"."""
        return [" ".join(call["argv"]) for call in self.calls()]

    def env(self, base: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        env["FAKE_FLY_STATE"] = str(self.state_path)
        env["FAKE_FLY_LOG"] = str(self.log_path)
        env.pop("FLY_API_TOKEN", None)
        env.pop("FLY_ACCESS_TOKEN", None)
        env.setdefault("PYTHON", sys.executable)  # the fakes' interpreter: no shim in between
        if self.token:
            env["FLY_API_TOKEN"] = self.token
        env.update(extra)
        return env


def main(argv: list[str]) -> int:
    state_path = os.environ.get("FAKE_FLY_STATE")
    if not state_path:
        print("fake flyctl: set FAKE_FLY_STATE to the state file's path", file=sys.stderr)
        return 2
    log_path = Path(os.environ.get("FAKE_FLY_LOG") or state_path + ".calls.jsonl")
    stdin_names: list[str] = []
    out: list[str] = []
    out_err: list[str] = []
    status = 0
    world = None
    try:
        words, flags = parse_arguments(argv)
        if not words:
            raise FlyError("no command given")
        command = words[0]
        world = World(Path(state_path))
        if command != "version" and not has_token() and not world.data.get("logged_in"):
            raise FlyError("No access token available. Please login with 'flyctl auth login'")
        called = " ".join(words)
        for prefix, message in world.data.get("fail", {}).items():
            if called == prefix or called.startswith(prefix + " "):
                raise FlyError(message)
        if command == "secrets":
            command_secrets(world, words, flags, out, stdin_names)
        elif command == "deploy":
            try:
                command_deploy(world, words, flags, out, out_err)
            finally:
                # A failed deploy leaves what it did: a rolling deploy never rolls back.
                world.save()
        elif command in COMMANDS:
            COMMANDS[command](world, words, flags, out)
        else:
            raise FlyError(f'unknown command "{command}" for "flyctl"')
        world.save()
    except FlyError as error:
        if out:
            print("\n".join(out))
            out = []
        if out_err:
            print("\n".join(out_err), file=sys.stderr)
            out_err = []
        print(f"Error: {error}", file=sys.stderr)
        status = 1
    finally:
        record = {
            "argv": argv,
            "program": os.environ.get("FAKE_FLY_PROGRAM", "flyctl"),
            "token": has_token(),
            "cwd": os.getcwd(),
            "stdin_names": stdin_names,
            "exit": status,
        }
        with log_path.open("a") as log:
            log.write(json.dumps(record) + "\n")
    if out_err:
        print("\n".join(out_err), file=sys.stderr)
    if out:
        print("\n".join(out))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
