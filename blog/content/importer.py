"""load_content's engine: import site/ files as published pages, never over an editor's change.

For each file, in tree order (parents first, siblings in their order):
- no page came from it yet: create the page (or adopt the empty one a migration made) and
  publish it as a revision;
- the file changed and the page is as the last import left it: publish a new revision;
- the page changed since the last import (another revision is the latest, or its content differs
  from what the import published): skip it, unless --force;
- nothing changed: leave it alone.
Each file is written in its own transaction, so a file that fails leaves its page as it was.
"""

import datetime
import hashlib
import io
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.images import ImageFile
from django.db import DatabaseError, transaction
from django.utils import timezone
from wagtail.images import get_image_model
from wagtail.models import Page

from blog.content import frontmatter
from blog.content.dates import last_commit_times
from blog.content.errors import ContentError
from blog.content.frontmatter import FrontMatter
from blog.content.layout import (
    BLOG_INDEX,
    BLOG_INDEX_FILE,
    DOC,
    DOCS_INDEX,
    DOCS_INDEX_FILE,
    HOME,
    HOME_FILE,
    POST,
    SourceFile,
    discover,
    public_path,
)
from blog.content.markdown import Block, BodyParser, ImageReference, resolve_image
from blog.content.report import display
from blog.content.snapshot import fingerprint
from blog.models import (
    Author,
    BlogIndexPage,
    BlogPage,
    BlogPageAuthor,
    ContentSource,
    DocPage,
    DocsIndexPage,
    HomePage,
)

# Part of every file's hash: raise it when the same file would now import differently, so the
# next import updates every page (that nobody edited) to the new mapping.
FORMAT_VERSION = b"flight-log-content-1"
PAGE_MODELS = {
    HOME: HomePage,
    BLOG_INDEX: BlogIndexPage,
    POST: BlogPage,
    DOCS_INDEX: DocsIndexPage,
    DOC: DocPage,
}
# The time of day a post's date becomes its first-published moment (what feeds show).
PUBLISHED_AT = datetime.time(9, 0)
# Which front matter key a model field's validation error belongs to.
FIELD_KEYS = {"hero_image": "hero"}


