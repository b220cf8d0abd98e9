"""Replace Wagtail's placeholder welcome page with the site's HomePage and point the site at it."""

from django.db import migrations

INTRO = (
    "<p>Notes on shipping a Wagtail site to Fly.io, published by the site they describe.</p>"
)


def create_homepage(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Page = apps.get_model("wagtailcore.Page")
    Site = apps.get_model("wagtailcore.Site")
    HomePage = apps.get_model("blog.HomePage")

    if HomePage.objects.exists():
        return
    # wagtailcore's own initial data makes a plain "Welcome" page at depth 2; replace it.
    Page.objects.filter(content_type__app_label="wagtailcore", depth=2, slug="home").delete()
    root = Page.objects.get(depth=1)
    homepage_type, _ = ContentType.objects.get_or_create(model="homepage", app_label="blog")
    homepage = HomePage.objects.create(
        title="Flight Log",
        draft_title="Flight Log",
        slug="home",
        content_type=homepage_type,
        path=f"{root.path}0001",
        depth=2,
        numchild=0,
        url_path="/home/",
        intro=INTRO,
        locale_id=root.locale_id,
        live=True,
    )
    root.numchild = Page.objects.filter(depth=2).count()
    root.save(update_fields=["numchild"])
    Site.objects.all().delete()
    Site.objects.create(
        hostname="localhost", port=80, root_page_id=homepage.pk, is_default_site=True,
        site_name="Flight Log",
    )


def remove_homepage(apps, schema_editor):
    apps.get_model("blog.HomePage").objects.filter(depth=2).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [migrations.RunPython(create_homepage, remove_homepage)]
