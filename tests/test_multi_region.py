"""Production in two regions, rehearsed with real parts (tests/multi_region.py): a PostgreSQL
primary and a streaming replica of it, machines in fra (primary), sjc and lax (reading the
replica) run by scripts/start, and a stand-in for Fly's proxy that honours `fly-replay`.

The tests share one rehearsal and run in this order: the last stops the replica.
"""

import subprocess
import sys
import time

import pytest

from tests import multi_region, server
from tests.fly_proxy import replay_regions
from tests.multi_region import publish, wait_until
from tests.pg_cluster import postgres_bin
from tests.server import ROOT

# One worker builds the rehearsal and runs every test on it (make's --dist loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("multi_region")]


@pytest.fixture(scope="module")
def regions(tmp_path_factory, static_root):
    if postgres_bin() is None:
        # The Dockerfile's test stage has no PostgreSQL server; .ci/run runs this on the host.
        pytest.skip("PostgreSQL server programs (initdb, pg_basebackup, pg_ctl) are not installed")
    with multi_region.rehearsal(static_root, tmp_path_factory.mktemp("regions")) as rehearsal:
        yield rehearsal


def served_in(rehearsal, since: int) -> list[tuple[str, str, str, int]]:
    """(machine region, method, path, status) of each hop the proxy made since hop `since`."""
    return [
        (region, method, path, status)
        for _, region, method, path, status in rehearsal.proxy.hops[since:]
    ]


def title_on(rehearsal, database: str, page_id: int) -> str:
    return rehearsal.sql(database, "SELECT title FROM wagtailcore_page WHERE id = %s", page_id)[0]


def test_machines_report_the_database_they_read(regions):
    assert regions.direct("fra", "/readyz").text.rstrip().endswith("region=fra database=primary")
    sjc = regions.direct("sjc", "/readyz")
    assert sjc.status == 200
    assert "region=sjc database=replica replica_lag=" in sjc.text


def test_an_editor_in_sjc_logs_in_and_publishes_and_every_step_is_replayed_to_fra(regions):
    post = regions.draft("Published from California", index=0)
    editor = regions.editor("sjc")
    since = len(regions.proxy.hops)

    editor.log_in()
    answer = publish(editor, post.pk)

    assert answer.status == 302
    assert title_on(regions, "primary", post.pk) == "Published from California"
    hops = served_in(regions, since)
    # Each request reached sjc first, which answered fly-replay without reading anything, then
    # fra served it: the login page, the login, the confirmation page and the publish itself.
    assert [hop[:3] for hop in hops[::2]] == [
        ("sjc", "GET", "/admin/login/"),
        ("sjc", "POST", "/admin/login/"),
        ("sjc", "GET", f"/admin/bulk/wagtailcore/page/publish/?id={post.pk}&next=/admin/"),
        ("sjc", "POST", f"/admin/bulk/wagtailcore/page/publish/?id={post.pk}&next=/admin/"),
    ]
    assert all(status == 409 for *_, status in hops[::2])
    assert [hop[0] for hop in hops[1::2]] == ["fra"] * 4
    assert [hop[3] for hop in hops[1::2]] == [200, 302, 200, 302]
    assert "POST /admin/login/: replayed in fra" in regions.machines["sjc"].log_text()


def test_sjc_readers_get_a_publish_once_the_replica_has_it_and_never_an_older_page(regions):
    """The replica applies commits a second late. Until it has the publish, sjc's readers get
    the page as it was; once it has it, the new one, and nothing older after that. (Had sjc read
    the generation from the primary, it would have rendered the page from the lagging replica
    under the new generation and served that stale copy until the next publish.)"""
    post = regions.draft("Read in California once the replica has it", index=1)
    # sjc's readers have the page cached (its first render may write image renditions, which is
    # replayed to fra; the replica has those a second later, and then sjc renders it itself).
    wait_until(
        lambda: regions.get("sjc", post.path).headers.get("x-cache") == "hit",
        step=0.3,
        what="sjc caching the page",
    )
    editor = regions.editor("sjc")
    editor.log_in()

    assert publish(editor, post.pk).status == 302
    reads = []
    replica_had_it = False
    new_page_since = None
    # Read until the new page has been served for longer than a poll of the generation
    # (PAGE_CACHE_POLL_SECONDS, 2 s); a stale copy stored under the new generation would never
    # give way to it.
    deadline = time.monotonic() + 60
    while new_page_since is None or time.monotonic() < new_page_since + 3:
        assert time.monotonic() < deadline, f"sjc never served the published page: {reads[-3:]}"
        page = regions.get("sjc", post.path)
        assert page.status == 200
        new = post.title in page.text
        replica_had_it = replica_had_it or title_on(regions, "replica", post.pk) == post.title
        reads.append((replica_had_it, new))
        if new and new_page_since is None:
            new_page_since = time.monotonic()
        time.sleep(0.05)

    # Readers asked while only the primary had the publish, and got the page as it was.
    assert reads[0] == (False, False)
    # Never the new page before the replica had it (sjc reads nothing else), and once sjc
    # served the new page, never the old one again.
    first_new = [new for _, new in reads].index(True)
    assert all(had for had, _ in reads[first_new:])
    assert all(new for _, new in reads[first_new:])


