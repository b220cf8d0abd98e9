"""WSGI entry point for gunicorn (`config.wsgi:application`): Django, with the page cache for
anonymous readers in front of it (pagecache.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_wsgi_application()

from pagecache.wsgi import PageCache  # noqa: E402 (needs the settings Django has just loaded)

application = PageCache(django_application)
