"""A content file's Markdown body, turned into StreamField blocks (raw JSON, as Wagtail stores it).

Paragraphs and lists become rich text in Wagtail's storage format (<p>, <b>, <i>, <code>, <s>,
<a href>, <ul>/<ol>); headings, fenced code, lone images, callouts, quotes, tables and embeds
become the blocks of blog/blocks.py. Anything the blocks cannot hold is an error with its line,
so nothing in a file is silently dropped.
"""

import html
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from blog.content.errors import ContentError
from blog.highlighting import LANGUAGE_ALIASES, LANGUAGES

# CommonMark plus GitHub's tables and ~~strikethrough~~. Raw HTML is parsed only to be refused.
MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

HEADING_LEVELS = {"h2": "h2", "h3": "h3", "h4": "h4"}
HEADING_MAX_LENGTH = 200
CALLOUT_KINDS = {"NOTE": "note", "TIP": "tip", "WARNING": "warning"}
CALLOUT_MARKER = re.compile(r"^\[!(\w+)\][ \t]*(?:\n|$)")
ATTRIBUTION_PREFIX = "-- "
EMBED = re.compile(r"^\{embed\s+(\S+)\}$")
FENCE_ATTRIBUTE = re.compile(r'\s*([a-z]+)="((?:[^"\\]|\\.)*)"')
FENCE_ATTRIBUTES = {"title": "filename", "caption": "caption"}
LANGUAGE_VALUES = [value for value, _, _ in LANGUAGES]
# The only raw HTML accepted: the rich text editor's superscript and subscript.
ALLOWED_INLINE_HTML = {"<sup>": "<sup>", "</sup>": "</sup>", "<sub>": "<sub>", "</sub>": "</sub>"}
# Where links may point: a path on this site, a fragment of this page, or another site.
LINK_PREFIXES = ("/", "#", "https://", "http://", "mailto:")
URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
# Emphasis is <b>, <i> and <s> in rich text, and keeps its text in plain-text blocks (headings,
# quotes, table cells).
EMPHASIS_TAGS = {"strong": "b", "em": "i", "s": "s"}
LISTS = {"bullet_list", "ordered_list"}
LINE_BREAKS = {"softbreak", "hardbreak"}


@dataclass(frozen=True)
class ImageReference:
    """An image file a page uses; the importer turns it into a Wagtail image."""

    path: Path
    line: int


@dataclass
class Block:
    """One StreamField block: its type, its raw value (images still as ImageReference) and the
    line it starts on."""

    type: str
    value: object
    line: int

    def image_references(self) -> list[ImageReference]:
        if self.type == "image":
            return [self.value["image"]]
        return []


@dataclass(frozen=True)
class Inline:
    """A run of inline Markdown: its nodes, its source text and the line it starts on.

    Usually a paragraph's, heading's or table cell's text; also an image's alt text, and a
    callout's first paragraph after its marker line.
    """

    nodes: list[SyntaxTreeNode]
    source: str
    line: int


def language_list() -> str:
    aliases: dict[str, list[str]] = {}
    for alias, value in LANGUAGE_ALIASES.items():
        if alias:
            aliases.setdefault(value, []).append(alias)
    return ", ".join(
        f"{value} ({', '.join(aliases[value])})" if value in aliases else value
        for value in LANGUAGE_VALUES
    )


def code_language(name: str, line: int) -> str:
    """The stored language for a fence's language name; an unknown name is an error, since a
    wrong highlighter (or none) is easy to miss in review."""
    name = name.strip().lower()
    if not name:
        raise ContentError(
            "a fenced code block names its language after the ``` (`text` for plain text)", line
        )
    if name in LANGUAGE_VALUES:
        return name
    if name in LANGUAGE_ALIASES:
        return LANGUAGE_ALIASES[name]
    raise ContentError(f"unknown code language {name!r}: use one of {language_list()}", line)


