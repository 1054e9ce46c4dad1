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


FAILING = {
    "at parse": "SELECT no_such_column FROM accounts_user WHERE id = %s",
    "at run": "SELECT abs(%s)",  # out of range, once the value is bound
}


def _failing(kind: str) -> tuple[str, list]:
    return FAILING[kind], [-(2**63)]


@pytest.mark.parametrize("kind", sorted(FAILING))
@pytest.mark.parametrize("position", [0, 1])
@pytest.mark.django_db(transaction=True)  # as served: autocommit, outside any transaction
def test_an_error_in_either_read_has_djangos_class_and_the_connection_goes_on(kind, position):
    """Whichever read fails, and however: the error is Django's, and each read still runs after on the
    same connection, the one never run for the error included. (psycopg before 3.1.10 counted a
    statement as prepared when an earlier error in the pipeline had skipped it: it failed ever after.)"""
    good = ("SELECT %s + 1", [41])
    reads = [good]
    reads.insert(position, _failing(kind))
    with pytest.raises(DatabaseError):
        fetch_prepared_together(reads)
    assert fetch_prepared(*good) == (42,)
    assert fetch_prepared_together([good, ("SELECT %s || 'y'", ["x"])]) == [(42,), ("xy",)]


def test_an_error_inside_a_transaction_leaves_it_to_its_savepoint(world):
    good = ("SELECT id FROM accounts_user WHERE id = %s", [world.officer.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        fetch_prepared_together([good, _failing("at run")])
    assert fetch_prepared_together([good, good]) == [(world.officer.pk,)] * 2


def _pipelines(monkeypatch) -> list:
    """Each time a psycopg connection enters pipeline mode."""
    import psycopg

    entered = []
    pipeline = psycopg.Connection.pipeline

    def counting(self):
        entered.append(self)
        return pipeline(self)

    monkeypatch.setattr(psycopg.Connection, "pipeline", counting)
    return entered


def test_on_postgresql_a_single_check_enters_one_pipeline(world, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("pipeline mode is PostgreSQL's")
    from tests.workflow import approved

    approved(world, "14.1.105.0/24")
    entered = _pipelines(monkeypatch)
    answer = world.client(world.operator).get("/api/v1/exemptions/check?address=14.1.105.7")
    assert answer.status_code == 200 and answer.json()["exempt"] is True
    assert len(entered) == 1


def test_without_pipeline_mode_the_reads_go_one_after_another(world, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("pipeline mode is PostgreSQL's")
    import psycopg

    reads = [("SELECT id FROM accounts_user WHERE username = %s", [world.officer.username])] * 2
    entered = _pipelines(monkeypatch)
    together = fetch_prepared_together(reads)
    assert len(entered) == 1
    monkeypatch.setattr(psycopg.Pipeline, "is_supported", classmethod(lambda cls: False))  # libpq < 14
    assert fetch_prepared_together(reads) == together == [(world.officer.pk,)] * 2
    assert len(entered) == 1  # none entered the second time
