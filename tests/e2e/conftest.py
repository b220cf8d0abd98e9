"""End-to-end set-up: the site under test, the browser that drives it, and the checks every page
gets.

The site is BASE_URL (`make e2e BASE_URL=https://...` or `--base-url`) when given, read-only
unless E2E_ALLOW_WRITES=1 with E2E_ADMIN_USER and E2E_ADMIN_PASSWORD. Otherwise one
production-like server is started for the session: gunicorn + whitenoise with DEBUG off, a fresh
database (SQLite, or a throwaway PostgreSQL database when DATABASE_URL names one), the shipped
content imported from site/ and a throwaway admin account. ADMIN_PATH names the admin's path
when it is not /admin/, as it does for the site's own settings.

That local server speaks plain HTTP, so it runs with SECURE_SSL_REDIRECT=0 and no HSTS, as the
pipeline's local QA stand-in does. Sending X-Forwarded-Proto: https instead would make Django
treat each request as HTTPS, and then its CSRF check rejects the admin's form posts, whose
Origin header says http://.
"""

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests import server
from tests.e2e import artifacts
from tests.e2e.helpers import (
    CHROMIUM_FLAGS,
    NoBrowserError,
    PageProblems,
    Sample,
    find_chromium,
    find_sample,
    install_playwright_chromium,
    registry_with_system_ffmpeg,
    video_recording_problem,
)

# Pages on a busy CI machine or a QA app waking from zero can take a while to settle.
expect.set_options(timeout=15_000)

VIDEO_NOTE = pytest.StashKey[str]()
VIDEO_INDEX = pytest.StashKey[Path]()
LENT_FFMPEG = pytest.StashKey[Path]()
RECORDINGS = pytest.StashKey[dict[str, artifacts.Recording]]()


@dataclass
class Target:
    """The site the suite runs against."""

    url: str
    local: bool
    admin_path: str
    admin_user: str | None = None
    admin_password: str | None = None
    writes_allowed: bool = False
    local_server: server.Server | None = None

    def admin_url(self, path: str = "") -> str:
        return f"{self.url}/{self.admin_path}/{path}"


def pytest_configure(config):
    # Before Playwright's driver starts (it reads the variable once): lend it the system's
    # ffmpeg when its own is missing, so videos are recorded here as on GitHub.
    folder = Path(tempfile.mkdtemp(prefix="e2e-playwright-"))
    registry = registry_with_system_ffmpeg(dict(os.environ), folder / "browsers")
    config.stash[LENT_FFMPEG] = folder
    if registry is not None:
        os.environ["PLAYWRIGHT_BROWSERS_PATH"] = str(registry)


def pytest_unconfigure(config):
    if LENT_FFMPEG in config.stash:
        shutil.rmtree(config.stash[LENT_FFMPEG], ignore_errors=True)


# --- What the run recorded -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def recording(request, output_path):
    """Remember where pytest-playwright puts this test's files, for the index."""
    recordings = request.config.stash.setdefault(RECORDINGS, {})
    recordings[request.node.nodeid] = artifacts.Recording(request.node.nodeid, Path(output_path))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    recorded = item.config.stash.get(RECORDINGS, {}).get(item.nodeid)
    if report.failed and recorded is not None:
        recorded.outcome = "failed"
    return report


def pytest_sessionfinish(session):
    recorded = artifacts.collect(list(session.config.stash.get(RECORDINGS, {}).values()))
    if not recorded:
        return
    output = Path(session.config.getoption("--output")).absolute()
    index = artifacts.write_index(output, recorded, "End-to-end run: recordings")
    session.config.stash[VIDEO_INDEX] = index
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as file:
            file.write(artifacts.job_summary(output, recorded))


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def plain_static_storage():
    """The browser talks to a separate server: the in-process settings tests/conftest.py
    adjusts play no part here."""


@pytest.fixture(scope="session")
def target(pytestconfig, tmp_path_factory):
    base_url = (pytestconfig.getoption("--base-url") or os.environ.get("BASE_URL", "")).strip()
    admin_path = os.environ.get("ADMIN_PATH", "").strip("/") or "admin"
    if base_url:
        yield remote_target(base_url.rstrip("/"), admin_path)
        return
    workdir = tmp_path_factory.mktemp("e2e-server")
    output = Path(pytestconfig.getoption("--output"))
    with local_target(workdir, admin_path) as local:
        try:
            yield local
        finally:
            # The server's log goes with the other artifacts, for failures that start there.
            output.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local.local_server.log, output / "server.log")


def remote_target(url: str, admin_path: str) -> Target:
    writes = os.environ.get("E2E_ALLOW_WRITES", "") == "1"
    user = os.environ.get("E2E_ADMIN_USER") or None
    password = os.environ.get("E2E_ADMIN_PASSWORD") or None
    if writes and not (user and password):
        pytest.fail(
            "E2E_ALLOW_WRITES=1 needs the editor account too: set E2E_ADMIN_USER and "
            "E2E_ADMIN_PASSWORD (the pipeline reads them from repository secrets).",
            pytrace=False,
        )
    return Target(url, False, admin_path, user, password, writes)


