"""The editor journey (tests/e2e/test_editor.py) in a browser whose requests reach Fly in sjc.

The site is the two-region rehearsal (tests/multi_region.py): the browser talks to the sjc
address of the stand-in for Fly's proxy, whose machine reads a streaming replica and answers
everything the admin does with `fly-replay: region=fra`; the proxy replays each of those requests
to the fra machine, on the primary database. Readers' checks go through sjc too, so the journey
also shows a publish reaching sjc's readers once the replica has it.
"""

from types import SimpleNamespace

import pytest

from tests import multi_region, server
from tests.e2e.conftest import Target
from tests.e2e.helpers import video_recording_problem
from tests.e2e.test_editor import (  # noqa: F401 (the journey's fixtures, for the journey below)
    admin,
    editor,
    post,
    test_an_editor_writes_publishes_edits_unpublishes_and_deletes_a_post,
)
from tests.pg_cluster import postgres_bin
from tests.replicated_site import EDITOR

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def regions(tmp_path_factory, static_root, pytestconfig):
    if pytestconfig.getoption("base_url"):
        # Against a deployed site (QA, or the image in pipeline-local) the journey above has
        # run already; this one needs the two-region rehearsal of this checkout.
        pytest.skip("runs against its own two-region rehearsal, not BASE_URL")
    if postgres_bin() is None:
        pytest.skip("PostgreSQL server programs (initdb, pg_basebackup, pg_ctl) are not installed")
    edges = {region: server.free_port() for region in ("fra", "sjc", "lax")}
    # The browser speaks plain HTTP to the proxy, which tells the machines it was HTTPS (as Fly's
    # does): the admin's forms come from an origin to trust, and localhost gets no HSTS.
    browser = {
        "CSRF_TRUSTED_ORIGINS": ",".join(f"http://localhost:{port}" for port in edges.values()),
        "SECURE_HSTS_SECONDS": "0",
    }
    work = tmp_path_factory.mktemp("regions-e2e")
    with multi_region.rehearsal(static_root, work, edges, **browser) as rehearsal:
        yield rehearsal


@pytest.fixture(scope="module")
def target(regions) -> Target:
    # `local`: leftovers the admin could not delete are deleted on the primary (fra's settings).
    return Target(
        regions.proxy.edge("sjc").replace("127.0.0.1", "localhost"),
        True,
        "admin",
        *EDITOR,
        writes_allowed=True,
        local_server=SimpleNamespace(env=regions.fra_env),
    )


@pytest.fixture(scope="module")
def base_url(target):
    return target.url


@pytest.fixture(scope="module")
def browser_context_args(pytestconfig, _pw_artifacts_folder, base_url, browser):
    args = {"base_url": base_url, "locale": "en-GB"}
    if pytestconfig.getoption("--video") in ("on", "retain-on-failure"):
        video = {"record_video_dir": _pw_artifacts_folder.name}
        # As the suite's own contexts (tests/e2e/conftest.py): no video where it cannot record.
        if not video_recording_problem(lambda: browser.new_context(**video)):
            args.update(video)
    return args


def test_the_admin_was_served_by_fra_through_sjc(regions, browser_name):
    """Runs after the journey: every admin request reached sjc first and fra served it.

    `browser_name` (pytest-playwright's parameter) keeps this next to the journey: pytest
    groups the tests of one browser together, and a test without it would run after every
    other module, on a second rehearsal that has seen no admin request."""
    admin_hops = [hop for hop in regions.proxy.hops if hop[3].startswith("/admin/")]
    assert admin_hops, "the journey made no admin request"
    assert {hop[0] for hop in admin_hops} == {"sjc"}
    # The sjc machine answered each one with fly-replay (409); fra served every one.
    assert {hop[4] for hop in admin_hops if hop[1] == "sjc"} == {409}
    assert {hop[1] for hop in admin_hops if hop[4] != 409} == {"fra"}
    assert "sjc" not in regions.connected_machines("primary")
