"""fly.toml and fly.qa.toml: each setting agrees with the code it describes, and QA runs what
production runs."""

import re
import runpy
import tomllib

import pytest
from django.core.management import get_commands

from tests.server import ROOT

CONFIGS = {"production": ROOT / "fly.toml", "qa": ROOT / "fly.qa.toml"}
# Fly's checks: plain HTTP, the machine's private address as Host, redirects not followed.
FLY_CHECK_HOST = "172.19.2.10:8000"
SECRET_LOOKING = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE|CREDENTIAL|DATABASE_URL|_KEY$")
DURATION = re.compile(r"^(\d+)(ms|s|m|h)$")


def load(which: str) -> dict:
    return tomllib.loads(CONFIGS[which].read_text())


def seconds(value) -> float:
    """Fly durations: an integer (seconds) or a string such as "30s", "5m", "500ms"."""
    if isinstance(value, int):
        return value
    number, unit = DURATION.match(value).groups()
    return int(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def gunicorn_settings(monkeypatch) -> dict:
    """config/gunicorn.conf.py as it reads on a Fly machine where PORT and HOST are unset."""
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("HOST", raising=False)
    return runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))


def dockerfile_stages() -> set[str]:
    text = (ROOT / "Dockerfile").read_text()
    return set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)\s*$", text, re.MULTILINE | re.IGNORECASE))


both = pytest.mark.parametrize("which", sorted(CONFIGS))


def test_qa_and_production_are_different_apps():
    # Whatever a fork's scripts/fly-bootstrap named them: two valid Fly app names, not one.
    names = [load("production")["app"], load("qa")["app"]]
    assert names[0] != names[1]
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", name) for name in names)


def test_qa_runs_what_production_runs_except_for_name_idle_machines_and_the_e2e_editor():
    production, qa = load("production"), load("qa")
    for config in (production, qa):
        del config["app"]
        del config["http_service"]["min_machines_running"]
        # How idle machines sleep: suspended in production, stopped in QA (see below).
        del config["http_service"]["auto_stop_machines"]
    # Only QA may hold the browser tests' editor (ensure_e2e_editor refuses anywhere else).
    assert qa["env"].pop("E2E_EDITOR_ALLOWED") == "1"
    assert "E2E_EDITOR_ALLOWED" not in production["env"]
    assert qa == production


def test_production_keeps_a_machine_running_and_qa_scales_to_zero():
    assert load("production")["http_service"]["min_machines_running"] >= 1
    assert load("qa")["http_service"]["min_machines_running"] == 0


@both
def test_build_target_is_a_stage_of_the_dockerfile(which):
    build = load(which)["build"]
    assert (ROOT / build["dockerfile"]).is_file()
    assert build["build-target"] == "production"
    assert build["build-target"] in dockerfile_stages()


