"""load_content: site/ Markdown files become published pages, and editors' changes survive."""

import hashlib
import io
import re
import shutil
from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.files.images import ImageFile
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image as PillowImage
from taggit.models import Tag
from wagtail.images import get_image_model
from wagtail.models import Page, Revision

from blog.models import (
    Author,
    BlogIndexPage,
    BlogPage,
    ContentSource,
    DocPage,
    DocsIndexPage,
    HomePage,
)

pytest_plugins = ["tests.site_content"]
pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
NOT_PAGES = {"README.md"}


# --- Helpers (test_content_export.py uses them too) ---------------------------------------


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Imported images are stored under this test's own folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def site_copy(tmp_path) -> Path:
    """A copy of the repository's site/ (others may edit site/ while the tests run)."""
    copy = tmp_path / "site"
    shutil.copytree(SITE, copy, ignore=shutil.ignore_patterns(".*"))
    return copy


def load(path: Path, *options: str) -> str:
    """Run load_content on `path` and return what it printed; fails the test if it fails."""
    output = io.StringIO()
    call_command("load_content", "--path", str(path), *options, stdout=output)
    return output.getvalue()


def load_failing(path: Path, *options: str) -> tuple[str, str]:
    """Run load_content expecting a failure: (what it printed, the error)."""
    output = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("load_content", "--path", str(path), *options, stdout=output)
    return output.getvalue(), str(error.value)


def front_matter(path: Path) -> dict:
    text = path.read_text()
    return yaml.safe_load(text.split("---\n", 2)[1])


def page_files(root: Path) -> list[Path]:
    return sorted(
        path for path in root.rglob("*.md") if path.relative_to(root).as_posix() not in NOT_PAGES
    )


def status_of(output: str, relative_path: str) -> str:
    """The status word on the line that names `relative_path`."""
    for line in output.splitlines():
        if line.rstrip().endswith(relative_path) or f"{relative_path}  (" in line:
            return line.split()[0]
        if f"{relative_path}:" in line:
            return line.split()[0]
    raise AssertionError(f"no line for {relative_path} in:\n{output}")


