"""Template tags for the reader's pages: URLs, pagination, JSON-LD, inline code, diagrams."""

import datetime
import functools
import hashlib
import json
import re
from dataclasses import dataclass

from django import template
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from blog.links import absolute_url as make_absolute
from blog.models import SiteSettings

register = template.Library()

# Inline code as rich text and Markdown make it: a bare <code> (code blocks carry a class).
INLINE_CODE = re.compile(r"<code>([^<]*)</code>")
# A run of non-space characters with a hyphen in it, short enough to fit a phone's line.
HYPHENATED_TOKEN = re.compile(r"[^\s-]*-[^\s]*")
TOKEN_MAX_CHARACTERS = 32

# The characters json_script escapes, so the data can never close its <script> element.
JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag(takes_context=True)
def absolute_url(context, path: str) -> str:
    """The path as an absolute URL on this request's host."""
    return make_absolute(context.get("request"), path)


@register.simple_tag(takes_context=True)
def canonical_url(context, paginated=None) -> str:
    """This page's address without query string, but with `?page=N` past the first page."""
    request = context["request"]
    url = make_absolute(request, request.path)
    if paginated is not None and getattr(paginated, "number", 1) > 1:
        url += f"?page={paginated.number}"
    return url


@register.simple_tag(takes_context=True)
def page_link(context, number: int) -> str:
    """The current URL's query string with `page` set to `number` (other parameters kept)."""
    query = context["request"].GET.copy()
    if number == 1:
        query.pop("page", None)
    else:
        query["page"] = number
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else context["request"].path


def _unbroken(match: re.Match) -> str:
    token = match.group(0)
    if len(token) > TOKEN_MAX_CHARACTERS:
        return token
    return f'<span class="nowrap">{token}</span>'


@register.filter(is_safe=True)
def code_tokens_whole(html: str) -> str:
    """Inline code that wraps at its spaces only. Browsers break a line after any hyphen, so
    `--database` or `fly-ensure-running` could be split across two lines; each such token is
    kept on one line (a token too long for a phone's line may still break)."""
    return mark_safe(  # noqa: S308 - spans around text that was already safe, no markup added inside
        INLINE_CODE.sub(
            lambda code: f"<code>{HYPHENATED_TOKEN.sub(_unbroken, code.group(1))}</code>",
            str(html),
        )
    )


@register.filter
def html_datetime(moment: datetime.datetime | None) -> str:
    """A moment as HTML's `datetime` attribute takes it: UTC to the second (`2026-12-02T14:35:33Z`).

    Django's `date:"c"` keeps the microseconds, and HTML allows at most three digits there.
    """
    if moment is None:
        return ""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@register.filter
def json_ld(data) -> str:
    """A <script type="application/ld+json"> data block (never executed, so fine under a CSP)."""
    encoded = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return format_html(
        '<script type="application/ld+json">{}</script>',
        mark_safe(encoded.translate(JSON_SCRIPT_ESCAPES)),  # noqa: S308 - <, > and & are escaped
    )


@dataclass(frozen=True)
class Diagram:
    """A drawing in static/diagrams/ that stands in for an image of the content on the site."""

    url: str
    width: int
    height: int


SVG_SIZE = re.compile(r'<svg[^>]*\bviewBox="0 0 ([\d.]+) ([\d.]+)"')


@functools.cache
def _diagrams() -> dict[str, tuple[str, int, int]]:
    """The SHA-1 of each site/images/NAME.png that has a static/diagrams/NAME.svg beside it ->
    (that SVG's static path, its width, its height). Read once per process."""
    found = {}
    for drawing in sorted((settings.BASE_DIR / "static" / "diagrams").glob("*.svg")):
        raster = settings.BASE_DIR / "site" / "images" / f"{drawing.stem}.png"
        size = SVG_SIZE.search(drawing.read_text())
        if not raster.is_file() or size is None:
            continue
        digest = hashlib.sha1(raster.read_bytes(), usedforsecurity=False).hexdigest()
        found[digest] = (f"diagrams/{drawing.name}", round(float(size[1])), round(float(size[2])))
    return found


