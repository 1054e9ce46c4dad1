"""Prefixes as database rows: fixed-width keys so that containment and overlap are index seeks."""

from __future__ import annotations

import contextlib
import functools
import ipaddress
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connection, models
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

KEY_WIDTH = 32  # hex digits of a 128-bit address; IPv4 uses the same width, so one column type serves both


def address_key(value: int) -> str:
    """The fixed-width key of an address: lexicographic order equals numeric order."""
    return f"{value:0{KEY_WIDTH}x}"


def network_keys(net: Network) -> tuple[int, str, str]:
    """(family, first, last) of a network as stored."""
    return net.version, address_key(int(net.network_address)), address_key(int(net.broadcast_address))


def ancestor_firsts(net: Network) -> list[str]:
    """The first address of every prefix that could contain `net`, one per shorter-or-equal length."""
    bits = net.max_prefixlen
    start = int(net.network_address)
    keys = set()
    for length in range(net.prefixlen + 1):
        mask = ((1 << bits) - 1) ^ ((1 << (bits - length)) - 1)
        keys.add(address_key(start & mask))
    return sorted(keys)


def covering_q(net: Network, prefix: str = "") -> Q:
    """Rows (stored CIDRs) that contain `net`: at most one index seek per prefix length."""
    family, _first, last = network_keys(net)
    return Q(
        **{f"{prefix}family": family, f"{prefix}first__in": ancestor_firsts(net), f"{prefix}last__gte": last}
    )


def overlapping_q(net: Network, prefix: str = "") -> Q:
    """Rows (stored CIDRs) that share at least one address with `net`.

    Two CIDRs overlap only when one contains the other: either the row starts inside `net`
    (a range seek), or it is one of the prefixes that could contain `net` (point seeks).
    """
    family, first, last = network_keys(net)
    inside = Q(**{f"{prefix}first__gte": first, f"{prefix}first__lte": last})
    around = Q(**{f"{prefix}first__in": ancestor_firsts(net), f"{prefix}last__gte": last})
    return Q(**{f"{prefix}family": family}) & (inside | around)


class PrefixRow(models.Model):
    """An abstract row holding one normalised CIDR with its family and first/last keys."""

    prefix = models.CharField(max_length=43)
    family = models.PositiveSmallIntegerField()
    first = models.CharField(max_length=KEY_WIDTH)
    last = models.CharField(max_length=KEY_WIDTH)

    class Meta:
        abstract = True

    def set_network(self, net: Network) -> None:
        self.prefix = str(net)
        self.family, self.first, self.last = network_keys(net)

    @property
    def network(self) -> Network:
        return ipaddress.ip_network(self.prefix)


def whole_number(text) -> int | None:
    """A whole number written in ASCII digits (an id, a keyset cursor), or None for anything else.

    `str.isdigit` alone also accepts digits that `int` refuses ("²"), so a request carrying one would
    crash the view instead of being answered; the database handles numbers beyond its range itself.
    """
    text = str(text or "")
    return int(text) if text.isascii() and text.isdigit() else None


def visible_or_404(queryset: QuerySet, pk):
    """The one object of `queryset` (what a user may see: `Model.objects.visible_to(user)`) with this
    pk, or Http404 for a pk missing, unparsable or outside it: another organisation's object is not
    found, never forbidden, so that its id discloses nothing."""
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404(f"no such {queryset.model._meta.verbose_name}") from None


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple]) -> list[int]:
    """Insert `rows` (tuples of the values of `fields`, Django field names) into `model`'s table;
    their new ids, in order. For the bulk writers (the legacy import) that write millions of rows.

    On PostgreSQL the ids are drawn from the table's sequence in one query and the rows go in by
    COPY, which costs the server a fraction of a multi-row INSERT's parsing and planning; elsewhere,
    `bulk_create`. Values are given as the database column takes them (a choice's value, an
    aware datetime, a dict for a JSON field); a field left out gets the model's default (or now, for
    an automatic time), as a row saved through the ORM would, computed once for all the rows: name
    every field whose default differs row by row (a reference, say). No field's `pre_save` runs:
    a value derived from another (a blind index of an identifier) is the caller's to give.
    """
    if not rows:
        return []
    meta = model._meta
    named = [meta.get_field(name) for name in fields]
    if connection.vendor != "postgresql":
        made = model.objects.bulk_create(
            [
                model(**{field.attname: value for field, value in zip(named, row, strict=True)})
                for row in rows
            ],
            batch_size=1000,
        )
        return [obj.pk for obj in made]
    left = {field.column for field in named}
    now = timezone.now()
    defaults = [f for f in meta.concrete_fields if f.column not in left and not f.primary_key]
    extra = tuple(
        now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_db_prep_save(f.get_default(), connection)
        for f in defaults
    )
    # JSON goes through the field's own adaptation; every other value psycopg writes as it is.
    adapt = [(i, field) for i, field in enumerate(named) if field.get_internal_type() == "JSONField"]
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(c) for c in [meta.pk.column, *(f.column for f in named), *(f.column for f in defaults)]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        # COPY runs on psycopg's own cursor: its errors are given Django's classes, as execute's are.
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy,
        ):
            for pk, row in zip(ids, rows, strict=True):
                if adapt:
                    row = list(row)
                    for i, field in adapt:
                        row[i] = field.get_db_prep_save(row[i], connection)
                copy.write_row((pk, *row, *extra))
    return ids


