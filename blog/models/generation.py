"""The content generation shared by every process and machine that uses the database."""

from django.db import models


class ContentGeneration(models.Model):
    """A single row whose number goes up whenever anything readers see changes.

    Whatever is kept between requests (whole pages in the page cache, the site data every page
    shows) remembers the generation it was made in; a different number means it is stale. The row
    lets machines that share a database agree; processes on one machine also watch a file (see
    blog.changes), which is faster than asking the database.
    """

    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "content generation"

    def __str__(self):
        return f"generation {self.value}"
