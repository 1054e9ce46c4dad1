"""The signing keys' public halves move here from the allowlist app: the same table, renamed nowhere
(the model keeps `db_table`), so this migration changes Django's picture only."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("allowlist", "0005_snapshot_content_lz4"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SigningPublicKey",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("key_id", models.CharField(max_length=16, unique=True)),
                        ("public", models.CharField(max_length=64)),
                        ("first_seen", models.DateTimeField()),
                    ],
                    options={"db_table": "allowlist_signingpublickey", "ordering": ["first_seen", "id"]},
                ),
            ],
            database_operations=[],
        ),
    ]
