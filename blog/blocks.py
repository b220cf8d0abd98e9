"""StreamField blocks shared by blog posts and docs pages (the content importer maps onto these).

The block names and field names are part of the content format documented in site/README.md:
heading, paragraph, code, image, callout, quote, embed and table.
"""

from dataclasses import dataclass, field

from django.core.cache import cache
from django.template.context import Context
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from wagtail import blocks
from wagtail.contrib.table_block.blocks import TableBlock
from wagtail.coreutils import safe_md5
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images import get_image_model
from wagtail.images.blocks import ImageChooserBlock

from blog.highlighting import LANGUAGE_CHOICES, LANGUAGE_LABELS, highlight_code

# Inline formatting allowed in rich text. Headings, code blocks and images are blocks of their own.
RICH_TEXT_FEATURES = [
    "bold",
    "italic",
    "code",
    "link",
    "document-link",
    "ol",
    "ul",
    "superscript",
    "subscript",
    "strikethrough",
]

HEADING_LEVELS = ("h2", "h3", "h4")
# How long a URL that no embed provider answered for is remembered, so pages stay fast offline.
EMBED_FAILURE_SECONDS = 600


@dataclass
class TocEntry:
    """One heading in a page's "on this page" list; h3/h4 entries nest under the heading above."""

    anchor: str
    text: str
    level: str
    children: list["TocEntry"] = field(default_factory=list)


def heading_anchor(text: str) -> str:
    return slugify(text) or "section"


def heading_anchors(stream_value) -> list[str]:
    """The id of every heading block in the stream, in order, unique within the page."""
    anchors, seen = [], set()
    for child in stream_value:
        if child.block_type != "heading":
            continue
        base = heading_anchor(child.value.get("text", ""))
        anchor, number = base, 1
        while anchor in seen:
            number += 1
            anchor = f"{base}-{number}"
        seen.add(anchor)
        anchors.append(anchor)
    return anchors


def table_of_contents(stream_value) -> list[TocEntry]:
    """The stream's h2 headings, each with the h3 headings below it (h4 is too fine to list)."""
    entries: list[TocEntry] = []
    headings = [child for child in stream_value if child.block_type == "heading"]
    for child, anchor in zip(headings, heading_anchors(stream_value), strict=True):
        level = child.value.get("level") or "h2"
        entry = TocEntry(anchor=anchor, text=child.value.get("text", ""), level=level)
        if level == "h2" or not entries:
            entries.append(entry)
        elif level == "h3":
            entries[-1].children.append(entry)
    return entries


def _flat(context) -> dict:
    if context is None:
        return {}
    if isinstance(context, Context):
        return context.flatten()
    return dict(context)


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=200)
    level = blocks.ChoiceBlock(
        choices=[("h2", "Section (h2)"), ("h3", "Subsection (h3)"), ("h4", "Minor heading (h4)")],
        default="h2",
    )

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        # BaseStreamBlock passes the de-duplicated anchor; a lone preview works it out itself.
        context["anchor"] = context.get("heading_anchor") or heading_anchor(value.get("text", ""))
        level = value.get("level")
        context["tag"] = level if level in HEADING_LEVELS else "h2"
        return context

    class Meta:
        icon = "title"
        template = "blog/blocks/heading.html"
        description = (
            "A section heading with a link to itself. Headings make the page's "
            "“on this page” list; use h2 for sections and h3 inside them."
        )
        preview_value = {"text": "Deploying the release", "level": "h2"}


class CodeBlock(blocks.StructBlock):
    language = blocks.ChoiceBlock(choices=LANGUAGE_CHOICES, default="python")
    code = blocks.TextBlock()
    filename = blocks.CharBlock(
        required=False, help_text="Shown above the code, for example config/settings.py."
    )
    caption = blocks.CharBlock(required=False, help_text="A sentence shown under the code.")

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        language = value.get("language") or "text"
        # Pygments escapes the code itself; the result is only <span class="..."> markup.
        context["highlighted"] = mark_safe(highlight_code(value.get("code") or "", language))  # noqa: S308
        context["language_label"] = LANGUAGE_LABELS.get(language, "Code")
        return context

    class Meta:
        icon = "code"
        template = "blog/blocks/code.html"
        description = (
            "Source code or a terminal session, highlighted on the server. "
            "Readers can scroll it sideways and copy it with one click."
        )
        preview_value = {
            "language": "toml",
            "filename": "fly.toml",
            "code": "[http_service]\n  internal_port = 8000\n  force_https = true\n\n"
            '  [[http_service.checks]]\n    path = "/healthz"',
            "caption": "",
        }


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    alt_text = blocks.CharBlock(
        help_text="What the image shows, for readers who cannot see it. Required."
    )
    caption = blocks.CharBlock(required=False)

    def get_preview_value(self):
        # A preview needs a real image: the newest one in the library, when there is one.
        image = get_image_model().objects.order_by("-created_at").first()
        return self.normalize(
            {"image": image, "alt_text": "An example image", "caption": "A caption"}
        )

    class Meta:
        icon = "image"
        template = "blog/blocks/image.html"
        description = (
            "An image with alt text and an optional caption, served as AVIF or WebP "
            "at the size each screen needs."
        )


