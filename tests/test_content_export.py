"""export_content: pages written back as site/ files, which import into the same pages."""

import datetime
import html
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given, settings, strategies
from wagtail.models import Page, Revision

from blog.content.exporter import Exporter
from blog.content.markdown import BodyParser
from blog.content.richtext import RichTextWriter, escape_text
from blog.content.snapshot import site_snapshot
from blog.models import (
    BlogIndexPage,
    BlogPage,
    BlogPageAuthor,
    ContentSource,
    DocPage,
    DocsIndexPage,
    HomePage,
)
from tests import server
from tests.factories import AuthorFactory, ImageFactory
from tests.test_content_import import (
    NOT_PAGES,
    load,
    media_root,  # noqa: F401 (an autouse fixture: imported images go to the test's folder)
    page_files,
    site_copy,  # noqa: F401 (a fixture)
)

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def export(path: Path, *options: str) -> str:
    output = io.StringIO()
    call_command("export_content", "--path", str(path), *options, stdout=output)
    return output.getvalue()


def relative_files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


# --- The real site/ -----------------------------------------------------------------------


def test_export_writes_each_page_back_to_the_file_it_came_from(site_copy, tmp_path):  # noqa: F811
    load(site_copy)

    output = export(tmp_path / "export")

    exported = relative_files(tmp_path / "export")
    originals = relative_files(site_copy) - NOT_PAGES
    referenced_images = {name for name in originals if name.startswith("images/")}
    assert {name for name in exported if name.endswith(".md")} == {
        name for name in originals if name.endswith(".md")
    }
    assert {name for name in exported if name.startswith("images/")} <= referenced_images
    for name in exported:
        if name.startswith("images/"):
            assert (tmp_path / "export" / name).read_bytes() == (site_copy / name).read_bytes()
    assert f"{len(page_files(site_copy))} written, 0 unchanged, 0 skipped, 0 failed" in output
    # A second export into the same folder finds every file up to date.
    assert f"0 written, {len(page_files(site_copy))} unchanged" in export(tmp_path / "export")


def test_importing_an_export_into_the_same_site_changes_nothing(site_copy, tmp_path):  # noqa: F811
    load(site_copy)
    export(tmp_path / "export")
    revisions = Revision.objects.count()

    output = load(tmp_path / "export")

    total = len(page_files(site_copy))
    assert f"0 created, 0 updated, {total} unchanged" in output
    assert Revision.objects.count() == revisions
    # The records follow the files they last came from.
    assert ContentSource.objects.count() == total


@pytest.mark.slow
def test_export_then_import_into_a_fresh_database_reproduces_the_site(site_copy, tmp_path):  # noqa: F811
    """Titles, slugs, order, dates, tags, authors and every block's value survive the trip."""
    load(site_copy)
    before = site_snapshot(HomePage.objects.get())
    export(tmp_path / "export")

    data_dir = tmp_path / "fresh"
    data_dir.mkdir()
    with server.throwaway_database(os.environ.get("DATABASE_URL")) as database_url:
        env = server.production_env(
            data_dir, **({"DATABASE_URL": database_url} if database_url else {})
        )
        server.manage(env, "migrate", "--noinput", "-v", "0")
        imported = server.manage(env, "load_content", "--path", str(tmp_path / "export"))
        snapshot = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-v",
                "0",
                "-c",
                "import json; from blog.content.snapshot import site_snapshot; "
                "from blog.models import HomePage; "
                "print('SNAPSHOT', json.dumps(site_snapshot(HomePage.objects.get()), default=str))",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    assert "0 failed" in imported.stdout
    line = next(row for row in snapshot.stdout.splitlines() if row.startswith("SNAPSHOT "))
    after = json.loads(line.removeprefix("SNAPSHOT "))
    assert [page["url_path"] for page in after] == [page["url_path"] for page in before]
    assert after == json.loads(json.dumps(before, default=str))


# --- Pages made in the admin --------------------------------------------------------------

TRICKY_TEXT = (
    "Stars * and _underscores_, [brackets], <angle>, &amp; an entity, a back\\slash, "
    "`ticks`, ~~tildes~~ and a | pipe"
)


