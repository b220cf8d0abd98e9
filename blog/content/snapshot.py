"""A page's content as plain data: what the importer writes, compared across imports.

The importer stores a hash of it (`fingerprint`) to notice pages changed outside its own
revisions, and the round-trip tests compare whole sites with it. Database ids are replaced by
what identifies the thing across databases (an image by its file's hash).
"""

import copy
import datetime
import hashlib
import json

from wagtail.images import get_image_model
from wagtail.models import Page

from blog.models import BlogPage, HomePage


def image_key(image_or_id) -> str | None:
    """An image's identity across databases: the SHA-1 of its file."""
    if image_or_id is None:
        return None
    image = image_or_id
    if not hasattr(image, "get_file_hash"):
        image = get_image_model().objects.filter(pk=image_or_id).first()
        if image is None:
            return f"missing image {image_or_id}"
    return image.get_file_hash()


def stream_snapshot(stream_value) -> list:
    items = []
    for raw in stream_value.raw_data:
        value = copy.deepcopy(raw["value"])
        if raw["type"] == "image" and isinstance(value, dict):
            value["image"] = image_key(value.get("image"))
        items.append([raw["type"], value])
    return items


def page_snapshot(page: Page) -> dict:
    """The content of `page` as the importer sets it; works on saved and unsaved pages."""
    data = {
        "type": page._meta.label_lower,
        "title": page.title,
        "slug": page.slug,
        "summary": getattr(page, "summary", ""),
    }
    if hasattr(page, "body"):
        data["body"] = stream_snapshot(page.body)
    if isinstance(page, HomePage):
        data["intro"] = page.intro
    if isinstance(page, BlogPage):
        data["date"] = page.date.isoformat() if page.date else None
        data["first_published_at"] = (
            page.first_published_at.astimezone(datetime.UTC).isoformat()
            if page.first_published_at
            else None
        )
        data["tags"] = sorted(tag.name for tag in page.tags.all())
        data["authors"] = [link.author.name for link in page.author_links.all()]
        data["hero"] = image_key(page.hero_image)
        data["hero_alt"] = page.hero_alt
    return data


def fingerprint(page: Page) -> str:
    encoded = json.dumps(page_snapshot(page), sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def site_snapshot(root: Page) -> list[dict]:
    """Every live page below `root` (itself included) in tree order, with its URL path:
    titles, slugs, order among siblings, dates, tags and blocks in one comparable list."""
    pages = Page.objects.descendant_of(root, inclusive=True).live().order_by("path").specific()
    return [
        {"url_path": page.url_path, "depth": page.depth - root.depth, **page_snapshot(page)}
        for page in pages
    ]
