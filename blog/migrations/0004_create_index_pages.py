"""Create the empty blog index ("Write-up", /blog/) and docs index ("Docs", /docs/) under the
home page, so the site's sections, feeds and navigation exist before any content is imported.

The content importer fills these pages in (it finds them by slug); no posts are created here.
"""

from django.db import migrations
from django.utils import timezone

SECTIONS = [
    (
        "blogindexpage",
        "Write-up",
        "blog",
        "How this site is built, tested and shipped to Fly.io, one post per step.",
    ),
    ("docsindexpage", "Docs", "docs", "Set up, run and deploy your own copy of this site."),
]
STEP_LENGTH = 4
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def encode_step(number):
    """Treebeard's path step: base 36, four characters."""
    digits = ""
    while number:
        number, remainder = divmod(number, len(ALPHABET))
        digits = ALPHABET[remainder] + digits
    return digits.rjust(STEP_LENGTH, "0")


def create_index_pages(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Page = apps.get_model("wagtailcore.Page")
    HomePage = apps.get_model("blog.HomePage")

    home = HomePage.objects.order_by("path").first()
    if home is None:
        return
    now = timezone.now()
    for model_name, title, slug, summary in SECTIONS:
        model = apps.get_model("blog", model_name)
        if (
            model.objects.exists()
            or Page.objects.filter(
                path__startswith=home.path, depth=home.depth + 1, slug=slug
            ).exists()
        ):
            continue
        siblings = Page.objects.filter(path__startswith=home.path, depth=home.depth + 1)
        last = siblings.order_by("-path").values_list("path", flat=True).first()
        position = int(last[-STEP_LENGTH:], 36) + 1 if last else 1
        content_type, _ = ContentType.objects.get_or_create(app_label="blog", model=model_name)
        model.objects.create(
            title=title,
            draft_title=title,
            slug=slug,
            summary=summary,
            content_type=content_type,
            path=home.path + encode_step(position),
            depth=home.depth + 1,
            numchild=0,
            url_path=f"{home.url_path}{slug}/",
            locale_id=home.locale_id,
            live=True,
            show_in_menus=True,
            first_published_at=now,
            last_published_at=now,
        )
        home.numchild = Page.objects.filter(
            path__startswith=home.path, depth=home.depth + 1
        ).count()
        Page.objects.filter(pk=home.pk).update(numchild=home.numchild)


def remove_index_pages(apps, schema_editor):
    for model_name, _, slug, _ in SECTIONS:
        apps.get_model("blog", model_name).objects.filter(slug=slug, numchild=0).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0003_reader_site"),
    ]

    operations = [migrations.RunPython(create_index_pages, remove_index_pages)]
