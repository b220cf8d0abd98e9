"""Where each file of site/ goes in the page tree, the order siblings come in, and the address
a page of the tree has on the site.

home.md                     the home page
blog/index.md               the blog index; blog/YYYY-MM-DD-slug.md are its posts
docs/index.md               the docs index; docs/NN-slug.md are docs pages under it
docs/slug/index.md          a docs page with children: the other files in docs/slug/
"""

import re
from dataclasses import dataclass
from pathlib import Path

from wagtail.models import Page

from blog.content.errors import ContentError

HOME, BLOG_INDEX, POST, DOCS_INDEX, DOC = "home", "blog_index", "post", "docs_index", "doc"
HOME_FILE, BLOG_INDEX_FILE, DOCS_INDEX_FILE = "home.md", "blog/index.md", "docs/index.md"
# Files in site/ that document the folder rather than hold a page.
NOT_PAGES = {"README.md"}

DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")
ORDER_PREFIX = re.compile(r"^(\d+)-(.+)$")
# Siblings without an order (prefix or `order` key) come after those with one.
UNORDERED = 10**9


@dataclass(frozen=True)
class SourceFile:
    """A page's file: its path inside the content folder and its place in the tree."""

    path: str
    kind: str
    parent: str | None
    default_slug: str
    prefix_order: int | None
    sort_name: str

    @property
    def is_section(self) -> bool:
        """A docs page whose children sit beside it in its folder."""
        return self.kind == DOC and self.path.endswith("/index.md")

    def sort_key(self, order: int | None) -> tuple[int, str]:
        """Position among siblings: the front matter's `order`, else the name's number."""
        if order is None:
            order = self.prefix_order
        return (UNORDERED if order is None else order, self.sort_name)


def _split_prefix(name: str) -> tuple[int | None, str]:
    match = ORDER_PREFIX.match(name)
    if match:
        return int(match.group(1)), match.group(2)
    return None, name


def classify(path: str) -> SourceFile:
    """The SourceFile for a Markdown file's path (posix, relative to the content folder)."""
    parts = path.split("/")
    name = parts[-1]
    stem = name.removesuffix(".md")
    if path == HOME_FILE:
        return SourceFile(path, HOME, None, "home", None, stem)
    if path == BLOG_INDEX_FILE:
        return SourceFile(path, BLOG_INDEX, HOME_FILE, "blog", None, "blog")
    if path == DOCS_INDEX_FILE:
        return SourceFile(path, DOCS_INDEX, HOME_FILE, "docs", None, "docs")
    if parts[0] == "blog":
        if len(parts) != 2:
            raise ContentError("posts sit directly in blog/, not in a folder below it")
        match = DATE_PREFIX.match(stem)
        return SourceFile(
            path, POST, BLOG_INDEX_FILE, match.group(2) if match else stem, None, stem
        )
    if parts[0] == "docs":
        folders = parts[:-1]
        if name == "index.md":
            prefix_order, slug = _split_prefix(folders[-1])
            parent = "/".join([*folders[:-1], "index.md"])
            return SourceFile(path, DOC, parent, slug, prefix_order, folders[-1])
        prefix_order, slug = _split_prefix(stem)
        parent = "/".join([*folders, "index.md"])
        return SourceFile(path, DOC, parent, slug, prefix_order, stem)
    raise ContentError(
        "this file has no place in the page tree: pages are home.md, blog/*.md and docs/**/*.md"
    )


def discover(root: Path) -> tuple[list[SourceFile], dict[str, ContentError]]:
    """Every page file under `root`, parents before children, and the files that cannot be placed.

    Hidden files and folders (a leading dot) are skipped, and so is the folder's own README.md.
    """
    files: dict[str, SourceFile] = {}
    errors: dict[str, ContentError] = {}
    for file_path in sorted(root.rglob("*.md")):
        relative = file_path.relative_to(root).as_posix()
        if relative in NOT_PAGES or any(part.startswith(".") for part in relative.split("/")):
            continue
        try:
            files[relative] = classify(relative)
        except ContentError as error:
            errors[relative] = error
    for source in list(files.values()):
        # A docs folder needs its index.md: that file is the page its children sit under.
        if source.kind == DOC and source.parent not in files and source.parent != DOCS_INDEX_FILE:
            folder = source.parent.removesuffix("index.md")
            errors[source.path] = ContentError(
                f"{folder} has no index.md: add one, it is the page this file's page sits under"
            )
            del files[source.path]
    # Remove the children of files that could not be placed, recursively.
    changed = True
    while changed:
        changed = False
        for source in list(files.values()):
            if source.kind == DOC and source.parent in errors and source.path not in errors:
                errors[source.path] = ContentError(
                    f"its parent page's file {source.parent} cannot be imported"
                )
                del files[source.path]
                changed = True
    return sorted(files.values(), key=_depth_first_key), errors


def public_path(page: Page, home: Page) -> str:
    """The page's path on the site ("/docs/logs/"), from its place under the home page."""
    if page.url_path.startswith(home.url_path):
        return "/" + page.url_path[len(home.url_path) :]
    return page.url_path


def _depth_first_key(source: SourceFile) -> tuple:
    """Parents before their children: the home page, the indexes, then deeper folders."""
    depth = {HOME: 0, BLOG_INDEX: 1, DOCS_INDEX: 1, POST: 2}.get(source.kind)
    if depth is None:
        depth = source.path.count("/") + (1 if source.is_section else 2)
    return (depth, source.path)
