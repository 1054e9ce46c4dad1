"""The key-range functions of migration 0011 rewritten so that PostgreSQL inlines them.

A SQL function whose body is one expression, with no FROM, is expanded into the expression that
calls it: the index's own expression then costs what its built-ins cost. The bodies of 0011 read
their keys in a sub-select (to name them once) and tested them with a regular expression, so each
call ran as a function of its own: 27 µs a registration written, about 5 µs inlined (100,000 IPv4 keys
of the scale registry, `SELECT count(registration_v4_range(first, last))`), paid by each insert
into the constraint's index, as in the legacy import of a million rows.

The values are the same for every input: a key is 32 hex digits (an IPv4 key: 24 zeros, then 8),
tested as "32 characters, none but hex digits"; anything else, or a first key beyond the last,
gives no range. The indexes need no rebuilding.
"""

from django.db import migrations

HEX = "0123456789abcdefABCDEF"


def _is_key(key: str, v4: bool = False) -> str:
    test = f"length({key}) = 32 AND ltrim({key}, '{HEX}') = ''"
    return test + (f" AND substr({key}, 1, 24) = '{'0' * 24}'" if v4 else "")


def _v4(key: str) -> str:
    return f"('x' || substr({key}, 25, 8))::bit(32)::bigint"


def _number(key: str) -> str:
    chunk = [f"('x' || substr({key}, {start}, 8))::bit(32)::bigint" for start in (1, 9, 17, 25)]
    return (
        f"((({chunk[0]}::numeric * 4294967296 + {chunk[1]}) * 4294967296 + {chunk[2]}) * 4294967296"
        f" + {chunk[3]})"
    )


FORWARD = [
    f"""
    CREATE OR REPLACE FUNCTION registration_v4_range(first text, last text) RETURNS int8range
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE WHEN {_is_key("first", v4=True)} AND {_is_key("last", v4=True)}
        AND {_v4("first")} <= {_v4("last")} THEN int8range({_v4("first")}, {_v4("last")}, '[]') END
    $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION registration_key_number(key text) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT CASE WHEN {_is_key("key")} THEN {_number("key")} END
    $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION registration_key_range(first text, last text) RETURNS numrange
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE WHEN {_is_key("first")} AND {_is_key("last")}
        AND {_number("first")} <= {_number("last")} THEN numrange({_number("first")}, {_number("last")}, '[]') END
    $$
    """,  # noqa: S608 (no values: the function's own parameters)
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


def _backward(apps, schema_editor):
    """The bodies of 0011 again (the same values)."""
    from importlib import import_module

    previous = import_module("vpnregistry.registrations.migrations.0011_exclusion_by_integer_ranges")
    _run(previous.FORWARD[:3])(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("registrations", "0011_exclusion_by_integer_ranges")]

    operations = [migrations.RunPython(_run(FORWARD), _backward)]