def fetch_prepared(sql: str, params: Sequence) -> tuple | None:
    """The first row of a hot read (`%s` placeholders), which PostgreSQL plans once per connection.

    For the reads every operator's single check makes (its token, the address's holder): Django binds
    parameters into the text, so PostgreSQL plans each query anew, which cost four times running
    the holder's (0.5 ms to 0.13 ms at a million registrations). Here the statement is prepared on
    the connection at its first use and only executed after. Elsewhere, Django's cursor as usual.
    Behind a pooler that moves connections between sessions (PgBouncer in transaction mode),
    give it prepared-statement support (PgBouncer 1.21's max_prepared_statements).
    """
    return fetch_prepared_together([(sql, params)])[0]


def fetch_prepared_together(reads: Sequence[tuple[str, Sequence]]) -> list[tuple | None]:
    """`fetch_prepared` of each read, all sent in one round trip to PostgreSQL (psycopg's pipeline
    mode), which runs them in turn; the first row of each, in order.

    A single check's two reads (the caller's token, the address's holder) depend on nothing but the
    request, so they go together: one wait for the database instead of two. The caller decides what
    a row may be used for (the holder's is dropped unless the token's allows it).
    """
    if connection.vendor != "postgresql":
        rows = []
        with connection.cursor() as cursor:
            for sql, params in reads:
                cursor.execute(sql, params)
                rows.append(cursor.fetchone())
        return rows
    # No health check first: Django's, on a kept connection's first query of a request, is a round
    # trip of its own (a sixth of a single check's time in-process). These reads are safe to run
    # again, so a connection that died with a database restart is found by the read failing, then
    # replaced and the reads run once more; a read that fails on a live connection fails as it is.
    connection.health_check_done = True
    try:
        return _run_prepared(reads)
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block or connection.is_usable():
            raise
        connection.close()
    return _run_prepared(reads)


def _run_prepared(reads: Sequence[tuple[str, Sequence]]) -> list[tuple | None]:
    import psycopg

    # Django's cursor opens the connection (if need be); the statements run on psycopg's beside it.
    with connection.cursor() as cursor:
        conn = cursor.cursor.connection
    # Django turns psycopg's prepared statements off (threshold None) for the queries it sends; a
    # threshold never reached lets these be prepared, on request, and nothing else.
    threshold, conn.prepare_threshold = conn.prepare_threshold, 1 << 30
    try:
        with connection.wrap_database_errors:
            cursors = [psycopg.Cursor(conn) for _read in reads]
            try:
                # Pipeline mode needs libpq 14 or later (psycopg's binary package brings its own);
                # with an older one, the reads go one after another.
                together = len(reads) > 1 and psycopg.Pipeline.is_supported()
                with conn.pipeline() if together else contextlib.nullcontext():
                    for cursor, (sql, params) in zip(cursors, reads, strict=True):
                        cursor.execute(sql, params, prepare=True)
                return [cursor.fetchone() for cursor in cursors]
            finally:
                for cursor in cursors:
                    cursor.close()
    finally:
        conn.prepare_threshold = threshold


# Fixed 64-bit numbers naming the advisory locks that serialise critical writes on PostgreSQL.
LOCKS = {"approval": 0x7670726170707276, "publication": 0x767072707562, "audit": 0x76707261756469}


def hold_lock(name: str) -> None:
    """Hold a named lock until the current transaction ends.

    PostgreSQL takes a transaction-scoped advisory lock; SQLite needs nothing more, since the
    settings open every transaction IMMEDIATE, which takes the database's single write lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCKS[name]])


def refresh_planner_statistics() -> None:
    """Give SQLite's query planner the statistics it plans by (PostgreSQL's autovacuum keeps its own).

    Without them SQLite may answer one address by scanning every active period (tens of ms at 30,000
    registrations) instead of seeking the registrations' index (about one). Sampled through
    `analysis_limit`, so it stays cheap at any size; `vpnregistry sweep` runs it.
    """
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA analysis_limit=1000")
            cursor.execute("ANALYZE")


class RowReader:
    """Model instances from rows of plain SQL, each column converted as the ORM would convert it.

    For the few reads every poll makes: compiling a queryset, and even `raw()`, costs several times
    what SQLite takes to answer an index seek, so these reads keep their SQL and their converters
    from the first use (`reader()`); fields named in `exclude` are deferred, as with `defer()`.
    """

    def __init__(self, model: type[models.Model], exclude: frozenset[str]):
        self.model = model
        table = model._meta.db_table
        fields = [f for f in model._meta.concrete_fields if f.name not in exclude]
        self.names = [f.attname for f in fields]
        self.width = len(fields)
        self._columns = [f.column for f in fields]
        self._converters = []
        for i, field in enumerate(fields):
            col = field.get_col(table)
            found = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            if found:
                self._converters.append((i, col, found))

    def select_list(self, alias: str = "") -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{alias}.{quote(c)}" if alias else quote(c) for c in self._columns)

    def instance(self, row, start: int = 0) -> models.Model:
        """The instance from `row[start:start + width]` (a row may carry another model's columns too)."""
        values = list(row[start : start + self.width])
        for i, col, converters in self._converters:
            for convert in converters:
                values[i] = convert(values[i], col, connection)
        return self.model.from_db(connection.alias, self.names, values)


@functools.cache
def reader(model: type[models.Model], exclude: frozenset[str] = frozenset()) -> RowReader:
    return RowReader(model, exclude)


def raw_first(model: type[models.Model], tail: str, params: tuple = (), *, exclude: tuple[str, ...] = ()):
    """The first row of `SELECT <the model's columns> FROM <its table> <tail>`, as a model instance."""
    read = reader(model, frozenset(exclude))
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"SELECT {read.select_list()} FROM {table} {tail}"  # noqa: S608 (the callers' tails are constants)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else read.instance(row)
