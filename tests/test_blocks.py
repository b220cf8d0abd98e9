"""The StreamField blocks shared by posts and docs, as readers and editors meet them."""

import re
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from wagtail.embeds.exceptions import EmbedNotFoundException

from blog.blocks import BaseStreamBlock, table_of_contents
from blog.highlighting import LANGUAGE_CHOICES, normalise_language
from blog.models import BlogPage
from tests.factories import (
    BlogPageFactory,
    ImageFactory,
    every_block_body,
    heading,
    paragraph,
)

pytest_plugins = ["tests.site_content"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rendering")]

BLOCK_NAMES = ["heading", "paragraph", "code", "image", "callout", "quote", "embed", "table"]


def render_body(blocks) -> str:
    value = BlogPage._meta.get_field("body").to_python(blocks)
    return str(value.render_as_block({}))


def post_html(client, **kwargs) -> str:
    post = BlogPageFactory(**kwargs)
    return client.get(post.url).content.decode()


def test_the_block_names_are_the_content_formats():
    assert list(BaseStreamBlock.base_blocks) == BLOCK_NAMES


@pytest.mark.parametrize("name", BLOCK_NAMES)
def test_every_block_has_a_description_and_an_admin_preview(name):
    block = BaseStreamBlock.base_blocks[name]
    assert block.get_description()
    assert block.is_previewable
    assert block.get_preview_value() is not None


def test_block_previews_render_in_the_admin_with_the_sites_stylesheet(admin_client):
    ImageFactory()
    for name in BLOCK_NAMES:
        block = BaseStreamBlock.base_blocks[name]
        response = admin_client.get(
            reverse("wagtailadmin_block_preview"), {"id": block.definition_prefix}
        )
        assert response.status_code == 200, name
        assert b"/static/css/site." in response.content, name


# --- Headings and the table of contents ---------------------------------------------------


def test_headings_get_unique_anchors_and_link_to_themselves():
    html = render_body(
        [
            heading("Set up"),
            heading("Set up"),
            heading("Set up", "h3"),
            heading("🚀"),
            heading("🚀"),
        ]
    )
    assert '<h2 id="set-up"><a class="anchor" href="#set-up">Set up</a></h2>' in html
    assert 'id="set-up-2"' in html
    assert '<h3 id="set-up-3">' in html
    assert 'id="section"' in html
    assert 'id="section-2"' in html


def test_heading_level_outside_h2_to_h4_falls_back_to_h2():
    html = render_body([heading("Imported", "h1")])
    assert '<h2 id="imported">' in html
    assert "<h1" not in html


def test_table_of_contents_nests_h3_under_h2_and_matches_the_anchors():
    body = BlogPage._meta.get_field("body").to_python(
        [heading("Intro"), heading("Detail", "h3"), heading("Deep", "h4"), heading("Intro")]
    )
    toc = table_of_contents(body)
    assert [(entry.anchor, entry.text) for entry in toc] == [
        ("intro", "Intro"),
        ("intro-2", "Intro"),
    ]
    assert [(child.anchor, child.level) for child in toc[0].children] == [("detail", "h3")]


# --- Code --------------------------------------------------------------------------------


def test_code_is_highlighted_with_classes_escaped_and_scrollable():
    html = render_body(
        [("code", {"language": "python", "code": 'print("<b>&</b>")', "filename": "app.py"})]
    )
    assert '<span class="nb">print</span>' in html
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in html
    assert "<b>" not in html
    assert 'style="' not in html
    assert '<pre class="highlight" tabindex="0"><code class="language-python">' in html
    assert '<span class="code-title">app.py</span>' in html


def test_code_without_a_filename_is_labelled_with_its_language_and_keeps_its_output():
    html = render_body(
        [("code", {"language": "console", "code": "$ fly deploy\n==> Building image"})]
    )
    assert "Shell session" in html
    assert "==&gt; Building image" in html


def test_code_in_an_unknown_language_is_shown_as_plain_text():
    html = render_body([("code", {"language": "cobol", "code": "MOVE 1 TO X."})])
    assert "MOVE 1 TO X." in html


@pytest.mark.parametrize(
    ("fence", "stored"),
    [("sh", "bash"), ("yml", "yaml"), ("jinja", "django"), ("", "text"), ("Python", "python")],
)
def test_markdown_fence_names_map_onto_the_language_list(fence, stored):
    assert normalise_language(fence) == stored
    assert stored in dict(LANGUAGE_CHOICES)


def test_the_highlighting_rules_in_site_css_are_current():
    # Fails when blog/highlighting.py changed without `python manage.py highlight_css`.
    try:
        call_command("highlight_css", "--check")
    except CommandError as error:
        pytest.fail(str(error))


# --- Images ------------------------------------------------------------------------------


def test_image_block_serves_avif_and_webp_renditions_with_srcset_and_size_hints():
    image = ImageFactory(width=1600, height=900)
    html = render_body([("image", {"image": image, "alt_text": "A map", "caption": "Regions"})])
    assert 'type="image/avif"' in html
    assert 'type="image/webp"' in html
    assert re.search(r'srcset="[^"]+ 480w, [^"]+ 800w, [^"]+ 1200w"', html)
    assert 'sizes="(min-width: 46rem) 42rem, 100vw"' in html
    assert 'alt="A map"' in html
    assert 'loading="lazy"' in html
    assert re.search(r'<img [^>]*width="480" [^>]*height="270"', html) or re.search(
        r'<img [^>]*height="270" [^>]*width="480"', html
    )
    assert "<figcaption>Regions</figcaption>" in html


def test_image_block_without_an_image_renders_nothing():
    assert "<figure" not in render_body([("image", {"image": None, "alt_text": "Gone"})])


# --- Callout, quote, table, embed --------------------------------------------------------


def test_callout_quote_and_table_render_semantic_html():
    html = render_body(every_block_body())
    assert '<div class="callout callout-warning" role="note">' in html
    assert '<p class="callout-title">Warning</p>' in html
    assert "<blockquote>" in html
    assert "<figcaption>Fly&#x27;s docs</figcaption>" in html
    assert '<th scope="col">Variable</th>' in html
    assert "<td>FLY_REGION</td>" in html
    assert "<caption>Fly&#x27;s variables</caption>" in html


def test_an_embed_that_cannot_be_fetched_is_a_plain_link(client):
    with mock.patch(
        "wagtail.embeds.embeds.get_finder_for_embed", side_effect=EmbedNotFoundException
    ):
        html = post_html(client, body=[("embed", "https://www.youtube.com/watch?v=unreachable")])
    assert (
        '<a href="https://www.youtube.com/watch?v=unreachable">'
        "https://www.youtube.com/watch?v=unreachable</a>" in html
    )


def test_an_embed_that_can_be_fetched_shows_the_player_and_a_link(client):
    found = {
        "title": "A talk",
        "type": "video",
        "html": '<iframe src="https://www.youtube-nocookie.com/embed/x" title="A talk"></iframe>',
        "width": 640,
        "height": 360,
    }
    with mock.patch("wagtail.embeds.embeds.get_finder_for_embed", return_value=found):
        html = post_html(client, body=[("embed", "https://www.youtube.com/watch?v=x")])
    assert '<div class="embed-frame">' in html
    assert "youtube-nocookie.com/embed/x" in html


def test_an_embed_with_a_script_url_is_never_a_link():
    html = render_body([("embed", "javascript:alert(1)")])
    assert "javascript:" not in html


def test_the_network_being_down_never_breaks_a_page(client):
    # Nothing is mocked: this machine (like CI) may have no route to YouTube at all.
    html = post_html(client, body=[paragraph("Intro"), ("embed", "https://youtu.be/abc")])
    assert "https://youtu.be/abc" in html


# --- The whole page ------------------------------------------------------------------------


def test_a_post_with_every_block_has_no_inline_script_or_style(client):
    html = post_html(client, body=every_block_body(image=ImageFactory()))
    assert ' style="' not in html
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert all("src=" in tag or 'type="application/ld+json"' in tag for tag in scripts), scripts
