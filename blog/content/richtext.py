"""Wagtail rich text (its storage HTML) and plain text, written back as Markdown for export.

The inverse of blog/content/markdown.py for the features the site's rich text allows:
paragraphs, bold, italic, inline code, strikethrough, links, line breaks, superscript and
subscript, and bulleted and numbered lists (nested too). Text is escaped so that importing the
Markdown again gives back the same text.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

from blog.content.errors import ContentError

VOID_TAGS = {"br", "embed", "img", "hr"}
BLOCK_TAGS = {"p", "ul", "ol"}
WRAPPERS = {"b": "**", "strong": "**", "i": "*", "em": "*", "s": "~~", "del": "~~"}
RAW_TAGS = {"sup", "sub"}
INLINE_TAGS = {*WRAPPERS, *RAW_TAGS, "a", "code", "br", "span"}
# Characters that are Markdown syntax anywhere in a line of text.
INLINE_SPECIAL = re.compile(r"([\\`*\[\]<])")
ENTITY = re.compile(r"&(#?\w+;)")
UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# What would start a block of its own at the beginning of a line (a heading, quote, list item,
# thematic break, setext underline, fence or embed), and where its backslash goes.
LINE_START = re.compile(r"^(?:#|>|[-+*](?=\s|$)|=|[|:\s-]*-[|:\s-]*$|\{embed|~~~)")
ORDERED_MARKER = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
# Exported paragraphs are wrapped at this width, like the hand-written files.
WRAP_WIDTH = 99


@dataclass
class Element:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("root")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID_TAGS:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag):
        for position in range(len(self.stack) - 1, 0, -1):
            if self.stack[position].tag == tag:
                del self.stack[position:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_html(source: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(source or "")
    builder.close()
    return builder.root


def escape_text(text: str, table_cell: bool = False) -> str:
    """Plain text as Markdown that reads back as the same text."""
    text = INLINE_SPECIAL.sub(r"\\\1", text)
    text = ENTITY.sub(r"\\&\1", text)
    text = UNDERSCORE.sub(r"\\_", text)
    text = text.replace("~~", "\\~\\~")
    if table_cell:
        text = text.replace("|", "\\|")
    return text


def escape_line_start(line: str) -> str:
    """A line of text that must not start a heading, list, quote or other block."""
    if LINE_START.match(line):
        return "\\" + line
    return ORDERED_MARKER.sub(r"\1\\\2", line)


def break_points(text: str) -> list[int]:
    """Positions of single spaces where a line may break without changing what the Markdown
    means: not inside a code span, not inside a link's address or an HTML tag."""
    points = []
    position = 0
    length = len(text)
    while position < length:
        character = text[position]
        if character == "\\":
            position += 2
            continue
        if character == "`":
            run = re.match(r"`+", text[position:]).group(0)
            closing = re.compile(r"(?<!`)" + run + r"(?!`)")
            match = closing.search(text, position + len(run))
            position = match.end() if match else position + len(run)
            continue
        if text.startswith("](", position):
            end = text.find(")", position + 2)
            if text.startswith("](<", position):
                end = text.find(">)", position + 3) + 1
            position = end + 1 if end > 0 else length
            continue
        if character == "<":
            end = text.find(">", position)
            position = end + 1 if end > 0 else position + 1
            continue
        if (
            character == " "
            and 0 < position < length - 1
            and text[position - 1] != " "
            and text[position + 1] != " "
        ):
            points.append(position)
        position += 1
    return points


def wrap(text: str, width: int = WRAP_WIDTH, indent: int = 0) -> list[str]:
    """One paragraph's Markdown (hard breaks as "\\\n") as lines of at most `width` columns
    where possible, each safe to start a line with."""
    lines: list[str] = []
    for hard_line in text.split("\n"):
        start = 0
        last_space = None
        for point in [*break_points(hard_line), len(hard_line)]:
            if point - start + indent > width and last_space is not None:
                lines.append(hard_line[start:last_space])
                start = last_space + 1
            last_space = point if point < len(hard_line) else last_space
        lines.append(hard_line[start:])
    return [escape_line_start(line) for line in lines]


