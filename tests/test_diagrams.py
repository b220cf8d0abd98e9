"""Diagrams: a shipped PNG with an SVG beside it in static/diagrams/ is drawn from the SVG on the
site (theme colours, a link to open it full size); feeds and other images keep the raster."""

import hashlib
import re
from pathlib import Path

import pytest

from blog.blocks import ImageBlock
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
DIAGRAMS = sorted((ROOT / "static" / "diagrams").glob("*.svg"))


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def shipped_png(name: str):
    png = ROOT / "site" / "images" / f"{name}.png"
    return ImageFactory(file_hash=hashlib.sha1(png.read_bytes(), usedforsecurity=False).hexdigest())


def render(image, **context) -> str:
    block = ImageBlock()
    value = block.to_python({"image": image.pk, "alt_text": "The pipeline's jobs", "caption": ""})
    return block.render(value, context=context)


def test_every_diagram_has_its_png_for_feeds_and_the_admin():
    assert DIAGRAMS
    for drawing in DIAGRAMS:
        assert (ROOT / "site" / "images" / f"{drawing.stem}.png").is_file(), drawing.name


@pytest.mark.parametrize("drawing", DIAGRAMS, ids=lambda path: path.stem)
def test_a_diagram_follows_the_theme_with_no_script(drawing):
    svg = drawing.read_text()
    assert "light-dark(" in svg
    assert "color-scheme: light dark" in svg
    assert "<script" not in svg.lower()
    assert not re.search(r"\son\w+=", svg), "no event handler attributes"
    assert "<title" in svg


def test_the_shipped_png_is_drawn_from_its_svg_and_opens_full_size():
    html = render(shipped_png("pipeline"))

    assert '<a class="diagram-link" href="/static/diagrams/pipeline.svg">' in html
    assert '<img src="/static/diagrams/pipeline.svg"' in html
    assert 'alt="The pipeline&#x27;s jobs"' in html
    assert "<picture" not in html


def test_feeds_keep_the_raster_image():
    html = render(shipped_png("pipeline"), feed=True)

    assert "diagrams/pipeline.svg" not in html
    assert "<img" in html


def test_any_other_image_is_an_ordinary_responsive_picture():
    html = render(ImageFactory())

    assert "<picture" in html
    assert "diagram" not in html
