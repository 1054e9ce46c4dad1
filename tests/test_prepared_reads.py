"""`db.fetch_prepared`: the hot reads (a token, an address's holder) planned once per connection."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from vpnregistry.db import fetch_prepared, fetch_prepared_together

pytestmark = pytest.mark.django_db


def test_the_row_is_the_one_djangos_cursor_reads(world):
    sql = "SELECT id, username FROM accounts_user WHERE username = %s AND is_active = %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [world.officer.username, True])
        expected = cursor.fetchone()
    assert fetch_prepared(sql, [world.officer.username, True]) == expected == (world.officer.pk, "officer")
    assert fetch_prepared(sql, ["nobody", True]) is None


def test_on_postgresql_the_statement_is_prepared_once(world):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no prepared statements to see")
    sql = "SELECT id FROM accounts_user WHERE username = %s"
    for _ in range(3):
        assert fetch_prepared(sql, [world.officer.username]) == (world.officer.pk,)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        assert [s for (s,) in cursor.fetchall()] == ["SELECT id FROM accounts_user WHERE username = $1"]
    # Django's own queries are not prepared: the connection's setting is as Django left it.
    assert connection.connection.prepare_threshold is None


def test_an_error_has_djangos_class(world):
    with pytest.raises(DatabaseError):
        fetch_prepared("SELECT no_such_column FROM accounts_user WHERE id = %s", [1])


def test_reads_together_answer_as_each_alone(world):
    by_name = "SELECT id, username FROM accounts_user WHERE username = %s"
    by_id = "SELECT username FROM accounts_user WHERE id = %s"
    reads = [(by_name, [world.officer.username]), (by_id, [-1]), (by_id, [world.officer.pk])]
    assert fetch_prepared_together(reads) == [fetch_prepared(sql, params) for sql, params in reads]
    assert fetch_prepared_together(reads)[1] is None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            assert cursor.fetchone() == (2,)  # each statement prepared once, sent together or alone
        assert connection.connection.prepare_threshold is None


def test_an_error_in_either_read_has_djangos_class_and_the_connection_goes_on(world):
    good = ("SELECT id FROM accounts_user WHERE id = %s", [world.officer.pk])
    # In a savepoint: the test runs in a transaction, which an error would leave aborted.
    with pytest.raises(DatabaseError), transaction.atomic():
        fetch_prepared_together([good, ("SELECT no_such_column FROM accounts_user WHERE id = %s", [1])])
    assert fetch_prepared_together([good, good]) == [(world.officer.pk,)] * 2


def test_without_pipeline_mode_the_reads_go_one_after_another(world, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("pipeline mode is PostgreSQL's")
    import psycopg

    reads = [("SELECT id FROM accounts_user WHERE username = %s", [world.officer.username])] * 2
    together = fetch_prepared_together(reads)
    monkeypatch.setattr(psycopg.Pipeline, "is_supported", classmethod(lambda cls: False))  # libpq < 14
    assert fetch_prepared_together(reads) == together == [(world.officer.pk,)] * 2
