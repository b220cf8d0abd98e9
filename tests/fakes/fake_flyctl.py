"""A fake `flyctl` that records its calls and reproduces the Fly.io behaviours scripts must expect.

Fly cannot be reached from CI, so the pipeline's scripts are tested against this stand-in on PATH
(tests/fakes/bin/flyctl runs it). It keeps the world in a JSON state file and appends one JSON line
per call to a log, so a test can arrange apps and machines, run a real script, then assert on what
the script asked Fly to do and on what Fly now holds.

Environment:
    FAKE_FLY_STATE  path of the state file (required; a missing file is an empty world)
    FAKE_FLY_LOG    path of the call log (default: the state file's path + ".calls.jsonl")

State (JSON), every key optional:
    {"logged_in": false,      # true: calls work without FLY_API_TOKEN
     "orgs": ["personal"],
     "fail": {"storage create": "message"},  # a call whose words start so fails, changing nothing
     "clusters": [{"id", "name", "org", "region", "plan", "password", "databases": ["fly-db"],
                   "attached_apps": ["<app>"]}],  # Fly Managed Postgres (`mpg`)
     "buckets": [{"name", "org", "public", "app"}], # Tigris (`storage`)
     "tokens": [{"id", "name", "scope": "org"|"app", "org", "app", "value"}],
     "apps": {"<name>": {
         "org": "personal",
         "postgres": false,            # true: a legacy Fly Postgres app (`postgres create`)
         "releases": [{"version": 1, "image": "...", "strategy": "rolling"}],
         "secrets": {"NAME": "value"},
         "volumes": [{"id", "name", "region", "size_gb"}],
         "certificates": [{"hostname", "status"}],
         "ips": [{"Address", "Type": "v6"|"shared_v4"|"v4"}],
         "deploy_fails": "",           # non-empty: deploys fail with this message
         "machines": [{
             "id": "148e1a2b3c4d5e", "region": "fra", "state": "stopped",
             "image": "registry.fly.io/app:old",
             "healthy": true,          # false: checks stay critical forever
             "checks_pass_after": 0,   # listings that still show a failing check after boot
             "ignore_starts": 0,       # `machine start` calls that report success, do nothing
             "boot_polls": 0,          # listings that show "starting" after a start
             "standby": false}]}}}

Behaviours reproduced (from Fly's docs and flyctl's source):
    - `scale count N` counts machines whatever their state: with one stopped machine,
      `scale count 1` answers "App already scaled to desired state" and starts nothing; with no
      complete release it fails ("this app has no complete releases"); it needs --yes when not
      interactive; scaling to fewer machines destroys them.
    - `deploy` updates every machine's image but leaves stopped machines stopped; on an app with no
      machines it creates two (one with --ha=false), started.
    - `machine start` may silently do nothing (ignore_starts), boot slowly (boot_polls), or bring
      up a machine whose health checks never pass (healthy: false).
    - every call but `version` needs FLY_API_TOKEN (or logged_in), as flyctl does in CI.
    - what a new site needs (scripts/fly-bootstrap): `mpg create` prints the cluster's connection
      string, password included, and `mpg list --json` prints a sentence, not JSON, when the
      organisation has no cluster; `mpg attach` and `postgres attach` refuse an app that already
      has DATABASE_URL and print the URL they set; `storage create` sets BUCKET_NAME and the AWS_*
      secrets and prints the keys; `tokens create` prints a new token; names are global (apps,
      buckets) and creating one that exists fails.
"""

import json
import os
import re
import sys
from pathlib import Path

VERSION = "0.4.102"
DEFAULT_CHECK = "servicecheck-00-http-8000"

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
    """The state file: apps, their machines, releases and secrets."""

    def __init__(self, path: Path):
        self.path = path
        self.data = json.loads(path.read_text()) if path.exists() else {}
        self.data.setdefault("orgs", ["personal"])
        self.data.setdefault("apps", {})
        for key in ("clusters", "buckets", "tokens"):
            self.data.setdefault(key, [])

    def save(self) -> None:
        self.path.write_text(json.dumps(self.data, indent=2, sort_keys=True))

    def app(self, name: object) -> dict:
        if not name:
            raise FlyError(
                "the config for your app is missing an app name, add an app field to the fly.toml "
                "file or specify with the -a flag"
            )
        app = self.data["apps"].get(name)
        if app is None:
            raise FlyError(f'Could not find App "{name}"')
        for key in ("machines", "releases", "volumes", "certificates", "ips"):
            app.setdefault(key, [])
        app.setdefault("secrets", {})
        return app

    def org(self, slug: object) -> str:
        slug = slug or "personal"
        if slug not in self.data["orgs"]:
            raise FlyError(f"Could not find Organization {slug!r}")
        return str(slug)

    def cluster(self, cluster_id: str) -> dict:
        for cluster in self.data["clusters"]:
            if cluster["id"] == cluster_id:
                return cluster
        raise FlyError(f"failed retrieving cluster {cluster_id}: cluster not found")

    def machine(self, app: dict, machine_id: str) -> dict:
        for machine in app["machines"]:
            if machine["id"] == machine_id:
                return machine
        raise FlyError(f"could not get machine {machine_id}: machine not found")


