"""The GitHub Actions workflows' shape: stage order, guards, pins, permissions and what they call.

actionlint (`make actionlint`) checks that the YAML is valid for GitHub; these tests check that it
is the pipeline the README and the site describe, and that every script and make target a step
calls exists.
"""

import itertools
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"

# The test stage of the Docker image is built from a context without .github (see .dockerignore):
# there, and only there, these tests have nothing to read. Everywhere else a missing folder fails.
if not WORKFLOWS.is_dir() and (Path("/.dockerenv").exists() or Path("/run/.containerenv").exists()):
    pytest.skip(".github is not in the Docker build context", allow_module_level=True)

PINNED_ACTION = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@(v\d+(\.\d+)*|\d+(\.\d+)+|[0-9a-f]{40})$")


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as the boolean true.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


@pytest.fixture(scope="module")
def pipeline():
    return load("pipeline.yml")


@pytest.fixture(scope="module")
def preview():
    return load("preview.yml")


def all_workflows() -> list[tuple[str, dict]]:
    return [(path.name, load(path.name)) for path in sorted(WORKFLOWS.glob("*.y*ml"))]


def steps(workflow: dict):
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, step


def needs(job: dict) -> list[str]:
    value = job.get("needs", [])
    return [value] if isinstance(value, str) else list(value)


def upstream(workflow: dict, job_name: str) -> set[str]:
    """Every job `job_name` waits for, directly or through others."""
    seen: set[str] = set()
    pending = needs(workflow["jobs"][job_name])
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(needs(workflow["jobs"][name]))
    return seen


def step_using(workflow: dict, job_name: str, action: str) -> dict:
    matches = [
        step
        for step in workflow["jobs"][job_name]["steps"]
        if step.get("uses", "").startswith(action)
    ]
    assert matches, f"{job_name} has no step using {action}"
    return matches[0]


def run_text(workflow: dict, job_name: str) -> str:
    return "\n".join(step.get("run", "") for step in workflow["jobs"][job_name]["steps"])


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, re.MULTILINE))


# pipeline.yml


def test_pipeline_runs_on_pushes_to_main_and_on_pull_requests(pipeline):
    assert pipeline["on"]["push"]["branches"] == ["main"]
    assert "pull_request" in pipeline["on"]


def test_pipeline_stages_run_in_order(pipeline):
    order = ["unit-test", "build", "qa", "e2e", "production"]
    for earlier, later in itertools.pairwise(order):
        assert earlier in upstream(pipeline, later), f"{later} does not wait for {earlier}"
    assert needs(pipeline["jobs"]["build"]) == ["unit-test"]
    assert needs(pipeline["jobs"]["qa"]) == ["build"]
    assert needs(pipeline["jobs"]["e2e"]) == ["qa"]
    assert set(needs(pipeline["jobs"]["production"])) == {"build", "e2e"}


def test_qa_down_always_runs_after_e2e_and_production(pipeline):
    job = pipeline["jobs"]["qa-down"]
    assert {"qa", "e2e", "production"} <= set(needs(job))
    assert "always()" in job["if"]
    assert "scripts/fly-scale-down" in run_text(pipeline, "qa-down")


def test_pull_requests_run_only_the_unit_stage(pipeline):
    build_condition = pipeline["jobs"]["build"]["if"]
    assert "github.event_name == 'push'" in build_condition
    assert "github.ref == 'refs/heads/main'" in build_condition
    for name, job in pipeline["jobs"].items():
        if name in {"unit-test", "build"}:
            continue
        assert "build" in upstream(pipeline, name), f"{name} would run without the build job"
        # always() overrides the skip inherited from build: such a job needs its own guard.
        if "always()" in job.get("if", ""):
            assert "needs.qa.result != 'skipped'" in job["if"], name
    assert "if" not in pipeline["jobs"]["unit-test"]


def test_deploys_never_overlap_and_are_never_cancelled(pipeline):
    concurrency = pipeline["concurrency"]
    assert "github.ref" in concurrency["group"]
    # Pull requests (which deploy nothing) cancel stale runs; pushes to main never do.
    assert concurrency["cancel-in-progress"] in (
        False,
        "${{ github.event_name == 'pull_request' }}",
    )


