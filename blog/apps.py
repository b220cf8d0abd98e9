"""App configuration for the blog."""

from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"
    verbose_name = "Flight Log"
    default_auto_field = "django.db.models.BigAutoField"
