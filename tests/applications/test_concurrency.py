"""Invariant 3 under real concurrency: two officers approving overlapping applications at once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.workflow import to_decision
from vpnregistry.applications import services
from vpnregistry.errors import WrongState
from vpnregistry.registrations.models import Registration


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_invariant_3_concurrent_overlapping_approvals_one_wins(world, round_):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections to one server; SQLite serialises writers at BEGIN")
    first = to_decision(world, f"14.1.{105 + round_}.0/24")
    second = to_decision(world, f"14.1.{105 + round_}.128/25", user=world.other_applicant)
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def approve(application, officer, key):
        try:
            barrier.wait(timeout=10)
            services.application_decide(actor=officer, application=application, decision="approve")
            outcome[key] = "won"
        except WrongState:
            outcome[key] = "lost"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=approve, args=(first, world.officer, "first")),
        threading.Thread(target=approve, args=(second, world.officer2, "second")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcome.values()) == ["lost", "won"]
    assert Registration.objects.filter(state="active").count() == 1