def every_block_body(image, linked_page) -> list[dict]:
    paragraph = (
        f"<p>{html.escape(TRICKY_TEXT, quote=False)}</p>"
        "<p>1. Not a list, # not a heading, and <b>bold</b> <i>italic</i> <code>a `tick`</code>, "
        f'<s>struck</s>, x<sup>2</sup>, a <a linktype="page" id="{linked_page.pk}">page link</a>, '
        '<a href="https://example.com/a_b?c=1&amp;d=(2)">an odd address</a>,<br/>'
        "- after a break</p>"
        "<ul><li>one<ol><li>nested</li><li>again</li></ol></li><li>two</li></ul>"
        "<p>" + " ".join(["A long sentence that the exporter has to wrap."] * 6) + "</p>"
    )
    return [
        {"type": "heading", "value": {"text": "Ends with a #", "level": "h2"}},
        {"type": "heading", "value": {"text": "[!NOTE] looks like a callout", "level": "h4"}},
        {"type": "paragraph", "value": paragraph},
        {
            "type": "code",
            "value": {
                "language": "python",
                "code": 'print("```")\n~~~',
                "filename": 'a "quoted" name.py',
                "caption": "With a back\\slash.",
            },
        },
        {
            "type": "code",
            "value": {"language": "bash", "code": "ls", "filename": "", "caption": ""},
        },
        {
            "type": "image",
            "value": {
                "image": image.pk,
                "alt_text": "A [bracketed] picture",
                "caption": 'Say "cheese"',
            },
        },
        {
            "type": "callout",
            "value": {"kind": "warning", "body": "<p>Careful.</p><ul><li>really</li></ul>"},
        },
        {
            "type": "quote",
            "value": {
                "text": "First line\nsecond line\n\n-- not the attribution",
                "attribution": "A person",
            },
        },
        {"type": "quote", "value": {"text": "No one said it.", "attribution": ""}},
        {"type": "embed", "value": "https://www.youtube.com/watch?v=abc"},
        {
            "type": "table",
            "value": {
                "data": [["Name", "Value"], ["a | b", "*star*"], ["", "`tick`"]],
                "first_row_is_table_header": True,
                "first_col_is_header": False,
                "table_header_choice": "row",
                "table_caption": "",
            },
        },
    ]


def test_pages_made_in_the_admin_export_and_import_back_unchanged(tmp_path):
    docs = DocsIndexPage.objects.get()
    target = DocPage(
        title="Target",
        slug="target",
        summary="Linked to.",
        body=[{"type": "paragraph", "value": "<p>Here.</p>"}],
    )
    docs.add_child(instance=target)
    image = ImageFactory(title="A picture")
    page = DocPage(
        title="Everything: a page",
        slug="everything",
        summary="Every block.",
        body=every_block_body(image, target),
    )
    docs.add_child(instance=page)
    post = BlogPage(
        title="A post",
        slug="a-post",
        summary="Posted.",
        date=datetime.date(2026, 3, 4),
        first_published_at=datetime.datetime(2026, 3, 4, 9, tzinfo=datetime.UTC),
        hero_image=image,
        hero_alt="The same picture",
        body=[{"type": "paragraph", "value": "<p>Hello.</p>"}],
    )
    post.tags.add("zeta", "alpha")
    post.author_links = [BlogPageAuthor(author=AuthorFactory(name="Zoë"), sort_order=0)]
    BlogIndexPage.objects.get().add_child(instance=post)
    before = {item["url_path"]: item for item in site_snapshot(HomePage.objects.get())}

    output = export(tmp_path / "export")
    assert "0 failed" in output
    text = (tmp_path / "export/docs/02-everything.md").read_text()
    assert all(len(line) <= 100 for line in text.splitlines() if not line.startswith(("|", "!")))
    load(tmp_path / "export", "--force")

    after = {item["url_path"]: item for item in site_snapshot(HomePage.objects.get())}
    expected = before["/home/docs/everything/"]
    # A link to a page is written as its address, which imports as a plain link.
    expected["body"][2][1] = expected["body"][2][1].replace(
        f'<a linktype="page" id="{target.pk}">', '<a href="/docs/target/">'
    )
    assert after["/home/docs/everything/"]["body"] == expected["body"]
    assert after["/home/docs/everything/"] == expected
    assert after["/home/blog/a-post/"] == before["/home/blog/a-post/"]
    assert after["/home/blog/a-post/"]["authors"] == ["Zoë"]


