"""Read what Fly reports, for scripts/fly-* and scripts/fly-bootstrap: every parse of flyctl's JSON.

Each reader takes the decoded JSON of one flyctl command and reads only the fields recorded from
flyctl's source in tests/fakes/flyctl_shapes.json (tests/test_flyctl_shapes.py feeds each reader
values that refuse any other field). On the command line:

fly_query.py machines < machines.json   one line per machine, tab-separated: id, state, health
                                        (passing|failing|pending|none), role (app|standby), the
                                        image digest (or -), and the failing checks' details
fly_query.py apps [--prefix P] < apps.json   the app names, one a line (with --prefix, only
                                        names that start with P)
fly_query.py archive-digest FILE        the manifest digest of an OCI image archive (tar)
fly_query.py healthz URL                the first line of URL's body on HTTP 200 (exit 0),
                                        else a one-line reason (exit 1)
"""

import argparse
import json
import re
import sys
import tarfile
import urllib.error
import urllib.request

# fly-go's flaps List drops these compatibility checks before flyctl prints anything.
COMPAT_CHECK_PREFIX = "bg_deployments_compat"


def load(text: str, command: str):
    """JSON from flyctl, or an error naming the command whose output was not JSON."""
    try:
        return json.loads(text) if text.strip() else None
    except json.JSONDecodeError as error:
        raise SystemExit(f"flyctl {command} did not print JSON ({error}): {text[:200]!r}") from None


def configured_checks(machine: dict) -> int:
    """How many checks the machine's config defines: what Fly will report results for."""
    config = machine.get("config") or {}
    count = len(config.get("checks") or {})
    for service in config.get("services") or []:
        count += len(service.get("checks") or [])
    return count


def machine_health(machine: dict) -> tuple[str, list[dict]]:
    """passing, failing, pending (started, checks defined, no result yet) or none; and the
    failing checks.

    As flyctl waits in a deploy (leasable_machine.go, WaitForHealthchecksToPass): a machine whose
    config defines checks is healthy only once at least one result is listed and all pass.
    """
    listed = [
        check
        for check in machine.get("checks") or []
        if not str(check.get("name", "")).startswith(COMPAT_CHECK_PREFIX)
    ]
    failing = [check for check in listed if check.get("status") != "passing"]
    if failing:
        return "failing", failing
    if listed:
        return "passing", []
    started = machine.get("state") == "started"
    return ("pending" if started and configured_checks(machine) else "none"), []


def machine_rows(machines: list | None) -> list[list[str]]:
    rows = []
    for machine in machines or []:
        health, failing = machine_health(machine)
        config = machine.get("config") or {}
        role = "standby" if config.get("standbys") else "app"
        digest = (machine.get("image_ref") or {}).get("digest") or "-"
        details = "; ".join(
            f"{check.get('name') or 'check'} {check.get('status') or 'unknown'}: "
            + " ".join(str(check.get("output") or "").split())
            for check in failing
        )
        if health == "pending":
            details = "no check result yet"
        fields = [machine.get("id") or "?", machine.get("state") or "unknown", health, role]
        fields += [digest, details]
        rows.append([field.replace("\t", " ") or "-" for field in fields])
    return rows


def app_names(apps: list | None, prefix: str = "") -> list[str]:
    return [
        app.get("Name")
        for app in apps or []
        if app.get("Name") and str(app.get("Name")).startswith(prefix)
    ]


def app_organisations(apps: list | None) -> dict[str, str]:
    """App name -> organisation slug, from `apps list --json`."""
    return {
        app.get("Name"): (app.get("Organization") or {}).get("Slug") or ""
        for app in apps or []
        if app.get("Name")
    }


def organisation_slugs(listing: dict | None) -> set[str]:
    """The slugs in `orgs list --json` (a map of slug to name)."""
    return set(listing or {})


def names(listing: list | None) -> set[str]:
    """The `name` of each item: secrets, volumes."""
    return {str(item.get("name")) for item in listing or [] if item.get("name")}


def certificate_hostnames(listing: list | None) -> set[str]:
    return {str(item.get("hostname")) for item in listing or [] if item.get("hostname")}


