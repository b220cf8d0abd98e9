"""Production in two regions, rehearsed here with real parts, for tests and `make multi-region`.

A PostgreSQL primary (a throwaway cluster, so that replication can be allowed in its pg_hba.conf
without touching anyone else's server) and a real streaming replica of it on another port
(scripts/pg-replica, pg_basebackup). Machines run scripts/start exactly as the image's command
runs it: `fra` (FLY_REGION=fra, the primary region) on the primary; `sjc` reading the replica;
`lax`, like sjc but with DATABASE_REPLICA_FALLBACK=0. In front of them, the stand-in for Fly's
proxy that honours `fly-replay` (tests/fly_proxy.py), with one edge address per region.

Each machine names itself to PostgreSQL (application_name=flightlog-<region>), so a test can ask
either server which machines are connected to it.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from tests import server
from tests.fly_proxy import FlyProxy, Machine
from tests.latency import DelayedLink
from tests.pg_cluster import Cluster
from tests.replicated_site import (
    Editor,
    release_with_editor,
    request,
    running_site,
    site_env,
)
from tests.server import ROOT

PRIMARY_REGION = "fra"
MACHINE_IDS = {"fra": "148ed193b95e89", "sjc": "3d8d9930b32189", "lax": "e784079b4c3d38"}
# Commits reach the replica this much later than the primary: a replica that lags, as one an
# ocean away does, so the tests see the moments when the primary has a change and it does not.
APPLY_DELAY_MS = 1000


def reader_path(url_path: str) -> str:
    """A page's address for readers: Wagtail's url_path less the site root's segment."""
    rest = url_path.strip("/").partition("/")[2]
    return f"/{rest}/" if rest else "/"


@dataclass
class Rehearsal:
    primary: Cluster
    replica_url: str
    replica_dir: Path
    machines: dict
    proxy: FlyProxy
    fra_env: dict

    def get(self, region: str, path: str, cookies: dict | None = None) -> server.Response:
        """A reader near `region`: through that region's edge of the proxy."""
        return request(self.proxy.edge(region), "GET", path, cookies=cookies)

    def direct(self, region: str, path: str) -> server.Response:
        """Straight to a machine, as Fly's health checks come (never replayed)."""
        return server.fetch(self.machines[region].url + path, {"Host": "172.19.2.10:8000"})

    def editor(self, region: str) -> Editor:
        """An editor whose browser reaches Fly at this region's edge."""
        return Editor(SimpleNamespace(url=self.proxy.edge(region)))

    def sql(self, database: str, query: str, *params):
        """One row from the primary's or the replica's database (`primary` or `replica`)."""
        import psycopg

        url = self.primary.url if database == "primary" else self.replica_url
        with psycopg.connect(url, autocommit=True) as connection:
            return connection.execute(query, params).fetchone()

    def connected_machines(self, database: str) -> set[str]:
        """Which machines hold a connection to this database server."""
        import psycopg

        url = self.primary.url if database == "primary" else self.replica_url
        with psycopg.connect(url, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT DISTINCT application_name FROM pg_stat_activity"
                " WHERE application_name LIKE 'flightlog-%%'"
            ).fetchall()
        return {name.removeprefix("flightlog-") for (name,) in rows}

    def draft(self, title: str, index: int = 0) -> SimpleNamespace:
        """An editor's draft of a post with a new title, saved on the primary (not published)."""
        code = (
            "from blog.models import BlogPage\n"
            f"post = BlogPage.objects.live().order_by('pk')[{index}]\n"
            f"post.title = {title!r}\n"
            "post.save_revision()\n"
            "print(post.pk, post.url_path)\n"
        )
        printed = server.manage(self.fra_env, "shell", "--no-imports", "-c", code).stdout
        out = printed.strip().splitlines()[-1].split()
        return SimpleNamespace(pk=int(out[0]), path=reader_path(out[1]), title=title)

    def replica(self, action: str) -> None:
        replica_tool(action, "--dir", str(self.replica_dir))


