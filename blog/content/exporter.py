"""export_content's engine: write the live pages back as site/ files, in the importer's format.

A page goes back to the file it was imported from when that file still fits its place in the
tree; other pages get a name from their slug (and date, or position among siblings). Images are
copied to images/ and referenced by relative path. Importing the result gives the same pages.
"""

import json
import os
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import yaml
from django.utils.text import slugify
from wagtail.documents import get_document_model
from wagtail.models import Page

from blog.content.errors import ContentError
from blog.content.layout import (
    BLOG_INDEX,
    BLOG_INDEX_FILE,
    DOC,
    DOCS_INDEX,
    DOCS_INDEX_FILE,
    HOME,
    HOME_FILE,
    POST,
    classify,
    public_path,
)
from blog.content.richtext import RichTextWriter, escape_text, wrap
from blog.models import BlogIndexPage, BlogPage, ContentSource, DocPage, DocsIndexPage, HomePage

IMAGES_FOLDER = "images"
KIND_MODELS = {BLOG_INDEX: BlogIndexPage, DOCS_INDEX: DocsIndexPage}
CALLOUT_MARKERS = {"note": "NOTE", "tip": "TIP", "warning": "WARNING"}
# The fence names the site's files use, where they differ from the stored language.
FENCE_LANGUAGES = {"bash": "sh"}


class ExportStatus(StrEnum):
    """What an export did with a page's file, in the order the summary counts them."""

    WRITTEN = "written"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass
class ExportOutcome:
    status: ExportStatus
    path: str
    url: str = ""
    note: str = ""


@dataclass
class PlannedFile:
    page: Page
    path: str
    kind: str
    order: int | None = None


def yaml_value(value) -> str:
    """One front matter value on one line, quoted only when YAML needs it."""
    flow = isinstance(value, list)
    dumped = yaml.safe_dump(
        value, allow_unicode=True, width=10**6, default_flow_style=flow, sort_keys=False
    )
    dumped = dumped.removesuffix("\n...\n").strip()
    if not flow and dumped[:1] in ("'", '"'):
        # A JSON string is a YAML double-quoted scalar, the style the hand-written files use.
        return json.dumps(value, ensure_ascii=False)
    return dumped