def clusters(listing: list | None) -> list[dict]:
    """Managed Postgres clusters as {id, name, region, org, attached}."""
    found = []
    for cluster in listing or []:
        attached = [app.get("name") for app in cluster.get("attached_apps") or []]
        found.append(
            {
                "id": cluster.get("id"),
                "name": cluster.get("name"),
                "region": cluster.get("region"),
                "org": (cluster.get("organization") or {}).get("Slug"),
                "attached": [name for name in attached if name],
            }
        )
    return found


def address_records(addresses: list | None) -> list[tuple[str, str]]:
    """(record type, address) for the app's public addresses, A records first."""
    kinds = {"v4": "A", "shared_v4": "A", "v6": "AAAA"}
    records = [
        (kinds[item.get("Type")], str(item.get("Address")))
        for item in addresses or []
        if item.get("Type") in kinds
    ]
    return sorted(records, key=lambda record: record[0])


def address_kinds(addresses: list | None) -> set[str]:
    return {str(item.get("Type")) for item in addresses or []}


def dns_requirements(certificate: dict) -> dict:
    """What `certs show --json` asks for: a and aaaa addresses, the CNAME target, the ACME
    challenge record (name, target)."""
    needed = certificate.get("dns_requirements") or {}
    challenge = needed.get("acme_challenge") or {}
    return {
        "a": list(needed.get("a") or []),
        "aaaa": list(needed.get("aaaa") or []),
        "cname": needed.get("cname") or "",
        "acme_name": challenge.get("name") or "",
        "acme_target": challenge.get("target") or "",
    }


# What `mpg attach` and `postgres attach` print last (their run_attach / runAttachCluster).
ATTACHED_SECRET = re.compile(
    r"The following secret was added to (?P<app>\S+):\n  (?P<variable>[A-Z_]+)=(?P<url>\S+)"
)


def attached_url(output: str) -> str | None:
    """The URL an attach command set, from its output."""
    match = ATTACHED_SECRET.search(output)
    return match.group("url") if match else None


def token_value(created: dict) -> str:
    """The token from `tokens create ... --json`."""
    return str(created.get("token") or "")


def archive_digest(path: str) -> str:
    """The digest of the image manifest in an OCI image layout archive (buildx type=oci)."""
    try:
        with tarfile.open(path) as archive:
            index = json.load(archive.extractfile("index.json"))
    except (OSError, tarfile.TarError, KeyError, TypeError, json.JSONDecodeError) as error:
        raise SystemExit(
            f"{path} is not an OCI image archive with an index.json ({error})"
        ) from None
    manifests = index.get("manifests") or []
    if len(manifests) != 1 or not re.fullmatch(
        r"sha256:[0-9a-f]{64}", manifests[0].get("digest", "")
    ):
        raise SystemExit(
            f"{path} holds {len(manifests)} manifests: build one platform with provenance and "
            "SBOM off, so the archive names exactly one image"
        )
    return manifests[0]["digest"]


def fetch_first_line(url: str, timeout: float) -> tuple[bool, str]:
    if not url.startswith(("http://", "https://")):
        return False, f"not an http(s) URL: {url}"
    request = urllib.request.Request(url, headers={"User-Agent": "flight-log-pipeline"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(4096).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return False, f"HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, OSError) as error:
        return False, f"no answer ({getattr(error, 'reason', error)})"
    lines = body.strip().splitlines()
    return True, lines[0] if lines else "(empty body)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("machines", help="summarise `flyctl machines list --json` from stdin")
    apps = commands.add_parser("apps", help="the names in `flyctl apps list --json` from stdin")
    apps.add_argument("--prefix", default="")
    archive = commands.add_parser("archive-digest", help="the manifest digest of an OCI archive")
    archive.add_argument("path")
    healthz = commands.add_parser("healthz", help="print the first line of URL's body")
    healthz.add_argument("url")
    healthz.add_argument("--timeout", type=float, default=10.0)
    arguments = parser.parse_args()
    if arguments.command == "machines":
        rows = machine_rows(load(sys.stdin.read(), "machines list --json"))
        if rows:
            print("\n".join("\t".join(row) for row in rows))
        return 0
    if arguments.command == "apps":
        found = app_names(load(sys.stdin.read(), "apps list --json"), arguments.prefix)
        if found:
            print("\n".join(found))
        return 0
    if arguments.command == "archive-digest":
        print(archive_digest(arguments.path))
        return 0
    answered, text = fetch_first_line(arguments.url, arguments.timeout)
    print(text)
    return 0 if answered else 1


if __name__ == "__main__":
    sys.exit(main())
