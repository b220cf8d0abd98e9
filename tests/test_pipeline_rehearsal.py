"""The pipeline rehearsed end to end: the workflows' own steps (tests/rehearsal.py) against the fake
Fly, in the scenarios a fork lives through: its first push, ordinary pushes, a release that fails
its checks and the push that fixes it, both token modes, two pushes close together, and preview
apps opened, updated, closed, and closed while no workflow ran."""

import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.fakes.fake_gh import FakeGitHub
from tests.rehearsal import ROOT, Rehearsal

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (ROOT / ".github" / "workflows").is_dir(),
        reason=".github is not in the Docker build context (the unit-test job runs this on the "
        "runner)",
    ),
]

PRODUCTION = tomllib.loads((ROOT / "fly.toml").read_text())["app"]
QA = tomllib.loads((ROOT / "fly.qa.toml").read_text())["app"]
PASSWORD = "e2e-password-from-the-bootstrap-0123456789"
E2E = {"E2E_ADMIN_USER": "e2e-editor", "E2E_ADMIN_PASSWORD": PASSWORD}
PIPELINE_JOBS = ["unit-test", "secrets", "build", "qa", "e2e", "production", "qa-down"]
SHA = [f"{n:x}" * 40 for n in range(1, 10)]


@pytest.fixture
def rehearsal(tmp_path):
    rehearsal = Rehearsal(tmp_path)
    yield rehearsal
    rehearsal.close()


def bootstrapped(rehearsal: Rehearsal, tokens: str = "org") -> Rehearsal:
    """What scripts/fly-bootstrap leaves, arranged directly: both apps, their secrets, tokens."""
    fly = rehearsal.fly
    fly.add_app(PRODUCTION, [], released=False, secrets={"SECRET_KEY": "p" * 50})
    fly.add_app(QA, [], released=False, secrets={"SECRET_KEY": "q" * 50} | E2E)
    if tokens == "org":
        rehearsal.secrets = {"FLY_API_TOKEN": fly.add_token("org", "personal")} | E2E
    else:
        rehearsal.secrets = {
            "FLY_API_TOKEN_QA": fly.add_token("app", QA),
            "FLY_API_TOKEN_PRODUCTION": fly.add_token("app", PRODUCTION),
        } | E2E
    return rehearsal


def running_digests(rehearsal: Rehearsal, app: str) -> set[str]:
    machines = rehearsal.fly.app(app)["machines"]
    return {m.get("digest") for m in machines if m.get("state") == "started"}


def built_digest(run) -> str:
    return run.jobs["build"].outputs["digest"]


def serves(rehearsal: Rehearsal, app: str, sha: str) -> bool:
    status, body = rehearsal.proxy.answer(f"/{app}/healthz")
    return status == 200 and f"release={sha}" in body


def assert_green(run):
    assert run.green, {name: (job.result, job.log[-3000:]) for name, job in run.jobs.items()}


# The first push


def test_a_template_repository_without_a_token_is_green_and_says_what_to_set(rehearsal):
    run = rehearsal.push(SHA[0])
    assert run.results() == {
        "unit-test": "success",
        "secrets": "success",
        "build": "skipped",
        "qa": "skipped",
        "e2e": "skipped",
        "production": "skipped",
        "qa-down": "skipped",
    }
    assert "::notice title=fly-check-secrets::nothing deployed: no Fly token is set" in run.log(
        "secrets"
    )
    assert rehearsal.fly.calls() == []


