"""Site-wide settings editors change in the admin (Settings > Site settings)."""

import copy

from django.conf import settings
from django.db import models
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import StreamField

from blog import site_data
from config.replay import primary_region_elsewhere


def default_site_name() -> str:
    return settings.WAGTAIL_SITE_NAME


class SocialLinkBlock(blocks.StructBlock):
    label = blocks.CharBlock(max_length=40, help_text="For example GitHub or Mastodon.")
    url = blocks.URLBlock()

    class Meta:
        icon = "link"


@register_setting(icon="cog")
class SiteSettings(BaseSiteSetting):
    site_name = models.CharField(max_length=80, default=default_site_name)
    tagline = models.CharField(
        max_length=160,
        blank=True,
        default="Shipping a Wagtail site to Fly.io, written up by the site itself.",
        help_text="One line under the site name.",
    )
    footer_text = models.CharField(
        max_length=300,
        blank=True,
        help_text="A line in the footer of every page, for example a licence.",
    )
    social_links = StreamField(
        [("link", SocialLinkBlock())],
        blank=True,
        help_text="Links shown in the footer, and given to search engines as the site's profiles.",
    )

    panels = [
        FieldPanel("site_name"),
        FieldPanel("tagline"),
        FieldPanel("footer_text"),
        FieldPanel("social_links"),
    ]

    class Meta:
        verbose_name = "site settings"

    @classmethod
    def for_site(cls, site):
        """Wagtail's, kept per process between changes (blog.site_data): every page shows it."""
        if site is None or not site_data.ProcessMemo.usable():
            return cls._stored_or_default(site)
        found = site_data.memo.get(
            ("site-settings", cls, site.pk), lambda: cls._stored_or_default(site)
        )
        return copy.copy(found)

    @classmethod
    def _stored_or_default(cls, site):
        """Wagtail's for_site creates the row the first time a site is shown. Outside the primary
        region pages are read from a read-only replica (config/replica.py), where that write
        would fail and send a reader's page to the primary; there the defaults stand in, unsaved,
        until the primary (an editor, or its own first page) has made the row."""
        if site is not None and primary_region_elsewhere():
            return cls.base_queryset().filter(site=site).first() or cls(site=site)
        return super().for_site(site)