def new_machine_id(app: dict) -> str:
    return f"{len(app['machines']) + 1:02d}" + "e8a0f37d4c91" + str(len(app["releases"]))


def machine_checks(machine: dict) -> list[dict]:
    if machine.get("state") != "started":
        return []
    passing = machine.get("healthy", True) and machine.get("checks_pass_after", 0) <= 0
    if passing:
        status, output = "passing", "HTTP GET http://172.19.0.2:8000/healthz: 200 OK"
    else:
        # A Django app that validates Host before answering its check fails exactly like this.
        status, output = "critical", "HTTP GET http://172.19.0.2:8000/healthz: 400 Bad Request"
    return [{"name": DEFAULT_CHECK, "status": status, "output": output}]


def machine_json(app_name: str, machine: dict) -> dict:
    image = machine.get("image", f"registry.fly.io/{app_name}:unknown")
    repository, _, tag = image.partition(":")
    config = {"image": image, "metadata": {"fly_process_group": "app"}}
    if machine.get("standby"):
        config["standbys"] = ["0000000000000"]
    return {
        "id": machine["id"],
        "name": f"machine-{machine['id'][:6]}",
        "state": machine.get("state", "started"),
        "region": machine.get("region", "fra"),
        "instance_id": "01FAKE" + machine["id"].upper(),
        "private_ip": "fdaa:0:1:a7b:1::2",
        "config": config,
        "image_ref": {"registry": "registry.fly.io", "repository": repository, "tag": tag},
        "checks": machine_checks(machine),
        "created_at": "2026-11-01T10:00:00Z",
        "updated_at": "2026-11-01T10:00:00Z",
    }


def advance_boot(app: dict) -> None:
    """Each listing is a moment later: booting machines progress, checks settle."""
    for machine in app["machines"]:
        if machine.get("state") == "starting":
            if machine.get("boot_polls", 0) > 0:
                machine["boot_polls"] -= 1
            else:
                machine["state"] = "started"
        elif machine.get("state") == "started" and machine.get("checks_pass_after", 0) > 0:
            machine["checks_pass_after"] -= 1


def config_app_name(config: Path) -> str | None:
    match = re.search(r'^\s*app\s*=\s*["\']([^"\']+)["\']', config.read_text(), re.MULTILINE)
    return match.group(1) if match else None


def require_yes(flags: dict, what: str) -> None:
    if not flags.get("yes"):
        raise FlyError(f"--yes flag must be specified when not running interactively ({what})")


def command_version(world, words, flags, out):
    out.append(f"flyctl v{VERSION} linux/amd64 Commit: fake BuildDate: 2026-11-01T00:00:00Z")


def command_auth(world, words, flags, out):
    action = words[1] if len(words) > 1 else ""
    if action == "docker":
        out.append("Authentication successful. You can now tag and push images to registry.fly.io")
    elif action in {"whoami", "token"}:
        out.append("ci@example.invalid")
    else:
        raise FlyError(f"unknown command {action!r} for auth")


def command_apps(world, words, flags, out):
    action = words[1] if len(words) > 1 else ""
    name = words[2] if len(words) > 2 else flags.get("name") or flags.get("app")
    if action == "create":
        org = flags.get("org", "personal")
        if org not in world.data["orgs"]:
            raise FlyError(f"Could not find Organization {org!r}")
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
        apps = [
            {"Name": app_name, "Organization": {"Slug": app.get("org", "personal")}}
            for app_name, app in sorted(world.data["apps"].items())
            if not flags.get("org") or app.get("org", "personal") == flags["org"]
        ]
        out.append(json.dumps(apps) if flags.get("json") else "\n".join(a["Name"] for a in apps))
    else:
        raise FlyError(f"unknown command {action!r} for apps")


def command_status(world, words, flags, out):
    name = flags.get("app")
    app = world.app(name)
    advance_boot(app)
    running = [m for m in app["machines"] if m.get("state") == "started"]
    status = {
        "ID": name,
        "Name": name,
        "Status": "deployed" if app["releases"] else "pending",
        "Deployed": bool(app["releases"]),
        "Hostname": f"{name}.fly.dev",
        "Version": len(app["releases"]),
        "Organization": {"Slug": app.get("org", "personal")},
        "Machines": [machine_json(name, m) for m in app["machines"]],
    }
    if flags.get("json"):
        out.append(json.dumps(status))
    else:
        out.append(f"App\n  Name     = {name}\n  Hostname = {name}.fly.dev")
        out.append(f"Machines: {len(app['machines'])} ({len(running)} started)")


