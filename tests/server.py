"""Start the site the way production runs it (gunicorn + whitenoise, DEBUG off) for tests.

Used by the serving tests and by the end-to-end suite. Each server gets its own data folder and,
when DATABASE_URL names PostgreSQL, its own throwaway database, so it never touches the test
database pytest-django manages or a developer's data.
"""

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def throwaway_database(base_url: str | None):
    """Yield a DATABASE_URL for a fresh database: a new PostgreSQL database or a SQLite file."""
    if not base_url or not base_url.startswith(("postgres://", "postgresql://")):
        yield None  # the server's own DATA_DIR holds a fresh SQLite file
        return
    import psycopg

    parts = urlsplit(base_url)
    name = f"flightlog_server_{secrets.token_hex(4)}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def production_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    # Only what a process needs to run: none of the test run's own settings leak in.
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "SSL_CERT_FILE")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(
        DJANGO_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATA_DIR=str(data_dir),
        ALLOWED_HOSTS="localhost,127.0.0.1",
        WEB_CONCURRENCY="2",
        HOST="127.0.0.1",
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def wait_for(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class Server:
    """A running gunicorn; `url` is its base address, `env` the environment it runs with."""

    def __init__(self, url: str, env: dict[str, str], process: subprocess.Popen, log: Path):
        self.url = url
        self.env = env
        self.process = process
        self.log = log

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def run_server(
    data_dir: Path,
    static_root: Path,
    prepare: bool = True,
    database_url: str | None = None,
    **overrides: str,
):
    """Migrate (when `prepare`), then serve with gunicorn until the block ends."""
    port = free_port()
    extra = {"PORT": str(port), "STATIC_ROOT": str(static_root), **overrides}
    if database_url:
        extra["DATABASE_URL"] = database_url
    env = production_env(data_dir, **extra)
    if prepare:
        manage(env, "migrate", "--noinput", "-v", "0")
    log = data_dir / "gunicorn.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/healthz", process=process)
        yield Server(url, env, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def collect_static(static_root: Path) -> None:
    env = production_env(static_root.parent, STATIC_ROOT=str(static_root))
    manage(env, "collectstatic", "--noinput", "-v", "0")


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Response:
    """One request, redirects not followed, any Host header allowed (unlike urllib)."""
    import http.client

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn.putrequest(
            method, path, skip_host="Host" in (headers or {}), skip_accept_encoding=True
        )
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return Response(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        conn.close()
