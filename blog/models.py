"""Page models for Flight Log."""

from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page


class HomePage(Page):
    """The site's root page: an introduction and the way into the write-up and the docs."""

    intro = RichTextField(blank=True, help_text="A short paragraph under the site title.")

    content_panels = [*Page.content_panels, FieldPanel("intro")]

    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = "home page"
