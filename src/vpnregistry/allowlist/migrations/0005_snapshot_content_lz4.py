"""A snapshot's document (tens of MB at a million registrations) compressed with LZ4 on PostgreSQL.

PostgreSQL compresses a large text value with its own pglz by default: at a million registrations
writing the document took a tenth of a second more that way, and reading it back (as the next
publication does, for its delta) longer too. LZ4 is three times faster at both, for a quarter more
space. Only values written from now on change; a server built without LZ4 keeps pglz.
"""

from django.db import migrations


def use_lz4(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        row = cursor.fetchone()
    if row and row[0]:
        schema_editor.execute("ALTER TABLE allowlist_snapshot ALTER COLUMN content SET COMPRESSION lz4")


def use_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE allowlist_snapshot ALTER COLUMN content SET COMPRESSION DEFAULT")


class Migration(migrations.Migration):
    dependencies = [("allowlist", "0004_signing_public_key")]

    operations = [migrations.RunPython(use_lz4, use_default)]