def resolve_image(source: str, file_dir: Path, root: Path, line: int) -> ImageReference:
    """The image file a relative path in a content file points at."""
    if URL_SCHEME.match(source) or source.startswith("/"):
        raise ContentError(
            f"image {source!r}: images are files in the content folder, given by a path "
            "relative to this file, such as ../images/diagram.png",
            line,
        )
    path = (file_dir / unquote(source)).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ContentError(f"image {source!r} is outside the content folder", line)
    if not path.is_file():
        raise ContentError(f"image {source!r} does not exist", line)
    extensions = getattr(settings, "WAGTAILIMAGES_EXTENSIONS", ["gif", "jpg", "jpeg", "png"])
    if path.suffix.lower().lstrip(".") not in extensions:
        raise ContentError(
            f"image {source!r}: the image library takes {', '.join(extensions)} files", line
        )
    return ImageReference(path=path, line=line)


class BodyParser:
    """Parses one file's body; `first_line` is the body's line number in the file."""

    def __init__(self, first_line: int, file_dir: Path, root: Path):
        self.first_line = first_line
        self.file_dir = file_dir
        self.root = root

    def parse(self, text: str) -> list[Block]:
        return self._blocks(SyntaxTreeNode(MARKDOWN.parse(text)).children)

    # --- Helpers ---------------------------------------------------------------------------

    def line(self, node: SyntaxTreeNode, offset: int = 0) -> int:
        if node.map:
            return self.first_line + node.map[0] + offset
        return self.first_line

    def inline(self, node: SyntaxTreeNode) -> Inline:
        """The text of a paragraph, heading or table cell (the node's one child)."""
        inline = node.children[0]
        return Inline(inline.children, inline.content, self.line(inline))

    # --- Blocks ----------------------------------------------------------------------------

    def _blocks(self, nodes: list[SyntaxTreeNode]) -> list[Block]:
        """Consecutive paragraphs and lists make one rich text block; the rest a block each."""
        blocks: list[Block] = []
        rich_text: list[str] = []
        rich_text_line = 0

        def add_rich_text(node: SyntaxTreeNode, text: str):
            nonlocal rich_text_line
            if not rich_text:
                rich_text_line = self.line(node)
            rich_text.append(text)

        def flush():
            nonlocal rich_text
            if rich_text:
                blocks.append(Block("paragraph", "".join(rich_text), rich_text_line))
                rich_text = []

        for node in nodes:
            if node.type == "paragraph":
                inline = self.inline(node)
                standalone = self._standalone(inline)
                if standalone:
                    flush()
                    blocks.append(standalone)
                else:
                    add_rich_text(node, f"<p>{self.inline_html(inline)}</p>")
            elif node.type in LISTS:
                add_rich_text(node, self._list_html(node))
            else:
                flush()
                blocks.append(self._block(node))
        flush()
        return blocks

    def _block(self, node: SyntaxTreeNode) -> Block:
        if node.type == "heading":
            return self._heading(node)
        if node.type == "fence":
            return self._code(node)
        if node.type == "blockquote":
            return self._blockquote(node)
        if node.type == "table":
            return self._table(node)
        raise ContentError(self._unsupported(node), self.line(node))

    def _unsupported(self, node: SyntaxTreeNode) -> str:
        if node.type == "code_block":
            return "indented code: use a fenced block (```) that names its language"
        if node.type == "html_block":
            return "raw HTML is not part of the format: write it as Markdown"
        if node.type == "hr":
            return "a horizontal rule (---, ***) has no block: start a section with ## instead"
        return f"this Markdown ({node.type}) has no block in the format"

    def _heading(self, node: SyntaxTreeNode) -> Block:
        line = self.line(node)
        if node.tag == "h1":
            raise ContentError(
                "a level-one heading (#) is not allowed in the body: the title is the page's "
                "only h1, so sections start at ##",
                line,
            )
        if node.tag not in HEADING_LEVELS:
            raise ContentError("headings go from ## to ####: use a shallower level", line)
        text = self.plain_text(self.inline(node), "a heading")
        if not text:
            raise ContentError("an empty heading", line)
        if len(text) > HEADING_MAX_LENGTH:
            raise ContentError(f"a heading is longer than {HEADING_MAX_LENGTH} characters", line)
        return Block("heading", {"text": text, "level": HEADING_LEVELS[node.tag]}, line)

    def _code(self, node: SyntaxTreeNode) -> Block:
        line = self.line(node)
        info = node.info.strip()
        language, _, rest = info.partition(" ")
        value = {
            "language": code_language(language, line),
            "code": node.content.removesuffix("\n"),
            "filename": "",
            "caption": "",
        }
        position = 0
        rest = rest.strip()
        while position < len(rest):
            match = FENCE_ATTRIBUTE.match(rest, position)
            if not match:
                raise ContentError(
                    f"cannot read {rest[position:]!r} after the language: write "
                    '```language title="path/to/file" caption="A sentence."',
                    line,
                )
            name, text = match.groups()
            if name not in FENCE_ATTRIBUTES:
                raise ContentError(
                    f'unknown code attribute {name}="...": use title="..." or caption="..."',
                    line,
                )
            value[FENCE_ATTRIBUTES[name]] = re.sub(r"\\(.)", r"\1", text)
            position = match.end()
        if not value["code"].strip():
            raise ContentError("an empty code block", line)
        return Block("code", value, line)

    def _standalone(self, inline: Inline) -> Block | None:
        """An image or an embed alone in its paragraph is a block of its own."""
        line = inline.line
        content = inline.source.strip()
        if content.startswith("{embed"):
            match = EMBED.match(content)
            if not match:
                raise ContentError(
                    "an embed is a line `{embed https://...}` alone in its paragraph", line
                )
            url = match.group(1)
            if not url.startswith(("https://", "http://")):
                raise ContentError(f"embed {url!r}: give a web address (https://...)", line)
            return Block("embed", url, line)
        # An image anywhere in the paragraph (in a link, in bold) must be all of it.
        if not any(node.type == "image" for child in inline.nodes for node in child.walk()):
            return None
        children = [
            child
            for child in inline.nodes
            if not (child.type == "text" and not child.content.strip())
        ]
        if len(children) != 1 or children[0].type != "image":
            raise ContentError(
                "an image stands alone in its paragraph, with blank lines around it", line
            )
        image = children[0]
        # The alt text as plain text (the node's content is the Markdown source of it).
        alt_text = self.plain_text(
            Inline(image.children, image.content, line), "an image's alt text"
        )
        if not alt_text:
            raise ContentError(
                "an image needs alt text: ![what the image shows](path), for readers who "
                "cannot see it",
                line,
            )
        reference = resolve_image(image.attrGet("src") or "", self.file_dir, self.root, line)
        caption = (image.attrGet("title") or "").strip()
        return Block("image", {"image": reference, "alt_text": alt_text, "caption": caption}, line)

    def _blockquote(self, node: SyntaxTreeNode) -> Block:
        line = self.line(node)
        children = node.children
        first = children[0] if children and children[0].type == "paragraph" else None
        marker = CALLOUT_MARKER.match(self.inline(first).source) if first else None
        if marker:
            return self._callout(marker.group(1), line, children)
        paragraphs: list[Inline] = []
        for child in children:
            if child.type != "paragraph":
                raise ContentError(
                    "a quote holds plain paragraphs only; for a note with lists or code use "
                    "a callout (> [!NOTE])",
                    self.line(child) if child.map else line,
                )
            paragraphs.append(self.inline(child))
        if not paragraphs:
            raise ContentError("an empty quote", line)
        attribution = ""
        last = paragraphs[-1]
        last_lines = self.plain_lines(last, "a quote")
        if last.source.split("\n")[-1].startswith(ATTRIBUTION_PREFIX):
            attribution = last_lines[-1][0].removeprefix(ATTRIBUTION_PREFIX.strip()).strip()
            last_lines = last_lines[:-1]
        texts = [
            self._join_lines(self.plain_lines(paragraph, "a quote")).strip()
            for paragraph in paragraphs[:-1]
        ]
        if last_lines:
            texts.append(self._join_lines(last_lines).strip())
        text = "\n\n".join(texts)
        if not text:
            raise ContentError("a quote needs text before its `-- ` attribution line", line)
        return Block("quote", {"text": text, "attribution": attribution}, line)

    @staticmethod
    def _join_lines(lines: list[tuple[str, str]]) -> str:
        """Soft line breaks are spaces; hard ones (a trailing backslash) stay line breaks."""
        text = ""
        for content, separator in lines:
            text += content + separator
        return text

    def _callout(self, marker: str, line: int, children: list[SyntaxTreeNode]) -> Block:
        kind = CALLOUT_KINDS.get(marker.upper())
        if kind is None:
            raise ContentError(
                f"unknown callout kind [!{marker}]: use [!NOTE], [!TIP] or [!WARNING]", line
            )
        first = children[0].children[0]
        # Drop the marker and the line break after it.
        nodes = list(first.children)
        while nodes and nodes[0].type not in LINE_BREAKS:
            nodes.pop(0)
        if nodes:
            nodes.pop(0)
        text = (
            Inline(nodes, first.content.split("\n", 1)[-1], self.line(first, 1)) if nodes else None
        )
        body = self._callout_body(text, children[1:])
        if not body:
            raise ContentError(f"an empty [!{marker}] callout: write its text on `>` lines", line)
        return Block("callout", {"kind": kind, "body": body}, line)

    def _table(self, node: SyntaxTreeNode) -> Block:
        rows = [
            [self.plain_text(self.inline(cell), "a table cell") for cell in row.children]
            for section in node.children  # thead, and tbody when there are more rows
            for row in section.children
        ]
        value = {
            "data": rows,
            "first_row_is_table_header": True,
            "first_col_is_header": False,
            "table_header_choice": "row",
            "table_caption": "",
        }
        return Block("table", value, self.line(node))

    # --- Rich text -------------------------------------------------------------------------

    def _callout_body(self, text: Inline | None, nodes: list[SyntaxTreeNode]) -> str:
        """A callout's text after its marker line, then its other paragraphs and lists, as
        rich text."""
        misplaced = "a callout holds text and lists: move the image or embed out of it"
        parts = [f"<p>{self._paragraph_html(text, misplaced)}</p>"] if text else []
        for node in nodes:
            inner = self._inner_html(node, misplaced, "a callout holds paragraphs and lists only")
            parts.append(f"<p>{inner}</p>" if node.type == "paragraph" else inner)
        return "".join(parts)

    @staticmethod
    def _describe(node: SyntaxTreeNode) -> str:
        names = {
            "heading": "headings",
            "fence": "code blocks",
            "code_block": "code blocks",
            "blockquote": "quotes",
            "table": "tables",
            "html_block": "raw HTML",
            "hr": "horizontal rules",
        }
        return names.get(node.type, node.type)

    def _list_html(self, node: SyntaxTreeNode) -> str:
        tag = "ol" if node.type == "ordered_list" else "ul"
        start = node.attrGet("start")
        if start not in (None, 1, "1"):
            raise ContentError(
                "a numbered list starts at 1: the editor numbers lists itself", self.line(node)
            )
        items = "".join(f"<li>{self._list_item_html(item)}</li>" for item in node.children)
        return f"<{tag}>{items}</{tag}>"

    def _list_item_html(self, item: SyntaxTreeNode) -> str:
        parts: list[str] = []
        paragraphs = 0
        for node in item.children:
            if node.type == "paragraph":
                paragraphs += 1
                if paragraphs > 1:
                    raise ContentError(
                        "a list item holds one paragraph: remove the blank line inside it",
                        self.line(node),
                    )
            parts.append(
                self._inner_html(
                    node,
                    "an image or embed cannot sit in a list: give it its own paragraph",
                    "a list item holds text and nested lists",
                )
            )
        return "".join(parts)

    def _inner_html(self, node: SyntaxTreeNode, misplaced: str, holds: str) -> str:
        """A paragraph's text or a list, inside a callout or list item, as rich text; an image
        or embed in the paragraph is `misplaced`, and any other block an error that says what
        the callout or item `holds`."""
        if node.type == "paragraph":
            return self._paragraph_html(self.inline(node), misplaced)
        if node.type in LISTS:
            return self._list_html(node)
        raise ContentError(f"{holds}, not {self._describe(node)}", self.line(node))

    def _paragraph_html(self, inline: Inline, misplaced: str) -> str:
        if self._standalone(inline):
            raise ContentError(misplaced, inline.line)
        return self.inline_html(inline)

    def inline_html(self, inline: Inline) -> str:
        """A paragraph's inline Markdown as Wagtail rich text (without the <p>)."""
        line = inline.line

        def rich_text(nodes: list[SyntaxTreeNode]) -> str:
            nonlocal line
            parts: list[str] = []
            for node in nodes:
                kind = node.type
                if kind == "text":
                    parts.append(html.escape(node.content, quote=False))
                elif kind == "softbreak":
                    parts.append(" ")
                    line += 1
                elif kind == "hardbreak":
                    parts.append("<br/>")
                    line += 1
                elif kind == "code_inline":
                    parts.append(f"<code>{html.escape(node.content, quote=False)}</code>")
                elif kind in EMPHASIS_TAGS:
                    tag = EMPHASIS_TAGS[kind]
                    parts.append(f"<{tag}>{rich_text(node.children)}</{tag}>")
                elif kind == "link":
                    href = html.escape(self._link_target(node, line))
                    parts.append(f'<a href="{href}">{rich_text(node.children)}</a>')
                elif kind == "html_inline" and node.content.lower() in ALLOWED_INLINE_HTML:
                    parts.append(ALLOWED_INLINE_HTML[node.content.lower()])
                elif kind == "html_inline":
                    raise ContentError(
                        f"raw HTML {node.content!r} is not part of the format (only <sup> and "
                        "<sub> are): write < as \\< or put it in `code`",
                        line,
                    )
                elif kind == "image":
                    raise ContentError(
                        "an image stands alone in its paragraph, with blank lines around it", line
                    )
                else:
                    raise ContentError(f"this inline Markdown ({kind}) has no rich text form", line)
            return "".join(parts)

        return rich_text(inline.nodes).strip()

    @staticmethod
    def _link_target(link: SyntaxTreeNode, line: int) -> str:
        href = link.attrGet("href") or ""
        if link.attrGet("title"):
            raise ContentError(
                f"link titles are not kept: remove {link.attrGet('title')!r} from the link", line
            )
        path = href.split("#")[0].split("?")[0]
        if path.endswith(".md"):
            raise ContentError(
                f"link {href!r} points at a file: link to the page's address instead, such as "
                "/docs/local-development/",
                line,
            )
        if not href.startswith(LINK_PREFIXES):
            raise ContentError(
                f"link {href!r}: links start with / (a page of this site, such as /docs/), "
                "# (a heading of this page) or https://",
                line,
            )
        return unquote(href) if href.startswith("/") else href

    # --- Plain text ------------------------------------------------------------------------

    def plain_lines(self, inline: Inline, where: str) -> list[tuple[str, str]]:
        """Inline Markdown as plain text lines, each with the separator after it.

        Headings, quotes and table cells are plain text in the blocks: emphasis and code keep
        their text, and links (whose address would be lost) are an error.
        """
        lines: list[tuple[str, str]] = []
        current = ""
        line = inline.line

        def add(nodes: list[SyntaxTreeNode]):
            nonlocal current, line
            for node in nodes:
                kind = node.type
                if kind in ("text", "code_inline"):
                    current += node.content
                elif kind == "softbreak":
                    lines.append((current, " "))
                    current = ""
                    line += 1
                elif kind == "hardbreak":
                    lines.append((current, "\n"))
                    current = ""
                    line += 1
                elif kind in EMPHASIS_TAGS:
                    add(node.children)
                elif kind == "link":
                    raise ContentError(f"{where} is plain text and cannot hold a link", line)
                elif kind == "image":
                    raise ContentError(f"{where} is plain text and cannot hold an image", line)
                elif kind == "html_inline":
                    raise ContentError(f"{where} is plain text: raw HTML is not allowed", line)
                else:
                    raise ContentError(f"{where} is plain text and cannot hold {kind}", line)

        add(inline.nodes)
        lines.append((current, ""))
        return [(content.strip(), separator) for content, separator in lines]

    def plain_text(self, inline: Inline, where: str) -> str:
        return self._join_lines(self.plain_lines(inline, where)).strip()
