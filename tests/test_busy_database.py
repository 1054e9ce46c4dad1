"""A database locked for longer than the busy timeout answers 503 with Retry-After, never a 500."""

from __future__ import annotations

import sqlite3
from unittest import mock

import pytest
from django.db import DatabaseError, OperationalError, connection
from django.test import Client, override_settings

from tests.auth import login
from vpnregistry.applications.models import Application, ApplicationQuerySet
from vpnregistry.busy import is_contention

LOCKED = OperationalError("database is locked")


def _raising(exc):
    def raise_it(*args, **kwargs):
        raise exc

    return raise_it


def _pg_error(sqlstate: str, message: str) -> OperationalError:
    """An OperationalError as Django wraps psycopg's: the driver's error, with its SQLSTATE, as cause."""
    cause = Exception(message)
    cause.sqlstate = sqlstate
    exc = OperationalError(message)
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    ("exc", "busy"),
    [
        (LOCKED, True),
        (OperationalError("database table is locked"), True),
        (OperationalError("database table is locked: applications_application"), True),
        (_pg_error("55P03", "canceling statement due to lock timeout"), True),
        (_pg_error("40001", "could not serialize access due to concurrent update"), True),
        (_pg_error("40P01", "deadlock detected"), True),
        (_pg_error("57014", "canceling statement due to statement timeout"), True),
        # Not contention: left to be the errors they are.
        (_pg_error("57014", "canceling statement due to user request"), False),
        (_pg_error("08006", "server closed the connection unexpectedly"), False),
        (OperationalError("no such table: applications_application"), False),
        (OperationalError("unable to open database file"), False),
        (DatabaseError("database is locked"), False),
        (RuntimeError("database is locked"), False),
        (None, False),
    ],
)
def test_what_counts_as_a_busy_database(exc, busy):
    assert is_contention(exc) is busy


def test_a_locked_database_answers_503_json_under_the_api(world):
    with mock.patch.object(ApplicationQuerySet, "visible_to", _raising(LOCKED)):
        response = world.client(world.applicant).get("/api/v1/applications/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5" and response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "application/json"
    assert "try again" in response.json()["detail"]


def test_a_locked_database_answers_503_with_a_page_in_the_portal(world):
    client = login(Client(), world.applicant)
    with mock.patch.object(ApplicationQuerySet, "visible_to", _raising(LOCKED)):
        response = client.get("/applications/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    page = response.content.decode()
    assert "text/html" in response["Content-Type"] and "try again" in page and "<h1>" in page


def test_other_database_errors_are_not_swallowed(world):
    broken = OperationalError("no such table: applications_application")
    with mock.patch.object(ApplicationQuerySet, "visible_to", _raising(broken)):
        with pytest.raises(OperationalError, match="no such table"):
            world.client(world.applicant).get("/api/v1/applications/")
        client = Client(raise_request_exception=False)
        login(client, world.applicant)
        assert client.get("/applications/").status_code == 500


@override_settings(DEBUG=False)
def test_contention_outside_a_view_is_a_503_too(world):
    """A middleware's write (the session's, say) is not a view's: the 500 handler tells them apart."""
    client = Client(raise_request_exception=False)
    with mock.patch("vpnregistry.middleware.RefuseNulMiddleware.__call__", _raising(LOCKED)):
        response = client.get("/api/v1/status/")
        assert response.status_code == 503 and response["Retry-After"] == "5"
    with mock.patch("vpnregistry.middleware.RefuseNulMiddleware.__call__", _raising(RuntimeError("x"))):
        assert client.get("/api/v1/status/").status_code == 500


@pytest.mark.django_db(transaction=True)
def test_a_write_lock_held_by_another_connection_is_a_503_not_a_500(world):
    """Real contention: another connection holds SQLite's write lock for longer than the busy timeout."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's single write lock; PostgreSQL's lock timeouts are answered by SQLSTATE")
    name = connection.settings_dict["NAME"]
    if name.startswith("file:"):
        holder = sqlite3.connect(name, uri=True, isolation_level=None)
    else:
        holder = sqlite3.connect(name, isolation_level=None)
    client = world.client(world.applicant)
    before = Application.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 100")  # a short wait, not the configured 20 seconds
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = client.post(
            "/api/v1/applications/",
            {"resources": [{"value": "14.1.105.0/24", "subscriber_id": "SUB-1"}]},
            format="json",
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert Application.objects.count() == before
    # Once the lock is gone, the same request goes through.
    response = client.post(
        "/api/v1/applications/",
        {"resources": [{"value": "14.1.105.0/24", "subscriber_id": "SUB-1"}]},
        format="json",
    )
    assert response.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_a_row_lock_held_past_the_lock_timeout_is_a_503_on_postgresql(world):
    """Real contention on PostgreSQL: another connection holds the application's row lock, and the
    request's lock_timeout (55P03) runs out while it waits."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's lock_timeout; SQLite's write lock has its own test")
    import psycopg

    from tests.workflow import draft

    application = draft(world, "14.1.105.0/24")
    params = connection.get_connection_params()
    holder = psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"})
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '200ms'")  # a short wait for this test's session
    holder.execute("SELECT id FROM applications_application WHERE id = %s FOR UPDATE", [application.pk])
    try:
        response = world.client(world.applicant).post(
            f"/api/v1/applications/{application.pk}/withdraw/", {}, format="json"
        )
    finally:
        holder.rollback()
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    application.refresh_from_db()
    assert application.state == Application.State.DRAFT