def replica_tool(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pg-replica"), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"scripts/pg-replica {args[0]} failed:\n{result.stderr}")


def on_port(primary: Cluster, port: int) -> str:
    """The primary's URL, but for a server on `port` (its replica, or a link to it)."""
    return primary.url.replace(f":{primary.port}/", f":{port}/")


def database_url(base: str, region: str) -> str:
    return f"{base}?application_name=flightlog-{region}"


def publish(editor: Editor, page_id: int) -> server.Response:
    """The admin's bulk Publish action on one page, as an editor confirms it."""
    path = f"/admin/bulk/wagtailcore/page/publish/?id={page_id}&next=/admin/"
    token = editor.csrf_token(path)
    return editor.request("POST", path, {"csrfmiddlewaretoken": token})


def machine_env(work: Path, static_root: Path, region: str, **extra: str) -> dict[str, str]:
    data_dir = work / region
    data_dir.mkdir(parents=True, exist_ok=True)
    return site_env(
        data_dir,
        static_root,
        # One folder for every machine's uploads and image renditions: what the Tigris bucket
        # is on Fly (a machine's own disk would not have the renditions another one made).
        MEDIA_ROOT=str(work / "bucket"),
        FLY_REGION=region,
        PRIMARY_REGION=PRIMARY_REGION,
        FLY_MACHINE_ID=MACHINE_IDS[region],
        WEB_CONCURRENCY="1",
        # The loop starts with a run; an hour keeps it out of the way of what tests publish.
        PUBLISH_SCHEDULED_INTERVAL="3600",
        **extra,
    )


@contextlib.contextmanager
def rehearsal(
    static_root: Path,
    work: Path,
    edge_ports: dict[str, int] | None = None,
    apply_delay_ms: int = APPLY_DELAY_MS,
    say=lambda text: None,
    distance_ms: float = 0,
    **machine_extra: str,
):
    """Primary, replica, the three machines and the proxy, until the block ends; `machine_extra`
    goes into every machine's environment.

    `distance_ms` puts fra that far (one way) from sjc and lax, which are close to each other
    (tests/latency.py): the proxy's hops between them wait, and so does every byte between the
    sjc and lax machines and the primary database, which is in fra (the replica is beside them).
    """
    say("starting a PostgreSQL primary")
    primary = Cluster()
    primary.start()
    replica_dir = Path(tempfile.mkdtemp(prefix="flightlog-replica-"))
    replica_dir.rmdir()
    far_link = None
    try:
        fra_env = machine_env(
            work, static_root, "fra", DATABASE_URL=database_url(primary.url, "fra"), **machine_extra
        )
        say("migrating and importing the content on the primary (scripts/release)")
        release_with_editor(fra_env)
        say("making a streaming replica of it (scripts/pg-replica create)")
        replica_port = server.free_port()
        replica_tool(
            "create",
            "--primary-port",
            str(primary.port),
            "--port",
            str(replica_port),
            "--dir",
            str(replica_dir),
            "--apply-delay-ms",
            str(apply_delay_ms),
        )
        replica_url = on_port(primary, replica_port)
        # What sjc and lax reach the primary through: across the distance, or directly.
        far_primary_url = primary.url
        if distance_ms:
            far_link = DelayedLink(primary.port, distance_ms).start()
            far_primary_url = on_port(primary, far_link.port)
        outside = {
            region: machine_env(
                work,
                static_root,
                region,
                DATABASE_URL=database_url(far_primary_url, region),
                DATABASE_REPLICA_URL=database_url(replica_url, region),
                **({"DATABASE_REPLICA_FALLBACK": "0"} if region == "lax" else {}),
                **machine_extra,
            )
            for region in ("sjc", "lax")
        }
        say("starting the machines fra, sjc and lax (scripts/start)")
        with (
            running_site(fra_env, work / "fra.log", ready=False) as fra,
            running_site(outside["sjc"], work / "sjc.log", ready=False) as sjc,
            running_site(outside["lax"], work / "lax.log", ready=False) as lax,
        ):
            for site in (fra, sjc, lax):
                site.wait_until_ready()
            machines = {"fra": fra, "sjc": sjc, "lax": lax}
            proxy = FlyProxy(
                [
                    Machine(region, site.url, MACHINE_IDS[region])
                    for region, site in machines.items()
                ],
                one_way_ms=lambda a, b: distance_ms if PRIMARY_REGION in (a, b) else 0,
            )
            with proxy.start(edge_ports):
                yield Rehearsal(primary, replica_url, replica_dir, machines, proxy, fra_env)
    finally:
        if far_link is not None:
            far_link.close()
        with contextlib.suppress(RuntimeError):
            replica_tool("remove", "--dir", str(replica_dir))
        primary.remove()


def wait_until(condition, timeout: float = 30.0, step: float = 0.1, what: str = "the condition"):
    """Poll `condition` until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f"{what} did not hold within {timeout} s")
