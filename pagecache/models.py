"""The cache generation shared by every process and machine that uses the database."""

from django.db import models


class Generation(models.Model):
    """A single row whose number goes up whenever published content changes.

    Every cached page remembers the generation it was rendered in; a different number means
    it is stale. The row lets machines that share a database agree; processes on one machine
    also watch a file (see pagecache.generation), which is faster than asking the database.
    """

    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "page cache generation"

    def __str__(self):
        return f"generation {self.value}"