def test_a_write_in_sjc_meets_the_replicas_read_only_error_which_is_recognised(regions):
    """What a write that slips past the replay check gets on the real replica, through Django's
    wrapping of psycopg's errors: the error config.replay turns into a replay."""
    code = (
        "from blog.models import ContentGeneration\n"
        "from config.replay import is_read_only_error\n"
        "try:\n"
        "    ContentGeneration.objects.filter(pk=1).update(value=0)\n"
        "except Exception as error:\n"
        "    print(type(error).__module__, type(error).__name__, is_read_only_error(error))\n"
    )
    sjc = regions.machines["sjc"].env
    printed = server.manage(sjc, "shell", "--no-imports", "-c", code).stdout.strip()
    assert printed.splitlines()[-1] == "django.db.utils InternalError True"
    assert regions.sql("primary", "SELECT value FROM blog_contentgeneration")[0] > 0


def test_a_miss_in_sjc_queries_the_replica_and_never_the_primary(regions):
    page = regions.get("sjc", "/blog/?page=1")
    assert page.status == 200
    assert page.headers["x-cache"] == "miss"
    assert served_in(regions, len(regions.proxy.hops) - 1) == [("sjc", "GET", "/blog/?page=1", 200)]
    assert "sjc" in regions.connected_machines("replica")
    # After everything above (reads, an editor's replayed requests), sjc has never connected
    # to the primary: writes were replayed before they touched a database.
    assert "sjc" not in regions.connected_machines("primary")
    assert "fra" in regions.connected_machines("primary")


def test_scheduled_publishing_and_the_release_step_run_only_in_the_primary_region(regions):
    assert "scheduled publishing runs in the primary region (fra), not here (sjc)" in (
        regions.machines["sjc"].log_text()
    )
    assert "publishing scheduled pages every" in regions.machines["fra"].log_text()
    assert "publishing scheduled pages every" not in regions.machines["sjc"].log_text()
    release = subprocess.run(
        [str(ROOT / "scripts" / "release")],
        cwd=ROOT,
        env=dict(regions.machines["sjc"].env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert release.returncode == 0
    assert "this machine is in sjc, not the primary region fra" in release.stdout
    assert "migrating" not in release.stdout


def held_by(rehearsal, region: str, path: str) -> bool:
    """Whether that region's machine answered the path from its own page cache (a hit that
    was replayed to fra would say nothing about it)."""
    since = len(rehearsal.proxy.hops)
    answer = rehearsal.get(region, path)
    return answer.headers.get("x-cache") == "hit" and served_in(rehearsal, since) == [
        (region, "GET", path, 200)
    ]


def test_with_the_replica_stopped_sjc_falls_back_lax_answers_503_and_cached_pages_stay(regions):
    for region in ("sjc", "lax"):
        wait_until(
            lambda region=region: held_by(regions, region, "/blog/"),
            what=f"{region} holding /blog/",
        )

    regions.replica("stop")
    try:
        for region in ("sjc", "lax"):
            # Each worker keeps its own copy, and which worker answers is the kernel's choice:
            # a worker holding the page serves it; one that never did renders it, which gives
            # the fallback's 200 or the outage page, never a 500.
            answers = [regions.get(region, "/blog/") for _ in range(6)]
            seen = [(a.status, a.headers.get("x-cache")) for a in answers]
            assert (200, "hit") in seen, (region, seen)
            assert all(status in (200, 503) for status, _ in seen), (region, seen)

        # sjc reads from the primary while the replica is down (DATABASE_REPLICA_FALLBACK on).
        # The first request to meet the dead replica's kept connection may get the 503 page;
        # the ones after it fall back.
        misses = iter(range(2, 100))
        miss = wait_until(
            lambda: (
                (answer := regions.get("sjc", f"/blog/?page={next(misses)}")).status == 200
                and answer
            ),
            what="sjc falling back to the primary",
        )
        assert miss.headers["x-cache"] == "miss"
        assert regions.get("sjc", "/blog/?page=100").status == 200
        assert "sjc" in regions.connected_machines("primary")
        ready = regions.direct("sjc", "/readyz")
        assert ready.status == 200
        assert "database=primary replica=unavailable (OperationalError" in ready.text

        # lax has the fallback off: a page it has not cached is the 503 page, and it says so.
        outage = regions.get("lax", "/blog/?page=101")
        assert outage.status == 503
        assert "database is not answering" in outage.text
        assert regions.direct("lax", "/readyz").status == 503
    finally:
        regions.replica("start")

    ready = wait_until(
        lambda: (
            (answer := regions.direct("sjc", "/readyz")).status == 200
            and "database=replica" in answer.text
        ),
        what="sjc reading the replica again",
    )
    assert ready
    wait_until(
        lambda: regions.get("lax", "/blog/?page=102").status == 200, what="lax reading again"
    )


def test_the_test_proxy_reads_fly_replay_as_flys_docs_write_it():
    assert replay_regions("region=fra") == ["fra"]
    assert replay_regions('region="iad,ord";state=from-sjc') == ["iad", "ord"]
    assert replay_regions("instance=00bb33ff") == []


@pytest.mark.parametrize("script", ["pg-replica", "multi-region"])
def test_the_rehearsal_scripts_explain_themselves(script):
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert f"usage: scripts/{script}" in result.stdout


def test_pg_replica_refuses_a_folder_that_holds_a_replica_already(tmp_path):
    (tmp_path / "data").mkdir()
    command = [
        str(ROOT / "scripts" / "pg-replica"),
        "create",
        "--port",
        "1",
        "--dir",
        str(tmp_path),
    ]
    result = subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "already holds a replica (remove it first)" in result.stderr
