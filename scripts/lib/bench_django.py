"""The Django side of `make bench` (scripts/lib/bench.py runs it, one command per process).

    python scripts/lib/bench_django.py seed COUNT           generate COUNT published posts
    python scripts/lib/bench_django.py first-request PATH cold|warm
                                                            the queries of a fresh process's
                                                            first two requests for PATH
    python scripts/lib/bench_django.py peer-pages           bakerydemo's pages per page type

It runs in the project it measures (the working directory, with DJANGO_SETTINGS_MODULE set by
the caller), with that project's Python: this site's, or a bakerydemo checkout's own venv for
`peer-pages` and `first-request`. Each command prints one line of JSON.
"""

import datetime
import json
import os
import sys


def setup() -> None:
    sys.path.insert(0, os.getcwd())
    import django

    django.setup()


def seed(count: int) -> dict:
    """Posts like the write-up's (headings, prose, code, a callout, a quote), with tags and an
    author each, published; the URLs of the newest post, the first docs page and the index."""
    from django.utils import timezone

    from blog.models import Author, BlogIndexPage, BlogPage, DocPage

    index = BlogIndexPage.objects.live().first()
    authors = [Author.objects.get_or_create(name=name)[0] for name in ("Ada", "Grace", "Linus")]
    tags = ["fly", "docker", "django", "wagtail", "ci", "performance", "security", "sqlite"]
    code = {"language": "python", "code": "def hello():\n    return 'fly'\n" * 8}

    def prose(sentence: str) -> str:
        return "<p>" + sentence * 20 + "</p>"

    body = [
        {"type": "heading", "value": {"text": "Why", "level": "h2"}},
        {"type": "paragraph", "value": prose("Shipping small sites should be boring. ")},
        {"type": "code", "value": {**code, "filename": "app.py", "caption": ""}},
        {"type": "callout", "value": {"kind": "tip", "body": "<p>Measure before you tune.</p>"}},
        {"type": "heading", "value": {"text": "How", "level": "h2"}},
        {"type": "paragraph", "value": prose("Build once, deploy it twice. ")},
        {"type": "quote", "value": {"text": "Measure, then change one thing.", "attribution": ""}},
    ]
    start = timezone.now().date()
    for number in range(count):
        post = BlogPage(
            title=f"Benchmark post {number}",
            slug=f"benchmark-post-{number}",
            summary="A generated post for the benchmark.",
            date=start - datetime.timedelta(days=number),
            body=json.dumps(body),
        )
        index.add_child(instance=post)
        post.tags.add(*tags[number % 5 : number % 5 + 3])
        post.author_links.create(author=authors[number % 3])
        post.save_revision().publish()
    post = BlogPage.objects.live().order_by("-date").first()
    doc = DocPage.objects.live().order_by("path").first()
    return {"post": post.url, "doc": doc.url if doc else None, "index": index.url}


def first_request(path: str, mode: str) -> list:
    """The queries of the first two requests this process serves for `path`. "warm" first runs
    config.wsgi.warm, as gunicorn's master does before forking (this site only)."""
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    if mode == "warm":
        from config.wsgi import warm

        warm()
    client = Client(HTTP_HOST="localhost", HTTP_X_FORWARDED_PROTO="https")
    counts = []
    for _ in range(2):
        # Django keeps at most 9,000 queries in its log: start each request with an empty one.
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            status = client.get(path).status_code
        counts.append(len(queries) if status == 200 else f"HTTP {status}")
    return counts


def peer_pages() -> dict:
    """bakerydemo's page for each of the site's page types (its standard page as a docs page)."""
    from django.apps import apps
    from wagtail.models import Page

    def first(model):
        page = Page.objects.live().type(model).order_by("path").first()
        return page.url if page else None

    return {
        "home": "/",
        "blog index": first(apps.get_model("blog", "BlogIndexPage")),
        "post": first(apps.get_model("blog", "BlogPage")),
        "docs page": first(apps.get_model("base", "StandardPage")),
    }


def main(argv: list[str]) -> int:
    commands = {
        "seed": (1, lambda count: seed(int(count))),
        "first-request": (2, first_request),
        "peer-pages": (0, peer_pages),
    }
    if not argv or argv[0] not in commands or len(argv) - 1 != commands[argv[0]][0]:
        print(__doc__, file=sys.stderr)
        return 2
    setup()
    print(json.dumps(commands[argv[0]][1](*argv[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
