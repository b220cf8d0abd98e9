"""The write-up: the blog index (with tag pages, year archives and feeds) and its posts."""

import copy
import datetime
import math
import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Count, Prefetch, Q, Subquery, When
from django.http import Http404
from django.utils import timezone
from django.utils.functional import cached_property
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import Tag, TaggedItemBase
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path, re_path
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from blog import site_data
from blog.blocks import BaseStreamBlock
from blog.feeds import AtomFeed, RssFeed
from blog.links import absolute_url
from blog.models.base import BasePage
from blog.models.site_settings import SiteSettings
from blog.pagination import paginate

POSTS_PER_PAGE = 10
# Slugs a post cannot take, because the blog index's own routes answer them.
RESERVED_POST_SLUGS = {"tags", "feed"}
YEAR_SLUG = re.compile(r"^\d{4}$")
# Words read per minute, for the "N min read" estimate.
READING_SPEED = 230
# What a link to a post (a pager's older and newer) reads of it: the title, and for its URL the
# page's path (its tree path and depth come along so the site's root can be matched).
POST_LINK_FIELDS = ("title", "slug", "url_path", "path", "depth")


class Author(index.Indexed, models.Model):
    """Someone who writes posts; a snippet, so one author is shared by many posts."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField("web address", blank=True, help_text="A home page or profile.")
    bio = models.TextField(blank=True, max_length=500, help_text="One or two sentences.")

    panels = [FieldPanel("name"), FieldPanel("url"), FieldPanel("bio")]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class BlogPageTag(TaggedItemBase):
    content_object = ParentalKey(
        "blog.BlogPage", related_name="tagged_items", on_delete=models.CASCADE
    )


class BlogPageAuthor(Orderable):
    """An author of a post, in byline order."""

    page = ParentalKey("blog.BlogPage", related_name="author_links", on_delete=models.CASCADE)
    author = models.ForeignKey(Author, related_name="+", on_delete=models.CASCADE)

    panels = [FieldPanel("author")]

    class Meta(Orderable.Meta):
        unique_together = [("page", "author")]


# A post's byline links with their authors, in one query.
AUTHORS_WITH_LINKS = Prefetch(
    "author_links", queryset=BlogPageAuthor.objects.select_related("author")
)


class BlogIndexPage(RoutablePageMixin, BasePage):
    """The write-up's landing page: every post, newest first, plus tag, year and feed routes."""

    body = StreamField(BaseStreamBlock(), blank=True, help_text="Shown above the list of posts.")

    content_panels = [*Page.content_panels, FieldPanel("summary"), FieldPanel("body")]

    parent_page_types = ["blog.HomePage"]
    subpage_types = ["blog.BlogPage"]

    class Meta:
        verbose_name = "blog index page"

    # --- Queries ---------------------------------------------------------------------------

    @cached_property
    def published_posts(self):
        """Live, public posts under this index, newest first.

        `public()` reads every view restriction when it is called (unless the process keeps them,
        blog.site_data), so the queryset is built once per page instance (one request) and
        cloned by each use (get_published_posts).
        """
        return (
            site_data.public(BlogPage.objects.live())
            .descendant_of(self)
            .order_by("-date", "-first_published_at", "-pk")
            .defer_streamfields()
        )

    def get_published_posts(self):
        return self.published_posts.all()

    def get_posts(self):
        """The published posts with what a listing shows (tags, authors) fetched up front."""
        return self.get_published_posts().prefetch_related("tags", AUTHORS_WITH_LINKS)

    def get_tags(self):
        """Tags used by at least one live, public post, with how many posts use each."""
        post_ids = self.get_published_posts().values("pk")
        return (
            Tag.objects.filter(blog_blogpagetag_items__content_object__in=post_ids)
            .annotate(post_count=Count("blog_blogpagetag_items", distinct=True))
            .order_by("name")
        )

    def get_years(self):
        return [day.year for day in self.get_published_posts().dates("date", "year", order="DESC")]

    def post_sequence(self):
        """(posts, position of each post's id) for every published post, newest first, with
        only what a link to a post needs (its title and URL), kept per process per content
        generation (blog.site_data); None when the process keeps nothing."""
        if not site_data.ProcessMemo.usable():
            return None

        def fetch():
            posts = list(self.get_published_posts().only(*POST_LINK_FIELDS))
            return posts, {post.pk: position for position, post in enumerate(posts)}

        return site_data.memo.get(("post-sequence", self.pk), fetch)

    # --- Routes ----------------------------------------------------------------------------

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["years"] = self.get_years()
        return context

    def render_listing(self, request, posts, meta_title=None, tag=None, year=None):
        page_of_posts = paginate(request, posts, POSTS_PER_PAGE)
        context = {
            "posts": page_of_posts,
            "paginated": page_of_posts,
            "tag": tag,
            "year": year,
            "tag_feed_urls": self.feed_urls(request, tag) if tag else None,
        }
        if meta_title:
            context["meta_title"] = meta_title
            context["meta_description"] = f"{meta_title}, newest first."
        return self.render(request, context_overrides=context)

    @path("")
    def all_posts(self, request):
        return self.render_listing(request, self.get_posts())

    @path("tags/")
    def all_tags(self, request):
        return self.render(
            request,
            template="blog/tag_list_page.html",
            context_overrides={
                "tags": self.get_tags(),
                "meta_title": "Tags",
                "meta_description": "Every tag used on the write-up's posts.",
            },
        )

    def get_tag_or_404(self, slug):
        tag = self.get_tags().filter(slug=slug).first()
        if tag is None:
            raise Http404("No posts have this tag.")
        return tag

    @path("tags/<str:tag_slug>/")
    def posts_tagged(self, request, tag_slug):
        tag = self.get_tag_or_404(tag_slug)
        posts = self.get_posts().filter(tags__slug=tag.slug)
        return self.render_listing(request, posts, meta_title=f"Posts tagged “{tag.name}”", tag=tag)

    @re_path(r"^(?P<year>[1-9]\d{3})/$")
    def posts_in_year(self, request, year):
        posts = self.get_posts().filter(date__year=int(year))
        if not self.get_published_posts().filter(date__year=int(year)).exists():
            raise Http404("No posts from this year.")
        return self.render_listing(request, posts, meta_title=f"Posts from {year}", year=int(year))

    @path("feed/rss/")
    def rss_feed(self, request):
        return RssFeed()(request, index=self, site_name=self.site_name(request))

    @path("feed/atom/")
    def atom_feed(self, request):
        return AtomFeed()(request, index=self, site_name=self.site_name(request))

    @path("tags/<str:tag_slug>/feed/rss/")
    def tag_rss_feed(self, request, tag_slug):
        return RssFeed()(
            request,
            index=self,
            site_name=self.site_name(request),
            tag=self.get_tag_or_404(tag_slug),
        )

    @path("tags/<str:tag_slug>/feed/atom/")
    def tag_atom_feed(self, request, tag_slug):
        return AtomFeed()(
            request,
            index=self,
            site_name=self.site_name(request),
            tag=self.get_tag_or_404(tag_slug),
        )

    @staticmethod
    def site_name(request) -> str:
        return SiteSettings.for_request(request).site_name

    # --- URLs templates and feeds use ------------------------------------------------------

    def feed_urls(self, request, tag=None) -> dict[str, str]:
        base = self.get_url(request)
        prefix = f"tags/{tag.slug}/" if tag else ""
        return {"rss": f"{base}{prefix}feed/rss/", "atom": f"{base}{prefix}feed/atom/"}

    def tag_url(self, request, tag) -> str:
        return f"{self.get_url(request)}tags/{tag.slug}/"


