"""What every page type shares: a summary, and the URLs and text search engines and feeds see."""

from django.conf import settings
from django.db import models
from django.views.decorators.csp import csp_override
from wagtail.models import Page, PageViewRestriction
from wagtail.search import index

from blog import site_data
from blog.blocks import table_of_contents
from blog.links import absolute_url


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
    # Related objects fetched with a page of this type when a URL is routed to it.
    route_select_related: tuple[str, ...] = ()
    route_prefetch_related: tuple = ()
    # The page a URL was routed through to reach this one (its parent), when it was.
    routed_parent = None

    class Meta:
        abstract = True

    # --- Serving: fewer queries per request, same answers -----------------------------------

    def route(self, request, path_components):
        """Wagtail's routing, except that where every child must be of one page type (a blog
        index's posts, docs under docs), the child comes specific in one query, not two."""
        child_models = type(self).allowed_subpage_models() if path_components else []
        if len(child_models) == 1:
            child_model = child_models[0]
            children = child_model.objects.child_of(self).filter(slug=path_components[0])
            children = children.select_related(*child_model.route_select_related)
            children = children.prefetch_related(*child_model.route_prefetch_related)
            subpage = children.first()
            if subpage is not None:
                subpage.routed_parent = self
                return subpage.specific.route(request, path_components[1:])
        # Another type of child (or none): Wagtail's own lookup, and its 404.
        return super().route(request, path_components)

    def get_indexed_instance(self):
        """What the search index stores for this page: the page as saved in the database, never
        the instance in hand.

        Saving a draft (`save_revision`) saves the instance the editor's form filled in, draft
        words and all, while the page's row keeps the published version. Whoever asks for the
        page to be indexed, Wagtail's signal or our own code, the index gets the row: for a live
        page what readers see, never a draft's words. The public search also lists live, public
        pages only (blog.views.search), which covers pages that were never published.
        """
        if self.pk is None or self.specific_class is None:
            return None
        return self.specific_class.objects.filter(pk=self.pk).first()

    def serve_preview(self, request, mode_name):
        """Wagtail's preview: the public page under the public policy, except that the admin's
        preview panel (same origin) may frame it (settings.PREVIEW_CSP).

        Wagtail renders a preview by sending a made-up request for the page's public URL
        through the whole middleware stack, so Django's CSP middleware sees this response and
        its policy, not the admin view's that shows it.
        """
        return csp_override(settings.PREVIEW_CSP)(super().serve_preview)(request, mode_name)

    def get_view_restrictions(self):
        """Wagtail's, answered from the restrictions kept per process when it can be."""
        restriction_ids = site_data.restriction_ids_for(self)
        if restriction_ids is None:
            return super().get_view_restrictions()
        # An empty id list runs no query at all.
        return PageViewRestriction.objects.filter(pk__in=restriction_ids)

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
