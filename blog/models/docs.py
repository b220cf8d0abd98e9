"""The setup docs: a tree of pages read in order, each with an "on this page" list."""

import copy
from dataclasses import dataclass, field

from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from blog import site_data
from blog.blocks import BaseStreamBlock
from blog.models.base import BasePage


@dataclass
class DocsNode:
    """A docs page in the navigation tree."""

    page: Page
    children: list["DocsNode"] = field(default_factory=list)
    current: bool = False
    open: bool = False


class DocsTree:
    """The live, public docs under one index, flattened in reading order and as a tree.

    Reading order is Wagtail's tree order: a page, then its children, then its next sibling.
    Treebeard's materialised `path` sorts exactly that way, so one query fetches it all.
    """

    def __init__(self, docs_index, current=None):
        self.index = docs_index
        self.pages = docs_index.docs_pages()
        self.current = current

    def neighbours(self):
        """(previous, next) of the current page in reading order: the index comes before the
        first page, and None after the last."""
        ids = [page.pk for page in self.pages]
        if self.current is None or self.current.pk not in ids:
            return None, None
        position = ids.index(self.current.pk)
        previous = self.pages[position - 1] if position > 0 else self.index
        following = self.pages[position + 1] if position + 1 < len(self.pages) else None
        return previous, following

    def ancestors(self):
        """The docs pages above the current one, outermost first (for the breadcrumb trail)."""
        if self.current is None:
            return []
        return [
            page
            for page in self.pages
            if self.current.path.startswith(page.path) and page.pk != self.current.pk
        ]

    def nodes(self) -> list[DocsNode]:
        """The tree, with the current page and the branches that lead to it marked."""
        roots: list[DocsNode] = []
        stack: list[DocsNode] = []
        current_path = self.current.path if self.current else None
        for page in self.pages:
            node = DocsNode(page=page)
            if current_path:
                node.current = page.path == current_path
                node.open = current_path.startswith(page.path)
            while stack and not page.path.startswith(stack[-1].page.path):
                stack.pop()
            (stack[-1].children if stack else roots).append(node)
            stack.append(node)
        return roots


class DocsIndexPage(BasePage):
    """The docs' landing page: an introduction and the table of contents of every docs page."""

    body = StreamField(BaseStreamBlock(), blank=True, help_text="Shown above the list of pages.")

    content_panels = [*Page.content_panels, FieldPanel("summary"), FieldPanel("body")]

    parent_page_types = ["blog.HomePage"]
    subpage_types = ["blog.DocPage"]

    class Meta:
        verbose_name = "docs index page"

    def docs_pages(self) -> list[Page]:
        """Every live, public docs page under this index in reading order (specific, bodies
        left out), kept per process per content generation (blog.site_data); each caller gets
        its own copies."""

        def fetch():
            return list(
                site_data.public(Page.objects.live())
                .descendant_of(self)
                .order_by("path")
                .defer_streamfields()
                .specific()
            )

        return [copy.copy(page) for page in site_data.memo.get(("docs-pages", self.pk), fetch)]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        tree = DocsTree(self)
        context["docs_tree"] = tree.nodes()
        context["next_page"] = tree.pages[0] if tree.pages else None
        return context


class DocPage(BasePage):
    """A page of the docs; it may have docs pages of its own below it."""

    body = StreamField(BaseStreamBlock())

    content_panels = [*Page.content_panels, FieldPanel("summary"), FieldPanel("body")]
    search_fields = [*BasePage.search_fields, index.SearchField("body")]

    parent_page_types = ["blog.DocsIndexPage", "blog.DocPage"]
    subpage_types = ["blog.DocPage"]

    class Meta:
        verbose_name = "docs page"

    def get_docs_index(self):
        return DocsIndexPage.objects.ancestor_of(self).live().last()

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        docs_index = self.get_docs_index()
        context["docs_index"] = docs_index
        context["table_of_contents"] = self.get_table_of_contents()
        if docs_index:
            tree = DocsTree(docs_index, current=self)
            context["docs_tree"] = tree.nodes()
            context["breadcrumbs"] = [docs_index, *tree.ancestors()]
            context["previous_page"], context["next_page"] = tree.neighbours()
        return context
