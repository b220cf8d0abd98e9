"""The index of a run's recordings (no browser needed): every test's video is linked, failures
come first, and GitHub's job summary names each failure's files."""

from tests.e2e.artifacts import Recording, collect, job_summary, write_index


def recorded(output, name, *files, outcome="passed"):
    folder = output / name
    folder.mkdir()
    for file in files:
        (folder / file).write_bytes(b"x" * 2048)
    return Recording(f"tests/e2e/test_x.py::{name}", folder, outcome)


def test_the_index_links_each_tests_files_failures_first(tmp_path):
    records = collect(
        [
            recorded(tmp_path, "test_a", "video.webm"),
            recorded(
                tmp_path, "test_b", "trace.zip", "video.webm", "test-failed-1.png", outcome="failed"
            ),
            Recording("tests/e2e/test_x.py::test_no_browser", tmp_path / "absent"),
        ]
    )

    html = write_index(tmp_path, records, "Recordings").read_text()

    assert html.index("test_b") < html.index("test_a")
    assert '<a href="test_b/video.webm">video (2 kB)</a>' in html
    assert '<a href="test_b/trace.zip">trace (2 kB)</a>' in html
    assert '<a href="test_b/test-failed-1.png">screenshot (2 kB)</a>' in html
    assert "test_no_browser" not in html


def test_the_index_shows_the_runs_screenshots_of_the_pages(tmp_path):
    assert "Screenshots" not in write_index(tmp_path, [], "Recordings").read_text()
    (tmp_path / "screenshots").mkdir()
    for name in ("home-390-dark", "home-1280-light"):
        (tmp_path / "screenshots" / f"{name}.png").write_bytes(b"\x89PNG")

    html = write_index(tmp_path, [], "Recordings").read_text()

    assert '<a href="screenshots/home-1280-light.png">home-1280-light</a>' in html
    assert '<a href="screenshots/home-390-dark.png">home-390-dark</a>' in html


def test_the_job_summary_counts_videos_and_lists_failures(tmp_path):
    records = collect(
        [
            recorded(tmp_path, "test_a", "video.webm"),
            recorded(tmp_path, "test_b", "video.webm", "trace.zip", outcome="failed"),
        ]
    )

    summary = job_summary(tmp_path, records)

    assert "2 videos of 2 tests" in summary
    assert "| `tests/e2e/test_x.py::test_b` | `test_b/video.webm`, `test_b/trace.zip` |" in summary
    assert "test_a`" not in summary
