"""The registration's reference loses the second index Django gives a unique text column on PostgreSQL.

Django adds a `varchar_pattern_ops` index beside a unique CharField's own, for LIKE 'abc%' searches;
nothing searches references so (a reference is found whole), and a reference is random, so each
registration written wrote a random page of one more index (70 MB for the 1.36 million
registrations of the scale registry). The unique index stays, and the
model's field is unchanged (a later change to it drops this index IF EXISTS, as Django does).
"""

from django.db import migrations

INDEX = "registrations_registration_reference_1c85fea5_like"


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "registrations_registration" ("reference" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [("registrations", "0012_inlinable_key_ranges")]

    operations = [migrations.RunPython(drop, restore)]
