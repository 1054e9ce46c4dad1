"""Every list page of the portal costs the same number of queries for one row as for four.

A template that shows `row.related.field` in its loop reads that relation once per row unless the
view joined or prefetched it. Each case makes one row the signed-in user sees, counts the queries of
the page, makes three more and counts again. Pages that were always fine are here too, so that a new
column shown without a join is caught.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import listing
from tests.auth import login
from tests.listing import INDUS, Case
from tests.workflow import draft
from vpnregistry.applications import services
from vpnregistry.audit.services import make_checkpoint, record
from vpnregistry.portal import views_events


def applications(world, start, n):
    """Drafts for the applicant's home page and list, submitted ones for the staff's."""
    for i in range(start, start + n):
        draft(world, listing.MARGALLA[i])
        services.application_submit(actor=world.applicant, application=draft(world, INDUS[i]))


def pending_resources(world, start, n):
    """Resources waiting for the indus operator, each used in a district (shown with its province)."""
    for i in range(start, start + n):
        application = services.application_create(
            actor=world.applicant,
            resources=[{"value": INDUS[i], "subscriber_id": f"S-{i}", "district": "pb-lahore"}],
        )
        services.application_submit(actor=world.applicant, application=application)


def audit_records(world, start, n):
    for i in range(start, start + n):
        record(actor=world.officer, action="test.listed", object_type="test", object_id=str(i), reason="r")


def checkpoints(world, start, n):
    for _ in range(start, start + n):
        make_checkpoint(force=True)


def statement_events(world, start, n):
    """Published events that have begun (the statements page lists them), each with a district."""
    begin = timezone.now() - timedelta(days=10)
    for i in range(start, start + n):
        listing.make_event(
            world,
            begin + timedelta(days=i),
            begin + timedelta(days=i, hours=6),
            provinces=["PB"],
            districts=[listing.LAHORE],
        )


def _organisation_documents(world) -> str:
    return f"/organisations/{world.org.pk}/documents/"


STAFF_APPLICATIONS = ["agency", "operator", "officer", "auditor"]
CASES = [
    *[Case(f"home ({r})", "/", r, applications) for r in ["applicant", "agency", "operator"]],
    Case("home (officer)", "/", "officer", listing.queue_work),
    *[
        Case(f"applications ({r})", "/applications/", r, applications)
        for r in ["applicant", *STAFF_APPLICATIONS]
    ],
    *[
        Case(f"rejected applications ({r})", "/applications/", r, listing.rejected_applications)
        for r in ["applicant", "officer"]
    ],
    *[Case(f"queue ({r})", "/queue/", r, listing.queue_work) for r in ["agency", "operator", "officer"]],
    Case("attestations", "/attestations/", "operator", pending_resources),
    *[
        Case(f"registrations ({r})", "/registrations/", r, listing.registrations)
        for r in ["applicant", "operator", "officer", "auditor"]
    ],
    *[
        Case(f"complaints ({r})", "/complaints/", r, listing.filed_complaints)
        for r in ["applicant", "operator", "officer", "auditor"]
    ],
    Case("statements", "/statements/", "applicant", statement_events),
    Case("events (public)", "/events/", None, listing.events),
    Case("events (officer)", "/events/", "officer", listing.events),
    Case("events.ics", "/events.ics", None, statement_events),
    Case("events.json", "/events.json", None, statement_events),
    Case("notifications", "/notifications/", "applicant", listing.notifications),
    Case("audit log (auditor)", "/audit/?action=test.listed", "auditor", audit_records),
    Case("audit log (officer)", "/audit/?action=test.listed", "officer", audit_records),
    Case("checkpoints", "/transparency/checkpoints/", None, checkpoints),
    Case("allowlist operators", "/allowlist/", "officer", listing.synced_operators),
    Case("members", "/organisation/members/", "applicant", listing.members),
    Case("organisation", "/organisation/", "applicant", listing.members),
    Case("documents (member)", "/documents/", "applicant", listing.documents),
    Case("documents (officer)", _organisation_documents, "officer", listing.documents),
    *[
        Case(f"space changes ({r})", "/space/?state=all", r, listing.space_changes)
        for r in ["operator", "officer", "auditor"]
    ],
]


def _count(client, url) -> tuple[int, int]:
    """The queries of the page, and its length (which grows with the rows shown)."""
    views_events._feed_json.clear()  # the JSON feed is kept between requests: count building it
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(queries.captured_queries), len(response.content)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_page_costs_the_same_queries_for_one_row_or_four(client, world, case):
    if case.role:
        login(client, getattr(world, case.role))
    url = case.url(world) if callable(case.url) else case.url
    case.make(world, 0, 1)
    _count(client, url)  # the first request of a session reads what later ones keep (language, ...)
    one, length_one = _count(client, url)
    case.make(world, 1, 3)
    four, length_four = _count(client, url)
    assert length_four > length_one, "the new rows are on the page"
    assert four == one, f"{case.name}: {one} queries for one, {four} for four"
