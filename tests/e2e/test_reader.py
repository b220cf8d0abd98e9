"""Reader journeys through the shipped content: posts, tags and feeds, docs, search, errors,
colour schemes, phones and code blocks."""

import re
from pathlib import Path

import feedparser
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import BLOG_INDEX, DOCS_INDEX, Sample, background, layout_widths

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True}


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_home_leads_to_the_latest_post_then_a_tag_then_the_tags_feed(page: Page):
    page.goto("/")
    latest = page.get_by_role("region", name=re.compile("^Latest from")).get_by_role("article")
    first_post = latest.first.get_by_role("heading").get_by_role("link")
    title = first_post.inner_text()
    first_post.click()
    expect(heading(page)).to_have_text(title)

    tag_link = page.get_by_role("list", name="Tags").get_by_role("link").first
    tag = tag_link.inner_text()
    tag_link.click()
    expect(heading(page)).to_have_text(f"Posts tagged “{tag}”")
    expect(page.get_by_role("main").get_by_role("link", name=title, exact=True)).to_be_visible()

    feed_link = page.get_by_role("main").get_by_role("link", name="RSS", exact=True)
    feed_url = feed_link.get_attribute("href")
    assert feed_url.endswith(f"/tags/{page.url.rstrip('/').rsplit('/', 1)[-1]}/feed/rss/")
    # The same feed is announced in the head, for feed readers given the page's address.
    announced = page.locator("head link[rel=alternate][type='application/rss+xml']")
    assert feed_url in [link.get_attribute("href") for link in announced.all()]

    response = page.request.get(feed_url)
    assert response.ok, f"{feed_url} answered {response.status}"
    assert "xml" in response.headers["content-type"]
    feed = feedparser.parse(response.body())
    assert not feed.bozo, f"{feed_url} is not a well-formed feed: {feed.bozo_exception}"
    assert tag in feed.feed.title
    assert title in [entry.title for entry in feed.entries]


def test_docs_lead_from_the_index_to_next_and_previous_pages(page: Page):
    page.goto("/")
    page.get_by_role("navigation", name="Main").locator(f"a[href='{DOCS_INDEX}']").click()
    contents = page.get_by_role("navigation", name="Contents")
    expect(contents).to_be_visible()

    start = page.locator("main a[rel=next]")
    first_title = re.sub(r"^Start reading\s*", "", start.inner_text()).strip()
    start.click()
    expect(heading(page)).to_have_text(first_title)
    first_url = page.url

    next_link = page.locator("main a[rel=next]")
    next_title = re.sub(r"^Next\s*", "", next_link.inner_text()).strip()
    next_link.click()
    expect(heading(page)).to_have_text(next_title)

    previous = page.locator("main a[rel=prev]")
    expect(previous).to_contain_text(first_title)
    previous.click()
    expect(heading(page)).to_have_text(first_title)
    assert page.url == first_url


def test_a_docs_contents_link_takes_the_reader_to_its_heading(page: Page, sample: Sample):
    page.goto(sample.docs_page_with_contents)
    entry = page.get_by_role("navigation", name="On this page").get_by_role("link").last
    anchor = entry.get_attribute("href")
    assert anchor.startswith("#")
    entry.click()

    expect(page).to_have_url(re.compile(re.escape(anchor) + "$"))
    target = page.locator(":target")
    expect(target).to_have_attribute("id", anchor[1:])
    assert target.evaluate("element => /^H[1-6]$/.test(element.tagName)")
    expect(target).to_be_in_viewport()


def test_search_finds_a_post_by_a_word_from_its_title(page: Page):
    page.goto(BLOG_INDEX)
    post = page.locator("main article h2 a").first
    title = post.inner_text()
    word = max(re.findall(r"[A-Za-z]{4,}", title), key=len)

    search = page.get_by_role("search").get_by_role("searchbox")
    search.fill(word)
    search.press("Enter")

    expect(page).to_have_url(re.compile(rf"/search/\?q={word}"))
    expect(page.get_by_role("status")).to_contain_text(f"for “{word}”")
    page.get_by_role("main").get_by_role("link", name=title, exact=True).click()
    expect(heading(page)).to_have_text(title)


def test_an_unknown_address_shows_the_not_found_page(page: Page, page_problems):
    # The browser logs the 404 of the page itself as an error; nothing else may go wrong.
    page_problems.expect(r"status of 404 .*/no-such-page-e2e/\]$")
    response = page.goto("/no-such-page-e2e/")

    assert response.status == 404
    expect(heading(page)).to_have_text("Page not found")
    expect(page).to_have_title(re.compile("^Page not found"))
    expect(page.get_by_role("main").get_by_role("link", name="home page")).to_have_attribute(
        "href", "/"
    )
    expect(page.get_by_role("main").get_by_role("search")).to_be_visible()


def test_a_dark_colour_scheme_gives_a_dark_page(page: Page, pytestconfig):
    page.emulate_media(color_scheme="light")
    page.goto("/")
    light_colour, light = background(page)
    assert light > 0.8, f"light scheme background {light_colour} is not light"

    page.emulate_media(color_scheme="dark")
    dark_colour, dark = background(page)
    output = Path(pytestconfig.getoption("--output"))
    output.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=output / "home-dark-colour-scheme.png", full_page=True)
    assert dark < 0.05, f"dark scheme background {dark_colour} is not dark"


def test_the_theme_toggle_overrides_the_system_scheme_and_is_remembered(page: Page):
    page.emulate_media(color_scheme="light")
    page.goto("/")
    toggle = page.get_by_role("button", name=re.compile("^Theme"))
    expect(toggle).to_have_text("Theme: system")

    toggle.click()
    expect(toggle).to_have_text("Theme: dark")
    assert background(page)[1] < 0.05

    page.reload()
    expect(toggle).to_have_text("Theme: dark")
    assert background(page)[1] < 0.05, "the dark choice did not survive a reload"

    page.emulate_media(color_scheme="dark")
    toggle.click()
    expect(toggle).to_have_text("Theme: light")
    assert background(page)[1] > 0.8, "light was chosen, but the page follows the dark system"

    toggle.click()
    expect(toggle).to_have_text("Theme: system")
    assert background(page)[1] < 0.05, "back on system, the page should follow the dark system"


@pytest.mark.parametrize("which", ["home", "post with code", "docs page"])
def test_a_phone_screen_never_scrolls_sideways(new_context, sample: Sample, which):
    url = {"home": "/", "post with code": sample.post_with_code}.get(
        which, sample.docs_page_with_contents
    )
    page = new_context(**PHONE).new_page()
    page.goto(url)
    widths = layout_widths(page)
    assert widths["scrollWidth"] <= widths["clientWidth"], (
        f"{url} is {widths['scrollWidth']} px wide on a {widths['clientWidth']} px phone screen"
    )


def test_the_copy_button_puts_the_code_on_the_clipboard(context, page: Page, sample, base_url):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page.goto(sample.post_with_code)
    block = page.locator("main figure:has(pre code)").first
    code = block.locator("pre code")
    text = code.text_content()
    if "language-console" in (code.get_attribute("class") or ""):
        # A shell session copies as its commands, without prompts or output.
        text = "\n".join(line[2:] for line in text.splitlines() if line.startswith("$ "))

    # Found by role alone: its name changes to "Copied" once clicked.
    button = block.get_by_role("button")
    expect(button).to_have_text("Copy")
    button.click()

    expect(button).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == text
