"""The audit record's hash loses the second index Django gives a unique text column on PostgreSQL.

Django adds a `varchar_pattern_ops` index beside a unique CharField's own, for LIKE 'abc%' searches;
nothing searches hashes so, and a hash is random, so each record appended wrote a random page of an
index as large as the unique one (169 MB for the 1.36 million records of the scale registry). The unique index stays, and the
model's field is unchanged (a later change to it drops this index IF EXISTS, as Django does).
"""

from django.db import migrations

INDEX = "audit_auditevent_hash_d0c402da_like"


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "audit_auditevent" ("hash" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_checkpoints")]

    operations = [migrations.RunPython(drop, restore)]