class CalloutBlock(blocks.StructBlock):
    kind = blocks.ChoiceBlock(
        choices=[("note", "Note"), ("tip", "Tip"), ("warning", "Warning")], default="note"
    )
    body = blocks.RichTextBlock(features=RICH_TEXT_FEATURES)

    class Meta:
        icon = "warning"
        template = "blog/blocks/callout.html"
        description = "A note, tip or warning set apart from the text around it."
        preview_value = {
            "kind": "tip",
            "body": "<p><code>fly deploy</code> leaves stopped machines stopped: "
            "start one before you test.</p>",
        }


class QuoteBlock(blocks.StructBlock):
    text = blocks.TextBlock()
    attribution = blocks.CharBlock(required=False)

    class Meta:
        icon = "openquote"
        template = "blog/blocks/quote.html"
        description = "A quotation, with who said it."
        preview_value = {
            "text": "Health checks do not follow redirects.",
            "attribution": "A lesson from the first deploy",
        }


class LinkFallbackEmbedBlock(EmbedBlock):
    """An oEmbed (video, slides, ...) that falls back to a plain link when it cannot be fetched."""

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        url = value.url if value else ""
        # Only web addresses become links (stored data may come from an import, not the form).
        context["link_url"] = url if url.lower().startswith(("https://", "http://")) else ""
        context["embed_html"] = self.embed_html(value) if context["link_url"] else ""
        return context

    @staticmethod
    def embed_html(value) -> str:
        if not value or not value.url:
            return ""
        failure_key = (
            "embed-failed:" + safe_md5(value.url.encode(), usedforsecurity=False).hexdigest()
        )
        if cache.get(failure_key):
            return ""
        html = value.html  # Wagtail turns a provider error into ""
        if not html:
            cache.set(failure_key, True, EMBED_FAILURE_SECONDS)
        return html

    class Meta:
        icon = "media"
        template = "blog/blocks/embed.html"
        description = (
            "A video or other page from a site that supports oEmbed, such as YouTube. "
            "Shown as a link when the site cannot be reached."
        )
        preview_value = "https://www.youtube.com/watch?v=aqz-KE-bpKQ"


class BaseStreamBlock(blocks.StreamBlock):
    """The body of posts and docs pages."""

    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        features=RICH_TEXT_FEATURES,
        icon="pilcrow",
        description="Paragraphs and lists with links, emphasis and inline code.",
        preview_value=(
            "<p>The release step runs <code>migrate</code> on a temporary machine "
            "before any new machine takes traffic.</p>"
        ),
    )
    code = CodeBlock()
    image = ImageBlock()
    callout = CalloutBlock()
    quote = QuoteBlock()
    embed = LinkFallbackEmbedBlock()
    table = TableBlock(
        template="blog/blocks/table.html",
        description="A table; the first row is its header.",
        preview_value={
            "data": [["Variable", "Set by"], ["FLY_REGION", "Fly"], ["SECRET_KEY", "you"]],
            "first_row_is_table_header": True,
            "first_col_is_header": False,
            "table_header_choice": "row",
        },
    )

    def render_basic(self, value, context=None):
        """Each block without a wrapper, headings with their page-unique anchors."""
        anchors = iter(heading_anchors(value))
        parent_context = _flat(context)
        rendered = []
        for child in value:
            child_context = parent_context
            if child.block_type == "heading":
                child_context = {**parent_context, "heading_anchor": next(anchors)}
            rendered.append((child.render(context=child_context),))
        return format_html_join("\n", "{}", rendered)
