"""App configuration for the blog: connects what counts as a change readers see, and (first in
INSTALLED_APPS, so before Wagtail's apps get ready) leaves unloaded what the site never uses."""

import warnings

from django.apps import AppConfig

# Beautiful Soup (which Wagtail uses) warns on import that soupsieve, its CSS selector engine, is
# missing: it is left out on purpose (pyproject.toml, override-dependencies). Django imports this
# module before any app's models, so before Beautiful Soup.
warnings.filterwarnings(
    "ignore", message="The soupsieve package is not installed", category=UserWarning
)


class BlogConfig(AppConfig):
    name = "blog"
    verbose_name = "Flight Log"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from blog import changes
        from config.upstream.unused_imports import leave_unused_modules_unloaded

        leave_unused_modules_unloaded()

        changes.connect()
