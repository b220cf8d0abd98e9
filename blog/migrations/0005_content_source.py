"""The content importer's record of which file in site/ each page came from."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('blog', '0004_create_index_pages'),
        ('wagtailcore', '0098_apitoken'),
        migrations.swappable_dependency(settings.WAGTAIL_PAGE_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ContentSource',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('path', models.CharField(help_text="The file's path inside the content folder, such as blog/index.md.", max_length=255, unique=True)),
                ('source_hash', models.CharField(help_text='SHA-256 of the file and the images it uses.', max_length=64)),
                ('fingerprint', models.CharField(help_text="SHA-256 of the page's content as the importer published it.", max_length=64)),
                ('imported_at', models.DateTimeField(auto_now=True)),
                ('page', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='content_source', to=settings.WAGTAIL_PAGE_MODEL)),
                ('revision', models.ForeignKey(blank=True, help_text='The revision the importer created and published.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='wagtailcore.revision')),
            ],
            options={
                'ordering': ['path'],
            },
        ),
    ]