def test_pipeline_permissions_are_read_only(pipeline):
    assert pipeline["permissions"] == {"contents": "read"}
    for name, job in pipeline["jobs"].items():
        granted = job.get("permissions", {})
        assert granted in ({}, {"contents": "read"}), f"{name} asks for {granted}"


def test_unit_test_builds_the_test_stage_with_the_actions_cache_and_runs_it(pipeline):
    build = step_using(pipeline, "unit-test", "docker/build-push-action@")["with"]
    assert build["target"] == "test"
    assert build["load"] is True
    assert "type=gha" in build["cache-from"]
    assert "type=gha" in build["cache-to"]
    assert f"docker run --rm {build['tags']}" in run_text(pipeline, "unit-test")


def test_build_pushes_the_production_image_once_tagged_with_the_commit(pipeline):
    job = pipeline["jobs"]["build"]
    build = step_using(pipeline, "build", "docker/build-push-action@")
    assert build["with"]["target"] == "production"
    assert build["with"]["push"] is True
    assert build["with"]["build-args"] == "GIT_SHA=${{ github.sha }}"
    assert build["with"]["tags"] == "registry.fly.io/${{ env.FLY_APP_QA }}:${{ github.sha }}"
    assert "flyctl auth docker" in run_text(pipeline, "build")
    # The job hands on the digest, not the tag: a tag can be pushed over, a digest cannot.
    assert job["outputs"]["image"] == "${{ steps.image.outputs.image }}"
    assert "image=registry.fly.io/${FLY_APP_QA}:${GITHUB_SHA}@${DIGEST}" in run_text(
        pipeline, "build"
    )
    assert "steps.push.outputs.digest" in str(job["steps"])
    builds = [name for name, step in steps(pipeline) if "build-push-action" in step.get("uses", "")]
    assert builds == ["unit-test", "build"]


def test_qa_is_brought_up_and_verified_before_the_deploy_and_the_release_awaited(pipeline):
    commands = run_text(pipeline, "qa")
    ensure = commands.index("scripts/fly-ensure-running")
    deploy = commands.index("scripts/fly-deploy-image")
    wait = commands.index("scripts/fly-wait-for-release")
    assert ensure < deploy < wait
    assert "--config fly.qa.toml" in commands
    assert "--require-digest" in commands
    deploy_step = next(
        step
        for step in pipeline["jobs"]["qa"]["steps"]
        if "fly-deploy-image" in step.get("run", "")
    )
    assert deploy_step["env"]["IMAGE"] == "${{ needs.build.outputs.image }}"


def test_e2e_runs_the_suite_against_qa_and_keeps_its_artifacts(pipeline):
    job = pipeline["jobs"]["e2e"]
    suite = next(step for step in job["steps"] if "make e2e" in step.get("run", ""))
    assert 'BASE_URL="https://${FLY_APP_QA}.fly.dev"' in suite["run"]
    assert suite["env"]["E2E_ALLOW_WRITES"] == "1"
    assert suite["env"]["E2E_ADMIN_USER"] == "${{ secrets.E2E_ADMIN_USER }}"
    assert suite["env"]["E2E_ADMIN_PASSWORD"] == "${{ secrets.E2E_ADMIN_PASSWORD }}"
    commands = run_text(pipeline, "e2e")
    assert "uv sync" in commands
    assert "playwright install --with-deps chromium" in commands
    upload = step_using(pipeline, "e2e", "actions/upload-artifact@")
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "test-results/"


def test_production_promotes_the_digest_qa_tested_without_rebuilding(pipeline):
    job = pipeline["jobs"]["production"]
    assert job["environment"]["name"] == "production"
    assert job["environment"]["url"] == "https://${{ env.FLY_APP_PRODUCTION }}.fly.dev"
    assert "build" in needs(job)
    deploy = next(step for step in job["steps"] if "fly-deploy-image" in step.get("run", ""))
    assert deploy["env"]["IMAGE"] == "${{ needs.build.outputs.image }}"
    assert "--require-digest" in deploy["run"]
    assert '--app "$FLY_APP_PRODUCTION" --config fly.toml' in deploy["run"]
    assert not any("build-push-action" in step.get("uses", "") for step in job["steps"])
    assert "scripts/fly-wait-for-release" in run_text(pipeline, "production")


