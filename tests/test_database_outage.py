"""A database outage, rehearsed on a real PostgreSQL server that the test stops and restarts."""

import pytest

from tests import server
from tests.pg_cluster import Cluster, postgres_bin

VIA_FLY_PROXY = {"Host": "localhost", "X-Forwarded-Proto": "https"}
FLY_CHECK = {"Host": "172.19.2.10:8000"}


# Its own PostgreSQL server whatever DATABASE_URL says: slow, and the same on every run.
pytestmark = pytest.mark.slow


@pytest.fixture
def cluster():
    if postgres_bin() is None:
        # The Dockerfile's test stage has no PostgreSQL server; .ci/run runs this on the host.
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed here")
    running = Cluster()
    running.start()
    yield running
    running.remove()


def test_outage_serves_cached_pages_explains_the_rest_and_recovers_without_restart(
    cluster, tmp_path, static_root
):
    # One worker, so the page cached below is cached in the worker that answers later.
    with server.run_server(
        tmp_path, static_root, database_url=cluster.url, WEB_CONCURRENCY="1"
    ) as site:
        # Readers have seen the home page, so it is in the page cache.
        assert server.fetch(site.url + "/", VIA_FLY_PROXY).status == 200
        assert server.fetch(site.url + "/", VIA_FLY_PROXY).status == 200

        cluster.stop()
        cluster.wait_until_down()

        cached = server.fetch(site.url + "/", VIA_FLY_PROXY)
        assert cached.status == 200
        assert cached.headers["x-cache"] == "hit"
        assert "Flight Log" in cached.text

        uncached = server.fetch(site.url + "/?page=2", VIA_FLY_PROXY)
        assert uncached.status == 503
        assert uncached.headers["retry-after"] == "30"
        assert "database is not answering" in uncached.text

        assert server.fetch(site.url + "/readyz", FLY_CHECK).status == 503
        assert server.fetch(site.url + "/healthz", FLY_CHECK).status == 200

        cluster.start()
        assert server.fetch(site.url + "/readyz", FLY_CHECK).status == 200
        recovered = server.fetch(site.url + "/?page=2", VIA_FLY_PROXY)
        assert recovered.status == 200
