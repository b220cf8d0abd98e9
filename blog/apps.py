"""App configuration for the blog: connects what counts as a change readers see."""

from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"
    verbose_name = "Flight Log"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from blog import changes

        changes.connect()
