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
from markdown_it.token import Token

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
# Emphasis keeps its text in plain-text blocks (headings, quotes, table cells).
EMPHASIS_MARKUP = {"strong_open", "strong_close", "em_open", "em_close", "s_open", "s_close"}
INLINE_MARKUP = {
    "strong_open": "<b>",
    "strong_close": "</b>",
    "em_open": "<i>",
    "em_close": "</i>",
    "s_open": "<s>",
    "s_close": "</s>",
    "link_close": "</a>",
}


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
        tokens = MARKDOWN.parse(text)
        return self._blocks(tokens)

    # --- Helpers ---------------------------------------------------------------------------

    def line(self, token: Token, offset: int = 0) -> int:
        if token.map:
            return self.first_line + token.map[0] + offset
        return self.first_line

    @staticmethod
    def _closing(tokens: list[Token], start: int) -> int:
        """The index of the token that closes tokens[start]."""
        opening = tokens[start]
        closing_type = opening.type.replace("_open", "_close")
        for index in range(start + 1, len(tokens)):
            token = tokens[index]
            if token.type == closing_type and token.level == opening.level:
                return index
        raise ContentError("unclosed Markdown block", BodyParser.line_of(opening))

    @staticmethod
    def line_of(token: Token) -> int:
        return token.map[0] + 1 if token.map else 1

    # --- Blocks ----------------------------------------------------------------------------

    def _blocks(self, tokens: list[Token]) -> list[Block]:
        blocks: list[Block] = []
        rich_text: list[str] = []
        rich_text_line = 0

        def flush():
            nonlocal rich_text
            if rich_text:
                blocks.append(Block("paragraph", "".join(rich_text), rich_text_line))
                rich_text = []

        index = 0
        while index < len(tokens):
            token = tokens[index]
            if token.type == "paragraph_open":
                inline = tokens[index + 1]
                index += 3
                standalone = self._standalone(inline)
                if standalone:
                    flush()
                    blocks.append(standalone)
                else:
                    if not rich_text:
                        rich_text_line = self.line(token)
                    rich_text.append(f"<p>{self.inline_html(inline)}</p>")
            elif token.type in ("bullet_list_open", "ordered_list_open"):
                end = self._closing(tokens, index)
                if not rich_text:
                    rich_text_line = self.line(token)
                rich_text.append(self._list_html(tokens[index : end + 1]))
                index = end + 1
            else:
                flush()
                if token.type == "heading_open":
                    blocks.append(self._heading(token, tokens[index + 1]))
                    index += 3
                elif token.type == "fence":
                    blocks.append(self._code(token))
                    index += 1
                elif token.type == "blockquote_open":
                    end = self._closing(tokens, index)
                    blocks.append(self._blockquote(token, tokens[index + 1 : end]))
                    index = end + 1
                elif token.type == "table_open":
                    end = self._closing(tokens, index)
                    blocks.append(self._table(token, tokens[index + 1 : end]))
                    index = end + 1
                else:
                    raise ContentError(self._unsupported(token), self.line(token))
        flush()
        return blocks

    def _unsupported(self, token: Token) -> str:
        if token.type == "code_block":
            return "indented code: use a fenced block (```) that names its language"
        if token.type == "html_block":
            return "raw HTML is not part of the format: write it as Markdown"
        if token.type == "hr":
            return "a horizontal rule (---, ***) has no block: start a section with ## instead"
        return f"this Markdown ({token.type}) has no block in the format"

    def _heading(self, token: Token, inline: Token) -> Block:
        line = self.line(token)
        if token.tag == "h1":
            raise ContentError(
                "a level-one heading (#) is not allowed in the body: the title is the page's "
                "only h1, so sections start at ##",
                line,
            )
        if token.tag not in HEADING_LEVELS:
            raise ContentError("headings go from ## to ####: use a shallower level", line)
        text = self.plain_text(inline, "a heading")
        if not text:
            raise ContentError("an empty heading", line)
        if len(text) > HEADING_MAX_LENGTH:
            raise ContentError(f"a heading is longer than {HEADING_MAX_LENGTH} characters", line)
        return Block("heading", {"text": text, "level": HEADING_LEVELS[token.tag]}, line)

    def _code(self, token: Token) -> Block:
        line = self.line(token)
        info = token.info.strip()
        language, _, rest = info.partition(" ")
        value = {
            "language": code_language(language, line),
            "code": token.content.removesuffix("\n"),
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

    def _standalone(self, inline: Token) -> Block | None:
        """An image or an embed alone in its paragraph is a block of its own."""
        line = self.line(inline)
        content = inline.content.strip()
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
        children = [
            child
            for child in inline.children or []
            if not (child.type == "text" and not child.content.strip())
        ]
        images = [child for child in children if child.type == "image"]
        if not images:
            return None
        if len(children) != 1:
            raise ContentError(
                "an image stands alone in its paragraph, with blank lines around it", line
            )
        image = images[0]
        # The alt text as plain text (the token's content is the Markdown source of it).
        alt = Token("inline", "", 0, map=inline.map, children=image.children or [])
        alt_text = self.plain_text(alt, "an image's alt text")
        if not alt_text:
            raise ContentError(
                "an image needs alt text: ![what the image shows](path), for readers who "
                "cannot see it",
                line,
            )
        reference = resolve_image(image.attrGet("src") or "", self.file_dir, self.root, line)
        caption = (image.attrGet("title") or "").strip()
        return Block("image", {"image": reference, "alt_text": alt_text, "caption": caption}, line)

    def _blockquote(self, token: Token, inner: list[Token]) -> Block:
        line = self.line(token)
        first_inline = inner[1] if len(inner) > 1 and inner[0].type == "paragraph_open" else None
        marker = CALLOUT_MARKER.match(first_inline.content) if first_inline else None
        if marker:
            return self._callout(marker.group(1), line, inner)
        paragraphs: list[Token] = []
        index = 0
        while index < len(inner):
            if inner[index].type != "paragraph_open":
                raise ContentError(
                    "a quote holds plain paragraphs only; for a note with lists or code use "
                    "a callout (> [!NOTE])",
                    self.line(inner[index]) if inner[index].map else line,
                )
            paragraphs.append(inner[index + 1])
            index += 3
        if not paragraphs:
            raise ContentError("an empty quote", line)
        attribution = ""
        last = paragraphs[-1]
        last_lines = self.plain_lines(last, "a quote")
        if last.content.split("\n")[-1].startswith(ATTRIBUTION_PREFIX):
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

    def _callout(self, marker: str, line: int, inner: list[Token]) -> Block:
        kind = CALLOUT_KINDS.get(marker.upper())
        if kind is None:
            raise ContentError(
                f"unknown callout kind [!{marker}]: use [!NOTE], [!TIP] or [!WARNING]", line
            )
        first_inline = inner[1]
        children = list(first_inline.children or [])
        # Drop the marker and the line break after it.
        while children and children[0].type not in ("softbreak", "hardbreak"):
            children.pop(0)
        if children:
            children.pop(0)
        if children:
            body_map = [first_inline.map[0] + 1, first_inline.map[1]] if first_inline.map else None
            rest = Token("inline", "", 0, map=body_map, children=children)
            rest.content = first_inline.content.split("\n", 1)[-1]
            body_tokens = [inner[0], rest, inner[2], *inner[3:]]
        else:
            body_tokens = inner[3:]
        body = self.rich_text_html(body_tokens, "a callout")
        if not body:
            raise ContentError(f"an empty [!{marker}] callout: write its text on `>` lines", line)
        return Block("callout", {"kind": kind, "body": body}, line)

    def _table(self, token: Token, inner: list[Token]) -> Block:
        rows: list[list[str]] = []
        for index, cell_token in enumerate(inner):
            if cell_token.type == "tr_open":
                rows.append([])
            elif cell_token.type in ("th_open", "td_open"):
                rows[-1].append(self.plain_text(inner[index + 1], "a table cell"))
        value = {
            "data": rows,
            "first_row_is_table_header": True,
            "first_col_is_header": False,
            "table_header_choice": "row",
            "table_caption": "",
        }
        return Block("table", value, self.line(token))

    # --- Rich text -------------------------------------------------------------------------

    def rich_text_html(self, tokens: list[Token], where: str) -> str:
        """Paragraphs and lists as rich text; other blocks are an error in `where`."""
        parts: list[str] = []
        index = 0
        while index < len(tokens):
            token = tokens[index]
            if token.type == "paragraph_open":
                inline = tokens[index + 1]
                if self._standalone(inline):
                    raise ContentError(
                        f"{where} holds text and lists: move the image or embed out of it",
                        self.line(inline),
                    )
                parts.append(f"<p>{self.inline_html(inline)}</p>")
                index += 3
            elif token.type in ("bullet_list_open", "ordered_list_open"):
                end = self._closing(tokens, index)
                parts.append(self._list_html(tokens[index : end + 1]))
                index = end + 1
            else:
                raise ContentError(
                    f"{where} holds paragraphs and lists only, not {self._describe(token)}",
                    self.line(token),
                )
        return "".join(parts)

    @staticmethod
    def _describe(token: Token) -> str:
        names = {
            "heading_open": "headings",
            "fence": "code blocks",
            "code_block": "code blocks",
            "blockquote_open": "quotes",
            "table_open": "tables",
            "html_block": "raw HTML",
            "hr": "horizontal rules",
        }
        return names.get(token.type, token.type)

    def _list_html(self, tokens: list[Token]) -> str:
        opening = tokens[0]
        tag = "ol" if opening.type == "ordered_list_open" else "ul"
        start = opening.attrGet("start")
        if start not in (None, 1, "1"):
            raise ContentError(
                "a numbered list starts at 1: the editor numbers lists itself", self.line(opening)
            )
        items: list[str] = []
        index = 1
        while index < len(tokens) - 1:
            token = tokens[index]
            if token.type != "list_item_open":
                index += 1
                continue
            end = self._closing(tokens, index)
            items.append(f"<li>{self._list_item_html(tokens[index + 1 : end])}</li>")
            index = end + 1
        return f"<{tag}>{''.join(items)}</{tag}>"

    def _list_item_html(self, tokens: list[Token]) -> str:
        parts: list[str] = []
        paragraphs = 0
        index = 0
        while index < len(tokens):
            token = tokens[index]
            if token.type == "paragraph_open":
                paragraphs += 1
                if paragraphs > 1:
                    raise ContentError(
                        "a list item holds one paragraph: remove the blank line inside it",
                        self.line(token),
                    )
                inline = tokens[index + 1]
                if self._standalone(inline):
                    raise ContentError(
                        "an image or embed cannot sit in a list: give it its own paragraph",
                        self.line(inline),
                    )
                parts.append(self.inline_html(inline))
                index += 3
            elif token.type in ("bullet_list_open", "ordered_list_open"):
                end = self._closing(tokens, index)
                parts.append(self._list_html(tokens[index : end + 1]))
                index = end + 1
            else:
                raise ContentError(
                    f"a list item holds text and nested lists, not {self._describe(token)}",
                    self.line(token),
                )
        return "".join(parts)

    def inline_html(self, inline: Token) -> str:
        """A paragraph's inline Markdown as Wagtail rich text (without the <p>)."""
        parts: list[str] = []
        line = self.line(inline)
        for child in inline.children or []:
            kind = child.type
            if kind == "text":
                parts.append(html.escape(child.content, quote=False))
            elif kind == "softbreak":
                parts.append(" ")
                line += 1
            elif kind == "hardbreak":
                parts.append("<br/>")
                line += 1
            elif kind == "code_inline":
                parts.append(f"<code>{html.escape(child.content, quote=False)}</code>")
            elif kind in INLINE_MARKUP:
                parts.append(INLINE_MARKUP[kind])
            elif kind == "link_open":
                parts.append(f'<a href="{html.escape(self._link_target(child, line))}">')
            elif kind == "html_inline" and child.content.lower() in ALLOWED_INLINE_HTML:
                parts.append(ALLOWED_INLINE_HTML[child.content.lower()])
            elif kind == "html_inline":
                raise ContentError(
                    f"raw HTML {child.content!r} is not part of the format (only <sup> and "
                    "<sub> are): write < as \\< or put it in `code`",
                    line,
                )
            elif kind == "image":
                raise ContentError(
                    "an image stands alone in its paragraph, with blank lines around it", line
                )
            else:
                raise ContentError(f"this inline Markdown ({kind}) has no rich text form", line)
        return "".join(parts).strip()

    @staticmethod
    def _link_target(link: Token, line: int) -> str:
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

    def plain_lines(self, inline: Token, where: str) -> list[tuple[str, str]]:
        """Inline Markdown as plain text lines, each with the separator after it.

        Headings, quotes and table cells are plain text in the blocks: emphasis and code keep
        their text, and links (whose address would be lost) are an error.
        """
        lines: list[tuple[str, str]] = []
        current = ""
        line = self.line(inline)
        for child in inline.children or []:
            kind = child.type
            if kind in ("text", "code_inline"):
                current += child.content
            elif kind == "softbreak":
                lines.append((current, " "))
                current = ""
                line += 1
            elif kind == "hardbreak":
                lines.append((current, "\n"))
                current = ""
                line += 1
            elif kind in EMPHASIS_MARKUP:
                continue
            elif kind == "link_open":
                raise ContentError(f"{where} is plain text and cannot hold a link", line)
            elif kind == "image":
                raise ContentError(f"{where} is plain text and cannot hold an image", line)
            elif kind == "html_inline":
                raise ContentError(f"{where} is plain text: raw HTML is not allowed", line)
            else:
                raise ContentError(f"{where} is plain text and cannot hold {kind}", line)
        lines.append((current, ""))
        return [(content.strip(), separator) for content, separator in lines]

    def plain_text(self, inline: Token, where: str) -> str:
        return self._join_lines(self.plain_lines(inline, where)).strip()
