"""`make screenshots`: the home page, a post, a docs page and search results at a desktop and a
phone width, in the light and the dark theme, saved to test-results/screenshots/.

Part of every end-to-end run (make e2e, the pipeline's e2e job against QA), so each run's
test-results/ holds them and its index.html links them; `make screenshots` takes only these. The
pages are the e2e suite's sample pages, so the shots follow the shipped content.
"""

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.e2e.helpers import Sample

WIDTHS = {"desktop": 1280, "phone": 390}
THEMES = ("light", "dark")
PAGES = ("home", "post", "docs", "search")

# Lazy images below the fold would be blank in a full-page shot: load them all first.
LOAD_EVERY_IMAGE = """
async () => {
  const images = [...document.images];
  images.forEach((image) => { image.loading = "eager"; });
  await Promise.all(images.map((image) => image.decode().catch(() => null)));
}
"""


def address(which: str, sample: Sample) -> str:
    return {
        "home": "/",
        "post": sample.post_with_code,
        "docs": sample.docs_page_with_contents,
        "search": f"/search/?q={sample.search_word}",
    }[which]


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("which", PAGES)
def test_screenshot(browser: Browser, base_url, sample, pytestconfig, which, width, theme):
    folder = Path(pytestconfig.getoption("--output")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        base_url=base_url,
        viewport={"width": WIDTHS[width], "height": 900},
        color_scheme=theme,
        locale="en-GB",
    )
    try:
        page = context.new_page()
        response = page.goto(address(which, sample))
        assert response is not None
        assert response.ok, f"{which} answered {response.status}"
        page.evaluate(LOAD_EVERY_IMAGE)
        path = folder / f"{which}-{WIDTHS[width]}-{theme}.png"
        page.screenshot(path=path, full_page=True)
        assert path.stat().st_size > 0
    finally:
        context.close()
