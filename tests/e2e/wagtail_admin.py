"""Drives the Wagtail 8 admin the way an editor does, for the editor journey: log in, build a post
from StreamField blocks, preview, publish, edit, unpublish and delete it."""

import re

from playwright.sync_api import BrowserContext, Page, expect

# Wagtail's editor takes a snapshot of the form a moment after loading and only notices (and
# autosaves) edits made after it, announcing the snapshot with this event. A person never types
# that fast; a test must wait for it.
EDITOR_READY_LISTENER = """
document.addEventListener("w-unsaved:watch-edits", () => { window.e2eEditorReady = true; });
"""
EDIT_URL = re.compile(r"/pages/(\d+)/edit/")


class WagtailAdmin:
    """One editor's session in the admin at `root` (the admin's URL, ending in a slash)."""

    def __init__(self, context: BrowserContext, root: str):
        self.context = context
        self.root = root
        context.add_init_script(EDITOR_READY_LISTENER)
        self.page: Page = context.new_page()

    def log_in(self, username: str, password: str) -> None:
        page = self.page
        page.goto(self.root + "login/")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(self.root)

    def page_id(self, path: str) -> int:
        """The id of the page at `path` on the site, as the admin's own API reports it."""
        response = self.context.request.get(
            f"{self.root}api/main/pages/find/?html_path={path}", max_redirects=0
        )
        match = re.search(r"/pages/(\d+)/", response.headers.get("location", ""))
        assert match, f"the admin API found no page at {path} (HTTP {response.status})"
        return int(match.group(1))

    def child_pages(self, parent_id: int) -> list[dict]:
        """Every child of a page, drafts included: {"id": ..., "title": ...} each."""
        children, offset = [], 0
        while True:
            response = self.context.request.get(
                f"{self.root}api/main/pages/?child_of={parent_id}&limit=20&offset={offset}"
            )
            assert response.ok, f"listing the children of page {parent_id}: {response.status}"
            items = response.json()["items"]
            children += [{"id": item["id"], "title": item["title"]} for item in items]
            if len(items) < 20:
                return children
            offset += 20

    def wait_until_editor_ready(self) -> None:
        self.page.wait_for_function("window.e2eEditorReady === true")

    # --- Writing a post --------------------------------------------------------------------

    def start_post(self, parent_id: int) -> None:
        page = self.page
        page.goto(f"{self.root}pages/{parent_id}/")
        page.get_by_role("link", name="Add child page").click()
        # Posts are the only page type the blog index takes, so Wagtail opens their form.
        expect(page).to_have_url(re.compile(r"/pages/add/blog/blogpage/\d+/$"))
        self.wait_until_editor_ready()

    def _add_block(self, label: str) -> str:
        """Insert a block at the end of the body; returns the prefix of its form fields."""
        page = self.page
        count = page.locator("input[name='body-count']")
        index = int(count.input_value())
        page.locator("#body-root .c-sf-add-button").last.click()
        page.get_by_role("option", name=label, exact=True).click()
        expect(count).to_have_value(str(index + 1))
        return f"body-{index}-value"

    def add_heading(self, text: str) -> None:
        block = self._add_block("Heading")
        self.page.locator(f"#{block}-text").fill(text)

    def add_paragraph(self, text: str) -> None:
        block = self._add_block("Paragraph")
        # A Draftail rich-text editor: the hidden input holds its value, the textbox is next to it.
        editor = self.page.locator(f"#{block}").locator("xpath=..").get_by_role("textbox")
        editor.fill(text)

    def add_code(self, language: str, code: str) -> None:
        block = self._add_block("Code")
        self.page.locator(f"#{block}-language").select_option(language)
        self.page.locator(f"#{block}-code").fill(code)

    def wait_until_created(self) -> int:
        """Wait until the new page exists; returns its id.

        Wagtail 8 autosaves a new page soon after the first edit, points the form at the page's
        edit URL, then swaps in the edit view's header and side panels. Publishing before the
        first step would post the page a second time; previewing before the last would post the
        preview to the add view's URL and open the edit view's ("Preview not available"). So
        this waits for both (or, where autosave is switched off, saves a draft instead).
        """
        page = self.page
        controllers = page.locator("#page-edit-form").get_attribute("data-controller") or ""
        if "w-autosave" not in controllers:
            page.get_by_role("button", name="Save draft").click()
        page.wait_for_url(lambda url: EDIT_URL.search(url) is not None)
        page_id = int(EDIT_URL.search(page.url).group(1))
        preview = page.locator("[data-controller~='w-preview']")
        if preview.count():
            expect(preview).to_have_attribute(
                "data-w-preview-url-value", re.compile(rf"/pages/{page_id}/edit/preview/")
            )
        return page_id

    def preview_in_new_tab(self) -> Page:
        """The preview panel's "Preview in new tab": the page as it would be published."""
        page = self.page
        toggle = page.get_by_role("button", name="Toggle preview")
        toggle.click()
        with self.context.expect_page() as opened:
            page.get_by_role("link", name="Preview in new tab").click()
        toggle.click()
        preview = opened.value
        preview.wait_for_load_state()
        return preview

    def publish(self, title: str) -> None:
        page = self.page
        page.get_by_role("button", name="More actions").click()
        page.get_by_role("button", name="Publish", exact=True).click()
        expect(page.get_by_text(f"Page '{title}' has been published.")).to_be_visible()

    # --- Changing it afterwards ------------------------------------------------------------

    def open_editor(self, page_id: int) -> None:
        self.page.goto(f"{self.root}pages/{page_id}/edit/")
        self.wait_until_editor_ready()

    def retitle(self, page_id: int, title: str) -> None:
        self.open_editor(page_id)
        self.page.locator("#id_title").fill(title)

    def history(self, page_id: int) -> list[str]:
        """The actions in the page's history, newest first ("Published", "Draft saved", ...)."""
        page = self.page
        page.goto(f"{self.root}pages/{page_id}/history/")
        rows = page.locator("main table tbody tr")
        expect(rows.first).to_be_visible()
        return [" ".join(row.locator("td").first.inner_text().split()) for row in rows.all()]

    def unpublish(self, page_id: int, title: str) -> None:
        page = self.page
        self.open_editor(page_id)
        page.get_by_role("button", name="More actions").click()
        page.get_by_role("link", name="Unpublish").click()
        page.get_by_role("button", name="Yes, unpublish it").click()
        expect(page.get_by_text(f"Page '{title}' unpublished.")).to_be_visible()

    def delete(self, parent_id: int, title: str) -> None:
        """Delete a page from its parent's listing, as an editor does."""
        page = self.page
        page.goto(f"{self.root}pages/{parent_id}/")
        page.get_by_role("button", name=f"More options for '{title}'").click()
        page.get_by_role("link", name="Delete", exact=True).click()
        page.get_by_role("button", name="Yes, delete it").click()
        expect(page.get_by_text(f"Page '{title}' deleted.")).to_be_visible()

    def delete_by_id(self, page_id: int) -> None:
        """Delete a page through its delete view; for cleaning up after a failure."""
        page = self.context.new_page()
        try:
            page.goto(f"{self.root}pages/{page_id}/delete/")
            page.get_by_role("button", name="Yes, delete it").click()
            expect(page.get_by_text(re.compile(r"Page '.*' deleted\."))).to_be_visible()
        finally:
            page.close()
