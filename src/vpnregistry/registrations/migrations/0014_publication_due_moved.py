"""The durable wish to publish moves here from the allowlist app (registrations/outbox.py writes it):
the same table (the model keeps `db_table`), so this migration changes Django's picture only."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0013_no_pattern_index_on_reference"),
        ("allowlist", "0006_signing_key_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PublicationDue",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("at", models.DateTimeField()),
                        ("reason", models.CharField(blank=True, max_length=200)),
                        ("application_id", models.BigIntegerField(blank=True, null=True)),
                    ],
                    options={
                        "db_table": "allowlist_publicationdue",
                        "ordering": ["id"],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