def test_app_names_default_to_the_fly_configs_and_can_be_overridden(pipeline):
    production = tomllib.loads((ROOT / "fly.toml").read_text())["app"]
    qa = tomllib.loads((ROOT / "fly.qa.toml").read_text())["app"]
    environment = pipeline["env"]
    assert (
        environment["FLY_APP_PRODUCTION"] == f"${{{{ vars.FLY_APP_PRODUCTION || '{production}' }}}}"
    )
    assert environment["FLY_APP_QA"] == f"${{{{ vars.FLY_APP_QA || '{qa}' }}}}"


def test_each_deploying_job_gets_a_fly_token(pipeline):
    for name in ("build", "qa", "production", "qa-down"):
        token = pipeline["jobs"][name]["env"]["FLY_API_TOKEN"]
        assert "secrets.FLY_API_TOKEN" in token, name
    assert "FLY_API_TOKEN" not in str(pipeline["jobs"]["e2e"])
    assert "FLY_API_TOKEN" not in str(pipeline["jobs"]["unit-test"])


# preview.yml


def test_preview_runs_on_labelled_pull_requests_and_on_closing(preview):
    types = set(preview["on"]["pull_request"]["types"])
    assert {"opened", "synchronize", "reopened", "labeled", "closed"} <= types
    up = preview["jobs"]["up"]["if"]
    assert "contains(github.event.pull_request.labels.*.name, 'preview')" in up
    assert "github.event.action != 'closed' && github.event.action != 'unlabeled'" in up
    # Forks get no secrets: their pull requests get no preview rather than a failing job.
    assert "github.event.pull_request.head.repo.full_name == github.repository" in up
    assert "github.event.action == 'closed'" in preview["jobs"]["down"]["if"]


def test_preview_apps_are_named_after_the_pull_request(preview):
    name = preview["env"]["PREVIEW_APP"]
    assert name.endswith("-pr-${{ github.event.pull_request.number }}")
    assert "vars.FLY_APP_PRODUCTION" in name


