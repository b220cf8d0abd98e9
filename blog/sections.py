"""The top-level sections of the site a request is for: what the header and <head> link to."""

from functools import cached_property

from wagtail.models import Page, Site


class SiteSections:
    """The live, public children of the site's home page, fetched once per request."""

    def __init__(self, request):
        self.request = request
        site = Site.find_for_request(request)
        self.root = site.root_page if site else None

    @classmethod
    def for_request(cls, request):
        if not hasattr(request, "flightlog_sections"):
            request.flightlog_sections = cls(request)
        return request.flightlog_sections

    @cached_property
    def children(self) -> list[Page]:
        if self.root is None:
            return []
        # The home page keeps its sections per process while the page cache may (its
        # section_pages); None means only the database can say which are public.
        kept = getattr(self.root, "section_pages", None)
        sections = kept() if kept else None
        if sections is not None:
            return sections
        return list(
            self.root.get_children()
            .live()
            .public()
            .select_related("content_type")
            .defer_streamfields()
        )

    @cached_property
    def navigation(self) -> list[Page]:
        """Sections marked "show in menus", in tree order."""
        return [page for page in self.children if page.show_in_menus]

    @cached_property
    def blog_index(self) -> Page | None:
        return next(
            (
                page
                for page in self.children
                if (page.content_type.app_label, page.content_type.model)
                == ("blog", "blogindexpage")
            ),
            None,
        )

    @cached_property
    def feed_urls(self) -> dict[str, str]:
        """The site-wide RSS and Atom feeds, for <link rel="alternate"> on every page."""
        if self.blog_index is None:
            return {}
        base = self.blog_index.get_url(self.request)
        return {"rss": f"{base}feed/rss/", "atom": f"{base}feed/atom/"}