@register.simple_tag
def diagram_for(image) -> Diagram | None:
    """The themed SVG drawing of a shipped diagram, for an image whose file is exactly its PNG.

    SVG uploads are refused (an SVG can carry script), so the content holds each diagram as a
    PNG, which feeds and the admin show; the site draws it from the SVG of the same name in
    static/diagrams/, whose colours follow the reader's light or dark theme. An editor who
    replaces the image gets their own image shown.
    """
    digest = getattr(image, "file_hash", "") if image else ""
    entry = _diagrams().get(digest) if digest else None
    if entry is None:
        return None
    path, width, height = entry
    return Diagram(static(path), width, height)


@register.simple_tag
def configured_site_name() -> str:
    """The site's name from the environment (SITE_NAME), for pages rendered without the
    database (500, 503); the site settings an editor can change start from the same name."""
    return settings.WAGTAIL_SITE_NAME


@register.simple_tag(takes_context=True)
def page_meta(context) -> dict:
    """Title, description, canonical URL, social image and feeds for the page being rendered.

    Templates and routes may set `meta_title`, `meta_description`, `noindex` and `paginated` in
    the context; everything else comes from the page and the site settings.
    """
    request = context["request"]
    page = context.get("page")
    site_settings = SiteSettings.for_request(request)
    site_name = site_settings.site_name
    title = context.get("meta_title") or (page and (page.seo_title or page.title)) or site_name
    describe = getattr(page, "get_meta_description", None)
    description = (
        context.get("meta_description") or (describe() if describe else "") or site_settings.tagline
    )
    meta = {
        "title": title,
        "full_title": title if title == site_name else f"{title} · {site_name}",
        "site_name": site_name,
        "description": description,
        "canonical": canonical_url(context, context.get("paginated")),
        "type": "article" if context.get("is_article") else "website",
        "noindex": bool(context.get("noindex")),
        "image": None,
        "feeds": [],
    }
    social_image = page.get_social_image() if hasattr(page, "get_social_image") else None
    if social_image:
        rendition = social_image.get_rendition("fill-1200x630|format-jpeg")
        meta["image"] = {
            "url": make_absolute(request, rendition.url),
            "width": rendition.width,
            "height": rendition.height,
            "alt": getattr(page, "hero_alt", ""),
        }
    feed_urls = context["site_sections"].feed_urls if "site_sections" in context else {}
    if feed_urls:
        meta["feeds"] = [
            {"type": "application/rss+xml", "title": f"{site_name} (RSS)", "url": feed_urls["rss"]},
            {
                "type": "application/atom+xml",
                "title": f"{site_name} (Atom)",
                "url": feed_urls["atom"],
            },
        ]
    tag_feeds = context.get("tag_feed_urls")
    if tag_feeds:
        tag_name = context["tag"].name
        meta["feeds"] += [
            {
                "type": "application/rss+xml",
                "title": f"Posts tagged {tag_name} (RSS)",
                "url": tag_feeds["rss"],
            },
            {
                "type": "application/atom+xml",
                "title": f"Posts tagged {tag_name} (Atom)",
                "url": tag_feeds["atom"],
            },
        ]
    return meta


@register.simple_tag(takes_context=True)
def navigation(context) -> list[dict]:
    """The header's sections, each saying whether the current page is it or inside it."""
    sections = context.get("site_sections")
    if not sections:
        return []
    page = context.get("page")
    path = getattr(page, "path", "")
    items = []
    for section in sections.navigation:
        state = ""
        if path == section.path:
            state = "page"
        elif path.startswith(section.path):
            state = "section"
        items.append({"page": section, "state": state})
    return items


@register.simple_tag
def elided_pages(paginated):
    """Page numbers around the current one, with an ellipsis standing for the gaps."""
    return paginated.paginator.get_elided_page_range(paginated.number, on_each_side=2, on_ends=1)
