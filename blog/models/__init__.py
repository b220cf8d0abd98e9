"""Page models, snippets and site settings for Flight Log."""

from blog.models.base import BasePage
from blog.models.blog import Author, BlogIndexPage, BlogPage, BlogPageAuthor, BlogPageTag
from blog.models.content_source import ContentSource
from blog.models.docs import DocPage, DocsIndexPage
from blog.models.generation import ContentGeneration
from blog.models.home import HomePage
from blog.models.site_settings import SiteSettings

__all__ = [
    "Author",
    "BasePage",
    "BlogIndexPage",
    "BlogPage",
    "BlogPageAuthor",
    "BlogPageTag",
    "ContentGeneration",
    "ContentSource",
    "DocPage",
    "DocsIndexPage",
    "HomePage",
    "SiteSettings",
]
