"""scripts/bench: its verdicts on the issue's targets, its flag on loaded rounds and its chart
(the measuring itself is what `make bench` is for)."""

import re
import subprocess
import sys

import pytest

from tests.server import ROOT

SCRIPT = ROOT / "scripts" / "bench"


@pytest.fixture(scope="module")
def bench():
    """scripts/lib/bench.py, imported as scripts/bench and scripts/soak import it."""
    sys.path.insert(0, str(ROOT / "scripts" / "lib"))
    try:
        import bench as module
    finally:
        sys.path.remove(str(ROOT / "scripts" / "lib"))
    return module


def page(rps=1000.0, cpu_ms=1.0, p99=0.01):
    return {"rps": rps, "cpu_ms": cpu_ms, "p99": p99, "requests": 5000, "errors": 0}


def system(bench, *, miss_ms, cold, pss, post_rps, static_rps, page_cache=True):
    cached = {name: page() for name in bench.PAGE_TYPES}
    cached["post"] = page(rps=post_rps, cpu_ms=0.5 if page_cache else miss_ms)
    if page_cache:
        cached["static file"] = page(rps=static_rps)
    return {
        "cached": cached,
        "miss": {name: page(cpu_ms=miss_ms) for name in bench.PAGE_TYPES} if page_cache else {},
        "cold_start": cold,
        "pss_mb": pss,
        "requests_before_memory": 6000,
        "workers": 2,
    }


def results(bench, rounds, first_queries=4):
    return {
        "date": "2026-12-02T20:00:00+00:00",
        "machine": "x86_64, 2 cores, Python 3.13.0",
        "posts": 200,
        "rounds": rounds,
        "queries": {name: [first_queries, first_queries] for name in bench.PAGE_TYPES},
        "peer_queries": {"post": [30, 22]},
        "transferred_bytes": {},
    }


def a_round(bench, number, ours, peer, nginx_rps=4000.0, foreign=0.0):
    this = bench.Round(number=number, order=["a"], load_before=(0.1, 0.1, 0.1))
    this.systems = {
        "this site (sync)": ours,
        "bakerydemo": peer,
        "nginx": {"rps": nginx_rps},
    }
    this.foreign_cores = foreign
    return this


def verdicts(bench, figures) -> dict[str, str]:
    return {figure: met for figure, _, _, met in bench.targets(figures)}


def test_the_help_names_every_option():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=True
    )
    for option in ("--rounds", "--duration", "--peer", "--no-chart", "--json"):
        assert option in result.stdout


def test_a_peer_that_is_not_a_folder_is_a_usage_error(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--peer", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
    )
    if "wrk is not installed" in result.stderr:
        pytest.skip("wrk is checked first")
    assert result.returncode == 2
    assert "no such folder" in result.stderr


@pytest.mark.slow
def test_the_site_is_measured_with_the_production_dependencies_only(bench, tmp_path):
    """As the image has them (uv sync --no-dev): no test tool, nothing only they bring."""
    python = bench.production_python(tmp_path)
    code = (
        "import importlib.util as u, django, wagtail, gunicorn, brotli\n"
        "print([m for m in ('pytest', 'playwright', 'jinja2', 'soupsieve') if u.find_spec(m)])"
    )
    result = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]"]


def test_every_target_is_met_by_figures_that_meet_it(bench):
    ours = system(bench, miss_ms=6, cold=0.5, pss=130, post_rps=2200, static_rps=2000)
    peer = system(bench, miss_ms=30, cold=1.0, pss=170, post_rps=20, static_rps=0, page_cache=False)
    figures = results(bench, [a_round(bench, 1, ours, peer), a_round(bench, 2, ours, peer)])
    assert set(verdicts(bench, figures).values()) == {"met"}


def test_each_target_is_missed_on_its_own_figure(bench):
    peer = system(bench, miss_ms=30, cold=1.0, pss=170, post_rps=20, static_rps=0, page_cache=False)
    good = {"miss_ms": 6, "cold": 0.5, "pss": 130, "post_rps": 2200, "static_rps": 2000}
    for change, figure in [
        ({"miss_ms": 8}, "uncached post (a real miss), CPU per request"),
        ({"cold": 0.7}, "cold start to the first 200 on a post"),
        ({"pss": 150}, "total PSS, master + 2 workers, after 5,000+ requests"),
    ]:
        ours = system(bench, **{**good, **change})
        found = verdicts(bench, results(bench, [a_round(bench, 1, ours, peer)]))
        assert found[figure] == "NOT MET", change
        assert list(found.values()).count("NOT MET") == 1, change
    # The cached post must beat the static file in every round, not only in the median.
    slow = system(bench, **{**good, "post_rps": 1900})
    fast = system(bench, **good)
    rounds = [a_round(bench, 1, fast, peer), a_round(bench, 2, slow, peer)]
    rounds.append(a_round(bench, 3, fast, peer))
    assert verdicts(bench, results(bench, rounds))["cached post, requests/s"] == "NOT MET"
    too_many = results(bench, [a_round(bench, 1, fast, peer)], first_queries=7)
    assert verdicts(bench, too_many)["first request's queries, worst page type"] == "NOT MET"


def test_a_ratio_to_bakerydemo_counts_too(bench):
    ours = system(bench, miss_ms=6, cold=0.5, pss=130, post_rps=2200, static_rps=2000)
    # bakerydemo renders its post in 20 ms: 6 ms is 0.3x, over the 0.25x asked for.
    peer = system(bench, miss_ms=20, cold=1.0, pss=170, post_rps=20, static_rps=0, page_cache=False)
    found = verdicts(bench, results(bench, [a_round(bench, 1, ours, peer)]))
    assert found["uncached post (a real miss), CPU per request"] == "NOT MET"


def test_a_round_where_other_processes_took_cpu_is_flagged(bench):
    assert not bench.Round(1, [], (0, 0, 0), foreign_cores=0.1).loaded
    assert bench.Round(1, [], (0, 0, 0), foreign_cores=0.9).loaded


def test_the_chart_is_a_themed_drawing_without_script(bench):
    ours = system(bench, miss_ms=6, cold=0.5, pss=130, post_rps=2200, static_rps=2000)
    peer = system(bench, miss_ms=30, cold=1.0, pss=170, post_rps=20, static_rps=0, page_cache=False)
    svg = bench.chart_svg(results(bench, [a_round(bench, 1, ours, peer)]))
    # What tests/test_diagrams.py asks of every diagram the site shows.
    assert "light-dark(" in svg
    assert "color-scheme: light dark" in svg
    assert "<title" in svg
    assert "<script" not in svg.lower()
    assert not re.search(r"\son\w+=", svg)
    for name in ("this site (sync)", "bakerydemo", *bench.PAGE_TYPES):
        assert f">{name}<" in svg
    assert ">2200 req/s<" in svg
    assert ">6.0 ms<" in svg
