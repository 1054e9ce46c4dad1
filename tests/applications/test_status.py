"""The public status secret: given once at submission, kept only as a hash, no oracle for a wrong pair."""

from __future__ import annotations

import hashlib

from django.core import mail
from django.test import TestCase

from tests.workflow import draft
from vpnregistry.applications import services
from vpnregistry.applications.models import Application
from vpnregistry.applications.status import public_status
from vpnregistry.audit.models import AuditEvent
from vpnregistry.codes import ALPHABET


def submitted(world, value="14.1.105.0/24"):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.application_submit(actor=world.applicant, application=draft(world, value))


def test_the_first_submission_gives_a_secret_kept_only_as_its_hash(world):
    mail.outbox.clear()
    application = submitted(world)
    secret = application.status_secret
    plain = secret.replace("-", "")
    assert len(plain) == 20 and set(plain) <= set(ALPHABET)  # 100 random bits
    stored = Application.objects.get(pk=application.pk)
    assert stored.status_secret_hash == hashlib.sha256(plain.encode()).hexdigest()
    row = Application.objects.filter(pk=application.pk).values().get()
    assert not any(plain in str(v) or secret in str(v) for v in row.values())
    audit = AuditEvent.objects.filter(object_type="application", object_id=str(application.pk))
    assert not any(plain in str(e.data) + e.reason for e in audit)
    # The submission email to the organisation's members carries it, once; the staff told of the
    # new work (the agency's reviewers, the operator's staff) are not sent it.
    to_members = [m for m in mail.outbox if m.to == [world.applicant.email]]
    assert len(to_members) == 1 and secret in to_members[0].body
    assert not any(secret in m.body for m in mail.outbox if m not in to_members)


def test_resubmission_keeps_the_secret(world):
    application = submitted(world)
    first_hash = Application.objects.get(pk=application.pk).status_secret_hash
    # Arranged directly: the application sent back to the applicant, who submits it again.
    Application.objects.filter(pk=application.pk).update(state="returned")
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        again = services.application_submit(actor=world.applicant, application=application)
    assert not hasattr(again, "status_secret")
    assert Application.objects.get(pk=application.pk).status_secret_hash == first_hash
    assert all("secret" not in m.body for m in mail.outbox)
    assert public_status(application.tracking_number, application.status_secret) is not None


def test_the_right_pair_shows_state_dates_and_history(world):
    application = submitted(world)
    services.application_verify(
        actor=world.agency, application=application, decision="reject", reason="Letter is unsigned"
    )
    found = public_status(application.tracking_number.lower(), application.status_secret.lower())
    assert found.tracking_number == application.tracking_number
    assert found.state == "rejected" and found.submitted_at is not None and found.decided_at is not None
    assert [(c.from_state, c.to_state) for c in found.history] == [
        ("", "draft"),
        ("draft", "submitted"),
        ("submitted", "rejected"),
    ]
    assert found.history[-1].reason == "Letter is unsigned"
    # Nothing about who applied or who acted.
    text = repr(found)
    for personal in ("Ravi Software", "SUB-1", "14.1.105.0/24", "reviewer", "applicant"):
        assert personal not in text


def test_a_wrong_secret_and_an_unknown_number_get_the_same_answer(world):
    application = submitted(world)
    other = submitted(world, "14.1.106.0/24")
    assert public_status(application.tracking_number, other.status_secret) is None
    assert public_status("VR-2099-999999", application.status_secret) is None
    assert public_status(application.tracking_number, "") is None
    assert public_status("", "") is None
    assert public_status(application.tracking_number, application.status_secret[:-1]) is None


def test_an_application_without_a_secret_never_opens(world):
    application = submitted(world)
    Application.objects.filter(pk=application.pk).update(status_secret_hash="")
    assert public_status(application.tracking_number, application.status_secret) is None
    assert public_status(application.tracking_number, "") is None