class ImportStatus(StrEnum):
    """What an import did with a file (REMOVED: with a page whose file is gone), in the order
    the summary counts them."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    REMOVED = "removed-from-files"
    FAILED = "failed"


@dataclass
class Outcome:
    """What happened to one file (or, for ImportStatus.REMOVED, to a page whose file is gone)."""

    status: ImportStatus
    path: str
    url: str = ""
    note: str = ""
    line: int = 1


@dataclass
class ParsedFile:
    source: SourceFile
    front: FrontMatter
    blocks: list[Block]
    hero: ImageReference | None
    source_hash: str

    @property
    def slug(self) -> str:
        return self.front.slug or self.source.default_slug

    @property
    def sort_key(self) -> tuple[int, str]:
        return self.source.sort_key(self.front.order)

    def image_references(self) -> list[ImageReference]:
        references = [reference for block in self.blocks for reference in block.image_references()]
        return [self.hero, *references] if self.hero else references


@dataclass
class Decision:
    action: ImportStatus
    page: Page | None = None
    record: ContentSource | None = None
    renamed_from: str | None = None
    note: str = ""


def image_title(path: Path) -> str:
    """ "request-path.png" -> "Request path"."""
    words = path.stem.replace("_", " ").replace("-", " ").split()
    title = " ".join(words) or path.stem
    return title[:1].upper() + title[1:]


@dataclass
class Importer:
    """Imports the content folder `root`; `display_root` is how paths are shown in messages."""

    root: Path
    display_root: str = "site"
    force: bool = False
    dry_run: bool = False
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self):
        self.root = Path(self.root)
        self.pages: dict[str, Page] = {}
        self.planned: set[str] = set()
        self.file_hashes: dict[Path, str] = {}
        self.images_by_hash: dict[str, object] = {}
        self.new_images: list = []
        self.renamed: set[str] = set()
        self._home_page = None
        self._commit_times: dict[Path, datetime.datetime] | None = None

    # --- The run ---------------------------------------------------------------------------

    def run(self) -> list[Outcome]:
        sources, placement_errors = discover(self.root)
        self.present = {source.path for source in sources} | set(placement_errors)
        parsed: dict[str, ParsedFile] = {}
        failures: dict[str, Outcome] = {}
        for path, error in placement_errors.items():
            failures[path] = self._failure(path, error)
        for source in sources:
            try:
                parsed[source.path] = self.parse(source)
            except ContentError as error:
                failures[source.path] = self._failure(source.path, error)

        self.records = {record.path: record for record in ContentSource.objects.all()}
        self.records_by_page = {
            record.page_id: record for record in self.records.values() if record.page_id
        }
        self.touched_parents: set[str | None] = set()
        ordered = self._tree_order(sources, parsed)
        for source in ordered:
            if source.path in failures:
                self.outcomes.append(failures.pop(source.path))
                continue
            self.outcomes.append(self._import(parsed[source.path]))
        self.outcomes.extend(failures.values())

        if not self.dry_run:
            moved: set[int] = set()
            for parent in self.touched_parents:
                siblings = [source for source in ordered if source.parent == parent]
                moved |= self._reorder(parent, siblings, parsed)
            for outcome in self.outcomes:
                page = self.pages.get(outcome.path)
                if (
                    outcome.status == ImportStatus.UNCHANGED
                    and page is not None
                    and page.pk in moved
                ):
                    outcome.status = ImportStatus.UPDATED
                    outcome.note = "moved to its place among its siblings"

        for path, record in sorted(self.records.items()):
            if path in self.present or path in self.renamed:
                continue
            url = public_path(record.page, self.home()) if record.page_id else ""
            note = "" if record.page_id else "its page was deleted in the admin"
            self.outcomes.append(Outcome(ImportStatus.REMOVED, path, url, note))
        return self.outcomes

    def _failure(self, path: str, error: ContentError) -> Outcome:
        return Outcome(ImportStatus.FAILED, path, note=error.message, line=error.line)

    @staticmethod
    def _tree_order(sources: list[SourceFile], parsed: dict[str, ParsedFile]) -> list[SourceFile]:
        """Depth first from the home page; siblings in their order (the file's, not the
        folder's alphabet), so pages are created in the order they are read."""
        children: dict[str | None, list[SourceFile]] = defaultdict(list)
        for source in sources:
            children[source.parent].append(source)

        def key(source: SourceFile):
            parsed_file = parsed.get(source.path)
            return source.sort_key(parsed_file.front.order if parsed_file else None)

        ordered: list[SourceFile] = []
        visited: set[str | None] = set()

        def visit(parent: str | None):
            if parent in visited:
                return
            visited.add(parent)
            for source in sorted(children.get(parent, []), key=key):
                ordered.append(source)
                visit(source.path)

        for start in (None, HOME_FILE, BLOG_INDEX_FILE, DOCS_INDEX_FILE):
            visit(start)
        return ordered

    # --- Parsing ---------------------------------------------------------------------------

    def file_hash(self, path: Path) -> str:
        """SHA-1 of a file, as Wagtail stores it in Image.file_hash."""
        if path not in self.file_hashes:
            self.file_hashes[path] = hashlib.sha1(
                path.read_bytes(), usedforsecurity=False
            ).hexdigest()
        return self.file_hashes[path]

    def parse(self, source: SourceFile) -> ParsedFile:
        file_path = self.root / source.path
        raw = file_path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ContentError(
                "the file is not UTF-8 text", raw[: error.start].count(b"\n") + 1
            ) from None
        text = text.removeprefix("\ufeff").replace("\r\n", "\n")
        yaml_text, yaml_line, body, body_line = frontmatter.split(text)
        front = frontmatter.parse(yaml_text, yaml_line, source.kind)
        blocks = BodyParser(body_line, file_path.parent, self.root).parse(body)
        if source.kind == HOME:
            for block in blocks:
                if block.type != "paragraph":
                    raise ContentError(
                        "the home page's text is its introduction: paragraphs and lists only",
                        block.line,
                    )
        elif source.kind in (POST, DOC) and not blocks:
            raise ContentError("the body is empty: a page needs some text", body_line)
        hero = None
        if front.hero:
            hero = resolve_image(front.hero, file_path.parent, self.root, front.line_of("hero"))
        parsed = ParsedFile(source, front, blocks, hero, "")
        digest = hashlib.sha256(FORMAT_VERSION)
        digest.update(raw)
        for path in sorted({reference.path for reference in parsed.image_references()}):
            digest.update(path.relative_to(self.root.resolve()).as_posix().encode())
            digest.update(self.file_hash(path).encode())
        parsed.source_hash = digest.hexdigest()
        return parsed

    # --- One file --------------------------------------------------------------------------

    def _import(self, item: ParsedFile) -> Outcome:
        path = item.source.path
        self.new_images = []
        parent = None
        try:
            parent = self._parent_page(item.source)
            decision = self._decide(item, parent)
            page, action = decision.page, decision.action
            if action in (ImportStatus.CREATED, ImportStatus.UPDATED) and not self.dry_run:
                with transaction.atomic():
                    page, wrote = self._write(item, parent, decision)
                if not wrote and decision.renamed_from is None:
                    action = ImportStatus.UNCHANGED
                # The file changed, so its place among its siblings may have too.
                self.touched_parents.add(item.source.parent)
            elif decision.renamed_from and not self.dry_run:
                # Skipped, but the record follows the file, so the old name is not reported gone.
                with transaction.atomic():
                    self._move_record(decision.record, path)
            if decision.renamed_from:
                self.renamed.add(decision.renamed_from)
        except ContentError as error:
            self._forget_new_images()
            return self._failure(path, error)
        except ValidationError as error:
            self._forget_new_images()
            return self._failure(path, self._content_error(error, item))
        except DatabaseError as error:
            self._forget_new_images()
            return self._failure(path, ContentError(f"the database refused the page: {error}"))

        if page is not None:
            self.pages[path] = page
            url = public_path(page, self.home())
        else:
            url = self._planned_path(item, parent)
            if action == ImportStatus.CREATED:
                self.planned.add(path)
        note = decision.note
        if decision.renamed_from:
            note = f"renamed from {display(self.display_root, decision.renamed_from)}" + (
                f"; {note}" if note else ""
            )
        return Outcome(action, path, url, note)

    def _forget_new_images(self):
        """The transaction rolled back the image rows; remove their files from storage too."""
        for image in self.new_images:
            self.images_by_hash.pop(image.file_hash, None)
            image.file.storage.delete(image.file.name)
        self.new_images = []

    def _planned_path(self, item: ParsedFile, parent: Page | None) -> str:
        if item.source.kind == HOME:
            return "/"
        if parent is not None:
            return f"{public_path(parent, self.home())}{item.slug}/"
        return f"…/{item.slug}/"

    def home(self) -> HomePage:
        if self._home_page is None:
            self._home_page = HomePage.objects.order_by("path").first()
            if self._home_page is None:
                raise ContentError("there is no home page: run `python manage.py migrate` first")
        return self._home_page

    def _parent_page(self, source: SourceFile) -> Page | None:
        """The page this file's page goes under (None in a dry run when it is to be created)."""
        if source.parent is None:
            return None
        if source.parent in self.pages:
            return self.pages[source.parent]
        record = self.records.get(source.parent)
        if record and record.page_id:
            return record.page.specific
        if source.parent == HOME_FILE:
            return self.home()
        if source.parent in self.planned:
            return None
        if (
            source.parent in (BLOG_INDEX_FILE, DOCS_INDEX_FILE)
            and source.parent not in self.present
        ):
            model = BlogIndexPage if source.parent == BLOG_INDEX_FILE else DocsIndexPage
            index = model.objects.child_of(self.home()).order_by("path").first()
            if index is not None:
                return index
        parent_file = display(self.display_root, source.parent)
        raise ContentError(
            f"its parent page's file {parent_file} has not been imported: fix that file first"
        )

    def _existing_page(self, item: ParsedFile, parent: Page | None) -> Page | None:
        """A page already at the file's place that no import has claimed for this file."""
        kind = item.source.kind
        if kind == HOME:
            return self.home()
        if parent is None:
            return None
        page = parent.get_children().filter(slug=item.slug).first()
        model = PAGE_MODELS[kind]
        if page is None and kind in (BLOG_INDEX, DOCS_INDEX):
            # The empty index the migrations create, when the file gives it another slug.
            unclaimed = model.objects.child_of(parent).filter(content_source__isnull=True)
            if unclaimed.count() == 1:
                page = unclaimed.first()
        if page is None:
            return None
        page = page.specific
        if not isinstance(page, model):
            raise ContentError(
                f"the slug {item.slug!r} is taken by a {page._meta.verbose_name} at "
                f"{public_path(page, self.home())}: give this file another `slug`",
                item.front.line_of("slug"),
            )
        return page

    def _decide(self, item: ParsedFile, parent: Page | None) -> Decision:
        path = item.source.path
        record = self.records.get(path)
        renamed_from = None
        if record is not None and record.page_id is None:
            if not self.force:
                return Decision(
                    ImportStatus.SKIPPED,
                    record=record,
                    note="its page was deleted in the admin; --force creates it again",
                )
            return Decision(ImportStatus.CREATED, record=record)
        if record is not None:
            page = record.page.specific
        else:
            page = self._existing_page(item, parent)
            if page is None:
                return Decision(ImportStatus.CREATED)
            owner = self.records_by_page.get(page.pk)
            if owner is not None and owner.path in self.present:
                raise ContentError(
                    f"the page {public_path(page, self.home())} comes from "
                    f"{display(self.display_root, owner.path)}: two files cannot share a slug "
                    "under one parent",
                    item.front.line_of("slug"),
                )
            if owner is not None:
                # The file that made this page is gone and this one has its place: a rename.
                record, renamed_from = owner, owner.path
            elif page.revisions.exists() and not self.force:
                if item.source.kind in (POST, DOC):
                    note = (
                        "a page made in the admin already has this address; change the file's "
                        "slug, or take the page over with --force"
                    )
                else:
                    note = "edited in the admin before any import; --force applies the file"
                return Decision(ImportStatus.SKIPPED, page=page, note=note)
            else:
                # A page no editor has touched (the migrations' home and index pages).
                return Decision(ImportStatus.UPDATED, page=page, record=ContentSource(path=path))

        edited = self._edited(page, record)
        same_file = record.source_hash == item.source_hash and renamed_from is None
        if not edited and same_file:
            return Decision(ImportStatus.UNCHANGED, page=page, record=record)
        if edited and not self.force:
            if same_file:
                return Decision(ImportStatus.UNCHANGED, page=page, record=record, note=f"{edited}")
            return Decision(
                ImportStatus.SKIPPED,
                page=page,
                record=record,
                renamed_from=renamed_from,
                note=f"{edited}; --force overwrites it",
            )
        return Decision(ImportStatus.UPDATED, page=page, record=record, renamed_from=renamed_from)

    def _edited(self, page: Page, record: ContentSource) -> str:
        """Why the page counts as changed since the last import, or "" when it does not."""
        if page.latest_revision_id != record.revision_id:
            latest = page.latest_revision
            who = f" by {latest.user.get_username()}" if latest and latest.user else ""
            when = f" on {timezone.localtime(latest.created_at):%Y-%m-%d %H:%M}" if latest else ""
            return f"edited in the admin{who}{when} since the last import"
        if not page.live:
            return "unpublished in the admin since the last import"
        if fingerprint(page) != record.fingerprint:
            return "changed outside the importer since the last import"
        return ""

    # --- Writing ---------------------------------------------------------------------------

    def _write(
        self, item: ParsedFile, parent: Page | None, decision: Decision
    ) -> tuple[Page, bool]:
        """Write the file's page; (the page, whether a new revision was published)."""
        images = {reference.path: self._image(reference) for reference in item.image_references()}
        model = PAGE_MODELS[item.source.kind]
        record = decision.record or ContentSource(path=item.source.path)
        page = decision.page
        creating = page is None
        # An update starts from the stored page, not the object `_decide` looked at.
        page = model(live=False) if creating else model.objects.get(pk=page.pk)
        self._set_fields(page, item, images)

        if not creating and record.pk and record.fingerprint == fingerprint(page):
            # The file changed (wording of the Markdown, a rename) but not the page it makes:
            # no new revision, only the record follows the file.
            self._save_record(record, item, page, record.revision)
            return page, False

        if creating:
            if parent is None:
                raise ContentError("the page has no parent to go under")
            parent.add_child(instance=page)
        elif isinstance(page, BlogPage):
            # publish() keeps the stored first-published moment: store the file's first.
            Page.objects.filter(pk=page.pk).update(first_published_at=page.first_published_at)
        revision = page.save_revision(log_action=True)
        revision.publish(log_action=True)
        changed_at = self.changed_at(item)
        if changed_at is not None:
            # The page changed when its file did, not when this import ran (feeds, sitemap and
            # "Last updated" read it); an editor's publish sets it to that moment as usual.
            if page.first_published_at:
                changed_at = max(changed_at, page.first_published_at)
            Page.objects.filter(pk=page.pk).update(last_published_at=changed_at)
        page = model.objects.get(pk=page.pk)
        self._save_record(record, item, page, revision)
        return page, True

    def changed_at(self, item: ParsedFile) -> datetime.datetime | None:
        """When the file or an image it uses was last committed; None when one of them has
        changes git does not hold yet (or there is no git), so the import's time stands."""
        if self._commit_times is None:
            self._commit_times = last_commit_times(self.root)
        paths = [self.root / item.source.path, *(ref.path for ref in item.image_references())]
        times = [self._commit_times.get(path.resolve()) for path in paths]
        if not times or None in times:
            return None
        return max(times)

    def _move_record(self, record: ContentSource, path: str):
        old_path = record.path
        record.path = path
        record.save(update_fields=["path"])
        self.records.pop(old_path, None)
        self.records[path] = record

    def _save_record(self, record: ContentSource, item: ParsedFile, page: Page, revision):
        old_path = record.path if record.pk else None
        record.path = item.source.path
        record.page = page
        record.revision = revision
        record.source_hash = item.source_hash
        record.fingerprint = fingerprint(page)
        record.save()
        if old_path and old_path != record.path:
            self.records.pop(old_path, None)
            self.renamed.add(old_path)
        self.records[record.path] = record
        self.records_by_page[page.pk] = record

    def _set_fields(self, page: Page, item: ParsedFile, images: dict[Path, object]):
        front = item.front
        page.title = front.title
        page.slug = item.slug
        page.summary = front.summary
        if isinstance(page, HomePage):
            page.intro = item.blocks[0].value if item.blocks else ""
        else:
            page.body = [self._raw_block(block, images) for block in item.blocks]
        if isinstance(page, BlogPage):
            page.date = front.date
            page.first_published_at = timezone.make_aware(
                datetime.datetime.combine(front.date, PUBLISHED_AT)
            )
            page.hero_image = images[item.hero.path] if item.hero else None
            page.hero_alt = front.hero_alt
            page.tags.set(front.tags)
            page.author_links = [
                BlogPageAuthor(author=self._author(name), sort_order=position)
                for position, name in enumerate(front.authors)
            ]

    @staticmethod
    def _raw_block(block: Block, images: dict[Path, object]) -> dict:
        value = block.value
        if block.type == "image":
            value = {**value, "image": images[value["image"].path].pk}
        return {"type": block.type, "value": value}

    @staticmethod
    def _author(name: str) -> Author:
        author, _ = Author.objects.get_or_create(name=name)
        return author

    def _image(self, reference: ImageReference):
        """The Wagtail image with this file's content: found by its hash, else created."""
        digest = self.file_hash(reference.path)
        image = self.images_by_hash.get(digest)
        if image is None:
            image_model = get_image_model()
            image = image_model.objects.filter(file_hash=digest).order_by("pk").first()
            if image is None:
                data = reference.path.read_bytes()
                image = image_model(
                    title=image_title(reference.path),
                    file=ImageFile(io.BytesIO(data), name=reference.path.name),
                    file_size=len(data),
                    file_hash=digest,
                )
                image.save()
                self.new_images.append(image)
            self.images_by_hash[digest] = image
        return image

    def _content_error(self, error: ValidationError, item: ParsedFile) -> ContentError:
        """A model validation error, pointed at the front matter key or block it came from."""
        if not hasattr(error, "error_dict"):
            return ContentError(" ".join(error.messages))
        field_name, errors = next(iter(error.error_dict.items()))
        line = item.front.line_of(FIELD_KEYS.get(field_name, field_name))
        for single in errors:
            block_errors = getattr(single, "block_errors", None)
            if block_errors:
                index = min(block_errors)
                if index < len(item.blocks):
                    line = item.blocks[index].line
                return ContentError(f"{field_name}: {' '.join(block_errors[index].messages)}", line)
        messages = " ".join(message for single in errors for message in single.messages)
        return ContentError(f"{field_name}: {messages}", line)

    # --- Order among siblings --------------------------------------------------------------

    def _reorder(self, parent_path: str | None, sources: list[SourceFile], parsed) -> set[int]:
        """Put the file pages under one parent in the files' order (pages editors added there
        keep their places relative to the neighbours they had); returns the moved pages' ids."""
        moved: set[int] = set()
        if parent_path is None or not sources:
            return moved
        try:
            parent = self.pages.get(parent_path) or self._parent_page(sources[0])
        except ContentError:
            return moved
        if parent is None:
            return moved
        children = set(parent.get_children().values_list("pk", flat=True))
        wanted = sorted(
            (source for source in sources if source.path in parsed and source.path in self.pages),
            key=lambda source: parsed[source.path].sort_key,
        )
        desired = [self.pages[s.path].pk for s in wanted if self.pages[s.path].pk in children]
        with transaction.atomic():
            for position in range(len(desired)):
                current = [
                    pk for pk in parent.get_children().values_list("pk", flat=True) if pk in desired
                ]
                if current == desired:
                    break
                if position == 0:
                    if current[0] != desired[0]:
                        Page.objects.get(pk=desired[0]).move(
                            Page.objects.get(pk=current[0]), pos="left"
                        )
                        moved.add(desired[0])
                    continue
                previous = current.index(desired[position - 1])
                if current[previous + 1] != desired[position]:
                    Page.objects.get(pk=desired[position]).move(
                        Page.objects.get(pk=desired[position - 1]), pos="right"
                    )
                    moved.add(desired[position])
        return moved
