"""Accessibility: axe-core finds no problem of any impact on each kind of reader page."""

import functools
import os
import shutil
import subprocess
import tarfile
import tempfile
import warnings
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.e2e.helpers import BLOG_INDEX, Sample

ROOT = Path(__file__).resolve().parents[2]
# Newer than the axe-core axe-playwright-python bundles (4.12.1), which misses problems 4.14
# finds (two search landmarks with one name).
AXE_CORE_VERSION = "4.14.1"


@functools.cache
def axe_engine() -> Axe:
    """axe-core at AXE_CORE_VERSION: AXE_CORE_JS when set, else fetched once with npm into
    .tools/; without npm, the older copy axe-playwright-python bundles, with a warning."""
    if os.environ.get("AXE_CORE_JS"):
        return Axe.from_file(os.environ["AXE_CORE_JS"])
    script = ROOT / ".tools" / f"axe-core-{AXE_CORE_VERSION}" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            warnings.warn(
                f"npm not found: axe-core {AXE_CORE_VERSION} could not be fetched, so the "
                "older axe-core bundled with axe-playwright-python checks the pages",
                stacklevel=2,
            )
            return Axe()
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run(
                [npm, "pack", "--silent", f"axe-core@{AXE_CORE_VERSION}"],
                cwd=folder,
                check=True,
                capture_output=True,
            )
            with tarfile.open(next(Path(folder).glob("axe-core-*.tgz"))) as archive:
                source = archive.extractfile("package/axe.min.js")
                script.parent.mkdir(parents=True, exist_ok=True)
                script.write_bytes(source.read())
    return Axe.from_file(script)


# A transparent 1x1 GIF: an image with nothing to describe, but no alt text to say so.
BLANK_GIF = "data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw=="


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"][:5]:
            lines.append(f"  - {' '.join(map(str, node['target']))}")
            lines.extend(f"      {line}" for line in node["failureSummary"].splitlines())
        if len(violation["nodes"]) > 5:
            lines.append(f"  - and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    violations = axe_engine().run(page).response["violations"]
    assert not violations, f"axe found problems on {page.url}:\n{describe(violations)}"


def address(page: Page, which: str, sample: Sample) -> str:
    """The URL of the kind of page named, found by browsing where the content decides it."""
    fixed = {
        "home": "/",
        "blog index": BLOG_INDEX,
        "blog index, second page": f"{BLOG_INDEX}?page=2",
        "post": sample.post_with_code,
        "tags": f"{BLOG_INDEX}tags/",
        "docs index": "/docs/",
        "docs page": sample.docs_page_with_contents,
        "search results": f"/search/?q={sample.search_word}",
        "search, nothing found": "/search/?q=zeppelinless",
        "not found": "/no-such-page-e2e/",
    }
    kind = which.removesuffix(", dark scheme")
    if kind in fixed:
        return fixed[kind]
    if kind == "tag page":
        page.goto(f"{BLOG_INDEX}tags/")
        return page.locator("main a[href*='/tags/']").first.get_attribute("href")
    # "year archive": the newest post's year (the index links years only when there are two).
    page.goto(BLOG_INDEX)
    year = page.locator("main article time").first.get_attribute("datetime")[:4]
    return f"{BLOG_INDEX}{year}/"


PAGE_KINDS = [
    "home",
    "blog index",
    "blog index, second page",
    "post",
    "tags",
    "tag page",
    "year archive",
    "docs index",
    "docs page",
    "search results",
    "search, nothing found",
    "not found",
]


@pytest.mark.parametrize(
    "which", [*PAGE_KINDS, *(f"{kind}, dark scheme" for kind in ("home", "post", "docs page"))]
)
def test_no_accessibility_problems(page: Page, sample: Sample, page_problems, which):
    if which == "not found":
        page_problems.expect(r"status of 404 .*/no-such-page-e2e/\]$")
    if "dark" in which:
        page.emulate_media(color_scheme="dark")
    page.goto(address(page, which, sample))
    assert_accessible(page)


def test_the_check_fails_on_an_image_without_alt_text(page: Page):
    page.goto("/")
    assert_accessible(page)
    page.evaluate(
        """(source) => {
          const image = document.createElement("img");
          image.id = "e2e-missing-alt";
          image.src = source;
          image.width = image.height = 24;
          document.querySelector("main").append(image);
        }""",
        BLANK_GIF,
    )

    with pytest.raises(AssertionError, match=r"image-alt \(critical\)") as failure:
        assert_accessible(page)
    assert "- #e2e-missing-alt" in str(failure.value), "the report should point at the image"
