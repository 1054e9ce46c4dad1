"""The no-overlap constraint over integer ranges of the address keys instead of a range type over text.

GiST keeps a range type's entries in pages by how much each page's bounding range would grow, and
measures that growth with the type's difference function. The range over text of migration 0008 had
none (text has no difference), so GiST split its pages blindly: on a million registrations adding
the constraint took over half an hour, and adding a registration over addresses its organisation
already held (a renewal, an import run again) about 10 ms in the check. Measured on 300,000 IPv4
registrations of the scale registry, as the constraint over text, over `int8range` and over
`numrange`: building 13 min, 11 s and 2 min; 5,000 new registrations checked in 0.16 s, 0.19 s
and 1.3 s. So IPv4 keys become `int8range`s (the low 32 bits) and IPv6 keys, which no 64-bit
integer holds, `numrange`s, each family a constraint of its own.

A key that is not 32 hex digits (an IPv4 key: 24 zeros and 8 hex digits), or a first key beyond
the last, gives no range, so such a row escapes these constraints (as a NULL does) and is refused
where the keys are read (publication names it).
"""

from django.db import migrations

TABLE = "registrations_registration"


def _number(key: str) -> str:
    """SQL for the number a 32-hex-digit key writes (NULL for anything else), in built-ins only."""
    chunk = [f"('x' || substr({key}, {start}, 8))::bit(32)::bigint" for start in (1, 9, 17, 25)]
    return (
        f"CASE WHEN {key} ~ '^[0-9a-fA-F]{{32}}$' THEN "
        f"((({chunk[0]}::numeric * 4294967296 + {chunk[1]}) * 4294967296 + {chunk[2]}) * 4294967296"
        f" + {chunk[3]}) END"
    )


FORWARD = [
    """
    CREATE OR REPLACE FUNCTION registration_v4_range(first text, last text) RETURNS int8range
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE WHEN a <= b THEN int8range(a, b, '[]') END
      FROM (
        SELECT
          CASE WHEN first ~ '^0{24}[0-9a-fA-F]{8}$' THEN ('x' || substr(first, 25, 8))::bit(32)::bigint END AS a,
          CASE WHEN last ~ '^0{24}[0-9a-fA-F]{8}$' THEN ('x' || substr(last, 25, 8))::bit(32)::bigint END AS b
      ) AS k
    $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION registration_key_number(key text) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT {_number("key")} $$
    """,
    # Calls no function of ours: pg_restore builds the index with an empty search_path, where an
    # unqualified call to registration_key_number would not be found.
    f"""
    CREATE OR REPLACE FUNCTION registration_key_range(first text, last text) RETURNS numrange
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE WHEN a <= b THEN numrange(a, b, '[]') END
      FROM (SELECT {_number("first")} AS a, {_number("last")} AS b) AS k
    $$
    """,  # noqa: S608 (no values: the column names of the function's own parameters)
    f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS reg_active_addresses_exclusive",
    f"""
    ALTER TABLE {TABLE} ADD CONSTRAINT reg_active_v4_exclusive
    EXCLUDE USING gist (registration_v4_range(first, last) WITH &&, organisation_id WITH <>)
    WHERE (state = 'active' AND family = 4)
    """,
    f"""
    ALTER TABLE {TABLE} ADD CONSTRAINT reg_active_v6_exclusive
    EXCLUDE USING gist (registration_key_range(first, last) WITH &&, organisation_id WITH <>)
    WHERE (state = 'active' AND family = 6)
    """,
    "DROP TYPE IF EXISTS registration_keyrange",
]

BACKWARD = [
    f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS reg_active_v6_exclusive",
    f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS reg_active_v4_exclusive",
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
    "DROP FUNCTION IF EXISTS registration_v4_range(text, text)",
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
