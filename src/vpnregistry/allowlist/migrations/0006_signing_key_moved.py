"""SigningPublicKey now belongs to the signing app (signing 0001); its table stays where it is."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("allowlist", "0005_snapshot_content_lz4"),
        ("signing", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SigningPublicKey")],
            database_operations=[],
        ),
    ]
