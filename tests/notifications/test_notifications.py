"""Notifications: who is told at each transition, the portal's list, isolation, volume, failures."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from tests.workflow import draft
from vpnregistry.accounts.models import Role
from vpnregistry.applications import services
from vpnregistry.notifications import services as notifications
from vpnregistry.notifications.models import Notification


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("the mail server is down")


def told(application=None):
    return {n.recipient.username: n for n in Notification.objects.select_related("recipient")}


def test_submission_tells_the_applicant_the_routed_agency_and_the_operators_concerned(
    world, django_capture_on_commit_callbacks
):
    application = draft(world, "14.1.105.0/24")  # in Indus's space
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.application_submit(actor=world.applicant, application=application)
    application.refresh_from_db()
    got = told()
    assert set(got) == {"applicant", "reviewer", "indus-staff"}
    assert got["reviewer"].link == f"/applications/{application.pk}/"
    assert "Agency verification" in got["reviewer"].subject
    assert "Operator attestation" in got["indus-staff"].subject
    assert application.tracking_number in got["applicant"].subject
    assert {m.to[0] for m in mail.outbox} == {
        "applicant@example.org",
        "reviewer@example.org",
        "indus-staff@example.org",
    }
    assert all(len(m.to) == 1 for m in mail.outbox)


def test_the_category_is_named_in_each_recipients_language(world, django_capture_on_commit_callbacks):
    world.agency.language = "ur"
    world.agency.save(update_fields=["language"])
    application = draft(world, "14.1.105.0/24")
    with django_capture_on_commit_callbacks(execute=True):
        services.application_submit(actor=world.applicant, application=application)
    got = told()
    urdu, english = got["reviewer"].body, got["indus-staff"].body  # Urdu reader, English reader
    assert "کمپنی / سافٹ ویئر ہاؤس" in urdu and "(Company)" not in urdu
    assert "(Company)" in english and "کمپنی" not in english


def notification_inserts(queries) -> int:
    return sum(q["sql"].startswith('INSERT INTO "applications_notification"') for q in queries)


def test_a_transition_writes_what_it_tells_every_group_in_one_insert(
    world, django_capture_on_commit_callbacks
):
    application = draft(world, "14.1.105.0/24", "14.192.130.0/24")  # both operators concerned
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        services.application_submit(actor=world.applicant, application=application)
    assert notification_inserts(queries.captured_queries) == 1
    assert set(told()) == {"applicant", "reviewer", "indus-staff", "margalla-staff"}


def test_batches_cut_across_messages(world, monkeypatch):
    monkeypatch.setattr(notifications, "BATCH", 3)
    officers = [UserFactory(role=Role.OFFICER) for _ in range(4)]
    mail.outbox.clear()
    with CaptureQueriesContext(connection) as queries:
        made = notifications.send(
            [
                notifications.Message(officers[:2], "first", "b"),
                notifications.Message(officers[2:], "second", "b"),
                notifications.Message(world.org.members.all(), "third", "b"),  # a queryset: the applicant
            ]
        )
    assert made == 5
    assert notification_inserts(queries.captured_queries) == 2  # three rows, then two
    subjects = sorted(Notification.objects.values_list("subject", flat=True))
    assert subjects == ["first", "first", "second", "second", "third"]
    assert len(mail.outbox) == 5


def test_officers_are_told_when_an_application_awaits_decision(world, django_capture_on_commit_callbacks):
    # One address: no fee, so the application goes straight to the decision.
    application = draft(world, "14.1.105.7/32", user=world.freelancer_applicant)
    services.application_submit(actor=world.freelancer_applicant, application=application)
    services.application_verify(actor=world.agency, application=application, decision="approve")
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        resource = application.resources.get()
        services.resource_attest(actor=world.operator, resource=resource, decision="approve")
    got = told()
    assert set(got) == {"freelancer", "officer", "officer2"}
    assert "Decision" in got["officer"].subject


def test_officers_are_told_when_a_payment_is_to_be_recorded(world, django_capture_on_commit_callbacks):
    application = draft(world, "14.1.105.0/24")  # 256 addresses: the fee applies
    services.application_submit(actor=world.applicant, application=application)
    services.application_verify(actor=world.agency, application=application, decision="approve")
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        resource = application.resources.get()
        services.resource_attest(actor=world.operator, resource=resource, decision="approve")
    got = told()
    assert set(got) == {"applicant", "officer", "officer2"}
    assert "Payment" in got["officer"].subject


def test_a_step_already_waiting_is_not_announced_again(world, django_capture_on_commit_callbacks):
    application = draft(world, "14.1.105.0/24", "14.192.130.0/24")
    services.application_submit(actor=world.applicant, application=application)
    Notification.objects.all().delete()
    # submitted -> in_review: the agency and Indus still wait, as before; only the applicant hears.
    margalla = application.resources.get(operator=world.margalla)
    with django_capture_on_commit_callbacks(execute=True):
        services.resource_attest(actor=world.other_operator, resource=margalla, decision="approve")
    assert set(told()) == {"applicant"}


def test_members_of_the_organisation_only_and_inactive_ones_are_skipped(world):
    UserFactory(username="gone", role=Role.APPLICANT, organisation=world.org, is_active=False)
    UserFactory(username="colleague", role=Role.APPLICANT, organisation=world.org)
    notifications.notify_organisation(world.org, subject="s", body="b")
    assert set(told()) == {"applicant", "colleague"}


def test_telling_an_organisation_costs_the_same_queries_for_one_member_or_five(world):
    def count():
        with CaptureQueriesContext(connection) as queries:
            notifications.notify_organisation(world.org, subject="s", body="b")
        return len(queries.captured_queries)

    one = count()
    for i in range(4):
        UserFactory(username=f"colleague-{i}", role=Role.APPLICANT, organisation=world.org)
    assert count() == one
    assert Notification.objects.filter(subject="s").count() == 1 + 5


def test_many_recipients_are_written_and_mailed_in_batches(world, monkeypatch):
    monkeypatch.setattr(notifications, "BATCH", 3)
    users = [UserFactory(role=Role.OFFICER) for _ in range(7)]
    mail.outbox.clear()
    assert notifications.notify_users(users, subject="s", body="b") == 7
    assert Notification.objects.filter(recipient__in=users).count() == 7
    assert len(mail.outbox) == 7


def test_a_mail_server_that_is_down_is_logged_and_the_notification_still_listed(world, settings, caplog):
    settings.EMAIL_BACKEND = "tests.notifications.test_notifications.BrokenBackend"
    notifications.notify_users([world.applicant], subject="still here", body="b")
    assert Notification.objects.get(recipient=world.applicant).subject == "still here"
    assert "could not send" in caplog.text


def test_each_user_sees_and_marks_only_their_own(world):
    notifications.notify_users([world.applicant], subject="mine", body="")
    notifications.notify_users([world.other_applicant], subject="theirs", body="")
    mine = Notification.objects.visible_to(world.applicant)
    assert [n.subject for n in mine] == ["mine"]
    theirs = Notification.objects.get(recipient=world.other_applicant)
    with pytest.raises(Http404):
        notifications.mark_read(actor=world.applicant, pk=theirs.pk)
    assert notifications.mark_read(actor=world.applicant) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert notifications.mark_read(actor=world.other_applicant, pk=theirs.pk) == 1


def test_the_status_secret_is_emailed_but_never_stored_in_a_notification(
    world, django_capture_on_commit_callbacks
):
    application = draft(world, "14.1.105.0/24")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        submitted = services.application_submit(actor=world.applicant, application=application)
    secret = submitted.status_secret
    assert secret
    emailed = next(m for m in mail.outbox if m.to == [world.applicant.email])
    assert secret in emailed.body
    assert not any(secret in n.body or secret in n.subject for n in Notification.objects.all())
    assert not any(secret in m.body for m in mail.outbox if m.to != [world.applicant.email])
