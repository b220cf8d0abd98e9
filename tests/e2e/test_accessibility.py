"""Accessibility: axe-core finds no serious or critical problems on each kind of reader page."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.e2e.helpers import BLOG_INDEX, Sample

AXE = Axe()
BLOCKING_IMPACTS = {"serious", "critical"}
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
    violations = [
        violation
        for violation in AXE.run(page).response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]
    assert not violations, (
        f"axe found serious or critical problems on {page.url}:\n{describe(violations)}"
    )


def address(which: str, sample: Sample) -> str:
    return {
        "home": "/",
        "home, dark scheme": "/",
        "blog index": BLOG_INDEX,
        "post": sample.post_with_code,
        "docs page": sample.docs_page_with_contents,
        "search results": f"/search/?q={sample.search_word}",
        "not found": "/no-such-page-e2e/",
    }[which]


@pytest.mark.parametrize(
    "which",
    [
        "home",
        "home, dark scheme",
        "blog index",
        "post",
        "docs page",
        "search results",
        "not found",
    ],
)
def test_no_serious_accessibility_problems(page: Page, sample: Sample, page_problems, which):
    if which == "not found":
        page_problems.expect(r"status of 404 .*/no-such-page-e2e/\]$")
    if "dark" in which:
        page.emulate_media(color_scheme="dark")
    page.goto(address(which, sample))
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
