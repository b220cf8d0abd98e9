"""Stand-ins for a GitHub runner's docker, make and uv, for the rehearsal (tests/rehearsal.py).

Run as tests/fakes/runner-bin/<name>: docker (runs the test stage: passes unless the rehearsal says
the commit's unit tests fail), uv (installs nothing), and make (`make e2e BASE_URL=https://<app>.fly.dev`
passes when that app, in the fake Fly, serves the release QA was meant to get with passing checks
and, with E2E_ALLOW_WRITES=1, holds the editor whose name and password the job was given). Every
call is appended to REHEARSAL_LOG. REHEARSAL_STATE is the rehearsal's own JSON (commits whose unit
tests or browser tests fail).
"""

import json
import os
import re
import sys
from pathlib import Path


def log(name: str, argv: list[str]) -> None:
    with Path(os.environ["REHEARSAL_LOG"]).open("a") as file:
        file.write(json.dumps({"program": name, "argv": argv}) + "\n")


def rehearsal_state() -> dict:
    return json.loads(Path(os.environ["REHEARSAL_STATE"]).read_text())


def docker(argv: list[str]) -> int:
    if argv[:1] == ["login"]:  # flyctl auth docker on a runner, which has a docker CLI
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from fake_flyctl import docker_login

        return docker_login(argv, sys.stdin.read())
    if argv[:2] == ["run", "--rm"]:
        if os.environ.get("GITHUB_SHA") in rehearsal_state().get("unit_tests_fail", []):
            print("FAILED tests/test_pages.py::test_home_page (the commit's own unit tests)")
            return 1
        print("all checks passed")
        return 0
    print(f"docker stand-in: {' '.join(argv)!r} is not rehearsed", file=sys.stderr)
    return 1


def e2e(base_url: str) -> int:
    """The browser suite, as far as the fake Fly can tell: the app serves the commit, healthy."""
    # https://<app>.fly.dev, or where FLY_APP_URL_PATTERN (the rehearsal's proxy) puts the app.
    match = re.fullmatch(r"https://([a-z0-9-]+)\.fly\.dev/?", base_url) or re.fullmatch(
        r"http://127\.0\.0\.1:\d+/([a-z0-9-]+)/?", base_url
    )
    if not match:
        print(f"make e2e stand-in: BASE_URL {base_url!r} is not an app on fly.dev", file=sys.stderr)
        return 1
    app_name = match.group(1)
    fly = json.loads(Path(os.environ["FAKE_FLY_STATE"]).read_text())
    app = fly["apps"].get(app_name)
    sha = os.environ.get("GITHUB_SHA", "")
    if app is None:
        print(f"e2e: {base_url} does not answer (no app {app_name})", file=sys.stderr)
        return 1
    images = fly.get("images", {})
    serving = [
        m
        for m in app["machines"]
        if m.get("state") == "started" and images.get(m.get("digest"), {}).get("sha") == sha
    ]
    if not serving:
        print(f"e2e: {base_url} does not serve {sha[:7]}", file=sys.stderr)
        return 1
    if sha in rehearsal_state().get("e2e_fails", []):
        print("FAILED tests/e2e/test_editor.py::test_editor_publishes_a_post", file=sys.stderr)
        return 1
    if os.environ.get("E2E_ALLOW_WRITES") == "1":
        editor = app.get("e2e_editor") or {}
        given = (os.environ.get("E2E_ADMIN_USER"), os.environ.get("E2E_ADMIN_PASSWORD"))
        if not all(given):
            print(
                "e2e: E2E_ALLOW_WRITES=1 needs E2E_ADMIN_USER and E2E_ADMIN_PASSWORD",
                file=sys.stderr,
            )
            return 1
        if (editor.get("username"), editor.get("password")) != given:
            print(f"e2e: cannot log in to {base_url}/admin/ as {given[0]!r}", file=sys.stderr)
            return 1
    print(f"e2e: passed against {base_url}")
    return 0


def make(argv: list[str]) -> int:
    if argv and argv[0] == "e2e":
        settings = dict(argument.partition("=")[::2] for argument in argv[1:])
        return e2e(settings.get("BASE_URL", ""))
    print(f"make stand-in: {' '.join(argv)!r} is not rehearsed", file=sys.stderr)
    return 1


def main() -> int:
    name = os.environ.get("STANDIN_NAME", "")
    log(name, sys.argv[1:])
    if name == "docker":
        return docker(sys.argv[1:])
    if name == "make":
        return make(sys.argv[1:])
    if name == "uv":
        return 0  # installs, syncs and runs nothing: the rehearsal runs the workflow's own steps
    print(f"stand-in {name}: unknown", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