def test_a_block_with_no_markdown_form_fails_that_page_only(tmp_path):
    docs = DocsIndexPage.objects.get()
    table = {
        "data": [["a", "b"], ["c", "d"]],
        "first_row_is_table_header": True,
        "table_header_choice": "row",
        "mergeCells": [{"row": 1, "col": 0, "rowspan": 1, "colspan": 2}],
    }
    docs.add_child(
        instance=DocPage(
            title="Merged", slug="merged", summary="x", body=[{"type": "table", "value": table}]
        )
    )
    docs.add_child(
        instance=DocPage(
            title="Fine",
            slug="fine",
            summary="x",
            body=[{"type": "paragraph", "value": "<p>Fine.</p>"}],
        )
    )
    output = io.StringIO()
    with pytest.raises(CommandError, match="1 page"):
        call_command("export_content", "--path", str(tmp_path / "export"), stdout=output)
    assert "merged cells" in output.getvalue()
    assert (tmp_path / "export/docs/02-fine.md").is_file()


def test_drafts_are_not_exported(tmp_path):
    docs = DocsIndexPage.objects.get()
    docs.add_child(
        instance=DocPage(
            title="Draft",
            slug="draft",
            summary="x",
            live=False,
            body=[{"type": "paragraph", "value": "<p>Soon.</p>"}],
        )
    )
    output = export(tmp_path / "export")
    assert "not live" in output
    assert not list((tmp_path / "export/docs").glob("*draft*"))


# --- Text survives the trip (property tests, no database) ----------------------------------

TEXT = (
    strategies.text(
        alphabet=strategies.sampled_from(
            [*"abcxyz ABC 0123456789 .,;:!?'\"()[]{}<>*_`~#+-=|\\/&%$@^", "é", "ü", "“", "—"]
        ),
        min_size=1,
        max_size=120,
    )
    .map(str.strip)
    .filter(bool)
)


def parse(markdown: str):
    return BodyParser(1, Path("."), Path(".")).parse(markdown)


@pytest.mark.django_db(False)
@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_any_paragraph_text_reads_back_the_same(text):
    source = f"<p>{html.escape(text, quote=False)}</p>"
    markdown = RichTextWriter(lambda attrs: attrs.get("href", "")).markdown(source)
    blocks = parse(markdown)
    assert [(block.type, block.value) for block in blocks] == [("paragraph", source)], markdown


@pytest.mark.django_db(False)
@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_any_heading_text_reads_back_the_same(text):
    markdown = f"## {escape_text(text)}"
    if markdown.endswith("#"):
        markdown = markdown[:-1] + "\\#"
    assert [block.value["text"] for block in parse(markdown)] == [text]


@pytest.mark.django_db(False)
@settings(max_examples=200, deadline=None)
@given(TEXT, TEXT)
def test_any_table_cell_reads_back_the_same(first, second):
    row = f"| {escape_text(first, table_cell=True)} | {escape_text(second, table_cell=True)} |"
    blocks = parse(f"| a | b |\n| --- | --- |\n{row}")
    assert blocks[0].value["data"][1] == [first, second]


@pytest.mark.django_db(False)
@settings(max_examples=200, deadline=None)
@given(TEXT, TEXT)
def test_any_quote_reads_back_the_same(text, attribution):
    markdown = Exporter(Path(".")).quote_markdown(text, attribution)
    assert [block.value for block in parse(markdown)] == [
        {"text": text, "attribution": attribution}
    ]


def test_page_links_export_as_the_pages_address(tmp_path):
    docs = DocsIndexPage.objects.get()
    target = DocPage(
        title="T", slug="t", summary="x", body=[{"type": "paragraph", "value": "<p>T.</p>"}]
    )
    docs.add_child(instance=target)
    page = DocPage(
        title="L",
        slug="l",
        summary="x",
        body=[{"type": "paragraph", "value": f'<p><a linktype="page" id="{target.pk}">T</a></p>'}],
    )
    docs.add_child(instance=page)
    export(tmp_path / "export")
    assert "[T](/docs/t/)" in (tmp_path / "export/docs/02-l.md").read_text()
    assert Page.objects.filter(slug="t").exists()
