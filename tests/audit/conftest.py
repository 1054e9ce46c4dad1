"""Fixtures for the audit log's tests: a log with a few records and raw SQL to tamper with it."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.workflow import approved, draft
from vpnregistry.audit.models import AuditEvent


@pytest.fixture
def log(world):
    """A log of a dozen records or so: two drafts and an approval with its publication."""
    draft(world, "14.1.106.0/24")
    approved(world, "14.1.105.0/24")
    draft(world, "27.0.184.0/24", user=world.other_applicant)
    assert AuditEvent.objects.count() >= 8
    return world


def sql(statement: str, params=()) -> None:
    """Change the table behind the application's back, as someone with database access could."""
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(statement.format(table=table), params)
