"""PublicationDue now belongs to the registrations app (registrations 0014); its table stays."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("allowlist", "0006_signing_key_moved"),
        ("registrations", "0014_publication_due_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="PublicationDue")],
            database_operations=[],
        ),
    ]
