"""RSS 2.0 and Atom feeds of the write-up, for all posts and per tag, with each post in full."""

import re
from dataclasses import dataclass

from django.contrib.syndication.views import Feed
from django.template.loader import render_to_string
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from taggit.models import Tag

from blog.links import absolute_url

FEED_LENGTH = 20
# A root-relative address in an href or src attribute ("/media/...", not "//host/...").
RELATIVE_URL = re.compile(r'(\s(?:href|src)=")(/(?!/)[^"]*)"')


def absolute_urls(html: str, request) -> str:
    """The HTML with root-relative links and image sources made absolute, as feed readers need."""
    return RELATIVE_URL.sub(lambda match: f'{match[1]}{absolute_url(request, match[2])}"', html)


@dataclass
class FeedSource:
    """What a feed lists: the posts under one blog index, optionally only those with one tag,
    and the site's name for the feed's title."""

    index: object
    tag: Tag | None
    site_name: str


class FullContentRss(Rss201rev2Feed):
    """RSS 2.0 with each post's full HTML in <content:encoded>, the summary in <description>."""

    def rss_attributes(self):
        return {
            **super().rss_attributes(),
            "xmlns:content": "http://purl.org/rss/1.0/modules/content/",
        }

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content:encoded", item["content"])


class FullContentAtom(Atom1Feed):
    """Atom with each post's full HTML in <content type="html">."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content"], {"type": "html"})


class PostsFeed(Feed):
    """The newest posts, in full.

    BlogIndexPage's feed routes make one instance per request and call it with the index (and
    tag), so keeping the request on the instance is safe.
    """

    def get_object(self, request, index, site_name, tag=None):
        self.request = request
        return FeedSource(index=index, tag=tag, site_name=site_name)

    def title(self, source: FeedSource) -> str:
        if source.tag:
            return f"{source.site_name}: posts tagged “{source.tag.name}”"
        return f"{source.site_name}: {source.index.title}"

    def link(self, source: FeedSource) -> str:
        if source.tag:
            return source.index.tag_url(self.request, source.tag)
        return source.index.get_url(self.request)

    def description(self, source: FeedSource) -> str:
        return source.index.summary or self.title(source)

    def subtitle(self, source: FeedSource) -> str:
        return self.description(source)

    def items(self, source: FeedSource):
        posts = source.index.get_posts()
        if source.tag:
            posts = posts.filter(tags__slug=source.tag.slug)
        # The full body is rendered here, so undo the listing's deferral of it.
        return posts.defer(None).select_related("hero_image")[:FEED_LENGTH]

    def item_title(self, post) -> str:
        return post.title

    def item_link(self, post) -> str:
        return post.get_canonical_url(self.request)

    def item_description(self, post) -> str:
        return post.summary

    def item_pubdate(self, post):
        return post.published_at

    def item_updateddate(self, post):
        return post.last_published_at or post.published_at

    def item_author_name(self, post) -> str | None:
        names = [author.name for author in post.authors]
        return " and ".join(names) if names else None

    def item_categories(self, post) -> list[str]:
        return [tag.name for tag in post.tag_list]

    def item_extra_kwargs(self, post) -> dict:
        html = render_to_string(
            "blog/feed_item.html", {"page": post, "feed": True}, request=self.request
        )
        return {"content": absolute_urls(html, self.request)}


class RssFeed(PostsFeed):
    feed_type = FullContentRss


class AtomFeed(PostsFeed):
    feed_type = FullContentAtom
