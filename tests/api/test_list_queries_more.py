"""Every paged list of the API costs the same number of queries for one object as for four.

Each list's rows are shown with what they relate to (operator, organisation, district, event, who
proposed or invited, ...); those are joined or read once for the page, never once per row. Each case
below makes one object the caller sees, counts the queries of the page, makes three more and counts
again. Lists that were always fine are here too, so that a new field shown without a join is caught.
(Applications and the operators' resources have their own test, test_list_queries.py.)
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.listing import (
    Case,
    districts,
    documents,
    events,
    filed_complaints,
    invitations,
    members,
    notifications,
    operators,
    queue_work,
    registrations,
    rejected_applications,
    rejection_reasons,
    service_rows,
    space_changes,
    synced_operators,
)


def _documents_url(world) -> str:
    return f"/api/v1/documents/?organisation={world.org.pk}"


CASES = [
    Case("operators", "/api/v1/operators/", "applicant", operators),
    Case("allowlist operators", "/api/v1/allowlist/operators/", "officer", synced_operators),
    Case("rejection reasons", "/api/v1/rejection-reasons/", "applicant", rejection_reasons),
    Case("districts", "/api/v1/districts/", "applicant", districts),
    Case("services", "/api/v1/services/", "applicant", service_rows),
    Case("events (public)", "/api/v1/events/", None, events),
    Case("events (officer)", "/api/v1/events/", "officer", events),
    *[
        Case(f"registrations ({r})", "/api/v1/registrations/", r, registrations)
        for r in ["applicant", "operator", "officer", "auditor"]
    ],
    *[
        Case(f"complaints ({r})", "/api/v1/complaints/", r, filed_complaints)
        for r in ["applicant", "operator", "officer", "auditor"]
    ],
    *[Case(f"queue ({r})", "/api/v1/queue/", r, queue_work) for r in ["agency", "operator", "officer"]],
    *[
        Case(f"rejected applications ({r})", "/api/v1/applications/", r, rejected_applications)
        for r in ["applicant", "agency", "operator", "officer", "auditor"]
    ],
    Case("notifications (applicant)", "/api/v1/notifications/", "applicant", notifications),
    Case("notifications (officer)", "/api/v1/notifications/", "officer", notifications),
    Case("members", "/api/v1/organisation/members/", "applicant", members),
    Case("invitations", "/api/v1/organisation/invitations/", "applicant", invitations),
    Case("documents (member)", "/api/v1/documents/", "applicant", documents),
    Case("documents (officer)", _documents_url, "officer", documents),
    Case("space changes (operator)", "/api/v1/space-changes/", "operator", space_changes),
    Case("space changes (officer)", "/api/v1/space-changes/?state=", "officer", space_changes),
    Case("space changes (auditor)", "/api/v1/space-changes/", "auditor", space_changes),
]


def _page(world, case: Case) -> tuple[int, int]:
    user = getattr(world, case.role) if case.role else None
    url = case.url(world) if callable(case.url) else case.url
    client = world.client(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    return len(queries.captured_queries), len(rows)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_page_costs_the_same_queries_for_one_object_or_four(world, case):
    case.make(world, 0, 1)
    one, shown_one = _page(world, case)
    assert shown_one >= 1
    case.make(world, 1, 3)
    four, shown_four = _page(world, case)
    assert shown_four >= shown_one + 3, "the three new objects are on the page"
    assert four == one, f"{case.name}: {one} queries for one, {four} for four"
