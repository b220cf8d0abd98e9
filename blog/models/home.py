"""The home page: the site's root."""

from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

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

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        blog_index = BlogIndexPage.objects.child_of(self).live().public().first()
        docs_index = DocsIndexPage.objects.child_of(self).live().public().first()
        context["blog_index"] = blog_index
        context["latest_posts"] = blog_index.get_posts()[:LATEST_POSTS] if blog_index else []
        context["docs_index"] = docs_index
        context["docs_sections"] = (
            docs_index.get_children().live().public().specific().defer_streamfields()
            if docs_index
            else []
        )
        return context