def fence_for(code: str, info: str) -> str:
    """A fence longer than any run of its character inside the code."""
    character = "~" if "`" in info else "`"
    longest = max((len(run) for run in re.findall(re.escape(character) + "+", code)), default=0)
    return character * max(3, longest + 1)


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Exporter:
    """Exports the site's pages into the folder `target`."""

    target: Path
    outcomes: list[ExportOutcome] = field(default_factory=list)

    def __post_init__(self):
        self.target = Path(self.target)
        self.image_names: dict[str, str] = {}
        self.used_names: set[str] = set()
        self.records = {
            record.page_id: record.path
            for record in ContentSource.objects.exclude(page=None).only("page_id", "path")
        }
        self.writer = RichTextWriter(self.link_url)

    # --- The run ---------------------------------------------------------------------------

    def run(self) -> list[ExportOutcome]:
        self.home = HomePage.objects.order_by("path").first()
        if self.home is None:
            raise ContentError("there is no home page to export")
        plan = [PlannedFile(self.home, HOME_FILE, HOME)]
        for kind, index_file in ((BLOG_INDEX, BLOG_INDEX_FILE), (DOCS_INDEX, DOCS_INDEX_FILE)):
            index = self._index(kind, index_file)
            if index is None:
                continue
            plan.append(PlannedFile(index, index_file, kind))
            if kind == BLOG_INDEX:
                plan.extend(self._posts(index))
            else:
                plan.extend(self._docs(index, "docs"))
        for planned in plan:
            self.outcomes.append(self._export(planned))
        return self.outcomes

    def _index(self, kind: str, index_file: str):
        model = KIND_MODELS[kind]
        indexes = list(model.objects.child_of(self.home).order_by("path"))
        chosen = next((page for page in indexes if self.records.get(page.pk) == index_file), None)
        chosen = chosen or (indexes[0] if indexes else None)
        if chosen is None:
            return None
        for other in indexes:
            if other.pk != chosen.pk:
                self.outcomes.append(
                    ExportOutcome(
                        ExportStatus.SKIPPED,
                        "",
                        public_path(other, self.home),
                        f"the format has one {model._meta.verbose_name}; this is another",
                    )
                )
        if not chosen.live:
            self.outcomes.append(
                ExportOutcome(
                    ExportStatus.SKIPPED, index_file, public_path(chosen, self.home), "not live"
                )
            )
            return None
        return chosen

    def _live_children(self, parent: Page, model) -> list[Page]:
        children = []
        for page in parent.get_children().order_by("path").specific():
            if not isinstance(page, model):
                self.outcomes.append(
                    ExportOutcome(
                        ExportStatus.SKIPPED,
                        "",
                        public_path(page, self.home),
                        f"a {page._meta.verbose_name} has no place in the files",
                    )
                )
            elif not page.live:
                self.outcomes.append(
                    ExportOutcome(
                        ExportStatus.SKIPPED,
                        "",
                        public_path(page, self.home),
                        "not live (drafts stay here)",
                    )
                )
            else:
                children.append(page)
        return children

    def _posts(self, index: Page) -> list[PlannedFile]:
        planned = []
        for page in self._live_children(index, BlogPage):
            path = self._recorded_path(page, POST, BLOG_INDEX_FILE, section=False)
            if path is None:
                day = page.date or (page.first_published_at and page.first_published_at.date())
                path = f"blog/{day:%Y-%m-%d}-{page.slug}.md" if day else f"blog/{page.slug}.md"
            planned.append(PlannedFile(page, self._unique(path), POST))
        return planned

    def _docs(self, parent: Page, folder: str) -> list[PlannedFile]:
        parent_file = f"{folder}/index.md"
        children = self._live_children(parent, DocPage)
        siblings: list[PlannedFile] = []
        for position, page in enumerate(children, start=1):
            section = page.get_children().live().exists()
            path = self._recorded_path(page, DOC, parent_file, section=section)
            if path is None:
                path = (
                    f"{folder}/{page.slug}/index.md"
                    if section
                    else f"{folder}/{position:02d}-{page.slug}.md"
                )
            siblings.append(PlannedFile(page, self._unique(path), DOC))
        # Names alone must sort the siblings as the tree does; otherwise each gets an `order`.
        by_name = sorted(siblings, key=lambda planned: classify(planned.path).sort_key(None))
        if by_name != siblings:
            for position, planned in enumerate(siblings, start=1):
                planned.order = position
        result: list[PlannedFile] = []
        for planned in siblings:
            result.append(planned)
            if planned.path.endswith("/index.md"):
                result.extend(self._docs(planned.page, planned.path.removesuffix("/index.md")))
        return result

    def _recorded_path(self, page: Page, kind: str, parent_file: str, section: bool):
        """The file the page was imported from, if it still fits where the page is now."""
        path = self.records.get(page.pk)
        if not path:
            return None
        try:
            source = classify(path)
        except ContentError:
            return None
        if source.kind != kind or source.parent != parent_file:
            return None
        if kind == DOC and source.is_section != section:
            return None
        return path

    def _unique(self, path: str) -> str:
        candidate, number = path, 1
        while candidate in self.used_names:
            number += 1
            stem, _, suffix = path.rpartition(".")
            candidate = f"{stem}-{number}.{suffix}"
        self.used_names.add(candidate)
        return candidate

    # --- One page --------------------------------------------------------------------------

    def _export(self, planned: PlannedFile) -> ExportOutcome:
        page = planned.page.specific
        url = public_path(page, self.home)
        try:
            text = self.file_text(planned, page)
        except ContentError as error:
            return ExportOutcome(ExportStatus.FAILED, planned.path, url, error.message)
        destination = self.target / planned.path
        if destination.is_file() and destination.read_text(encoding="utf-8") == text:
            return ExportOutcome(ExportStatus.UNCHANGED, planned.path, url)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")
        return ExportOutcome(ExportStatus.WRITTEN, planned.path, url)

    def file_text(self, planned: PlannedFile, page: Page) -> str:
        folder = (self.target / planned.path).parent
        source = classify(planned.path)
        front: list[tuple[str, object]] = [("title", page.title)]
        if page.slug != source.default_slug:
            front.append(("slug", page.slug))
        if isinstance(page, BlogPage):
            if page.date:
                front.append(("date", page.date))
            tags = [
                item.tag.name for item in page.tagged_items.select_related("tag").order_by("pk")
            ]
            if tags:
                front.append(("tags", tags))
            authors = [author.name for author in page.authors]
            if authors:
                front.append(("authors", authors))
        if planned.order is not None:
            front.append(("order", planned.order))
        if getattr(page, "summary", ""):
            front.append(("summary", page.summary))
        if isinstance(page, BlogPage) and page.hero_image:
            front.append(("hero", self.image_path(page.hero_image, folder)))
            front.append(("hero_alt", page.hero_alt))
        lines = ["---"]
        for key, value in front:
            rendered = value.isoformat() if key == "date" else yaml_value(value)
            lines.append(f"{key}: {rendered}")
        lines.append("---")
        if isinstance(page, HomePage):
            body = self.writer.markdown(page.intro)
        else:
            body = self.body_markdown(page.body, folder)
        return "\n".join(lines) + "\n" + (f"\n{body}\n" if body else "")

    # --- Blocks ----------------------------------------------------------------------------

    def body_markdown(self, stream_value, folder: Path) -> str:
        chunks = []
        for child in stream_value:
            chunks.append(self.block_markdown(child.block_type, child.value, folder))
        return "\n\n".join(chunk for chunk in chunks if chunk)

    def block_markdown(self, block_type: str, value, folder: Path) -> str:
        if block_type == "heading":
            level = {"h2": 2, "h3": 3, "h4": 4}.get(value.get("level"), 2)
            text = escape_text(value.get("text", "").strip())
            if text.endswith("#"):
                text = text[:-1] + "\\#"
            return f"{'#' * level} {text}"
        if block_type == "paragraph":
            return self.writer.markdown(value.source)
        if block_type == "code":
            language = value.get("language") or "text"
            info = FENCE_LANGUAGES.get(language, language)
            if value.get("filename"):
                info += f" title={quoted(value['filename'])}"
            if value.get("caption"):
                info += f" caption={quoted(value['caption'])}"
            code = value.get("code", "").replace("\r\n", "\n")
            fence = fence_for(code, info)
            return f"{fence}{info}\n{code}\n{fence}"
        if block_type == "image":
            if value.get("image") is None:
                raise ContentError("an image block without an image")
            path = self.image_path(value["image"], folder)
            alt = escape_text(value.get("alt_text", "").strip())
            caption = value.get("caption", "").strip()
            title = f" {quoted(caption)}" if caption else ""
            return f"![{alt}]({path}{title})"
        if block_type == "callout":
            marker = CALLOUT_MARKERS.get(value.get("kind"), "NOTE")
            body = self.writer.markdown(value["body"].source)
            return self.quote_lines([f"[!{marker}]", *body.split("\n")])
        if block_type == "quote":
            return self.quote_markdown(value.get("text", ""), value.get("attribution", ""))
        if block_type == "embed":
            url = value.url if value else ""
            return f"{{embed {url}}}" if url else ""
        if block_type == "table":
            return self.table_markdown(value)
        raise ContentError(f"a {block_type} block has no Markdown form")

    @staticmethod
    def quote_lines(lines: list[str]) -> str:
        return "\n".join(f"> {line}" if line else ">" for line in lines)

    def quote_markdown(self, text: str, attribution: str) -> str:
        lines: list[str] = []
        paragraphs = [p for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()) if p]
        for number, paragraph in enumerate(paragraphs):
            if number:
                lines.append("")
            markdown = "\\\n".join(escape_text(line.strip()) for line in paragraph.split("\n"))
            # A line starting "-- " would read back as the attribution.
            lines.extend(
                "\\" + line if line.startswith("-- ") else line for line in wrap(markdown, indent=2)
            )
        if attribution.strip():
            name = escape_text(attribution.strip())
            # "-- -" would be a horizontal rule.
            lines.append(f"-- \\{name}" if name.startswith("-") else f"-- {name}")
        return self.quote_lines(lines)

    def table_markdown(self, value) -> str:
        rows = [
            [("" if cell is None else str(cell)) for cell in row] for row in value.get("data") or []
        ]
        if not rows:
            return ""
        if value.get("mergeCells"):
            raise ContentError("a table with merged cells has no Markdown form")
        width = max(len(row) for row in rows)

        def line(cells):
            padded = [*cells, *[""] * (width - len(cells))]
            texts = [escape_text(" ".join(cell.split()), table_cell=True) for cell in padded]
            return "| " + " | ".join(texts) + " |"

        return "\n".join(
            [line(rows[0]), "| " + " | ".join(["---"] * width) + " |", *map(line, rows[1:])]
        )

    # --- Links and images ------------------------------------------------------------------

    def link_url(self, attrs: dict) -> str:
        link_type = attrs.get("linktype")
        if link_type == "page":
            page = Page.objects.filter(pk=attrs.get("id")).first()
            return public_path(page, self.home) if page else ""
        if link_type == "document":
            document = get_document_model().objects.filter(pk=attrs.get("id")).first()
            return document.url if document else ""
        return attrs.get("href", "")

    def image_path(self, image, folder: Path) -> str:
        """Copy the image into images/ (once) and return its path relative to `folder`."""
        digest = image.get_file_hash()
        name = self.image_names.get(digest)
        if name is None:
            suffix = Path(image.file.name).suffix.lower()
            base = slugify(image.title) or "image"
            name, number = f"{base}{suffix}", 1
            while name in self.image_names.values():
                number += 1
                name = f"{base}-{number}{suffix}"
            self.image_names[digest] = name
            destination = self.target / IMAGES_FOLDER / name
            with image.open_file() as source:
                data = source.read()
            if not destination.is_file() or destination.read_bytes() != data:
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(data)
        return Path(os.path.relpath(self.target / IMAGES_FOLDER / name, folder)).as_posix()
