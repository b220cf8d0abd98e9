"""WSGI entry point for gunicorn (`config.wsgi:application`): Django, with the page cache for
anonymous readers in front of it (pagecache.wsgi), and in front of both the choice of the database
each request reads (config.replica: the region's read replica, outside the primary region)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_wsgi_application()

from config.replica import OneDatabasePerRequest  # noqa: E402 (needs the settings loaded)
from pagecache.wsgi import PageCache  # noqa: E402

application = OneDatabasePerRequest(PageCache(django_application))
