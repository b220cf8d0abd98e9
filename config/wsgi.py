"""WSGI entry point for gunicorn (`config.wsgi:application`): Django, with the page cache for
anonymous readers in front of it (pagecache.wsgi), and in front of both the choice of the database
each request reads (config.replica: the region's read replica, outside the primary region)."""

import contextlib
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_wsgi_application()

from config.replica import OneDatabasePerRequest  # noqa: E402 (needs the settings loaded)
from pagecache.wsgi import PageCache  # noqa: E402

application = OneDatabasePerRequest(PageCache(django_application))

# Renditions config.wsgi.warm puts in Wagtail's cache before the workers fork.
RENDITIONS_KEPT = 200


def warm() -> None:
    """Load what a first request would otherwise load: the URL patterns (the admin's included,
    which bring Django REST framework), the page templates, every content type, the latest
    image renditions, and what every page shows, kept per process (blog.site_data: the Site,
    its settings, the sections, the posts' order, the docs tree).

    gunicorn's master runs this once before forking (config/gunicorn.conf.py), so the workers
    share it and their first requests query only the page's own rows. It never writes (a missing
    settings row is left for the first request to create) and never fails for the database: one
    that is down or not migrated yet only means the first requests fill it themselves. It
    closes the connections it opened, so no worker inherits a socket."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType
    from django.db import DatabaseError, connections
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template
    from django.urls import reverse
    from wagtail.images import get_image_model
    from wagtail.models import Site, get_page_models

    from blog import site_data
    from blog.models import BlogIndexPage, DocsIndexPage, HomePage, SiteSettings

    reverse("wagtail_serve", args=[""])
    for model in get_page_models():
        # A page type of Wagtail's own that this site never shows has no template here.
        with contextlib.suppress(TemplateDoesNotExist):
            get_template(model.template)
    if not site_data.ProcessMemo.usable():
        return
    try:
        ContentType.objects.get_for_models(*apps.get_models())
        site_data.warm()
        for site in Site.objects.all():
            if SiteSettings.objects.filter(site=site).exists():
                SiteSettings.for_site(site)
        for home in HomePage.objects.live():
            home.section_pages()
        for blog_index in BlogIndexPage.objects.live():
            blog_index.post_sequence()
        for docs_index in DocsIndexPage.objects.live():
            docs_index.docs_pages()
        # Wagtail looks each rendition up in its cache, then in the database; a worker forks
        # with the latest ones cached (Django's default cache holds at most 300 entries).
        rendition_model = get_image_model().get_rendition_model()
        latest = rendition_model.objects.select_related("image").order_by("-pk")[:RENDITIONS_KEPT]
        rendition_model.cache_backend.set_many(
            {rendition.get_cache_key(): rendition for rendition in latest}
        )
    except DatabaseError:
        pass
    finally:
        connections.close_all()
