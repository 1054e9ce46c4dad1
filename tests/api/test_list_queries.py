"""A page of applications costs the same few queries however many applications and resources it holds.

Each application carries its resources with their operator, district and the registration they renew;
they are read once for the whole page, not once per application or per resource. The operator still
sees only the resources in its own space.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vpnregistry.applications import services

API = "/api/v1/applications/"


def _submitted(world, n: int, *, start: int = 0) -> None:
    """n applications, each with a resource in each operator's space, both with a district."""
    for i in range(start, start + n):
        application = services.application_create(
            actor=world.applicant,
            resources=[
                {"value": f"14.1.{104 + i}.0/24", "subscriber_id": f"S-{i}", "district": "pb-lahore"},
                {"value": f"14.192.{130 + i}.0/24", "subscriber_id": f"T-{i}", "district": "pb-lahore"},
            ],
        )
        services.application_submit(actor=world.applicant, application=application)


def _page(world, user) -> tuple[int, list]:
    with CaptureQueriesContext(connection) as queries:
        response = world.client(user).get(API)
    assert response.status_code == 200, response.content
    return len(queries.captured_queries), response.json()["results"]


@pytest.mark.parametrize("role", ["applicant", "agency", "operator", "officer"])
def test_a_page_costs_the_same_queries_for_one_application_or_four(world, role):
    user = getattr(world, role)
    _submitted(world, 1)
    one, results = _page(world, user)
    assert len(results) == 1
    _submitted(world, 3, start=1)
    four, results = _page(world, user)
    assert len(results) == 4
    assert four == one
    if role == "operator":
        # Only its own space's resource, with what it is shown with.
        assert {r["operator"] for a in results for r in a["resources"]} == {"indus"}
        assert all(len(a["resources"]) == 1 for a in results)
    else:
        assert all(len(a["resources"]) == 2 for a in results)
    assert all(r["district"] for a in results for r in a["resources"])


def test_the_detail_reads_resources_with_what_they_are_shown_with(world):
    _submitted(world, 1)
    pk = world.client(world.applicant).get(API).json()["results"][0]["id"]
    with CaptureQueriesContext(connection) as queries:
        response = world.client(world.applicant).get(f"{API}{pk}/")
    assert response.status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    resource_reads = [s for s in sql if 'FROM "applications_resource"' in s]
    district_reads = [s for s in sql if 'FROM "accounts_district"' in s]
    assert district_reads == [], "a district read on its own, once per resource"
    assert len(resource_reads) <= 2  # the resources, and their ids for the history


def test_the_operators_resource_queue_costs_the_same_for_one_resource_or_four(world):
    def queue():
        with CaptureQueriesContext(connection) as queries:
            response = world.client(world.operator).get("/api/v1/resources/")
        assert response.status_code == 200, response.content
        return len(queries.captured_queries), response.json()["results"]

    _submitted(world, 1)
    one, results = queue()
    assert len(results) == 1
    _submitted(world, 3, start=1)
    four, results = queue()
    assert [r["operator"] for r in results] == ["indus"] * 4
    assert all(r["district"] == "pb-lahore" for r in results)
    assert four == one
