"""Factories for the site's content: pages under the tree the migrations create, and images."""

import datetime

import factory
import wagtail_factories
from django.utils import timezone
from django.utils.text import slugify
from wagtail.models import Collection, Page, PageViewRestriction

from blog.models import (
    Author,
    BlogIndexPage,
    BlogPage,
    BlogPageAuthor,
    DocPage,
    DocsIndexPage,
    HomePage,
)


def home_page() -> HomePage:
    return HomePage.objects.get(depth=2)


def blog_index() -> BlogIndexPage:
    """The blog index the migrations create at /blog/."""
    return BlogIndexPage.objects.get(slug="blog")


def docs_index() -> DocsIndexPage:
    """The docs index the migrations create at /docs/."""
    return DocsIndexPage.objects.get(slug="docs")


def paragraph(text: str) -> tuple:
    return ("paragraph", f"<p>{text}</p>")


def heading(text: str, level: str = "h2") -> tuple:
    return ("heading", {"text": text, "level": level})


def simple_body(text: str = "A paragraph of the post.") -> list:
    return [heading("Why"), paragraph(text), heading("How"), paragraph("Then this.")]


def every_block_body(image=None, embed_url: str = "https://example.com/not-an-embed") -> list:
    """One of every block type, as the content importer produces them."""
    body = [
        heading("Before you start"),
        (
            "paragraph",
            '<p>Install <a href="https://fly.io/docs/flyctl/">flyctl</a> and run '
            "<code>fly auth login</code>. Read <b>every</b> step <i>first</i>.</p>"
            "<ul><li>one</li><li>two</li></ul>",
        ),
        heading("Configuration", "h3"),
        (
            "code",
            {
                "language": "python",
                "code": 'ALLOWED_HOSTS = ["example.fly.dev"]\nprint("<hello & goodbye>")',
                "filename": "config/settings.py",
                "caption": "The host Fly gives the app.",
            },
        ),
        (
            "code",
            {
                "language": "console",
                "code": "$ fly deploy\n==> Building image",
                "filename": "",
                "caption": "",
            },
        ),
        ("callout", {"kind": "warning", "body": "<p>Never commit the secret key.</p>"}),
        ("callout", {"kind": "tip", "body": "<p>Scale to zero when idle.</p>"}),
        ("quote", {"text": "Health checks do not follow redirects.", "attribution": "Fly's docs"}),
        ("embed", embed_url),
        (
            "table",
            {
                "data": [["Variable", "Meaning"], ["FLY_REGION", "Where the machine runs"]],
                "first_row_is_table_header": True,
                "first_col_is_header": False,
                "table_caption": "Fly's variables",
            },
        ),
        heading("Before you start"),
    ]
    if image is not None:
        body.insert(
            4, ("image", {"image": image, "alt_text": "The Fly dashboard", "caption": "Machines"})
        )
    return body


class ImageFactory(wagtail_factories.ImageFactory):
    title = factory.Sequence(lambda number: f"Image {number}")
    collection = factory.LazyFunction(Collection.get_first_root_node)
    file = factory.django.ImageField(width=1600, height=900, color="#5b36c4")


class AuthorFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda number: f"Author {number}")
    url = "https://example.com/about"
    bio = "Writes about deploying things."

    class Meta:
        model = Author
        django_get_or_create = ["name"]


class BasePageFactory(wagtail_factories.PageFactory):
    """A live page; `live=False` makes a draft."""

    slug = factory.LazyAttribute(lambda page: slugify(page.title))
    summary = factory.LazyAttribute(lambda page: f"What “{page.title}” is about.")
    live = True
    first_published_at = factory.LazyAttribute(lambda page: timezone.now() if page.live else None)
    last_published_at = factory.LazyAttribute(lambda page: page.first_published_at)

    class Meta:
        abstract = True


class BlogPageFactory(BasePageFactory):
    title = factory.Sequence(lambda number: f"Post number {number}")
    parent = factory.LazyFunction(blog_index)
    date = factory.Sequence(
        lambda number: datetime.date(2026, 1, 1) + datetime.timedelta(days=number)
    )
    body = factory.LazyFunction(simple_body)
    tags = factory.LazyFunction(list)
    authors = factory.LazyFunction(list)

    class Meta:
        model = BlogPage

    @classmethod
    def _create_instance(cls, model_class, parent, kwargs):
        # Tags and authors are child relations: set them before the one save that stores all.
        tag_names = kwargs.pop("tags")
        authors = kwargs.pop("authors")
        page = model_class(**kwargs)
        page.tags.add(*tag_names)
        page.author_links = [BlogPageAuthor(author=author) for author in authors]
        parent.add_child(instance=page)
        return page


class DocPageFactory(BasePageFactory):
    title = factory.Sequence(lambda number: f"Docs page {number}")
    parent = factory.LazyFunction(docs_index)
    body = factory.LazyFunction(simple_body)

    class Meta:
        model = DocPage


def make_private(page: Page) -> Page:
    """Put the page behind a password, as an editor would with "Privacy"."""
    PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.PASSWORD, password="secret"
    )
    return page
