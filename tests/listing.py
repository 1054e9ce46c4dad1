"""Objects for the tests that count a list's queries for one row and for four (tests/*/test_list_queries*).

Each maker adds objects `start` to `start + n - 1` that the case's caller sees, so that a test can make
one, count, make three more and count again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from tests.events import LAHORE, located, make_event
from tests.factories import OperatorFactory, UserFactory, put_documents_on_file
from tests.workflow import draft, to_decision
from vpnregistry.accounts.models import District, Invitation, Province, Role
from vpnregistry.allowlist.selectors import note_download
from vpnregistry.applications import services
from vpnregistry.applications.models import RejectionReason
from vpnregistry.notifications.models import Notification
from vpnregistry.registrations import space
from vpnregistry.restrictions import complaints
from vpnregistry.restrictions.models import Service

# Four /24s in the indus operator's space (14.1.104.0/22), and four in margalla's.
INDUS = [f"14.1.{104 + i}.0/24" for i in range(4)]
MARGALLA = [f"14.192.{130 + i}.0/24" for i in range(4)]


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


def service_rows(world, start, n):
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


def filed_complaints(world, start, n):
    begin = (timezone.now() - timedelta(days=3)).replace(microsecond=0)
    event = make_event(world, begin, begin + timedelta(days=1))
    for i in range(start, start + n):
        registration = located(world, INDUS[i], LAHORE)
        complaints.complaint_file(
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
        services.application_submit(actor=world.applicant, application=draft(world, INDUS[i]))
        to_decision(world, MARGALLA[i])


def rejected_applications(world, start, n):
    reason = RejectionReason.objects.filter(active=True).exclude(code="other").first()
    for i in range(start, start + n):
        application = to_decision(world, INDUS[i])
        services.application_decide(
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
        change = space.space_change_propose(actor=world.operator, action="add", prefix=f"27.0.{188 + i}.0/24")
        if i % 2:
            space.space_change_reject(actor=world.officer, change=change, reason="Not yours")


@dataclass(frozen=True)
class Case:
    """One paged list: its name, its address (or how to make it from the world), who asks for it
    (None: nobody signed in) and what makes its rows."""

    name: str
    url: str | Callable
    role: str | None
    make: Callable