def test_preview_deploys_tests_and_comments_the_url(preview):
    commands = run_text(preview, "up")
    assert 'scripts/fly-preview up --app "$PREVIEW_APP"' in commands
    assert "scripts/fly-wait-for-release" in commands
    assert 'make e2e BASE_URL="$URL"' in commands
    assert "E2E_ALLOW_WRITES" not in str(preview["jobs"]["up"])
    comment = step_using(preview, "up", "actions/github-script@")
    assert "createComment" in comment["with"]["script"]
    assert "updateComment" in comment["with"]["script"]
    assert preview["jobs"]["up"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert 'scripts/fly-preview down --app "$PREVIEW_APP"' in run_text(preview, "down")


def test_preview_runs_one_at_a_time_per_pull_request(preview):
    assert preview["concurrency"] == {
        "group": "preview-${{ github.event.pull_request.number }}",
        "cancel-in-progress": False,
    }
    assert preview["permissions"] == {"contents": "read"}
    assert "permissions" not in preview["jobs"]["down"]


# Every workflow


def test_there_are_the_two_workflows():
    assert sorted(path.name for path in WORKFLOWS.iterdir()) == ["pipeline.yml", "preview.yml"]


@pytest.mark.parametrize(("name", "workflow"), all_workflows())
def test_every_action_is_pinned_to_a_version(name, workflow):
    for job_name, step in steps(workflow):
        if "uses" in step:
            assert PINNED_ACTION.match(step["uses"]), f"{name} {job_name}: {step['uses']}"


@pytest.mark.parametrize(("name", "workflow"), all_workflows())
def test_flyctl_is_pinned_to_a_version(name, workflow):
    version = workflow["env"]["FLYCTL_VERSION"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    setups = [s for _, s in steps(workflow) if "setup-flyctl" in s.get("uses", "")]
    assert setups
    for setup in setups:
        assert setup["with"]["version"] == "${{ env.FLYCTL_VERSION }}"


def test_both_workflows_use_the_same_flyctl(pipeline, preview):
    assert pipeline["env"]["FLYCTL_VERSION"] == preview["env"]["FLYCTL_VERSION"]


@pytest.mark.parametrize(("name", "workflow"), all_workflows())
def test_run_steps_take_values_from_env_not_inline_expressions(name, workflow):
    # ${{ }} inside a script is pasted in before the shell reads it: an injection risk for
    # anything a pull request controls. Values reach scripts through `env:` instead.
    for job_name, step in steps(workflow):
        assert "${{" not in step.get("run", ""), f"{name} {job_name}: {step.get('name')}"


@pytest.mark.parametrize(("name", "workflow"), all_workflows())
def test_every_job_has_a_timeout(name, workflow):
    for job_name, job in workflow["jobs"].items():
        assert 0 < job["timeout-minutes"] <= 60, f"{name} {job_name}"


@pytest.mark.parametrize(("name", "workflow"), all_workflows())
def test_steps_call_scripts_that_exist(name, workflow):
    called = set()
    for _, step in steps(workflow):
        called.update(re.findall(r"(?<![\w/])scripts/[\w.-]+", step.get("run", "")))
    assert called
    for script in called:
        path = ROOT / script
        assert path.is_file(), f"{name} calls {script}, which does not exist"
        assert path.stat().st_mode & 0o111, f"{script} is not executable"


@pytest.mark.parametrize(("name", "workflow"), all_workflows())
def test_steps_call_make_targets_that_exist(name, workflow):
    targets = makefile_targets()
    called = set()
    for _, step in steps(workflow):
        called.update(re.findall(r"\bmake\s+([a-z][\w-]*)", step.get("run", "")))
    assert called
    for target in called:
        if target == "e2e" and "e2e" not in targets and not (ROOT / "tests" / "e2e").exists():
            pytest.xfail("`make e2e` arrives with the end-to-end suite (tests/e2e/)")
        assert target in targets, f"{name} runs make {target}, which the Makefile lacks"


@pytest.mark.parametrize(("name", "workflow"), all_workflows())
def test_steps_use_config_files_that_exist(name, workflow):
    for _, step in steps(workflow):
        for config in re.findall(r"--config\s+(\S+)", step.get("run", "")):
            assert (ROOT / config).is_file(), f"{name} deploys with {config}, which is missing"


def test_dependabot_watches_python_docker_and_actions():
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    assert config["version"] == 2
    ecosystems = {update["package-ecosystem"] for update in config["updates"]}
    assert ecosystems == {"uv", "docker", "github-actions"}
    for update in config["updates"]:
        assert update["directory"] == "/"
        assert update["schedule"]["interval"] in {"daily", "weekly", "monthly"}


# The docs page that explains the pipeline to readers


def documented_jobs() -> dict[str, set[str]]:
    """The job table of site/docs/pipeline/index.md: job name -> the jobs it says it needs."""
    text = (ROOT / "site" / "docs" / "pipeline" / "index.md").read_text()
    rows = re.findall(r"^\| `([\w-]+)` \| ([^|]+) \|", text, re.MULTILINE)
    return {job: set(re.findall(r"`([\w-]+)`", needed)) for job, needed in rows}


def test_the_pipeline_docs_page_lists_every_job_with_what_it_needs(pipeline):
    in_yaml = {name: set(needs(job)) for name, job in pipeline["jobs"].items()}
    assert documented_jobs() == in_yaml


def test_the_pipeline_docs_page_describes_every_job_in_the_workflows_order(pipeline):
    text = (ROOT / "site" / "docs" / "pipeline" / "index.md").read_text()
    notes = text.split("## Notes on each job", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"\*\*([\w-]+)\*\*", notes) == list(pipeline["jobs"])