def command_machine(world, words, flags, out):
    action = words[1] if len(words) > 1 else ""
    name = flags.get("app")
    app = world.app(name)
    if action == "list":
        advance_boot(app)
        machines = [machine_json(name, m) for m in app["machines"]]
        if flags.get("json"):
            out.append(json.dumps(machines, indent=2))
        else:
            out.append("ID\tSTATE\tREGION")
            out.extend(f"{m['id']}\t{m['state']}\t{m['region']}" for m in machines)
        return
    if len(words) < 3:
        raise FlyError(f"machine {action} needs a machine ID")
    machine = world.machine(app, words[2])
    if action == "start":
        if machine.get("state") in {"stopped", "suspended", "created"}:
            if machine.get("ignore_starts", 0) > 0:
                machine["ignore_starts"] -= 1  # reports success, changes nothing
            else:
                machine["state"] = "starting" if machine.get("boot_polls", 0) > 0 else "started"
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
    if not app["releases"]:
        raise FlyError(
            "this app has no complete releases. "
            "Run `fly deploy` to create one and rerun this command"
        )
    machines = app["machines"]
    # Fly counts machines whatever their state: stopped ones count as "scaled".
    if wanted == len(machines):
        out.append("App already scaled to desired state. No need for changes")
        return
    require_yes(flags, "scale count")
    out.append(f"App '{name}' is going to be scaled according to this plan:")
    if wanted > len(machines):
        image = app["releases"][-1]["image"]
        for _ in range(wanted - len(machines)):
            machine = {"id": new_machine_id(app), "region": "fra", "state": "started"}
            machine["image"] = image
            machines.append(machine)
            out.append(f"  Created {machine['id']} group:app region:fra size:shared-cpu-1x")
    else:
        for machine in machines[wanted:]:
            out.append(f"  Destroyed {machine['id']} group:app region:fra size:shared-cpu-1x")
        del machines[wanted:]


def command_deploy(world, words, flags, out):
    config = Path(str(flags.get("config", "fly.toml")))
    if not config.is_file():
        raise FlyError(f"the config file {config} does not exist")
    name = flags.get("app") or config_app_name(config)
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
    if app.get("deploy_fails"):
        raise FlyError(app["deploy_fails"])
    release = {"version": len(app["releases"]) + 1, "image": image, "strategy": strategy}
    release["config"] = str(config)
    release["env"] = dict(pair.partition("=")[::2] for pair in flags["env"])
    app["releases"].append(release)
    out.append(f"==> Release v{release['version']}: image {image}")
    if not app["machines"]:
        count = 2 if flags.get("ha", True) else 1
        for _ in range(count):
            machine = {"id": new_machine_id(app), "region": "fra", "state": "started"}
            machine["image"] = image
            app["machines"].append(machine)
            out.append(f"Created machine {machine['id']} (started)")
    else:
        for machine in app["machines"]:
            machine["image"] = image
            # Fly updates a stopped machine's image and config but does not boot it.
            out.append(f"Updated machine {machine['id']} [{machine.get('state')}]")
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
        out.append(
            json.dumps([{"name": n} for n in names]) if flags.get("json") else "\n".join(names)
        )
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
        out.append(json.dumps({slug: slug.replace("-", " ").title() for slug in slugs}))
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
        out.append("Managed Postgres cluster created successfully!")
        out.append(f"  ID: {cluster['id']}\n  Name: {name}\n  Region: {region}")
        out.append(f"  Connection string: {cluster_uri(cluster, 'pgbouncer', 'fly-db')}")
    elif action == "list":
        org = world.org(flags.get("org"))
        clusters = [c for c in world.data["clusters"] if c["org"] == org]
        if not clusters:
            # flyctl says so in words even when asked for JSON.
            out.append(f"No managed postgres clusters found in organization {org}")
        elif flags.get("json"):
            out.append(json.dumps([cluster_json(c) for c in clusters], indent=2))
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
        out.append(f"Postgres cluster {cluster['id']} is being attached to {app_name}")
        out.append(f"The following secret was added to {app_name}:\n  {variable}={uri}")
    elif action == "databases":
        sub_action = words[2] if len(words) > 2 else ""
        cluster = world.cluster(words[3] if len(words) > 3 else "")
        if sub_action == "list":
            out.append(json.dumps([{"name": name} for name in cluster["databases"]]))
        elif sub_action == "create":
            name = flags.get("name")
            if not name:
                raise FlyError("a database name is required (--name)")
            if name in cluster["databases"]:
                raise FlyError(f"database {name} already exists")
            cluster["databases"].append(name)
            out.append(f"Database {name} created")
        else:
            raise FlyError(f"unknown command {sub_action!r} for mpg databases")
    else:
        raise FlyError(f"unknown command {action!r} for mpg")


