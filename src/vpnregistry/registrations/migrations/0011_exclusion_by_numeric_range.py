"""The no-overlap constraint over numeric ranges of the address keys instead of a range type over text.

GiST keeps a range type's entries in pages by how much each page's bounding range would grow, and
measures that growth with the type's difference function. The range over text of migration 0008 had
none (text has no difference), so GiST split its pages blindly: on a million registrations adding a
registration whose addresses another of its organisation's already held (a renewal, an import) took
about 10 ms in the constraint's check, adding the constraint took over half an hour, and a legacy
import spent most of its database time there. `numrange` has a difference function: on the same
rows the index builds three times faster and a check costs a fraction.

The keys (32 hex digits, `db.py`) become numbers by `registration_key_range`; a key that is not 32 hex
digits, or a first key beyond the last, gives no range, so such a row escapes this constraint (as a
NULL does) and is refused where the keys are read (publication names it).
"""

from django.db import migrations

TABLE = "registrations_registration"

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION registration_key_number(key text) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT CASE WHEN key ~ '^[0-9a-fA-F]{32}$' THEN
        ((('x' || substr(key, 1, 8))::bit(32)::bigint::numeric * 4294967296
          + ('x' || substr(key, 9, 8))::bit(32)::bigint) * 4294967296
          + ('x' || substr(key, 17, 8))::bit(32)::bigint) * 4294967296
          + ('x' || substr(key, 25, 8))::bit(32)::bigint
      END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION registration_key_range(first text, last text) RETURNS numrange
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE WHEN a <= b THEN numrange(a, b, '[]') END
      FROM (SELECT registration_key_number(first) AS a, registration_key_number(last) AS b) AS k
    $$
    """,
    f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS reg_active_addresses_exclusive",
    f"""
    ALTER TABLE {TABLE} ADD CONSTRAINT reg_active_addresses_exclusive
    EXCLUDE USING gist (
        family WITH =,
        registration_key_range(first, last) WITH &&,
        organisation_id WITH <>
    ) WHERE (state = 'active' AND family IS NOT NULL)
    """,
    "DROP TYPE IF EXISTS registration_keyrange",
]

BACKWARD = [
    f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS reg_active_addresses_exclusive",
    'CREATE TYPE registration_keyrange AS RANGE (subtype = text, collation = "C")',
    f"""
    ALTER TABLE {TABLE} ADD CONSTRAINT reg_active_addresses_exclusive
    EXCLUDE USING gist (
        family WITH =,
        registration_keyrange(first, last, '[]') WITH &&,
        organisation_id WITH <>
    ) WHERE (state = 'active' AND family IS NOT NULL)
    """,
    "DROP FUNCTION IF EXISTS registration_key_range(text, text)",
    "DROP FUNCTION IF EXISTS registration_key_number(text)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("registrations", "0010_redundant_fk_indexes")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