@both
def test_internal_port_is_where_gunicorn_listens_and_what_the_image_exposes(which, monkeypatch):
    config = load(which)
    port = config["http_service"]["internal_port"]
    assert gunicorn_settings(monkeypatch)["bind"].rsplit(":", 1)[1] == str(port)
    assert config["env"].get("PORT", str(port)) == str(port)
    assert re.search(rf"^EXPOSE {port}$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)


@both
def test_fly_waits_for_gunicorns_graceful_shutdown_before_killing(which, monkeypatch):
    config = load(which)
    # SIGTERM is gunicorn's graceful stop (SIGINT and SIGQUIT stop it at once).
    assert config["kill_signal"] == "SIGTERM"
    graceful = gunicorn_settings(monkeypatch)["graceful_timeout"]
    assert seconds(config["kill_timeout"]) > graceful


@both
def test_https_is_forced_and_idle_machines_stop_and_start_on_demand(which):
    service = load(which)["http_service"]
    assert service["force_https"] is True
    # Production suspends idle machines (they resume in a few hundred ms); QA stops them, as a
    # new image is deployed to it on every run of the pipeline.
    assert service["auto_stop_machines"] == ("suspend" if which == "production" else "stop")
    assert service["auto_start_machines"] is True
    concurrency = service["concurrency"]
    assert concurrency["type"] == "requests"
    assert 0 < concurrency["soft_limit"] <= concurrency["hard_limit"]


def test_production_can_suspend_its_machines():
    # Fly suspends only machines with at most 2 GB of memory and no swap.
    config = load("production")
    assert config["http_service"]["auto_stop_machines"] == "suspend"
    for vm in config["vm"]:
        size = vm["memory"].lower()
        megabytes = (
            int(size.removesuffix("gb")) * 1024
            if size.endswith("gb")
            else int(size.removesuffix("mb"))
        )
        assert megabytes <= 2048
    assert "swap_size_mb" not in config


@both
def test_fly_sends_a_machine_no_more_requests_than_its_workers_can_take_in_turn(which):
    # Requests beyond the workers wait in gunicorn's backlog, out of Fly's reach; `make bench`
    # shows throughput flat past a few per worker (the figures are in fly.toml's comment).
    config = load(which)
    workers = int(config["env"]["WEB_CONCURRENCY"])
    concurrency = config["http_service"]["concurrency"]
    assert workers <= concurrency["soft_limit"] <= 2 * workers
    assert concurrency["hard_limit"] <= 5 * workers


@both
def test_no_statics_section_bypasses_whitenoises_cache_headers(which):
    assert "statics" not in load(which)


@both
@pytest.mark.django_db
def test_health_check_path_answers_200_to_a_fly_style_request(which, client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = [f"{load(which)['app']}.fly.dev"]
    checks = load(which)["http_service"]["checks"]
    assert checks
    for check in checks:
        assert check.get("method", "GET") == "GET"
        response = client.get(check["path"], HTTP_HOST=FLY_CHECK_HOST)
        assert response.status_code == 200, check["path"]
        # A check must fail before Fly gives up waiting for it.
        assert seconds(check["timeout"]) < seconds(check["interval"])
        assert seconds(check["grace_period"]) >= 10


@both
def test_release_command_is_a_script_in_the_repository_that_uses_real_commands(which):
    command = load(which)["deploy"]["release_command"].split()
    script = ROOT / command[0]
    assert script.is_file()
    assert script.stat().st_mode & 0o111, f"{command[0]} is not executable"
    used = set(re.findall(r"manage\.py (\w+)", script.read_text()))
    assert "migrate" in used
    # `help` is manage.py's own; load_content arrives with the content importer, and the script
    # runs it only when it exists.
    assert used - {"help", "load_content"} <= set(get_commands())


@both
def test_deploys_roll_and_a_failed_release_has_a_time_limit(which):
    deploy = load(which)["deploy"]
    assert deploy["strategy"] == "rolling"
    assert seconds(deploy["release_command_timeout"]) <= 10 * 60


@both
def test_env_holds_no_secrets(which):
    env = load(which)["env"]
    assert not [name for name in env if SECRET_LOOKING.search(name.upper())]
    # Values are plain settings, not credentials smuggled in under an innocent name.
    assert not [value for value in env.values() if "://" in str(value) and "@" in str(value)]


@both
def test_env_values_are_strings_the_settings_can_read(which):
    env = load(which)["env"]
    assert all(isinstance(value, str) for value in env.values())
    assert env["DATA_DIR"] == "/data"
    assert int(env["WEB_CONCURRENCY"]) >= 1
    assert int(env["PUBLISH_SCHEDULED_INTERVAL"]) > 0


@both
def test_vm_memory_fits_the_measured_footprint(which):
    # scripts/image-test measured ~330 MB for two workers plus the publishing loop; below 512 MB
    # only with swap (swap_size_mb) and one worker.
    config = load(which)
    (vm,) = config["vm"]
    memory = int(re.fullmatch(r"(\d+)\s*(?:mb)?", str(vm["memory"]).lower()).group(1))
    assert memory >= 512 or "swap_size_mb" in config
