"""Bookkeeping for the content importer: which file in site/ each page came from."""

from django.db import models


class ContentSource(models.Model):
    """One Markdown file of site/ and what its last import left behind.

    The importer compares the file with `source_hash` to see whether it changed, and the page
    with `revision` and `fingerprint` to see whether an editor changed it in the admin since.
    """

    path = models.CharField(
        max_length=255,
        unique=True,
        help_text="The file's path inside the content folder, such as blog/index.md.",
    )
    page = models.OneToOneField(
        "wagtailcore.Page",
        null=True,
        blank=True,
        # A page deleted in the admin keeps its record, so a re-import does not bring it back.
        on_delete=models.SET_NULL,
        related_name="content_source",
    )
    source_hash = models.CharField(
        max_length=64, help_text="SHA-256 of the file and the images it uses."
    )
    revision = models.ForeignKey(
        "wagtailcore.Revision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The revision the importer created and published.",
    )
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the page's content as the importer published it."
    )
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]

    def __str__(self):
        return self.path