def code_span(code: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * (longest + 1)
    if code.startswith(("`", " ")) or code.endswith(("`", " ")):
        return f"{fence} {code} {fence}"
    return f"{fence}{code}{fence}"


def link_destination(href: str) -> str:
    if re.search(r"[\s()<>]", href):
        return "<" + href.replace("<", "%3C").replace(">", "%3E") + ">"
    return href


class RichTextWriter:
    """Writes one rich text value as Markdown; `link_url(attrs)` resolves Wagtail's page and
    document links to the address they point at."""

    def __init__(self, link_url: Callable[[dict], str]):
        self.link_url = link_url

    def markdown(self, source: str) -> str:
        """The rich text as Markdown blocks separated by blank lines."""
        root = parse_html(source)
        blocks: list[str] = []
        loose: list = []
        for node in root.children:
            if isinstance(node, Element) and node.tag in BLOCK_TAGS:
                if loose:
                    blocks.append(self.paragraph(loose))
                    loose = []
                blocks.append(self.block(node))
            elif isinstance(node, Element) and node.tag not in INLINE_TAGS:
                raise ContentError(f"rich text with <{node.tag}> has no Markdown form here")
            else:
                loose.append(node)
        if loose and "".join(self.inline(loose)).strip():
            blocks.append(self.paragraph(loose))
        return "\n\n".join(block for block in blocks if block.strip())

    def block(self, element: Element) -> str:
        if element.tag == "p":
            return self.paragraph(element.children)
        return self.list_markdown(element, indent="")

    def paragraph(self, nodes: list, indent: int = 0) -> str:
        text = "".join(self.inline(nodes)).strip()
        return "\n".join(wrap(text, indent=indent))

    def list_markdown(self, element: Element, indent: str) -> str:
        lines: list[str] = []
        number = 0
        for item in element.children:
            if not isinstance(item, Element) or item.tag != "li":
                if isinstance(item, str) and not item.strip():
                    continue
                raise ContentError(f"a list holds <li> items, not {item!r}")
            number += 1
            marker = f"{number}. " if element.tag == "ol" else "- "
            inline_nodes = [
                child
                for child in item.children
                if not (isinstance(child, Element) and child.tag in ("ul", "ol"))
            ]
            continuation = indent + " " * len(marker)
            text = "".join(self.inline(inline_nodes)).strip()
            text_lines = wrap(text, indent=len(continuation)) or [""]
            lines.append(f"{indent}{marker}{text_lines[0]}".rstrip())
            lines.extend(f"{continuation}{line}" for line in text_lines[1:])
            for child in item.children:
                if isinstance(child, Element) and child.tag in ("ul", "ol"):
                    lines.append(self.list_markdown(child, continuation))
        return "\n".join(lines)

    def inline(self, nodes: list) -> list[str]:
        parts: list[str] = []
        for node in nodes:
            if isinstance(node, str):
                parts.append(escape_text(node.replace("\n", " ")))
                continue
            tag = node.tag
            if tag == "br":
                parts.append("\\\n")
            elif tag == "code":
                parts.append(code_span(plain_text(node)))
            elif tag in WRAPPERS:
                parts.append(self.wrap(WRAPPERS[tag], "".join(self.inline(node.children))))
            elif tag in RAW_TAGS:
                parts.append(f"<{tag}>{''.join(self.inline(node.children))}</{tag}>")
            elif tag == "a":
                text = "".join(self.inline(node.children))
                href = self.link_url(node.attrs)
                parts.append(f"[{text}]({link_destination(href)})" if href else text)
            elif tag == "span":
                parts.extend(self.inline(node.children))
            else:
                raise ContentError(f"rich text with <{tag}> has no Markdown form here")
        return parts

    @staticmethod
    def wrap(marker: str, content: str) -> str:
        """Emphasis markers hug the text: spaces inside <b> go outside the ** in Markdown."""
        core = content.strip()
        if not core:
            return content
        start = content.index(core[0])
        leading, trailing = content[:start], content[start + len(core) :]
        return f"{leading}{marker}{core}{marker}{trailing}"


def plain_text(element: Element) -> str:
    parts: list[str] = []
    for node in element.children:
        parts.append(node if isinstance(node, str) else plain_text(node))
    return "".join(parts)
