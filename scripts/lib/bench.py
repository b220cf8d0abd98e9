"""Benchmark the site as production runs it, beside what it is compared with (`make bench`).

Usage: scripts/bench [--rounds 4] [--duration 5] [--connections 16] [--posts 200]
                     [--peer PATH] [--chart | --no-chart] [--json FILE] [--lighthouse]

It builds a throwaway site (SQLite, the shipped content plus generated posts, DEBUG off, static
files collected, bytecode compiled as the image compiles it) in a venv of its own with the
production dependencies only (uv.lock without the dev group: uv needs PyPI or its cache for
them), and serves it with gunicorn as
production does: config/gunicorn.conf.py, two sync workers, the page cache on. Then, for
--rounds rounds, it runs every system it compares one after the other, in a different order
each round, so a burst of load from elsewhere lands on all of them instead of on one:

  this site (sync)     the site as shipped
  this site (gthread)  the same with gunicorn's threaded workers, which keep connections open
  nginx                 a static file, if nginx is installed (apt-get install nginx)
  bakerydemo            with --peer PATH: Wagtail's demo site from a checkout at PATH, served by
                        gunicorn with two sync workers on its production settings and SQLite.
                        Its requirements go into PATH/.bench-venv with uv (uv venv, uv pip
                        install -r requirements/base.txt gunicorn whitenoise), once.

Each system, each round: seconds from starting its server to the first 200 on a post (a cold
start); requests/s and CPU per request for each page type with wrk (cached pages, as readers get
them); for this site, every page type again as a real page-cache miss (each request a new
`?page=N`, so it is rendered, compressed and stored, as a first reader's is); and the PSS of the
master and its workers together after at least 5,000 requests. SQL queries of the first request
a fresh worker serves are counted once per page type, in a fresh process each.

It prints the figures of issue #15's table with their targets (met or NOT MET) as medians over
the rounds with their spread, the load average, and the CPU time other processes took during
each round, which flags a round that ran under load. --chart (the default) writes the chart the
performance docs page shows: static/diagrams/performance.svg, and site/images/performance.png
from it with Chromium when there is one. Everything it starts it stops; everything else it
writes lives in a temporary folder that it removes.
"""

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable
# As Fly's proxy sends them: the reader's HTTPS is in X-Forwarded-Proto (no redirect to it).
HEADERS = {"Host": "localhost", "Accept-Encoding": "gzip, br", "X-Forwarded-Proto": "https"}
PAGE_TYPES = ["home", "blog index", "post", "docs page", "feed"]
# Other processes may use this share of one core during a round before it counts as loaded.
FOREIGN_CPU_LIMIT = 0.25
MEMORY_AFTER_REQUESTS = 5000
MEMORY_LOAD_SECONDS = 30
LIGHTHOUSE_ATTEMPTS = 3
CHART_SVG = ROOT / "static" / "diagrams" / "performance.svg"
CHART_PNG = ROOT / "site" / "images" / "performance.png"
# Every request a different ?page=N: a page-cache miss that is rendered, compressed and stored.
MISS_SCRIPT = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. "?page=" .. (counter * 7919 + math.random(0, 6)) % 999999)
end
"""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(command: list[str], **kwargs) -> str:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def compile_bytecode(python: str, *folders: Path) -> None:
    """As the image does at build time (Dockerfile): a fresh checkout run with
    PYTHONDONTWRITEBYTECODE would otherwise compile every module at every start."""
    run([python, "-m", "compileall", "-q", "-j", "0", *map(str, folders)])


def production_python(workdir: Path) -> str:
    """A venv in `workdir` holding what the image holds: uv.lock's packages without the dev group
    (the Dockerfile's `uv sync --no-dev`). The project's own .venv has the test tools too, and
    Django and Wagtail import some of them when they are there (Jinja2, through django.test),
    which production never does: measured in that venv, the site started about 0.05 s slower."""
    venv = workdir / "venv"
    python = venv / "bin" / "python"
    requirements = workdir / "requirements.txt"
    uv = uv_command()
    steps = [
        [*uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "-q",
         "--format", "requirements-txt", "-o", str(requirements)],
        [*uv, "venv", "-q", "--python", PYTHON, str(venv)],
        [*uv, "pip", "sync", "-q", "--python", str(python), str(requirements)],
    ]  # fmt: skip
    for step in steps:
        run(step, cwd=ROOT)
    return str(python)


# --- Flight Log ----------------------------------------------------------------------------------


def flight_log_environment(workdir: Path, **extra: str) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "VIRTUAL_ENV", "SSL_CERT_FILE")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(
        DJANGO_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATA_DIR=str(workdir / "data"),
        STATIC_ROOT=str(workdir / "static"),
        ALLOWED_HOSTS="localhost,127.0.0.1",
        # wrk speaks plain HTTP on loopback; Fly's proxy would add X-Forwarded-Proto instead.
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        HOST="127.0.0.1",
        WEB_CONCURRENCY="2",
        LOG_LEVEL="WARNING",
        # Recycling off, so memory is measured after every request a server answered.
        GUNICORN_MAX_REQUESTS="0",
        PUBLISH_SCHEDULED_INTERVAL="0",
    )
    env.update(extra)
    return env


# The Django side of the benchmark (seeding, counting a first request's queries, finding the
# peer's pages): a module of its own, run with each system's Python in its own project.
DJANGO_HELPER = Path(__file__).resolve().parent / "bench_django.py"


def django_script(python: str, cwd: Path, env: dict, settings: str, command: str, *args: str):
    """Run one of bench_django.py's commands in the project at `cwd`; its JSON answer."""
    result = subprocess.run(
        [python, str(DJANGO_HELPER), command, *args],
        cwd=cwd,
        env={**env, "DJANGO_SETTINGS_MODULE": settings},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(f"benchmark helper failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- bakerydemo (--peer) --------------------------------------------------------------------------


def uv_command() -> list[str]:
    if shutil.which("uv"):
        return ["uv"]
    wrapper = ROOT / "scripts" / "uv"
    return [str(wrapper)]


def prepare_peer(path: Path, workdir: Path) -> dict:
    """bakerydemo from the checkout at `path`, with its own venv and a fresh SQLite database."""
    if not (path / "bakerydemo" / "settings" / "production.py").is_file():
        sys.exit(f"--peer {path}: not a bakerydemo checkout (no bakerydemo/settings/production.py)")
    venv = path / ".bench-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        log(f"installing bakerydemo's requirements into {venv} with uv (once)")
        uv = uv_command()
        steps = [
            [*uv, "venv", "-q", "--python", PYTHON, str(venv)],
            [*uv, "pip", "install", "-q", "--python", str(python), "-r",
             str(path / "requirements" / "base.txt"), "gunicorn", "whitenoise"],
        ]  # fmt: skip
        for step in steps:
            result = subprocess.run(step, capture_output=True, text=True)
            if result.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                sys.exit(
                    f"--peer: `{' '.join(step)}` failed (it needs PyPI, or an index uv is set to "
                    f"use):\n{result.stderr.strip()[-800:]}"
                )
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "SSL_CERT_FILE")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="bakerydemo.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=f"sqlite:///{workdir / 'peer.sqlite3'}",
        DJANGO_ALLOWED_HOSTS="localhost,127.0.0.1",
    )
    log("bakerydemo: migrating, loading its demo data and collecting static files (minutes)")
    for command in (
        ["migrate", "--noinput", "-v", "0"],
        ["createcachetable"],
        ["load_initial_data"],
        ["collectstatic", "--noinput", "-v", "0"],
    ):
        run([str(python), "manage.py", *command], cwd=path, env=env)
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    run([str(python), "-m", "compileall", "-q", "-j", "0", str(site_packages), "bakerydemo"],
        cwd=path)  # fmt: skip
    settings = env["DJANGO_SETTINGS_MODULE"]
    pages = django_script(str(python), path, env, settings, "peer-pages")
    pages = {name: url for name, url in pages.items() if url}
    return {"python": str(python), "cwd": path, "env": env, "pages": pages}


# --- Serving and measuring ------------------------------------------------------------------------


@dataclass
class System:
    """A server to start, with the pages it is measured on."""

    name: str
    command: list[str]
    cwd: Path
    env: dict
    pages: dict[str, str]
    has_page_cache: bool = False
    process: subprocess.Popen | None = None
    port: int = 0
    started_at: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port = free_port()
        command = [part.replace("{port}", str(self.port)) for part in self.command]
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            command,
            cwd=self.cwd,
            env={**self.env, "PORT": str(self.port)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def first_ok(self, path: str, timeout: float = 60.0) -> float:
        """Seconds from start until `path` first answers 200."""
        deadline = self.started_at + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if fetch(self.url + path)[0] == 200:
                    return time.monotonic() - self.started_at
            time.sleep(0.005)
        raise TimeoutError(f"{self.name}: {path} did not answer 200 within {timeout} s")

    def processes(self) -> list[int]:
        """The master and its workers."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [pid, *map(int, children)]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def fetch(url: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    # Only ever the benchmark's own servers on loopback.
    request = urllib.request.Request(url, headers={**HEADERS, **(headers or {})})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, response.read(), dict(response.headers)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy (all cores), from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU time of this script and every process it has started and waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def wrk(url: str, duration: int, connections: int, script: Path | None = None,
        headers: dict | None = None, timeout: str | None = None) -> dict:  # fmt: skip
    """One wrk run: requests/s, p50 and p99 in seconds, requests, non-2xx/3xx answers, and the
    socket errors (connect, read, write, timeout) with wrk's own line for them."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    if timeout:
        command += ["--timeout", timeout]
    for name, value in {**HEADERS, **(headers or {})}.items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout

    def seconds(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
        return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: (.*)", output)
    return {
        "socket_errors": sum(int(n) for n in re.findall(r"\d+", sockets.group(1)))
        if sockets
        else 0,
        "socket_detail": sockets.group(1) if sockets else "none",
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        # Anchored to the latency distribution's own lines: the thread stats above it end in a
        # "+/- Stdev" percentage such as 75.50%, which an unanchored "50%" would match.
        "p50": seconds(re.search(r"^\s*50%\s+(\S+)", output, re.MULTILINE).group(1)),
        "p99": seconds(re.search(r"^\s*99%\s+(\S+)", output, re.MULTILINE).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
    }


def load_with_cpu(system: System, path: str, options, script: Path | None = None) -> dict:
    """wrk on one path, with the CPU the server's processes spent per request meanwhile."""
    pids = system.processes()
    before = sum(cpu_seconds(pid) for pid in pids)
    result = wrk(system.url + path, options.duration, options.connections, script)
    result["cpu_ms"] = (
        (sum(cpu_seconds(pid) for pid in pids) - before) * 1000 / max(result["requests"], 1)
    )
    return result


def measure_system(system: System, options, workdir: Path) -> dict:
    """One round of one system: cold start, cached pages, memory, then misses."""
    figures: dict = {"cached": {}, "miss": {}}
    system.start()
    try:
        figures["cold_start"] = system.first_ok(system.pages["post"])
        for path in system.pages.values():
            for _ in range(10):
                fetch(system.url + path)
        served = 0
        for name, path in system.pages.items():
            figures["cached"][name] = load_with_cpu(system, path, options)
            served += figures["cached"][name]["requests"]
        # A system that renders every request may take minutes to reach that many: it gets
        # at most MEMORY_LOAD_SECONDS more, and the report says how many it had served.
        deadline = time.monotonic() + MEMORY_LOAD_SECONDS
        while served < MEMORY_AFTER_REQUESTS and time.monotonic() < deadline:
            served += wrk(system.url + system.pages["post"], 3, options.connections)["requests"]
        # Measured before the misses, which fill each worker's page store with pages that only
        # the benchmark asks for (PAGE_CACHE_MAX_MB bounds that store).
        figures["requests_before_memory"] = served
        figures["pss_mb"] = sum(pss_mb(pid) for pid in system.processes())
        if system.has_page_cache:
            script = workdir / "miss.lua"
            script.write_text(MISS_SCRIPT)
            for name in PAGE_TYPES:
                if name in system.pages:
                    figures["miss"][name] = load_with_cpu(
                        system, system.pages[name], options, script
                    )
        figures["workers"] = len(system.processes()) - 1
    finally:
        system.stop()
    return figures


NGINX_CONF = """
daemon off;
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{ listen 127.0.0.1:{port}; root {dir}/root; }}
}}
"""


def measure_nginx(static_file: Path, options, workdir: Path) -> dict | None:
    """nginx serving the same stylesheet, with Connection: close (as sync workers answer)."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not nginx:
        return None
    folder = workdir / "nginx"
    (folder / "root").mkdir(parents=True, exist_ok=True)
    # nginx's workers run as another user when it is started as root: let them read the file.
    workdir.chmod(0o755)
    shutil.copy(static_file, folder / "root" / "site.css")
    port = free_port()
    (folder / "nginx.conf").write_text(NGINX_CONF.format(dir=folder, port=port))
    process = subprocess.Popen(
        [nginx, "-c", str(folder / "nginx.conf"), "-p", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/site.css"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                fetch(url)
                break
            time.sleep(0.02)
        return wrk(url, options.duration, options.connections, headers={"Connection": "close"})
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- Rounds and figures ---------------------------------------------------------------------------


@dataclass
class Round:
    number: int
    order: list[str]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    foreign_cores: float = 0.0
    systems: dict = field(default_factory=dict)

    @property
    def loaded(self) -> bool:
        return self.foreign_cores > FOREIGN_CPU_LIMIT


def run_round(number: int, systems: list[System], static: str, options, workdir: Path,
              static_root: Path) -> Round:  # fmt: skip
    shift = number % (len(systems) + 1)
    names = [system.name for system in systems] + ["nginx"]
    order = names[shift:] + names[:shift]
    this = Round(number=number + 1, order=order, load_before=os.getloadavg())
    busy, own, started = busy_cpu_seconds(), own_cpu_seconds(), time.monotonic()
    for name in order:
        log(f"round {number + 1}: {name}")
        if name == "nginx":
            this.systems["nginx"] = measure_nginx(static_root / static.removeprefix("/static/"),
                                                  options, workdir)  # fmt: skip
            continue
        system = next(system for system in systems if system.name == name)
        this.systems[name] = measure_system(system, options, workdir)
    elapsed = time.monotonic() - started
    foreign = (busy_cpu_seconds() - busy) - (own_cpu_seconds() - own)
    this.foreign_cores = max(foreign, 0.0) / elapsed
    this.load_after = os.getloadavg()
    return this


def median_and_spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def across(rounds: list[Round], system: str, pick) -> list[float]:
    values = []
    for this in rounds:
        figures = this.systems.get(system)
        if figures is not None:
            with contextlib.suppress(KeyError, TypeError):
                values.append(pick(figures))
    return values


def describe(values: list[float], unit: str = "", digits: int = 1) -> str:
    if not values:
        return "not measured"
    middle, low, high = median_and_spread(values)
    if len(values) == 1:
        return f"{middle:.{digits}f}{unit}"
    return f"{middle:.{digits}f}{unit} ({low:.{digits}f}-{high:.{digits}f})"


def verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "NOT MET")


def targets(results: dict) -> list[tuple[str, str, str, str]]:
    """(figure, measured, target, met?) for each line of issue #15's table."""
    rounds: list[Round] = results["rounds"]
    ours, peer = "this site (sync)", "bakerydemo"
    has_peer = any(peer in this.systems for this in rounds)
    lines = []

    def ratio(a: list[float], b: list[float]) -> float | None:
        return statistics.median(a) / statistics.median(b) if a and b else None

    miss = across(rounds, ours, lambda f: f["miss"]["post"]["cpu_ms"])
    peer_cpu = across(rounds, peer, lambda f: f["cached"]["post"]["cpu_ms"])
    miss_ratio = ratio(miss, peer_cpu)
    lines.append((
        "uncached post (a real miss), CPU per request",
        describe(miss, " ms", 2)
        + (f"; bakerydemo {describe(peer_cpu, ' ms', 2)}, {miss_ratio:.2f}x" if miss_ratio else ""),
        "<= 7 ms; <= 0.25x bakerydemo's" + ("" if has_peer else " (needs --peer)"),
        verdict(None if not miss else (statistics.median(miss) <= 7
                                       and (miss_ratio is None or miss_ratio <= 0.25))),
    ))  # fmt: skip
    cold = across(rounds, ours, lambda f: f["cold_start"])
    peer_cold = across(rounds, peer, lambda f: f["cold_start"])
    cold_ratio = ratio(cold, peer_cold)
    lines.append((
        "cold start to the first 200 on a post",
        describe(cold, " s", 2)
        + (f"; bakerydemo {describe(peer_cold, ' s', 2)}, {cold_ratio:.2f}x" if cold_ratio else ""),
        "<= 0.6 s" + ("; <= 0.6x bakerydemo's" if has_peer else ""),
        verdict(None if not cold else (statistics.median(cold) <= 0.6
                                       and (cold_ratio is None or cold_ratio <= 0.6))),
    ))  # fmt: skip
    pss = across(rounds, ours, lambda f: f["pss_mb"])
    peer_pss = across(rounds, peer, lambda f: f["pss_mb"])
    pss_ratio = ratio(pss, peer_pss)
    served = across(rounds, ours, lambda f: f["requests_before_memory"])
    peer_served = across(rounds, peer, lambda f: f["requests_before_memory"])
    lines.append((
        f"total PSS, master + 2 workers, after {MEMORY_AFTER_REQUESTS:,}+ requests",
        f"{describe(pss, ' MB')} after {describe(served, '', 0)} requests"
        + (f"; bakerydemo {describe(peer_pss, ' MB')} after {describe(peer_served, '', 0)},"
           f" {pss_ratio:.2f}x" if pss_ratio else ""),
        "<= 140 MB" + ("; <= 0.8x bakerydemo's" if has_peer else ""),
        verdict(None if not pss else (statistics.median(pss) <= 140
                                      and (pss_ratio is None or pss_ratio <= 0.8))),
    ))  # fmt: skip
    per_round = across(
        rounds, ours, lambda f: f["cached"]["post"]["rps"] / f["cached"]["static file"]["rps"]
    )
    cached = across(rounds, ours, lambda f: f["cached"]["post"]["rps"])
    nginx = [this.systems["nginx"]["rps"] for this in rounds if this.systems.get("nginx")]
    nginx_ratio = ratio(cached, nginx)
    lines.append((
        "cached post, requests/s",
        f"{describe(cached, '', 0)}; {describe(per_round, 'x', 2)} the static file"
        + (f"; {nginx_ratio:.2f}x nginx (Connection: close)" if nginx_ratio else "; no nginx"),
        ">= 1.0x the static file in every round; >= 0.25x nginx",
        verdict(None if not per_round else (min(per_round) >= 1.0
                                            and (nginx_ratio is None or nginx_ratio >= 0.25))),
    ))  # fmt: skip
    first = {name: counts[0] for name, counts in results["queries"].items()}
    worst = max((count for count in first.values() if isinstance(count, int)), default=None)
    peer_first = results.get("peer_queries") or {}
    peer_worst = max((c[0] for c in peer_first.values() if isinstance(c[0], int)), default=None)
    lines.append((
        "first request's queries, worst page type",
        f"{worst} ({', '.join(f'{name} {count}' for name, count in first.items())})"
        + (f"; bakerydemo {peer_worst}" if peer_worst is not None else ""),
        "<= 6 whatever page comes first",
        verdict(None if worst is None else worst <= 6),
    ))  # fmt: skip
    return lines


def print_report(results: dict, options) -> None:
    rounds: list[Round] = results["rounds"]
    print(f"\nFlight Log benchmark, {results['date']} on {results['machine']}")
    print(
        f"{results['posts']} generated posts + shipped content; SQLite; production dependencies; "
        f"gunicorn 2 workers; wrk -t2 -c{options.connections} -d{options.duration}s; "
        f"{len(rounds)} rounds, systems interleaved; medians (min-max)\n"
    )
    print("rounds (load average 1/5/15 min before -> after; other processes' CPU, in cores):")
    for this in rounds:
        flag = "  LOADED: other processes took CPU" if this.loaded else ""
        before = "/".join(f"{value:.2f}" for value in this.load_before)
        after = "/".join(f"{value:.2f}" for value in this.load_after)
        print(
            f"  round {this.number}: {' -> '.join(this.order)}; load {before} -> {after}; "
            f"others {this.foreign_cores:.2f}{flag}"
        )
    loaded = sum(this.loaded for this in rounds)
    if loaded:
        print(f"  {loaded} of {len(rounds)} rounds ran under load: compare their figures with care")

    print("\nper page type, requests/s cached | CPU ms per request cached | on a real miss:")
    systems = [name for name in rounds[0].systems if name != "nginx"]
    for name in systems:
        print(f"  {name}")
        pages = list(rounds[0].systems[name]["cached"])
        for page in pages:
            rps = across(rounds, name, lambda f, page=page: f["cached"][page]["rps"])
            cpu = across(rounds, name, lambda f, page=page: f["cached"][page]["cpu_ms"])
            miss = across(rounds, name, lambda f, page=page: f["miss"][page]["cpu_ms"])
            miss_rps = across(rounds, name, lambda f, page=page: f["miss"][page]["rps"])
            line = f"    {page:<12} {describe(rps, '', 0):>18} | {describe(cpu, '', 2):>18}"
            if miss:
                line += f" | {describe(miss, ' ms', 2)} at {describe(miss_rps, ' req/s', 0)}"
            print(line)
    nginx = [this.systems["nginx"]["rps"] for this in rounds if this.systems.get("nginx")]
    if nginx:
        print(f"  nginx, the stylesheet (Connection: close): {describe(nginx, ' req/s', 0)}")

    print("\nworker classes (this site, same settings otherwise):")
    for name in systems:
        if not name.startswith("this site"):
            continue
        cached = across(rounds, name, lambda f: f["cached"]["post"]["rps"])
        static = across(rounds, name, lambda f: f["cached"]["static file"]["rps"])
        miss = across(rounds, name, lambda f: f["miss"]["post"]["cpu_ms"])
        miss_rps = across(rounds, name, lambda f: f["miss"]["post"]["rps"])
        p99 = across(rounds, name, lambda f: f["cached"]["post"]["p99"] * 1000)
        pss = across(rounds, name, lambda f: f["pss_mb"])
        cold = across(rounds, name, lambda f: f["cold_start"])
        print(
            f"  {name}: cached post {describe(cached, ' req/s', 0)} (p99 {describe(p99, ' ms')}), "
            f"static file {describe(static, ' req/s', 0)}; miss {describe(miss, ' ms CPU', 2)} "
            f"at {describe(miss_rps, ' req/s', 0)}; PSS {describe(pss, ' MB')}; "
            f"cold start {describe(cold, ' s', 2)}"
        )

    print("\nSQL queries of a fresh worker's first / second request per page type:")
    print("  this site: " + ", ".join(
        f"{name} {counts[0]}/{counts[1]}" for name, counts in results["queries"].items()
    ))  # fmt: skip
    if results.get("peer_queries"):
        print("  bakerydemo: " + ", ".join(
            f"{name} {counts[0]}/{counts[1]}" for name, counts in results["peer_queries"].items()
        ))  # fmt: skip
    for name, (page_bytes, total) in results["transferred_bytes"].items():
        print(
            f"transferred, {name}: page {page_bytes / 1024:.1f} kB, "
            f"with CSS+JS {total / 1024:.1f} kB"
        )
    for name, scores in results.get("lighthouse", {}).items():
        print(f"lighthouse, {name}: {scores if scores else 'not measured'}")

    print("\nissue #15's table:")
    print(f"  {'figure':<58} {'target':<58} result")
    for figure, measured, target, met in targets(results):
        print(f"  {figure:<58} {target:<58} {met}")
        print(f"      measured: {measured}")


# --- The chart ------------------------------------------------------------------------------------


def chart_svg(results: dict) -> str:
    """Requests/s (cached) and CPU ms per request (on a miss; bakerydemo has no page cache, so its
    every request is one) per page type, as horizontal bars in two panels."""
    rounds: list[Round] = results["rounds"]
    ours, gthread, peer = "this site (sync)", "this site (gthread)", "bakerydemo"
    series = [(ours, "a"), (gthread, "b"), (peer, "c")]
    present = [(name, css) for name, css in series if any(name in r.systems for r in rounds)]

    def value(name: str, page: str, kind: str) -> float | None:
        if kind == "rps":
            values = across(rounds, name, lambda f: f["cached"][page]["rps"])
        elif name == peer:
            values = across(rounds, name, lambda f: f["cached"][page]["cpu_ms"])
        else:
            values = across(rounds, name, lambda f: f["miss"][page]["cpu_ms"])
        return statistics.median(values) if values else None

    pages = PAGE_TYPES
    bar, gap, group_gap = 14, 3, 18
    group = len(present) * (bar + gap) + group_gap
    width, left, panel_width = 640, 118, 400
    top = 96
    panel_height = len(pages) * group
    height = top + 2 * (panel_height + 70) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="title desc">',
        '<title id="title">make bench: requests per second and CPU per request, per page</title>',
        f'<desc id="desc">Medians of {len(rounds)} interleaved rounds on {results["machine"]}, '
        f"{results['date'][:10]}. Top: requests per second for cached pages. Bottom: milliseconds "
        "of CPU per request on a page-cache miss (bakerydemo: every request).</desc>",
        "<style>",
        'svg { color-scheme: light dark; font-family: system-ui, -apple-system, "Segoe UI", '
        'Roboto, "DejaVu Sans", sans-serif; }',
        ".h { fill: light-dark(#1d2125, #e4e2de); font-weight: 700; font-size: 20px; }",
        ".t { fill: light-dark(#1d2125, #e4e2de); font-size: 15px; }",
        ".s { fill: light-dark(#465060, #b8bfc9); font-size: 13px; }",
        ".axis { stroke: light-dark(#596270, #8b949e); stroke-width: 1; }",
        ".a { fill: light-dark(#1d5fb8, #7fb4ff); }",
        ".b { fill: light-dark(#17733c, #6fd39a); }",
        ".c { fill: light-dark(#8a5300, #f0b85a); }",
        "</style>",
        f'<text class="h" x="16" y="30">make bench, {results["date"][:10]}</text>',
        f'<text class="s" x="16" y="52">medians of {len(rounds)} interleaved rounds; '
        f"{results['machine']}</text>",
    ]
    x = 16
    for name, css in present:
        out.append(f'<rect class="{css}" x="{x}" y="66" width="12" height="12"/>')
        out.append(f'<text class="s" x="{x + 17}" y="77">{name}</text>')
        x += 40 + 7 * len(name)
    for panel, (kind, heading, unit) in enumerate(
        [("rps", "Cached pages: requests per second", "req/s"),
         ("cpu", "A page-cache miss: CPU per request", "ms")]
    ):  # fmt: skip
        y0 = top + panel * (panel_height + 70) + 24
        out.append(f'<text class="t" x="16" y="{y0 - 6}" font-weight="700">{heading}</text>')
        values = [value(n, p, kind) for n, _ in present for p in pages]
        scale = max([v for v in values if v] or [1.0])
        out.append(
            f'<line class="axis" x1="{left}" y1="{y0}" x2="{left}" y2="{y0 + panel_height}"/>'
        )
        for index, page in enumerate(pages):
            gy = y0 + index * group + 6
            out.append(f'<text class="t" x="16" y="{gy + bar + 4}">{page}</text>')
            for number, (name, css) in enumerate(present):
                figure = value(name, page, kind)
                by = gy + number * (bar + gap)
                if figure is None:
                    out.append(f'<text class="s" x="{left + 6}" y="{by + bar - 2}">-</text>')
                    continue
                length = max(panel_width * figure / scale, 1)
                label = f"{figure:.0f}" if kind == "rps" else f"{figure:.1f}"
                out.append(
                    f'<rect class="{css}" x="{left}" y="{by}" width="{length:.1f}" height="{bar}"/>'
                )
                out.append(
                    f'<text class="s" x="{left + length + 5:.1f}" y="{by + bar - 2}">'
                    f"{label} {unit}</text>"
                )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_chart(results: dict) -> None:
    CHART_SVG.write_text(chart_svg(results))
    log(f"wrote {CHART_SVG.relative_to(ROOT)}")
    chromium = os.environ.get("CHROME_PATH") or shutil.which("chromium") or ""
    if not chromium:
        log("no Chromium: the PNG beside the chart (feeds, the admin) was not redrawn")
        return
    size = re.search(r'width="(\d+)" height="(\d+)"', CHART_SVG.read_text())
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                f"--user-data-dir={profile}", "--hide-scrollbars",
                f"--window-size={size.group(1)},{size.group(2)}",
                f"--screenshot={CHART_PNG}", CHART_SVG.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )  # fmt: skip
    if result.returncode == 0 and CHART_PNG.exists():
        log(f"wrote {CHART_PNG.relative_to(ROOT)}")
    else:
        log(f"Chromium could not draw the PNG: {result.stderr.strip()[-300:]}")


# --- Page weight and Lighthouse (once) -----------------------------------------------------------


def transferred(base: str, path: str) -> tuple[int, int]:
    """Bytes on the wire for the page as a browser asks for it (gzip, br), and with its
    stylesheets and scripts added."""
    _, html, _ = fetch(base + path, {"Accept-Encoding": "identity"})
    _, compressed, _ = fetch(base + path)
    text = html.decode("utf-8", "replace")
    assets = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', text)
    assets += re.findall(r'<script[^>]+src="([^"]+)"', text)
    total = len(compressed) + sum(len(fetch(base + asset)[1]) for asset in assets)
    return len(compressed), total


def lighthouse(url: str, workdir: Path) -> dict | None:
    cli = os.environ.get("LIGHTHOUSE_CLI")
    if cli:
        command = ["node", cli]
    elif shutil.which("npx"):
        command = ["npx", "--yes", "lighthouse@12.8.2"]
    else:
        log("npx not found: skipping Lighthouse (apt-get install nodejs npm)")
        return None
    chrome = os.environ.get("CHROME_PATH") or shutil.which("chromium") or ""
    if not chrome:
        log("no Chromium: skipping Lighthouse (apt-get install chromium)")
        return None
    report = workdir / "lighthouse.json"
    report.unlink(missing_ok=True)
    flags = (
        "--headless=new --no-sandbox --disable-background-networking "
        "--disable-component-update --disable-sync --no-first-run --disable-quic"
    )
    # Lighthouse now and then loses the trace of a page load (NO_NAVSTART, "Please run
    # Lighthouse again"): a page gets LIGHTHOUSE_ATTEMPTS tries before it counts as unmeasured.
    for attempt in range(1, LIGHTHOUSE_ATTEMPTS + 1):
        result = subprocess.run(
            [
                *command, url, "--quiet", "--output=json",
                f"--output-path={report}", f"--chrome-flags={flags}",
                "--only-categories=performance,accessibility,best-practices,seo",
            ],
            env={**os.environ, "CHROME_PATH": chrome},
            capture_output=True,
            text=True,
        )  # fmt: skip
        if result.returncode == 0 and report.exists():
            break
        log(f"Lighthouse failed for {url} (try {attempt}): {result.stderr.strip()[-300:]}")
    else:
        return None
    results = json.loads(report.read_text())
    scores = {name: round(value["score"] * 100) for name, value in results["categories"].items()}
    weighted = {
        ref["id"]
        for category in results["categories"].values()
        for ref in category["auditRefs"]
        if ref.get("weight")
    }
    scores["points lost to"] = sorted(
        name
        for name in weighted
        if results["audits"][name].get("score") is not None and results["audits"][name]["score"] < 1
    )
    return scores


# --- The run --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4, help="rounds over every system (4)")
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per page (5)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--posts", type=int, default=200, help="generated posts (200)")
    parser.add_argument("--peer", type=Path, help="a bakerydemo checkout to run beside the site")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker (4)")
    chart = parser.add_mutually_exclusive_group()
    chart.add_argument("--chart", dest="chart", action="store_true", default=True,
                       help="write the docs page's chart (the default)")  # fmt: skip
    chart.add_argument("--no-chart", dest="chart", action="store_false", help="write no chart")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--lighthouse", action="store_true", help="also run Lighthouse 12.8.2")
    options = parser.parse_args()
    if options.rounds < 1 or options.duration < 1 or options.connections < 1:
        parser.error("--rounds, --duration and --connections must be at least 1")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: `apt-get install wrk` (make bench does this for you)")
    if options.peer and not options.peer.is_dir():
        parser.error(f"--peer {options.peer}: no such folder")

    workdir = Path(tempfile.mkdtemp(prefix="flightlog-bench-"))
    try:
        log("installing the production dependencies (no dev group) into a venv of its own")
        python = production_python(workdir)
        venv = workdir / "venv"
        env = flight_log_environment(
            workdir, VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
        )
        log("compiling bytecode as the image does")
        site_packages = next((venv / "lib").glob("python3*/site-packages"))
        compile_bytecode(python, site_packages, ROOT / "config", ROOT / "blog", ROOT / "pagecache")
        log("collecting static files, migrating a fresh SQLite database, importing site/")
        for command in (["collectstatic", "--noinput", "-v", "0"],
                        ["migrate", "--noinput", "-v", "0"], ["load_content"]):  # fmt: skip
            run([python, "manage.py", *command], cwd=ROOT, env=env)
        log(f"generating {options.posts} posts")
        urls = django_script(python, ROOT, env, "config.settings", "seed", str(options.posts))
        pages = {
            "home": "/",
            "blog index": urls["index"],
            "post": urls["post"],
            "docs page": urls["doc"] or "/",
            "feed": urls["index"] + "feed/rss/",
        }
        log("counting the SQL queries of a fresh worker's first request, per page type")
        # Once, as any site has been visited before: the first visit ever creates the site
        # settings row and the images' renditions.
        for path in pages.values():
            django_script(python, ROOT, env, "config.settings", "first-request", path, "cold")
        queries = {
            name: django_script(python, ROOT, env, "config.settings", "first-request", path, "warm")
            for name, path in pages.items()
        }
        command = [python, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"]
        probe = System("probe", command, ROOT, env, pages, has_page_cache=True)
        probe.start()
        probe.first_ok("/healthz")
        _, home_html, _ = fetch(probe.url + "/", {"Accept-Encoding": "identity"})
        static = re.search(rb'href="(/static/[^"]+\.css)"', home_html).group(1).decode()
        weights = {name: transferred(probe.url, path) for name, path in pages.items()}
        scores = {}
        if options.lighthouse:
            for name in ("home", "post", "docs page"):
                scores[name] = lighthouse(probe.url + pages[name], workdir)
        probe.stop()

        measured = {**pages, "static file": static}
        systems = [
            System("this site (sync)", command, ROOT, env, measured, has_page_cache=True),
            System(
                "this site (gthread)",
                [*command, "--worker-class", "gthread", "--threads", str(options.threads)],
                ROOT,
                env,
                measured,
                has_page_cache=True,
            ),
        ]
        peer_queries = None
        if options.peer:
            peer = prepare_peer(options.peer.resolve(), workdir)
            peer_command = [
                peer["python"], "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:{port}",
                "--log-level", "warning", "bakerydemo.wsgi",
            ]  # fmt: skip
            systems.append(
                System("bakerydemo", peer_command, peer["cwd"], peer["env"], peer["pages"])
            )
            log("bakerydemo: counting the SQL queries of a fresh worker's first request")
            settings = peer["env"]["DJANGO_SETTINGS_MODULE"]
            for path in peer["pages"].values():  # once before, as for the site
                django_script(
                    peer["python"], peer["cwd"], peer["env"], settings, "first-request",
                    path, "cold",
                )  # fmt: skip
            peer_queries = {
                name: django_script(
                    peer["python"],
                    peer["cwd"],
                    peer["env"],
                    settings,
                    "first-request",
                    path,
                    "cold",
                )
                for name, path in peer["pages"].items()
            }

        rounds = [
            run_round(number, systems, static, options, workdir, workdir / "static")
            for number in range(options.rounds)
        ]
        results = {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}",
            "posts": options.posts,
            "pages": pages,
            "rounds": rounds,
            "queries": queries,
            "peer_queries": peer_queries,
            "transferred_bytes": weights,
            "lighthouse": scores,
        }
        print_report(results, options)
        if options.chart:
            write_chart(results)
        if options.json:
            serialisable = {**results, "rounds": [vars(this) for this in rounds]}
            options.json.write_text(json.dumps(serialisable, indent=2, default=str))
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