# Runs in `manage.py shell`: the shipped content, then the throwaway admin (its password comes
# from the environment, never a command line). One process saves a Django start-up.
IMPORT_CONTENT_AND_ADD_ADMIN = """
import os
from django.contrib.auth import get_user_model
from django.core.management import call_command

call_command("load_content", verbosity=0)
name = os.environ["E2E_ADMIN_USER"]
get_user_model().objects.create_superuser(
    name, f"{name}@example.invalid", os.environ["E2E_ADMIN_PASSWORD"]
)
"""


def start_manage(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=server.ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen, what: str) -> None:
    output, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{output}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


@contextlib.contextmanager
def local_target(workdir: Path, admin_path: str):
    """Start the production-like server with the shipped content and a throwaway admin.

    The slow steps overlap where they can: collectstatic (which compresses every file) runs
    beside the migrations, and the content import beside gunicorn's start-up.
    """
    data_dir, static_root = workdir / "data", workdir / "static"
    admin_user, admin_password = "e2e-editor", secrets.token_urlsafe(24)
    with server.throwaway_database(os.environ.get("DATABASE_URL")) as database_url:
        database = {"DATABASE_URL": database_url} if database_url else {}
        env = server.production_env(
            data_dir, STATIC_ROOT=str(static_root), ADMIN_PATH=admin_path, **database
        )
        collect = start_manage(env, "collectstatic", "--noinput", "-v", "0")
        content = None
        try:
            server.manage(env, "migrate", "--noinput", "-v", "0")
            content = start_manage(
                {**env, "E2E_ADMIN_USER": admin_user, "E2E_ADMIN_PASSWORD": admin_password},
                "shell",
                "-c",
                IMPORT_CONTENT_AND_ADD_ADMIN,
            )
            finish(collect, "manage.py collectstatic")
            with server.run_server(
                data_dir,
                static_root,
                prepare=False,
                database_url=database_url,
                ADMIN_PATH=admin_path,
                # Plain HTTP here (see the module docstring); on Fly the proxy terminates TLS.
                SECURE_SSL_REDIRECT="0",
                SECURE_HSTS_SECONDS="0",
            ) as running:
                finish(content, "manage.py load_content (and adding the admin)")
                yield Target(
                    running.url,
                    True,
                    admin_path,
                    admin_user,
                    admin_password,
                    writes_allowed=True,
                    local_server=running,
                )
        finally:
            stop(collect)
            if content is not None:
                stop(content)


@pytest.fixture(scope="session")
def base_url(target):
    """pytest-playwright resolves page.goto("/...") against this."""
    return target.url


@pytest.fixture(scope="session")
def sample(browser, base_url) -> Sample:
    return find_sample(browser, base_url)


# --- Browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def say(pytestconfig):
    """Write a line to the terminal at once, past pytest's output capture."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")

    def write(line: str) -> None:
        with capture.global_and_fixture_disabled():
            print(f"\n{line}", flush=True)

    return write


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, browser_name, playwright, say):
    """Chromium from CHROMIUM_PATH, Debian's, or Playwright's own, with quiet flags; other
    browsers (--browser firefox) as Playwright ships them."""
    if browser_name != "chromium" or browser_type_launch_args.get("channel"):
        return browser_type_launch_args
    try:
        try:
            executable = find_chromium(dict(os.environ), playwright.chromium.executable_path)
        except NoBrowserError as error:
            if not error.installable:
                raise
            install_playwright_chromium(say)
            executable = find_chromium(dict(os.environ), playwright.chromium.executable_path)
    except NoBrowserError as error:
        # One message for the whole run, not the same error under every test.
        pytest.exit(str(error), returncode=pytest.ExitCode.USAGE_ERROR)
    flags = [*browser_type_launch_args.get("args", []), *CHROMIUM_FLAGS]
    if os.geteuid() == 0:
        # Chromium's sandbox refuses to run as root (containers, CI images).
        flags.append("--no-sandbox")
    launch = {**browser_type_launch_args, "args": flags}
    if executable:
        launch["executable_path"] = executable
    return launch


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, browser, pytestconfig):
    args = {**browser_context_args, "locale": "en-GB"}
    if "record_video_dir" in args:
        problem = video_recording_problem(
            lambda: browser.new_context(record_video_dir=args["record_video_dir"])
        )
        if problem:
            # Traces and screenshots still record every failure.
            del args["record_video_dir"]
            pytestconfig.stash[VIDEO_NOTE] = problem
    return args


def pytest_terminal_summary(terminalreporter, config):
    if VIDEO_INDEX in config.stash:
        terminalreporter.write_line(
            f"e2e: videos, traces and screenshots: {config.stash[VIDEO_INDEX]}"
        )
    if VIDEO_NOTE in config.stash:
        terminalreporter.write_line(
            f"e2e: videos are off for this browser build: {config.stash[VIDEO_NOTE]}; "
            "traces and screenshots of failures are kept."
        )


# --- What every page is checked for ----------------------------------------------------------


@pytest.fixture
def page_problems():
    return PageProblems()


@pytest.fixture
def new_context(new_context, page_problems):
    """Every browser context a test opens (`page` and `context` included) is watched for console
    errors, uncaught exceptions and Content-Security-Policy violations."""

    def create(**kwargs):
        context = new_context(**kwargs)
        page_problems.watch(context)
        return context

    return create


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    # Checked after the test body, so a problem fails the test itself (with its trace and
    # screenshot) rather than erroring in teardown.
    problems = item.funcargs.get("page_problems")
    if problems is not None:
        problems.check()
    return result
