"""The index of what an end-to-end run recorded: test-results/index.html links each test's video,
trace and screenshots, and on GitHub Actions the job summary lists the tests that failed.

pytest-playwright writes each test's files into a folder of its own under --output; the index is
how a reader of the pipeline's artifact finds the recording of one test among them.
"""

import html
from dataclasses import dataclass, field
from pathlib import Path

KINDS = {".webm": "video", ".zip": "trace", ".png": "screenshot"}


@dataclass
class Recording:
    nodeid: str
    folder: Path
    outcome: str = "passed"
    files: list[Path] = field(default_factory=list)


def collect(records: list[Recording]) -> list[Recording]:
    """The records whose folder holds something, with their files (videos first)."""
    kept = []
    for record in records:
        if not record.folder.is_dir():
            continue
        files = sorted(
            (path for path in record.folder.iterdir() if path.suffix in KINDS),
            key=lambda path: (list(KINDS).index(path.suffix), path.name),
        )
        if files:
            kept.append(Recording(record.nodeid, record.folder, record.outcome, files))
    return kept


def write_index(output: Path, records: list[Recording], title: str) -> Path:
    """Write output/index.html: one row per test with links to its files, failures first."""
    rows = []
    ordered = sorted(records, key=lambda record: (record.outcome == "passed", record.nodeid))
    for record in ordered:
        links = " · ".join(
            f'<a href="{html.escape(path.relative_to(output).as_posix())}">'
            f"{KINDS[path.suffix]} ({path.stat().st_size // 1024} kB)</a>"
            for path in record.files
        )
        rows.append(
            f"<tr><td>{html.escape(record.outcome)}</td>"
            f"<td>{html.escape(record.nodeid)}</td><td>{links}</td></tr>"
        )
    # The pages as readers see them (tests/e2e/test_screenshots.py), at each width and theme.
    shots = sorted((output / "screenshots").glob("*.png"))
    gallery = (
        "<h2>Screenshots</h2>\n<p>Home, a post, a docs page and search, at 1280 and 390 px in"
        " the light and the dark theme.</p>\n<ul>\n"
        + "\n".join(
            f'<li><a href="{html.escape(path.relative_to(output).as_posix())}">'
            f"{html.escape(path.stem)}</a></li>"
            for path in shots
        )
        + "\n</ul>\n"
        if shots
        else ""
    )
    index = output / "index.html"
    index.write_text(
        "<!DOCTYPE html>\n"
        f'<html lang="en-GB"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        "</head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        "<p>Each test's video, its trace (open it with <code>uv run playwright show-trace"
        " FILE</code> or at trace.playwright.dev) and its screenshots.</p>\n"
        "<table><thead><tr><th>outcome</th><th>test</th><th>files</th></tr></thead><tbody>\n"
        + "\n".join(rows)
        + "\n</tbody></table>\n"
        + gallery
        + "</body></html>\n"
    )
    return index


def job_summary(output: Path, records: list[Recording]) -> str:
    """Markdown for GitHub's job summary: where the recordings are, and each failure's files."""
    failed = [record for record in records if record.outcome != "passed"]
    videos = sum(1 for record in records for path in record.files if path.suffix == ".webm")
    lines = [
        "### End-to-end recordings",
        "",
        f"{videos} videos of {len(records)} tests are in this run's artifact (the "
        "`e2e-results-<commit>` file under **Artifacts** on the run's summary page): open "
        "`index.html` in it for a link to each.",
    ]
    if failed:
        lines += ["", "| failed test | files in the artifact |", "| --- | --- |"]
        for record in failed:
            files = ", ".join(f"`{path.relative_to(output).as_posix()}`" for path in record.files)
            lines.append(f"| `{record.nodeid}` | {files} |")
    return "\n".join(lines) + "\n"
