from django.db import migrations


class Migration(migrations.Migration):
    """The content generation moved to the blog app (blog.ContentGeneration, blog.changes)."""

    dependencies = [("pagecache", "0001_initial")]

    operations = [migrations.DeleteModel(name="Generation")]
