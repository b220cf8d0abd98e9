"""What every page type shares: a summary, and the URLs and text search engines and feeds see."""

from django.db import models
from wagtail.models import Page
from wagtail.search import index

from blog.blocks import table_of_contents


def absolute_url(request, path: str) -> str:
    """`path` on the host and scheme this request came in on (validated by ALLOWED_HOSTS).

    The request, not Wagtail's Site record, decides: the Site says `localhost` until someone
    edits it, and a Fly app is reached as <app>.fly.dev or a custom domain.
    """
    if request is None:
        return path
    return request.build_absolute_uri(path)


class BasePage(Page):
    """Abstract base of the site's page types."""

    summary = models.TextField(
        blank=True,
        max_length=400,
        help_text=(
            "One or two sentences: shown in listings, search results and feeds, and used as the "
            "description search engines show."
        ),
    )

    search_fields = [*Page.search_fields, index.SearchField("summary")]

    class Meta:
        abstract = True

    def get_meta_description(self) -> str:
        return self.search_description or self.summary

    def get_social_image(self):
        """The image shared with a link to this page on social sites, or None."""
        return None

    def get_canonical_url(self, request) -> str:
        return absolute_url(request, self.get_url(request))

    def get_table_of_contents(self):
        body = getattr(self, "body", None)
        return table_of_contents(body) if body else []

    def get_sitemap_urls(self, request=None):
        return [
            {
                "location": self.get_canonical_url(request),
                "lastmod": self.last_published_at or self.latest_revision_created_at,
            }
        ]