class BlogPage(BasePage):
    """A post of the write-up."""

    date = models.DateField(
        "publication date",
        null=True,
        blank=True,
        db_index=True,
        help_text=(
            "Shown on the post and used to order posts; empty means the day it is first published."
        ),
    )
    hero_image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Optional lead image, shown under the title and when the post is shared.",
    )
    hero_alt = models.CharField(
        "hero image alt text",
        max_length=250,
        blank=True,
        help_text="What the lead image shows, for readers who cannot see it.",
    )
    tags = ClusterTaggableManager(through=BlogPageTag, blank=True)
    body = StreamField(BaseStreamBlock())

    # The lead image and the byline come with the post when a URL is routed to it
    # (BasePage.route).
    route_select_related = ("hero_image",)
    route_prefetch_related = (AUTHORS_WITH_LINKS,)

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        MultiFieldPanel(
            [FieldPanel("date"), InlinePanel("author_links", label="Author"), FieldPanel("tags")],
            heading="Byline",
        ),
        MultiFieldPanel([FieldPanel("hero_image"), FieldPanel("hero_alt")], heading="Lead image"),
        FieldPanel("body"),
    ]
    search_fields = [
        *BasePage.search_fields,
        index.SearchField("body"),
        index.RelatedFields("tags", [index.SearchField("name")]),
        index.FilterField("date"),
    ]

    parent_page_types = ["blog.BlogIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = "blog post"

    def clean(self):
        super().clean()
        errors = {}
        if self.slug in RESERVED_POST_SLUGS or YEAR_SLUG.match(self.slug or ""):
            errors["slug"] = (
                f"“{self.slug}” is taken by the blog's own pages (tags, feeds, year archives): "
                "choose another slug."
            )
        if self.hero_image_id and not self.hero_alt.strip():
            errors["hero_alt"] = "Describe the lead image: alt text is required with an image."
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        # The publication date defaults to the day the post was first published.
        if self.date is None and self.first_published_at:
            self.date = timezone.localdate(self.first_published_at)
        result = super().save(*args, **kwargs)
        if kwargs.get("update_fields") is None:
            # Tags are a child relation, stored after post_save has already indexed the post
            # with the old ones: index it again (as stored: BasePage.get_indexed_instance) so a
            # search for a new tag finds it straight away.
            index.insert_or_update_object(self)
        return result

    @cached_property
    def authors(self) -> list[Author]:
        """The byline, in order. Listings and routing to a post fetch the links with their
        authors up front (AUTHORS_WITH_LINKS); anywhere else this costs a query per author."""
        return [link.author for link in self.author_links.all()]

    @cached_property
    def tag_list(self) -> list[Tag]:
        """The post's tags in alphabetical order (from a listing's prefetch when there is one)."""
        return sorted(self.tags.all(), key=lambda tag: tag.name.lower())

    @property
    def published_at(self) -> datetime.datetime | None:
        """The moment feeds and search engines are told the post was published."""
        if self.date is None:
            return self.first_published_at
        first = self.first_published_at
        if first and timezone.localdate(first) == self.date:
            return first
        return timezone.make_aware(datetime.datetime.combine(self.date, datetime.time(9)))

    def get_social_image(self):
        return self.hero_image

    def get_reading_minutes(self) -> int:
        words = sum(
            len(str(text).split())
            for text in self.body.stream_block.get_searchable_content(self.body)
        )
        return max(1, math.ceil(words / READING_SPEED))

    def get_blog_index(self):
        # Routing to the post fetched its parent already (BasePage.route).
        parent = getattr(self, "routed_parent", None)
        if isinstance(parent, BlogIndexPage) and parent.live:
            return parent
        return BlogIndexPage.objects.ancestor_of(self).live().last()

    def get_structured_data(self, request) -> dict:
        """schema.org BlogPosting, emitted as JSON-LD for search engines."""
        data = {
            "@context": "https://schema.org",
            "@type": "BlogPosting",
            "headline": self.title,
            "description": self.get_meta_description(),
            "url": self.get_canonical_url(request),
            "mainEntityOfPage": self.get_canonical_url(request),
            "datePublished": self.published_at.isoformat() if self.published_at else None,
            "dateModified": (self.last_published_at or self.published_at).isoformat()
            if (self.last_published_at or self.published_at)
            else None,
            "author": [
                {
                    "@type": "Person",
                    "name": author.name,
                    **({"url": author.url} if author.url else {}),
                }
                for author in self.authors
            ],
            "keywords": [tag.name for tag in self.tag_list],
            "publisher": {
                "@type": "Organization",
                "name": SiteSettings.for_request(request).site_name,
            },
        }
        if self.hero_image:
            rendition = self.hero_image.get_rendition("fill-1200x630|format-jpeg")
            data["image"] = absolute_url(request, rendition.url)
        return {key: value for key, value in data.items() if value not in (None, [], "")}

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["blog_index"] = self.get_blog_index()
        context["is_article"] = True
        context["structured_data"] = self.get_structured_data(request)
        context["table_of_contents"] = self.get_table_of_contents()
        context["reading_minutes"] = self.get_reading_minutes()
        if context["blog_index"] and self.date:
            context["older_post"], context["newer_post"] = self.get_neighbours(
                context["blog_index"]
            )
        return context

    def get_neighbours(self, blog_index):
        """The posts just before and after this one in the index's order (date, then time,
        then id, as get_published_posts orders them), as (older, newer); either may be None.

        Where the process keeps site data (blog.site_data), the index's order is read once per
        content generation and each post finds its neighbours in it without a query; any change
        readers see (a publish, an unpublish, a new date, a move) moves the generation, so the
        links are never staler than cached pages. Elsewhere, one query."""
        sequence = blog_index.post_sequence()
        if sequence is None:
            return self._query_neighbours(blog_index)
        posts, positions = sequence
        position = positions.get(self.pk)
        if position is None:
            # Not in the live order (a preview of a draft, a post under a restriction): ask.
            return self._query_neighbours(blog_index)
        newer = posts[position - 1] if position > 0 else None
        older = posts[position + 1] if position + 1 < len(posts) else None
        # Copies, so nothing a request sets on a page reaches the next request.
        return (copy.copy(older) if older else None, copy.copy(newer) if newer else None)

    def _query_neighbours(self, blog_index):
        """get_neighbours in one query (two subqueries), for when nothing is kept."""
        posts = blog_index.get_published_posts().exclude(pk=self.pk)
        same_day = Q(date=self.date)
        if self.first_published_at:
            same_time = same_day & Q(first_published_at=self.first_published_at)
            older = (
                Q(date__lt=self.date)
                | same_day & Q(first_published_at__lt=self.first_published_at)
                | same_time & Q(pk__lt=self.pk)
            )
            newer = (
                Q(date__gt=self.date)
                | same_day & Q(first_published_at__gt=self.first_published_at)
                | same_time & Q(pk__gt=self.pk)
            )
        else:
            older, newer = Q(date__lt=self.date), Q(date__gt=self.date)
        older_first = posts.filter(older).values("pk")[:1]
        newer_first = posts.filter(newer).order_by("date", "first_published_at", "pk")
        pair = posts.filter(
            Q(pk=Subquery(older_first)) | Q(pk=Subquery(newer_first.values("pk")[:1]))
        ).annotate(is_newer=Case(When(newer, then=True), default=False))
        found = {post.is_newer: post for post in pair}
        return found.get(False), found.get(True)
