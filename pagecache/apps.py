"""App configuration: a content change empties this process's stores at once."""

from django.apps import AppConfig


class PageCacheConfig(AppConfig):
    name = "pagecache"
    verbose_name = "Page cache"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from blog.changes import content_changed
        from pagecache.wsgi import forget_every_page

        content_changed.connect(forget_every_page, dispatch_uid="pagecache-forget")
