"""`vpnregistry sweep` leaves SQLite the statistics its planner needs to seek, not scan."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from tests.workflow import approved


def test_sweep_refreshes_sqlite_planner_statistics(world):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's autovacuum keeps the planner's statistics")
    approved(world, "14.1.104.0/24")
    call_command("sweep", stdout=open("/dev/null", "w"))  # noqa: SIM115
    with connection.cursor() as cursor:
        cursor.execute("SELECT tbl FROM sqlite_stat1")
        analysed = {row[0] for row in cursor.fetchall()}
    # Without them, at 30,000 registrations, one address was answered by scanning every active period.
    assert {"registrations_registration", "registrations_activeperiod"} <= analysed