def test_a_fresh_forks_first_push_goes_to_production_with_no_manual_step(rehearsal):
    # The real bootstrap, against the fake Fly and the fake GitHub, then the push.
    github = FakeGitHub(rehearsal.directory)
    rehearsal.github = github
    rehearsal.fly.update(logged_in=True)
    env = github.env(rehearsal.fly.env({k: v for k, v in os.environ.items() if "FLY" not in k}))
    env.pop("FLY_API_TOKEN", None)
    result = subprocess.run(
        [
            str(ROOT / "scripts" / "fly-bootstrap"),
            *("--directory", str(rehearsal.checkout), "--app", "my-blog", "--region", "fra"),
            "--yes",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rehearsal.fly.update(logged_in=False, strict_tokens=True)
    rehearsal.secrets = github.secrets()
    assert set(rehearsal.secrets) == {"FLY_API_TOKEN", "E2E_ADMIN_USER", "E2E_ADMIN_PASSWORD"}

    run = rehearsal.push(SHA[0])
    assert_green(run)
    assert [name for name, job in run.jobs.items() if job.result == "success"] == PIPELINE_JOBS
    assert serves(rehearsal, "my-blog", SHA[0])
    # QA made its own editor at release time, from the secrets the bootstrap set.
    assert (
        rehearsal.fly.app("my-blog-qa")["e2e_editor"]["password"]
        == (rehearsal.secrets["E2E_ADMIN_PASSWORD"])
    )
    assert "e2e_editor" not in rehearsal.fly.app("my-blog")
    assert running_digests(rehearsal, "my-blog-qa") == set()  # qa-down stopped it


# Ordinary pushes, in both token modes


@pytest.mark.parametrize("tokens", ["org", "app"])
def test_ordinary_pushes_promote_the_one_built_digest_under_each_apps_own_name(rehearsal, tokens):
    bootstrapped(rehearsal, tokens)
    first = rehearsal.push(SHA[0])
    assert_green(first)
    second = rehearsal.push(SHA[1])
    assert_green(second)
    digest = built_digest(second)
    assert running_digests(rehearsal, PRODUCTION) == {digest}
    registry = rehearsal.fly.state()["registry"]
    assert registry[QA]["tags"][SHA[1]] == registry[PRODUCTION]["tags"][SHA[1]] == digest
    assert serves(rehearsal, PRODUCTION, SHA[1])
    # Production's release is its own image: destroying QA takes nothing from it.
    release = rehearsal.fly.app(PRODUCTION)["releases"][-1]
    assert release["image"].startswith(f"registry.fly.io/{PRODUCTION}:")
    assert all(m["state"] == "stopped" for m in rehearsal.fly.app(QA)["machines"])


def test_unit_tests_that_fail_deploy_nothing(rehearsal):
    bootstrapped(rehearsal)
    rehearsal.fail_unit_tests(SHA[0])
    run = rehearsal.push(SHA[0])
    assert run.result("unit-test") == "failure"
    assert {run.result(job) for job in PIPELINE_JOBS[2:]} == {"skipped"}


# A bad release, and the push that fixes it


def test_a_release_that_fails_its_checks_stops_before_production_and_the_fix_goes_through(
    rehearsal,
):
    bootstrapped(rehearsal)
    good = rehearsal.push(SHA[0])
    assert_green(good)
    good_digest = built_digest(good)

    rehearsal.commit(SHA[1], healthy=False)
    bad = rehearsal.push(SHA[1])
    assert bad.result("qa") == "failure"
    assert "timeout reached waiting for health checks to pass" in bad.log("qa")
    assert bad.result("e2e") == bad.result("production") == "skipped"
    assert bad.result("qa-down") == "success"
    assert running_digests(rehearsal, PRODUCTION) == {good_digest}
    assert serves(rehearsal, PRODUCTION, SHA[0])
    qa_machines = rehearsal.fly.app(QA)["machines"]
    assert [m["state"] for m in qa_machines] == ["stopped"]
    assert qa_machines[0]["digest"] == built_digest(bad)  # no roll back: QA keeps the bad one

    fix = rehearsal.push(SHA[2])
    assert_green(fix)
    assert running_digests(rehearsal, PRODUCTION) == {built_digest(fix)}
    assert serves(rehearsal, PRODUCTION, SHA[2])


def test_a_release_step_that_fails_leaves_qa_and_production_as_they_were(rehearsal):
    bootstrapped(rehearsal)
    good = rehearsal.push(SHA[0])
    assert_green(good)
    rehearsal.commit(SHA[1], release_fails=True)
    bad = rehearsal.push(SHA[1])
    assert bad.result("qa") == "failure"
    assert "release command failed - aborting deployment" in bad.log("qa")
    assert bad.result("production") == "skipped"
    assert {m["digest"] for m in rehearsal.fly.app(QA)["machines"]} == {built_digest(good)}
    assert_green(rehearsal.push(SHA[2]))


def test_production_never_gets_the_editor_secrets(rehearsal):
    bootstrapped(rehearsal)
    rehearsal.fly.change_app(PRODUCTION, secrets={"SECRET_KEY": "p" * 50} | E2E)
    run = rehearsal.push(SHA[0])
    assert run.result("production") == "failure"
    assert "release command failed" in run.log("production")
    assert "e2e_editor" not in rehearsal.fly.app(PRODUCTION)


# Two pushes close together


def test_two_pushes_close_together_deploy_one_after_the_other(rehearsal):
    bootstrapped(rehearsal)
    earlier, later = rehearsal.pushes_close_together(SHA[0], SHA[1], arrives_during="qa")
    # On main the workflow's concurrency group queues the second run; none is cancelled.
    assert_green(earlier)
    assert_green(later)
    assert running_digests(rehearsal, PRODUCTION) == {built_digest(later)}
    releases = [r["digest"] for r in rehearsal.fly.app(PRODUCTION)["releases"]]
    assert releases == [built_digest(earlier), built_digest(later)]


# Preview apps


def previews(rehearsal: Rehearsal) -> Rehearsal:
    bootstrapped(rehearsal)
    return rehearsal


def test_a_preview_is_opened_updated_and_destroyed_on_close(rehearsal):
    previews(rehearsal)
    app = f"{PRODUCTION}-pr-7"
    opened = rehearsal.pull_request(7, "labeled", SHA[0], label="preview")
    assert_green(opened)
    assert opened.result("up") == "success"
    assert opened.comments == [rehearsal.proxy.pattern.replace("{app}", app)]
    assert serves(rehearsal, app, SHA[0])

    updated = rehearsal.pull_request(7, "synchronize", SHA[1])
    assert_green(updated)
    assert serves(rehearsal, app, SHA[1])
    registry = rehearsal.fly.state()["registry"]
    assert set(registry[app]["tags"]) == {SHA[0], SHA[1]}
    assert QA not in registry  # nothing of the preview under QA's name

    closed = rehearsal.pull_request(7, "closed", SHA[1])
    assert_green(closed)
    assert closed.result("down") == "success"
    assert rehearsal.fly.app(app) is None


def test_a_preview_closed_while_no_workflow_ran_is_swept(rehearsal):
    previews(rehearsal)
    assert_green(rehearsal.pull_request(8, "opened", SHA[0]))
    assert_green(rehearsal.pull_request(9, "opened", SHA[1]))
    rehearsal.github.set_pull_request(8, "CLOSED")  # no pull_request run for this
    rehearsal.github.set_pull_request(9, "OPEN")
    sweep = rehearsal.schedule(SHA[2])
    assert_green(sweep)
    assert sweep.result("sweep") == "success"
    assert rehearsal.fly.app(f"{PRODUCTION}-pr-8") is None
    assert rehearsal.fly.app(f"{PRODUCTION}-pr-9") is not None


def test_closing_a_pull_request_with_per_app_tokens_only_skips_the_teardown(rehearsal):
    bootstrapped(rehearsal, "app")
    closed = rehearsal.pull_request(7, "closed", SHA[0])
    assert_green(closed)
    assert closed.result("down") == "skipped"
    assert "Preview apps need an organisation token" in closed.log("token")


def test_an_unlabelled_pull_request_gets_no_preview(rehearsal):
    previews(rehearsal)
    run = rehearsal.pull_request(10, "opened", SHA[0], labels=())
    assert_green(run)
    assert run.result("up") == "skipped"
    assert rehearsal.fly.app(f"{PRODUCTION}-pr-10") is None


def test_the_rehearsal_runs_the_workflow_files_themselves(rehearsal):
    # A step changed in .github/workflows changes what the rehearsal runs: it reads the copy of
    # the repository it runs in, which is the repository's own files.
    workflow = rehearsal.checkout / ".github" / "workflows" / "pipeline.yml"
    assert workflow.read_text() == (ROOT / ".github" / "workflows" / "pipeline.yml").read_text()
    workflow.write_text(
        workflow.read_text().replace("run: scripts/fly-check-secrets --pipeline", "run: exit 3")
    )
    run = rehearsal.push(SHA[0])
    assert run.result("secrets") == "failure"
    assert Path(rehearsal.checkout).is_dir()
