"""The home page: the site's root."""

import copy

from django.contrib.contenttypes.models import ContentType
from django.http import Http404
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from blog import site_data
from blog.models.base import BasePage
from blog.models.blog import BlogIndexPage
from blog.models.docs import DocsIndexPage

LATEST_POSTS = 5


class HomePage(BasePage):
    """An introduction, the latest posts and the way into the docs."""

    intro = RichTextField(blank=True, help_text="A short paragraph under the site title.")

    content_panels = [*Page.content_panels, FieldPanel("summary"), FieldPanel("intro")]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["blog.BlogIndexPage", "blog.DocsIndexPage"]
    max_count = 1

    class Meta:
        verbose_name = "home page"

    # --- The top-level sections, kept per process (blog.site_data) ----------------------------

    def _children(self) -> list[Page]:
        """Every child page, specific, in tree order, computed once per cache generation."""

        def fetch():
            children = list(self.get_children().specific())
            for child in children:
                child.content_type = ContentType.objects.get_for_id(child.content_type_id)
            return children

        return site_data.memo.get(("home-children", self.pk), fetch)

    def route(self, request, path_components):
        """Wagtail's routing, with the sections taken from the process's copy."""
        if not path_components or not site_data.ProcessMemo.usable():
            return super().route(request, path_components)
        child = next((page for page in self._children() if page.slug == path_components[0]), None)
        if child is None:
            raise Http404
        child = copy.copy(child)
        child.routed_parent = self
        return child.route(request, path_components[1:])

    def section_pages(self) -> list[Page] | None:
        """The live, public children (what blog.sections.SiteSections lists), or None when only
        the database can say which are public."""
        if not site_data.ProcessMemo.usable():
            return None
        sections = []
        for child in self._children():
            if not child.live:
                continue
            restrictions = site_data.restriction_ids_for(child)
            if restrictions is None:
                return None
            if not restrictions:
                sections.append(copy.copy(child))
        return sections

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        sections = self.section_pages()
        if sections is None:
            blog_index = BlogIndexPage.objects.child_of(self).live().public().first()
            docs_index = DocsIndexPage.objects.child_of(self).live().public().first()
        else:
            # As .first() would: the lowest id of each type.
            blog_index, docs_index = (
                min(
                    (page for page in sections if isinstance(page, model)),
                    key=lambda page: page.pk,
                    default=None,
                )
                for model in (BlogIndexPage, DocsIndexPage)
            )
        context["blog_index"] = blog_index
        context["latest_posts"] = blog_index.get_posts()[:LATEST_POSTS] if blog_index else []
        context["docs_index"] = docs_index
        context["docs_sections"] = (
            site_data.public(docs_index.get_children().live()).specific().defer_streamfields()
            if docs_index
            else []
        )
        return context