def cluster_uri(cluster: dict, host: str, database: str) -> str:
    return (
        f"postgresql://fly-user:{cluster['password']}@{host}.{cluster['id']}.flympg.net/{database}"
    )


def cluster_json(cluster: dict) -> dict:
    return {
        "id": cluster["id"],
        "name": cluster["name"],
        "region": cluster["region"],
        "status": "ready",
        "plan": cluster["plan"],
        "organization": {"slug": cluster["org"]},
        "attached_apps": [{"name": name, "id": 1} for name in cluster["attached_apps"]],
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
    out.append(f"Your Tigris project ({name}) is ready.")
    if app is not None:
        app["secrets"].update(values)
        out.append(f"Setting the following secrets on {app_name}:")
    out.extend(f"{key}: {value}" for key, value in values.items())


def command_volumes(world, words, flags, out):
    action = words[1] if len(words) > 1 else ""
    app = world.app(flags.get("app"))
    if action == "list":
        volumes = [
            {
                "id": volume["id"],
                "name": volume["name"],
                "region": volume["region"],
                "size_gb": volume["size_gb"],
                "state": "created",
                "attached_machine_id": None,
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
        out.append(token["value"])
    elif action == "list":
        scope = flags.get("scope", "app")
        if scope == "org":
            org = world.org(flags.get("org"))
            tokens = [t for t in world.data["tokens"] if t["scope"] == "org" and t["org"] == org]
        else:
            app_name = flags.get("app")
            world.app(app_name)
            tokens = [
                t for t in world.data["tokens"] if t["scope"] == "app" and t["app"] == app_name
            ]
        out.append("ID\tNAME\tEXPIRES AT")
        out.extend(f"{t['id']}\t{t['name']}\t2046-11-01 00:00:00 +0000 UTC" for t in tokens)
    else:
        raise FlyError(f"unknown command {action!r} for tokens")


def command_certs(world, words, flags, out):
    action = words[1] if len(words) > 1 else ""
    app_name = flags.get("app")
    app = world.app(app_name)
    if action == "list":
        certificates = [
            {"Hostname": c["hostname"], "ClientStatus": c["status"]} for c in app["certificates"]
        ]
        out.append(json.dumps(certificates))
        return
    hostname = first_argument(words, "a hostname")
    existing = [c for c in app["certificates"] if c["hostname"] == hostname]
    if action == "add":
        if existing:
            raise FlyError(f"Hostname '{hostname}' already exists on app")
        app["certificates"].append({"hostname": hostname, "status": "Awaiting configuration"})
        out.append(f"You are creating a certificate for {hostname}")
    elif action == "show":
        if not existing:
            raise FlyError(f"Could not find hostname {hostname!r} on app {app_name}")
        challenge = f"{hostname}.{app_name}.fly-dns.dev"  # where Fly answers the ACME challenge
        out.append(
            json.dumps(
                {
                    "Hostname": hostname,
                    "ClientStatus": existing[0]["status"],
                    "IsApex": hostname.count(".") == 1,
                    "DNSValidationHostname": f"_acme-challenge.{hostname}",
                    "DNSValidationTarget": challenge,
                }
            )
        )
    else:
        raise FlyError(f"unknown command {action!r} for certs")


def command_ips(world, words, flags, out):
    action = words[1] if len(words) > 1 else ""
    app = world.app(flags.get("app"))
    if action == "list":
        out.append(json.dumps(app["ips"]))
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


COMMANDS = {
    "version": command_version,
    "auth": command_auth,
    "apps": command_apps,
    "status": command_status,
    "machine": command_machine,
    "scale": command_scale,
    "deploy": command_deploy,
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
}


def has_token() -> bool:
    return bool(os.environ.get("FLY_API_TOKEN") or os.environ.get("FLY_ACCESS_TOKEN"))


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
        releases = [{"version": 1, "image": f"registry.fly.io/{name}:previous"}] if released else []
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
    world = World(Path(state_path))
    stdin_names: list[str] = []
    out: list[str] = []
    status = 0
    try:
        words, flags = parse_arguments(argv)
        if not words:
            raise FlyError("no command given")
        command = words[0]
        if command != "version" and not has_token() and not world.data.get("logged_in"):
            raise FlyError("No access token available. Please login with 'flyctl auth login'")
        called = " ".join(words)
        for prefix, message in world.data.get("fail", {}).items():
            if called == prefix or called.startswith(prefix + " "):
                raise FlyError(message)
        if command == "secrets":
            command_secrets(world, words, flags, out, stdin_names)
        elif command in COMMANDS:
            COMMANDS[command](world, words, flags, out)
        else:
            raise FlyError(f'unknown command "{command}" for "flyctl"')
        world.save()
    except FlyError as error:
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
    if out:
        print("\n".join(out))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
