"""App configuration for the blog: connects what counts as a change readers see, and (first in
INSTALLED_APPS, so before Wagtail's apps get ready) leaves unloaded what the site never uses."""

from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"
    verbose_name = "Flight Log"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from blog import changes
        from config.upstream.unused_imports import leave_unused_modules_unloaded

        leave_unused_modules_unloaded()

        changes.connect()