def png_bytes(colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    PillowImage.new("RGB", (8, 6), colour).save(buffer, "PNG")
    return buffer.getvalue()


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


HOME = "---\ntitle: Small site\nsummary: A test site.\n---\n\nHello from the home page.\n"
DOCS_INDEX = "---\ntitle: Docs\nslug: docs\nsummary: The docs.\n---\n\nRead these.\n"


def doc(title: str, body: str, extra: str = "") -> str:
    return f"---\ntitle: {title}\nsummary: About {title.lower()}.\n{extra}---\n\n{body}\n"


def post(title: str, date: str, body: str, extra: str = "") -> str:
    front = f"title: {title}\ndate: {date}\nsummary: About {title.lower()}.\n{extra}"
    return f"---\n{front}---\n\n{body}\n"


def expected_docs_order(folder: Path) -> list[str]:
    """The slugs of the docs pages directly under `folder`, in the order its files give:
    the `order` key, else the number the name starts with, then the name."""
    entries = []
    for path in folder.iterdir():
        if path.is_dir() and (path / "index.md").is_file():
            file, name = path / "index.md", path.name
        elif path.suffix == ".md" and path.name != "index.md":
            file, name = path, path.stem
        else:
            continue
        front = front_matter(file)
        match = re.match(r"^(\d+)-(.+)$", name)
        order = front.get("order", int(match.group(1)) if match else None)
        slug = front.get("slug") or (match.group(2) if match else name)
        entries.append(((10**9 if order is None else order, name), slug))
    return [slug for _, slug in sorted(entries)]


# --- Importing the real site/ -------------------------------------------------------------


def test_importing_site_into_an_empty_site_builds_the_whole_page_tree(site_copy):
    output = load(site_copy)

    post_files = [p for p in (site_copy / "blog").glob("*.md") if p.name != "index.md"]
    doc_files = [p for p in page_files(site_copy / "docs") if p != site_copy / "docs/index.md"]
    assert BlogPage.objects.count() == len(post_files) > 0
    assert DocPage.objects.count() == len(doc_files) > 0
    assert f"{len(post_files) + len(doc_files)} created, 3 updated" in output
    assert "0 failed" in output

    home = HomePage.objects.get()
    assert home.title == front_matter(site_copy / "home.md")["title"]
    assert home.intro.startswith("<p>")
    # The migrations' empty indexes are reused, not duplicated.
    blog = BlogIndexPage.objects.get()
    docs = DocsIndexPage.objects.get()
    assert blog.title == front_matter(site_copy / "blog/index.md")["title"]
    assert docs.title == front_matter(site_copy / "docs/index.md")["title"]

    for path in post_files:
        front = front_matter(path)
        slug = front.get("slug") or re.sub(r"^\d{4}-\d{2}-\d{2}-", "", path.stem)
        page = BlogPage.objects.child_of(blog).get(slug=slug)
        assert page.title == front["title"]
        assert page.date == front["date"]
        assert page.first_published_at.date() == front["date"]
        assert sorted(page.tags.names()) == sorted(front.get("tags", []))
        assert [author.name for author in page.authors] == front.get("authors", [])
        assert bool(page.hero_image) == bool(front.get("hero"))

    # Docs: every folder's pages under the folder's page, in the files' order.
    folders = [site_copy / "docs", *(p.parent for p in (site_copy / "docs").rglob("*/index.md"))]
    for folder in folders:
        if folder == site_copy / "docs":
            parent = docs
        else:
            tail = docs_folder_url(site_copy / "docs", folder)
            parent = Page.objects.get(url_path=f"{docs.url_path}{tail}")
        children = [page.slug for page in parent.get_children()]
        assert children == expected_docs_order(folder), folder

    # Every page is live, published through exactly one revision the import made.
    for page in Page.objects.descendant_of(home, inclusive=True).specific():
        assert page.live
        assert page.revisions.count() == 1
        assert page.live_revision_id == page.latest_revision_id
    referenced = set(re.findall(r"images/([\w.-]+\.png)", read_all(site_copy)))
    assert get_image_model().objects.count() == len(referenced) > 0
    assert Page.find_problems() == ([], [], [], [], [])


def docs_folder_url(docs_root: Path, folder: Path) -> str:
    """The url_path tail of a docs folder's page: each folder's index.md slug, or its name."""
    slugs = []
    current = docs_root
    for part in folder.relative_to(docs_root).parts:
        current = current / part
        slugs.append(front_matter(current / "index.md").get("slug") or re.sub(r"^\d+-", "", part))
    return "/".join(slugs) + "/"


def read_all(root: Path) -> str:
    return "\n".join(path.read_text() for path in page_files(root))


def test_imported_pages_render_with_highlighted_code_and_images(site_copy, client, rendering):
    load(site_copy)
    for page in Page.objects.descendant_of(HomePage.objects.get(), inclusive=True).specific():
        response = client.get(page.url)
        assert response.status_code == 200, page.url
        assert page.title.split()[0] in response.content.decode()
    with_code = next(
        page for page in DocPage.objects.all() if any(b.block_type == "code" for b in page.body)
    )
    html = client.get(with_code.url).content.decode()
    assert 'class="highlight"' in html
    assert '<span class="' in html
    with_image = next(
        page for page in BlogPage.objects.all() if any(b.block_type == "image" for b in page.body)
    )
    # The shipped images are diagrams: drawn from their SVG in static/diagrams/ (test_diagrams.py).
    assert (
        'class="diagram-link" href="/static/diagrams/'
        in client.get(with_image.url).content.decode()
    )


def test_a_second_import_changes_nothing(site_copy):
    load(site_copy)
    revisions = Revision.objects.count()
    images = get_image_model().objects.count()
    pages = Page.objects.count()

    output = load(site_copy)

    total = len(page_files(site_copy))
    assert (
        f"0 created, 0 updated, {total} unchanged, 0 skipped, 0 removed-from-files, 0 failed"
        in (output)
    )
    assert "Nothing changed" in output
    assert Revision.objects.count() == revisions
    assert get_image_model().objects.count() == images
    assert Page.objects.count() == pages


# --- Changes in files, and in the admin ---------------------------------------------------


@pytest.fixture
def small_site(tmp_path) -> Path:
    root = tmp_path / "small"
    return write_files(
        root,
        {
            "home.md": HOME,
            "docs/index.md": DOCS_INDEX,
            "docs/01-first.md": doc("First", "The first page."),
            "docs/02-second.md": doc("Second", "The second page."),
            "docs/guide/index.md": doc("Guide", "A section.", "order: 3\n"),
            "docs/guide/01-step.md": doc("Step", "A step."),
            "blog/index.md": "---\ntitle: Posts\nslug: blog\n---\n",
            "blog/2026-01-02-hello.md": post(
                "Hello",
                "2026-01-02",
                "![A red square](../images/red.png)\n\nHi.",
                "tags: [one, two]\nauthors: [Ann, Bo]\n",
            ),
            "images/red.png": png_bytes(),
        },
    )


def test_a_changed_file_updates_only_its_page_with_a_new_revision(small_site):
    load(small_site)
    page = DocPage.objects.get(slug="second")
    revisions = page.revisions.count()
    write_files(small_site, {"docs/02-second.md": doc("Second", "The second page, rewritten.")})

    output = load(small_site)

    assert status_of(output, "docs/02-second.md") == "updated"
    assert status_of(output, "docs/01-first.md") == "unchanged"
    page.refresh_from_db()
    assert "rewritten" in page.body[0].value.source
    assert page.revisions.count() == revisions + 1
    assert page.live_revision_id == page.latest_revision_id


def test_quiet_import_prints_only_changes_and_the_summary(small_site):
    load(small_site)
    write_files(small_site, {"docs/01-first.md": doc("First", "Changed in the file.")})
    lines = load(small_site, "--verbosity", "0").splitlines()
    assert lines[0].startswith("updated")
    assert lines[0].endswith("docs/01-first.md")
    assert lines[1].startswith("0 created, 1 updated, 7 unchanged")


def edit_in_admin(page, user, summary: str):
    """What the admin's "Publish" does: a new revision by the editor, published."""
    page = page.specific_class.objects.get(pk=page.pk)
    page.summary = summary
    page.save_revision(user=user, log_action=True).publish(user=user)


@pytest.fixture
def editor():
    # A superuser stands in for an editor with publish permission on these pages.
    return get_user_model().objects.create_superuser(
        "editor", "editor@example.com", "a long enough password"
    )


def test_a_page_edited_in_the_admin_is_skipped_and_force_overwrites_it(small_site, editor):
    load(small_site)
    page = DocPage.objects.get(slug="first")
    edit_in_admin(page, editor, "The editor's summary.")
    write_files(small_site, {"docs/01-first.md": doc("First", "Changed in the file.")})

    output = load(small_site)

    line = next(line for line in output.splitlines() if "docs/01-first.md" in line)
    assert line.startswith("skipped")
    assert "edited in the admin by editor" in line
    assert "--force" in line
    page.refresh_from_db()
    assert page.summary == "The editor's summary."
    assert "Changed in the file" not in page.body[0].value.source

    # The skip holds on every later run, until --force.
    assert status_of(load(small_site), "docs/01-first.md") == "skipped"
    output = load(small_site, "--force")

    assert status_of(output, "docs/01-first.md") == "updated"
    page.refresh_from_db()
    assert page.summary == "About first."
    assert "Changed in the file" in page.body[0].value.source
    # The editor's version stays in the page's history.
    assert page.revisions.filter(user=editor).exists()
    assert status_of(load(small_site), "docs/01-first.md") == "unchanged"


def test_an_editors_change_survives_imports_when_the_file_did_not_change(small_site, editor):
    load(small_site)
    edit_in_admin(DocPage.objects.get(slug="first"), editor, "The editor's summary.")

    output = load(small_site)

    assert status_of(output, "docs/01-first.md") == "unchanged"
    assert "edited in the admin" in output
    assert DocPage.objects.get(slug="first").summary == "The editor's summary."


def test_a_draft_saved_in_the_admin_counts_as_an_edit(small_site, editor):
    load(small_site)
    page = DocPage.objects.get(slug="first")
    page.summary = "Work in progress."
    page.save_revision(user=editor)
    write_files(small_site, {"docs/01-first.md": doc("First", "Changed in the file.")})

    assert status_of(load(small_site), "docs/01-first.md") == "skipped"
    page.refresh_from_db()
    assert page.get_latest_revision().user == editor


def test_a_page_changed_without_a_revision_is_skipped_too(small_site):
    load(small_site)
    DocPage.objects.filter(slug="first").update(summary="Changed by a script.")
    write_files(small_site, {"docs/01-first.md": doc("First", "Changed in the file.")})

    output = load(small_site)

    assert "changed outside the importer" in output
    assert status_of(output, "docs/01-first.md") == "skipped"
    assert DocPage.objects.get(slug="first").summary == "Changed by a script."


def test_a_page_unpublished_in_the_admin_stays_unpublished(small_site, editor):
    load(small_site)
    DocPage.objects.get(slug="first").unpublish(user=editor)
    write_files(small_site, {"docs/01-first.md": doc("First", "Changed in the file.")})

    output = load(small_site)

    assert "unpublished in the admin" in output
    assert not DocPage.objects.get(slug="first").live


def test_a_page_deleted_in_the_admin_is_not_brought_back(small_site):
    load(small_site)
    DocPage.objects.get(slug="second").delete()

    output = load(small_site)

    assert status_of(output, "docs/02-second.md") == "skipped"
    assert "deleted in the admin" in output
    assert not DocPage.objects.filter(slug="second").exists()
    assert status_of(load(small_site, "--force"), "docs/02-second.md") == "created"
    assert DocPage.objects.get(slug="second").live


def test_a_page_made_in_the_admin_at_a_files_address_is_not_taken_over(small_site, editor):
    docs = DocsIndexPage.objects.get()
    page = DocPage(
        title="Mine",
        slug="first",
        summary="An editor's page.",
        body=[{"type": "paragraph", "value": "<p>Mine.</p>"}],
    )
    docs.add_child(instance=page)
    page.save_revision(user=editor).publish(user=editor)

    output = load(small_site)

    assert status_of(output, "docs/01-first.md") == "skipped"
    assert DocPage.objects.get(slug="first").title == "Mine"
    assert status_of(load(small_site, "--force"), "docs/01-first.md") == "updated"
    assert DocPage.objects.get(slug="first").title == "First"


def test_a_removed_file_is_reported_and_its_page_left_alone(small_site):
    load(small_site)
    (small_site / "docs/02-second.md").unlink()

    output = load(small_site)

    line = next(line for line in output.splitlines() if "docs/02-second.md" in line)
    assert line.startswith("removed-from-files")
    assert "/docs/second/" in line
    assert "1 removed-from-files" in output
    assert DocPage.objects.get(slug="second").live


def test_a_renamed_file_keeps_its_page_and_moves_it_to_its_new_place(small_site):
    load(small_site)
    page_id = DocPage.objects.get(slug="first").pk
    (small_site / "docs/01-first.md").rename(small_site / "docs/04-first.md")

    output = load(small_site)

    line = next(line for line in output.splitlines() if "docs/04-first.md" in line)
    assert line.startswith("updated")
    assert "renamed from" in line
    assert "0 removed-from-files" in output
    assert DocPage.objects.get(slug="first").pk == page_id
    assert [p.slug for p in DocsIndexPage.objects.get().get_children()] == [
        "second",
        "guide",
        "first",
    ]
    assert status_of(load(small_site), "docs/04-first.md") == "unchanged"


def test_an_order_key_reorders_siblings(small_site):
    load(small_site)
    write_files(small_site, {"docs/guide/index.md": doc("Guide", "A section.", "order: 0\n")})

    load(small_site)

    assert [p.slug for p in DocsIndexPage.objects.get().get_children()] == [
        "guide",
        "first",
        "second",
    ]


def test_posts_get_their_date_tags_authors_and_images(small_site):
    load(small_site)
    page = BlogPage.objects.get(slug="hello")
    assert str(page.date) == "2026-01-02"
    assert str(page.first_published_at.date()) == "2026-01-02"
    assert sorted(page.tags.names()) == ["one", "two"]
    assert [author.name for author in page.authors] == ["Ann", "Bo"]
    image_block = page.body[0]
    assert image_block.block_type == "image"
    assert image_block.value["alt_text"] == "A red square"
    assert image_block.value["image"].title == "Red"


def test_images_are_shared_by_content_hash_and_reused_across_imports(small_site):
    # The same picture, already uploaded through the admin (which stores the file's SHA-1).
    library_copy = get_image_model().objects.create(
        title="Uploaded by an editor",
        file=ImageFile(io.BytesIO(png_bytes()), name="upload.png"),
        file_hash=hashlib.sha1(png_bytes(), usedforsecurity=False).hexdigest(),
    )
    write_files(
        small_site,
        {"docs/03-third.md": doc("Third", "![Same square](../images/red.png)\n\nMore.")},
    )

    load(small_site)
    load(small_site, "--force")

    assert get_image_model().objects.count() == 1
    assert BlogPage.objects.get(slug="hello").body[0].value["image"].pk == library_copy.pk


def test_authors_and_tags_are_created_once(small_site):
    load(small_site)
    write_files(
        small_site,
        {
            "blog/2026-01-03-again.md": post(
                "Again", "2026-01-03", "Hi.", "tags: [two]\nauthors: [Ann]\n"
            )
        },
    )
    load(small_site)
    assert Author.objects.filter(name="Ann").count() == 1
    assert Tag.objects.filter(name="two").count() == 1


def test_code_fences_keep_language_title_and_caption(small_site):
    write_files(
        small_site,
        {
            "docs/03-code.md": doc(
                "Code",
                '```sh title="scripts/start" caption="How it starts."\nexec gunicorn\n```\n\n'
                "```yml\na: 1\n```\n\n```Dockerfile\nFROM python\n```",
            )
        },
    )
    load(small_site)
    blocks = [block.value for block in DocPage.objects.get(slug="code").body]
    assert [(b["language"], b["code"], b["filename"], b["caption"]) for b in blocks] == [
        ("bash", "exec gunicorn", "scripts/start", "How it starts."),
        ("yaml", "a: 1", "", ""),
        ("dockerfile", "FROM python", "", ""),
    ]


def test_markdown_maps_onto_the_blocks(small_site):
    body = "\n".join(
        [
            "Text with **bold**, *italic*, `code`, ~~gone~~ and a [link](/docs/first/).",
            "",
            "- one",
            "- two",
            "  1. nested",
            "",
            "## A section",
            "",
            "### A `smaller` one",
            "",
            "> [!TIP]",
            "> A tip with `code`.",
            "",
            "> Said once.",
            "> -- Someone",
            "",
            "| Name | Value |",
            "| --- | --- |",
            "| `A` | 1 \\| 2 |",
            "",
            "{embed https://www.youtube.com/watch?v=abc}",
        ]
    )
    write_files(small_site, {"docs/03-blocks.md": doc("Blocks", body)})
    load(small_site)
    raw = list(DocPage.objects.get(slug="blocks").body.raw_data)
    assert [(item["type"], item["value"]) for item in raw] == [
        (
            "paragraph",
            "<p>Text with <b>bold</b>, <i>italic</i>, <code>code</code>, <s>gone</s> and a "
            '<a href="/docs/first/">link</a>.</p>'
            "<ul><li>one</li><li>two<ol><li>nested</li></ol></li></ul>",
        ),
        ("heading", {"text": "A section", "level": "h2"}),
        ("heading", {"text": "A smaller one", "level": "h3"}),
        ("callout", {"kind": "tip", "body": "<p>A tip with <code>code</code>.</p>"}),
        ("quote", {"text": "Said once.", "attribution": "Someone"}),
        (
            "table",
            {
                "data": [["Name", "Value"], ["A", "1 | 2"]],
                "first_row_is_table_header": True,
                "first_col_is_header": False,
                "table_header_choice": "row",
                "table_caption": "",
            },
        ),
        ("embed", "https://www.youtube.com/watch?v=abc"),
    ]


# --- Files that break the format ----------------------------------------------------------


BAD_FILES = [
    ("---\ntitle: [unclosed\nsummary: x\n---\n\nText.\n", 3, "not valid YAML"),
    ("---\nsummary: No title.\n---\n\nText.\n", 1, "`title` is missing"),
    ("---\ntitle: 2026\nsummary: x\n---\n\nText.\n", 2, "`title` must be text"),
    ("---\ntitle: A\nsummary: x\ncolour: red\n---\n\nText.\n", 4, "unknown key `colour`"),
    ("---\ntitle: A\nsummary: x\norder: first\n---\n\nText.\n", 4, "`order` must be a whole"),
    ("---\ntitle: A\nsummary: x\n---\n\nText.\n\n# Big\n", 8, "level-one heading"),
    ("---\ntitle: A\nsummary: x\n---\n\n##### Deep\n", 6, "headings go from ## to ####"),
    ("---\ntitle: A\nsummary: x\n---\n\n<div>raw</div>\n", 6, "raw HTML"),
    ("---\ntitle: A\nsummary: x\n---\n\nSome <b>bold</b>.\n", 6, "raw HTML"),
    ("---\ntitle: A\nsummary: x\n---\n\n![](../images/red.png)\n", 6, "needs alt text"),
    ("---\ntitle: A\nsummary: x\n---\n\n![Gone](../images/gone.png)\n", 6, "does not exist"),
    ("---\ntitle: A\nsummary: x\n---\n\nText\n\n> [!DANGER]\n> Boom.\n", 8, "unknown callout"),
    ("---\ntitle: A\nsummary: x\n---\n\n```rust\nfn main() {}\n```\n", 6, "unknown code language"),
    ("---\ntitle: A\nsummary: x\n---\n\n```\nplain\n```\n", 6, "names its language"),
    ("---\ntitle: A\nsummary: x\n---\n\n    indented code\n", 6, "fenced block"),
    ("---\ntitle: A\nsummary: x\n---\n\nText.\n\n---\n\nMore.\n", 8, "horizontal rule"),
    ("---\ntitle: A\nsummary: x\n---\n\nSee [the file](../02-second.md).\n", 6, "points at a file"),
    (
        "---\ntitle: A\nsummary: x\n---\n\n> A [linked](https://x.org) quote.\n",
        6,
        "cannot hold a link",
    ),
    ("---\ntitle: A\nsummary: x\n---\n\n3. three\n4. four\n", 6, "starts at 1"),
    ("---\ntitle: A\nsummary: x\n---\n\n- item\n\n  ```sh\n  ls\n  ```\n", 8, "list item"),
    # A problem on a later line of a paragraph is reported at that line, inside emphasis and
    # after it too.
    (
        "---\ntitle: A\nsummary: x\n---\n\n- one\n  **two\n  [x](../02-second.md)**\n",
        8,
        "points at a file",
    ),
    (
        "---\ntitle: A\nsummary: x\n---\n\n> *a\n> b*\n> [l](https://x.org)\n",
        8,
        "cannot hold a link",
    ),
    ("---\ntitle: A\nsummary: x\n---\n\n> [!NOTE]\n> text\n> Some <b>x</b>.\n", 8, "raw HTML"),
    (
        "---\ntitle: A\nsummary: x\n---\n\n![A [link](/docs/) in alt](../images/red.png)\n",
        6,
        "alt text is plain text and cannot hold a link",
    ),
    ("---\ntitle: A\nsummary: x\n---\n", 5, "body is empty"),
    ("title: A\n", 1, "starts with front matter"),
    ("---\ntitle: A\nsummary: x\n\nText.\n", 1, "no closing `---`"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_FILES)
def test_a_malformed_file_fails_with_its_path_line_and_the_fix(small_site, text, line, message):
    write_files(small_site, {"docs/03-bad.md": text})

    output, error = load_failing(small_site)

    failed = [row for row in output.splitlines() if row.startswith("failed")]
    assert len(failed) == 1
    assert f"small/docs/03-bad.md:{line}: " in failed[0]
    assert message in failed[0]
    assert "1 file(s) could not be imported" in error
    # The other files were imported.
    assert DocPage.objects.filter(slug__in=["first", "second", "guide", "step"]).count() == 4
    assert not DocPage.objects.filter(slug="bad").exists()


@pytest.mark.parametrize(
    ("date", "message"),
    [("2026-02-30", "not a day of the calendar"), ("02/01/2026", "YYYY-MM-DD"), ("", "missing")],
)
def test_a_post_with_a_bad_date_fails_at_the_date_line(small_site, date, message):
    write_files(small_site, {"blog/2026-02-01-bad.md": post("Bad", date, "Text.")})
    output, _ = load_failing(small_site)
    line = next(row for row in output.splitlines() if row.startswith("failed"))
    assert "blog/2026-02-01-bad.md:" in line
    assert message in line
    if date:
        assert ":3: " in line


def test_a_docs_folder_without_an_index_fails_with_its_files(small_site):
    write_files(small_site, {"docs/orphans/01-lost.md": doc("Lost", "Alone.")})
    output, _ = load_failing(small_site)
    assert "docs/orphans/01-lost.md:1: docs/orphans/ has no index.md" in output


def test_a_file_the_database_refuses_leaves_nothing_half_imported(small_site, media_root):
    """A post whose slug the blog's own routes use passes the parser but fails validation
    after its image and page were written: all of it is rolled back, files included."""
    write_files(
        small_site,
        {
            "images/blue.png": png_bytes((10, 10, 200)),
            "blog/2026-02-01-tags.md": post(
                "Tags",
                "2026-02-01",
                "![A blue square](../images/blue.png)\n\nText.",
                "tags: [brand-new]\nauthors: [New Author]\n",
            ),
        },
    )
    output, _ = load_failing(small_site)

    line = next(row for row in output.splitlines() if row.startswith("failed"))
    assert "blog/2026-02-01-tags.md:" in line
    assert "taken by the blog's own pages" in line
    assert not BlogPage.objects.filter(slug="tags").exists()
    assert not ContentSource.objects.filter(path="blog/2026-02-01-tags.md").exists()
    assert get_image_model().objects.count() == 1  # red.png only
    stored = [path.name for path in media_root.rglob("*.png")]
    assert not any(name.startswith("blue") for name in stored)
    assert not Author.objects.filter(name="New Author").exists()
    assert BlogPage.objects.filter(slug="hello").exists()


def test_fixing_a_failed_file_imports_it_next_time(small_site):
    write_files(small_site, {"docs/03-bad.md": "---\ntitle: A\nsummary: x\n---\n\n# Big\n"})
    load_failing(small_site)
    write_files(small_site, {"docs/03-bad.md": "---\ntitle: A\nsummary: x\n---\n\n## Fine\n"})
    assert status_of(load(small_site), "docs/03-bad.md") == "created"


# --- Dry run ------------------------------------------------------------------------------


def database_counts() -> dict:
    return {
        "pages": Page.objects.count(),
        "revisions": Revision.objects.count(),
        "images": get_image_model().objects.count(),
        "sources": ContentSource.objects.count(),
        "authors": Author.objects.count(),
        "tags": Tag.objects.count(),
        "home": HomePage.objects.get().title,
    }


def test_dry_run_prints_the_plan_and_writes_nothing(site_copy, media_root):
    before = database_counts()

    output = load(site_copy, "--dry-run")

    assert database_counts() == before
    assert not media_root.exists() or not any(media_root.rglob("*.*"))
    assert "would be created" in output
    assert "would be updated" in output
    assert output.splitlines()[-1].startswith("Dry run, nothing written:")


def test_dry_run_after_a_change_reports_it_without_applying_it(small_site):
    load(small_site)
    write_files(small_site, {"docs/01-first.md": doc("First", "Changed in the file.")})
    before = database_counts()

    output = load(small_site, "--dry-run")

    assert status_of(output, "docs/01-first.md") == "would"
    assert "would be updated" in output
    assert database_counts() == before
    assert "Changed in the file" not in DocPage.objects.get(slug="first").body[0].value.source


def test_dry_run_reports_malformed_files(small_site):
    write_files(small_site, {"docs/03-bad.md": "---\ntitle: A\nsummary: x\n---\n\n# Big\n"})
    output, _ = load_failing(small_site, "--dry-run")
    assert "docs/03-bad.md:6: a level-one heading" in output
    assert not DocPage.objects.filter(slug="first").exists()


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("load_content", "--path", str(tmp_path / "nowhere"), stdout=io.StringIO())


def test_a_renamed_file_whose_page_an_editor_changed_is_skipped_not_reported_gone(
    small_site, editor
):
    load(small_site)
    edit_in_admin(DocPage.objects.get(slug="first"), editor, "The editor's summary.")
    (small_site / "docs/01-first.md").rename(small_site / "docs/04-first.md")

    output = load(small_site)

    line = next(line for line in output.splitlines() if "docs/04-first.md" in line)
    assert line.startswith("skipped")
    assert "renamed from" in line
    assert "docs/01-first.md" not in output.replace(line, "")
    assert "0 removed-from-files" in load(small_site)
    assert DocPage.objects.get(slug="first").summary == "The editor's summary."
