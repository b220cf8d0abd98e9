from django.db import migrations, models


def create_row(apps, schema_editor):
    apps.get_model("blog", "ContentGeneration").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("blog", "0006_blogpage_date_help_text")]

    operations = [
        migrations.CreateModel(
            name="ContentGeneration",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("value", models.PositiveBigIntegerField(default=0)),
            ],
            options={"verbose_name": "content generation"},
        ),
        migrations.RunPython(create_row, migrations.RunPython.noop),
    ]
