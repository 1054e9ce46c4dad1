"""On PostgreSQL, the database itself refuses active registrations of two organisations that overlap.

The services check overlaps under the approval lock; these constraints make the invariant hold
whatever writes the rows (a bug, a script, a hand in psql). Addresses are stored as 32-hex-digit
keys (`db.py`), which order as the numbers they write in the "C" collation, so a range type over
text in that collation is a range of addresses, for IPv4 and IPv6 alike (a 128-bit key fits no
integer range type, and a numeric one would need a conversion function in every index entry).
`btree_gist` gives GiST the `=` and `<>` of the other columns. Mobile numbers overlap only when
they are the same number.

SQLite has no exclusion constraints: there, the serialised checks of the services are the guard.
"""

from django.db import migrations

TABLE = "registrations_registration"

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    'CREATE TYPE registration_keyrange AS RANGE (subtype = text, collation = "C")',
    f"""
    ALTER TABLE {TABLE} ADD CONSTRAINT reg_active_addresses_exclusive
    EXCLUDE USING gist (
        family WITH =,
        registration_keyrange(first, last, '[]') WITH &&,
        organisation_id WITH <>
    ) WHERE (state = 'active' AND family IS NOT NULL)
    """,
    f"""
    ALTER TABLE {TABLE} ADD CONSTRAINT reg_active_numbers_exclusive
    EXCLUDE USING gist (value WITH =, organisation_id WITH <>)
    WHERE (state = 'active' AND kind = 'msisdn')
    """,
]

BACKWARD = [
    f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS reg_active_numbers_exclusive",
    f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS reg_active_addresses_exclusive",
    "DROP TYPE IF EXISTS registration_keyrange",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("registrations", "0007_hot_query_indexes")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
