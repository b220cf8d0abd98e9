"""Read what Fly reports, for the scripts/fly-* commands: machine listings and /healthz answers.

fly_query.py machines < machines.json   one line per machine, tab-separated:
                                        id, state, health (passing|failing|none), role
                                        (app|standby), and the failing checks' details
fly_query.py healthz URL                the first line of URL's body on HTTP 200 (exit 0),
                                        else a one-line reason (exit 1)
"""

import argparse
import json
import sys
import urllib.error
import urllib.request


def machine_lines(listing: str) -> list[str]:
    try:
        machines = json.loads(listing) if listing.strip() else []
    except json.JSONDecodeError as error:
        raise SystemExit(
            f"flyctl machines list --json did not print JSON ({error}): {listing[:200]!r}"
        ) from error
    lines = []
    for machine in machines or []:
        checks = machine.get("checks") or []
        failing = [check for check in checks if check.get("status") != "passing"]
        health = ("failing" if failing else "passing") if checks else "none"
        role = "standby" if (machine.get("config") or {}).get("standbys") else "app"
        details = "; ".join(
            f"{check.get('name', 'check')} {check.get('status', 'unknown')}: "
            + " ".join(str(check.get("output", "")).split())
            for check in failing
        )
        fields = [machine.get("id", "?"), machine.get("state", "unknown"), health, role, details]
        lines.append("\t".join(field.replace("\t", " ") or "-" for field in fields))
    return lines


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
    healthz = commands.add_parser("healthz", help="print the first line of URL's body")
    healthz.add_argument("url")
    healthz.add_argument("--timeout", type=float, default=10.0)
    arguments = parser.parse_args()
    if arguments.command == "machines":
        lines = machine_lines(sys.stdin.read())
        if lines:
            print("\n".join(lines))
        return 0
    answered, text = fetch_first_line(arguments.url, arguments.timeout)
    print(text)
    return 0 if answered else 1


if __name__ == "__main__":
    sys.exit(main())
