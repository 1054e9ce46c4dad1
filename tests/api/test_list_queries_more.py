"""Every paged list of the API costs the same number of queries for one object as for four.

Each list's rows are shown with what they relate to (operator, organisation, district, event, who
proposed or invited, ...); those are joined or read once for the page, never once per row. Each case
below makes one object the caller sees, counts the queries of the page, makes three more and counts
again. Lists that were always fine are here too, so that a new field shown without a join is caught.
(Applications and the operators' resources have their own test, test_list_queries.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.complaints.conftest import LAHORE, located, make_event
from tests.factories import OperatorFactory, UserFactory, put_documents_on_file
from tests.workflow import draft, to_decision
from vpnregistry.accounts import space
from vpnregistry.accounts.models import District, Invitation, Province, Role
from vpnregistry.allowlist.selectors import note_download
from vpnregistry.applications import services
from vpnregistry.applications.models import Notification, RejectionReason
from vpnregistry.restrictions import complaints
from vpnregistry.restrictions.models import Service

# Four /24s in the indus operator's space (14.1.104.0/22), and four in margalla's.
INDUS = [f"14.1.{104 + i}.0/24" for i in range(4)]
MARGALLA = [f"14.192.{130 + i}.0/24" for i in range(4)]


@pytest.fixture(autouse=True)
def _private_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


# --- makers: each adds objects start..start+n-1 that the case's caller sees ----------------------


def operators(world, start, n):
    for i in range(start, start + n):
        OperatorFactory(code=f"op-{i}", space=[f"27.{10 + i}.0.0/16", f"2001:db8:{i}::/48"])


def synced_operators(world, start, n):
    for i in range(start, start + n):
        operator = world.indus if i == 0 else OperatorFactory(code=f"op-{i}", space=[f"27.{10 + i}.0.0/16"])
        note_download(operator_id=operator.pk, serial=None, name="index.json")


def rejection_reasons(world, start, n):
    if start == 0:
        RejectionReason.objects.all().delete()
    for i in range(start, start + n):
        RejectionReason.objects.create(code=f"test-{i}", text=f"Reason {i}", active=True)


def districts(world, start, n):
    if start == 0:
        District.objects.all().delete()  # the seeded districts fill a page whatever is added
    for i in range(start, start + n):
        province = Province.objects.create(code=f"T{i}", name=f"Test province {i}")
        District.objects.create(code=f"test-{i}", name=f"Test district {i}", province=province)


def services_(world, start, n):
    if start == 0:
        Service.objects.all().delete()
    for i in range(start, start + n):
        Service.objects.create(code=f"test-{i}", kind="app", name=f"Test service {i}")


def events(world, start, n):
    begin = timezone.now() + timedelta(days=1)
    for i in range(start, start + n):
        make_event(
            world,
            begin + timedelta(days=i),
            begin + timedelta(days=i, hours=6),
            services=("mobile-data",),
            provinces=["PB"],
            districts=[LAHORE],
        )


def registrations(world, start, n):
    for i in range(start, start + n):
        located(world, INDUS[i], LAHORE)


def _complaints(world, start, n):
    begin = (timezone.now() - timedelta(days=3)).replace(microsecond=0)
    event = make_event(world, begin, begin + timedelta(days=1))
    for i in range(start, start + n):
        registration = located(world, INDUS[i], LAHORE)
        complaints.file_complaint(
            actor=world.applicant,
            registration=registration.reference,
            event=event.pk,
            happened_at=(begin + timedelta(hours=2)).isoformat(),
            service="mobile-data",
            description=f"Blocked, case {i}.",
        )


def queue_work(world, start, n):
    """Applications waiting for the agency and the operators, and as many for the officers."""
    for i in range(start, start + n):
        services.submit_application(actor=world.applicant, application=draft(world, INDUS[i]))
        to_decision(world, MARGALLA[i])


def rejected_applications(world, start, n):
    reason = RejectionReason.objects.filter(active=True).exclude(code="other").first()
    for i in range(start, start + n):
        application = to_decision(world, INDUS[i])
        services.decide_application(
            actor=world.officer,
            application=application,
            decision="reject",
            reason="Not assigned",
            reason_code=reason.code if reason else "other",
        )


def notifications(world, start, n):
    for i in range(start, start + n):
        for user in (world.applicant, world.officer):
            Notification.objects.create(recipient=user, subject=f"Subject {i}", body="Body", link="/")


def members(world, start, n):
    for i in range(start, start + n):
        UserFactory(username=f"member-{i}", role=Role.APPLICANT, organisation=world.org)


def invitations(world, start, n):
    for i in range(start, start + n):
        inviter = UserFactory(username=f"inviter-{i}", role=Role.APPLICANT, organisation=world.org)
        Invitation.objects.create(organisation=world.org, email=f"person-{i}@example.com", invited_by=inviter)


def documents(world, start, n):
    for i in range(start, start + n):
        uploader = UserFactory(username=f"uploader-{i}", role=Role.APPLICANT, organisation=world.org)
        put_documents_on_file(world.org, user=uploader)


def space_changes(world, start, n):
    for i in range(start, start + n):
        change = space.propose_change(actor=world.operator, action="add", prefix=f"27.0.{188 + i}.0/24")
        if i % 2:
            space.reject_change(actor=world.officer, change=change, reason="Not yours")


@dataclass(frozen=True)
class Case:
    name: str
    url: str
    role: str | None  # None: no credentials
    make: Callable


def _documents_url(world) -> str:
    return f"/api/v1/documents/?organisation={world.org.pk}"


CASES = [
    Case("operators", "/api/v1/operators/", "applicant", operators),
    Case("allowlist operators", "/api/v1/allowlist/operators/", "officer", synced_operators),
    Case("rejection reasons", "/api/v1/rejection-reasons/", "applicant", rejection_reasons),
    Case("districts", "/api/v1/districts/", "applicant", districts),
    Case("services", "/api/v1/services/", "applicant", services_),
    Case("events (public)", "/api/v1/events/", None, events),
    Case("events (officer)", "/api/v1/events/", "officer", events),
    *[
        Case(f"registrations ({r})", "/api/v1/registrations/", r, registrations)
        for r in ["applicant", "operator", "officer", "auditor"]
    ],
    *[
        Case(f"complaints ({r})", "/api/v1/complaints/", r, _complaints)
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
