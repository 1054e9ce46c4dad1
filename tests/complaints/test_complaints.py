"""Complaints: filing, each transition and each refusal, who sees what, evidence, timeline, audit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from tests.events import KARACHI_SOUTH, LAHORE, located, make_event
from vpnregistry.accounts.models import User
from vpnregistry.audit.models import AuditEvent
from vpnregistry.audit.services import verify_chain
from vpnregistry.errors import InvalidInput, NotAllowed, WrongState
from vpnregistry.notifications.models import Notification
from vpnregistry.restrictions import complaints
from vpnregistry.restrictions.models import Complaint, ComplaintMessage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32


@pytest.fixture
def reg(world):
    return located(world, "14.1.105.0/24", LAHORE)


def when(event, hours=2):
    return (event.starts_at + timedelta(hours=hours)).isoformat()


def file(world, reg, ev, /, *, user=None, **overrides):
    fields = {
        "registration": reg.reference,
        "event": ev.pk,
        "happened_at": when(ev),
        "service": "mobile-data",
        "description": "The VPN to our client dropped at 10:00 and stayed down.",
    }
    fields.update(overrides)
    return complaints.complaint_file(actor=user or world.applicant, **fields)


def api_file(world, reg, event, *, user=None, evidence=None, **overrides):
    data = {
        "registration": reg.reference,
        "event": event.pk,
        "happened_at": when(event),
        "service": "mobile-data",
        "description": "Blocked all afternoon.",
        **overrides,
    }
    client = world.client(user or world.applicant)
    if evidence is not None:
        return client.post("/api/v1/complaints/", {**data, "evidence": evidence}, format="multipart")
    return client.post("/api/v1/complaints/", data, format="json")


def test_filing_goes_to_the_operator_and_the_regulator(world, reg, past_event):
    mail.outbox.clear()
    response = api_file(world, reg, past_event)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "open" and body["registration"] == reg.reference
    assert body["operator"] == "indus" and body["service"] == "mobile-data"
    assert [m["kind"] for m in body["timeline"]] == ["report"]
    complaint = Complaint.objects.get()
    assert complaint.operator == world.indus and complaint.organisation == world.org
    for user in (world.applicant, world.operator, world.officer, world.auditor):
        listed = world.client(user).get("/api/v1/complaints/").json()["results"]
        assert [c["id"] for c in listed] == [complaint.pk]
        assert world.client(user).get(f"/api/v1/complaints/{complaint.pk}/").status_code == 200
    audit = AuditEvent.objects.get(action="complaint.create")
    assert audit.object_id == str(complaint.pk) and audit.to_state == "open"


def test_another_organisations_or_operators_complaint_is_out_of_reach(world, reg, past_event):
    complaint = file(world, reg, past_event)
    for user in (world.other_applicant, world.other_operator, world.agency):
        client = world.client(user)
        assert client.get("/api/v1/complaints/").json()["results"] == []
        assert client.get(f"/api/v1/complaints/{complaint.pk}/").status_code == 404
        assert client.get(f"/api/v1/complaints/{complaint.pk}/evidence/").status_code == 404
        assert (
            client.post(
                f"/api/v1/complaints/{complaint.pk}/messages/", {"text": "x"}, format="json"
            ).status_code
            == 404
        )
        assert (
            client.post(
                f"/api/v1/complaints/{complaint.pk}/reopen/", {"reason": "x"}, format="json"
            ).status_code
            == 404
        )
    with pytest.raises(NotAllowed):
        file(world, reg, past_event, user=world.operator)
    # Nor can another organisation complain about our registration.
    with pytest.raises(InvalidInput) as exc:
        file(world, reg, past_event, user=world.other_applicant)
    assert "registration" in exc.value.errors
    assert ComplaintMessage.objects.filter(complaint=complaint).count() == 1


def test_the_whole_path_open_answered_rejected_reopened_resolved(world, reg, past_event):
    complaint = file(world, reg, past_event)
    url = f"/api/v1/complaints/{complaint.pk}"
    applicant, operator, officer, auditor = (
        world.client(u) for u in (world.applicant, world.operator, world.officer, world.auditor)
    )
    # The operator concerned answers: open -> answered.
    answered = operator.post(f"{url}/messages/", {"text": "Our filter missed the list."}, format="json")
    assert answered.status_code == 201 and answered.json()["state"] == "answered"
    # The complainant and the regulator comment; the state stays.
    assert applicant.post(f"{url}/messages/", {"text": "Still down."}, format="json").json()["state"] == (
        "answered"
    )
    assert officer.post(f"{url}/messages/", {"text": "Looking."}, format="json").status_code == 201
    # Auditors read only.
    assert auditor.post(f"{url}/messages/", {"text": "x"}, format="json").status_code == 403
    assert auditor.post(f"{url}/resolve/", {"decision": "resolved"}, format="json").status_code == 403
    # Only an officer decides, and a rejection gives its reason.
    assert operator.post(f"{url}/resolve/", {"decision": "resolved"}, format="json").status_code == 403
    assert applicant.post(f"{url}/resolve/", {"decision": "resolved"}, format="json").status_code == 403
    no_reason = officer.post(f"{url}/resolve/", {"decision": "rejected"}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    bad = officer.post(f"{url}/resolve/", {"decision": "maybe"}, format="json")
    assert bad.status_code == 400 and "decision" in bad.json()
    rejected = officer.post(
        f"{url}/resolve/", {"decision": "rejected", "reason": "The address was not in use."}, format="json"
    )
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    assert rejected.json()["decision_reason"] == "The address was not in use."
    # Closed: no more messages, no second decision.
    assert operator.post(f"{url}/messages/", {"text": "late"}, format="json").status_code == 409
    assert officer.post(f"{url}/resolve/", {"decision": "resolved"}, format="json").status_code == 409
    # The complainant reopens once, saying why; the operator cannot.
    assert operator.post(f"{url}/reopen/", {"reason": "x"}, format="json").status_code == 403
    assert applicant.post(f"{url}/reopen/", {"reason": ""}, format="json").status_code == 400
    reopened = applicant.post(f"{url}/reopen/", {"reason": "It was in use: see the bill."}, format="json")
    assert reopened.status_code == 200 and reopened.json()["state"] == "open" and reopened.json()["reopened"]
    assert applicant.post(f"{url}/reopen/", {"reason": "again"}, format="json").status_code == 409
    assert (
        operator.post(f"{url}/messages/", {"text": "Fixed now."}, format="json").json()["state"] == "answered"
    )
    resolved = officer.post(f"{url}/resolve/", {"decision": "resolved", "reason": ""}, format="json")
    assert resolved.json()["state"] == "resolved"
    second = applicant.post(f"{url}/reopen/", {"reason": "again"}, format="json")
    assert second.status_code == 409 and "once" in second.json()["detail"]
    # The timeline has every step in order, with who and the change of state.
    timeline = applicant.get(f"{url}/").json()["timeline"]
    assert [(m["kind"], m["author"], m["from_state"], m["to_state"]) for m in timeline] == [
        ("report", "applicant", "", "open"),
        ("answer", "indus-staff", "open", "answered"),
        ("comment", "applicant", "answered", "answered"),
        ("comment", "officer", "answered", "answered"),
        ("reject", "officer", "answered", "rejected"),
        ("reopen", "applicant", "rejected", "open"),
        ("answer", "indus-staff", "open", "answered"),
        ("resolve", "officer", "answered", "resolved"),
    ]
    assert [m["at"] for m in timeline] == sorted(m["at"] for m in timeline)
    actions = list(
        AuditEvent.objects.filter(object_type="complaint", object_id=str(complaint.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "complaint.create",
        "complaint.answer",
        "complaint.comment",
        "complaint.comment",
        "complaint.reject",
        "complaint.reopen",
        "complaint.answer",
        "complaint.resolve",
    ]
    assert AuditEvent.objects.get(action="complaint.reject").reason == "The address was not in use."
    assert verify_chain().ok


def test_an_officer_may_decide_an_open_complaint_the_operator_never_answered(world, reg, past_event):
    complaint = file(world, reg, past_event)
    decided = complaints.complaint_decide(actor=world.officer, complaint=complaint, decision="resolved")
    assert decided.state == "resolved" and decided.closed
    with pytest.raises(WrongState):
        complaints.complaint_reopen(
            actor=world.applicant, complaint=file(world, reg, past_event), reason="still open"
        )


def test_the_time_must_fall_inside_the_events_window(world, reg, past_event):
    for at in (past_event.starts_at - timedelta(minutes=1), past_event.ends_at):
        with pytest.raises(InvalidInput) as exc:
            file(world, reg, past_event, happened_at=at.isoformat())
        assert "outside the event's window" in exc.value.errors["happened_at"][0]
    with pytest.raises(InvalidInput) as exc:
        file(world, reg, past_event, happened_at="yesterday")
    assert "happened_at" in exc.value.errors
    assert file(world, reg, past_event, happened_at=past_event.starts_at.isoformat()).pk
    response = api_file(
        world, reg, past_event, happened_at=(past_event.ends_at + timedelta(hours=1)).isoformat()
    )
    assert response.status_code == 400 and "window" in response.json()["happened_at"][0]


def test_what_is_checked_and_nothing_is_saved_when_refused(world, reg, past_event, settings):
    karachi = located(world, "14.1.106.0/24", KARACHI_SOUTH)
    punjab = make_event(world, past_event.starts_at, past_event.ends_at, provinces=["PB"])
    draft = make_event(world, past_event.starts_at, past_event.ends_at, published=False)
    newer = located(world, "14.1.104.0/24", LAHORE, since_days=1)  # registered after the event
    before = (Complaint.objects.count(), ComplaintMessage.objects.count(), AuditEvent.objects.count())
    cases = [
        ({"registration": "R-NOPE"}, "registration"),
        ({"registration": karachi.reference, "event": punjab.pk}, "registration"),  # out of scope
        ({"event": draft.pk}, "event"),
        ({"event": "x"}, "event"),
        ({"service": "whatsapp"}, "service"),  # not among the event's services
        ({"service": "", "service_text": ""}, "service"),
        ({"description": "  "}, "description"),
    ]
    for overrides, field in cases:
        with pytest.raises(InvalidInput) as exc:
            file(world, reg, past_event, **overrides)
        assert field in exc.value.errors, (overrides, exc.value.errors)
    # Not active then, so not exempt.
    with pytest.raises(InvalidInput) as exc:
        file(world, newer, past_event)
    assert "not active" in exc.value.errors["registration"][0]
    assert (Complaint.objects.count(), ComplaintMessage.objects.count(), AuditEvent.objects.count()) == before
    # Free text names what failed when it is not one of the event's services.
    complaint = file(world, reg, past_event, service="", service_text="Our bank's VPN gateway")
    assert complaint.what_failed == "Our bank's VPN gateway" and complaint.service is None


@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        (PNG, "image/png"),
        (PDF, "application/pdf"),
        (JPEG, "image/jpeg"),
        (b"ping 14.1.105.1\n", "text/plain"),
    ],
)
def test_evidence_type_is_judged_by_content(world, reg, past_event, settings, content, media_type):
    response = api_file(
        world,
        reg,
        past_event,
        evidence=SimpleUploadedFile("shot.bin", content, content_type="application/octet-stream"),
    )
    assert response.status_code == 201, response.json()
    evidence = response.json()["evidence"]
    assert evidence["media_type"] == media_type and evidence["size"] == len(content)
    complaint = Complaint.objects.get()
    path = Path(complaints.files().path(complaint.evidence_file))
    assert path.parent == settings.EVIDENCE_DIR and path.read_bytes() == content
    for user in (world.applicant, world.operator, world.officer, world.auditor):
        got = world.client(user).get(f"/api/v1/complaints/{complaint.pk}/evidence/")
        assert got.status_code == 200 and got["Content-Type"] == media_type
        assert b"".join(got.streaming_content) == content
        assert "attachment" in got["Content-Disposition"]
    for user in (world.other_applicant, world.other_operator):
        assert world.client(user).get(f"/api/v1/complaints/{complaint.pk}/evidence/").status_code == 404


def test_evidence_refused_by_content_or_size_changes_nothing(world, reg, past_event, settings):
    refused = [
        (
            SimpleUploadedFile("shot.png", b"MZ\x90\x00\x03" + b"\x00" * 50, content_type="image/png"),
            "PDF, PNG",
        ),
        (SimpleUploadedFile("page.html", b"<html>\x00</html>", content_type="text/plain"), "PDF, PNG"),
        (
            SimpleUploadedFile(
                "big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024), content_type="application/pdf"
            ),
            "5 MB",
        ),
        (SimpleUploadedFile("empty.txt", b"", content_type="text/plain"), ""),
    ]
    for upload, words in refused:
        response = api_file(world, reg, past_event, evidence=upload)
        assert response.status_code == 400, response.json()
        assert "evidence" in response.json()
        assert words in " ".join(response.json()["evidence"])
    assert not Complaint.objects.exists()
    folder = settings.EVIDENCE_DIR
    assert not folder.exists() or not any(folder.iterdir())
    # Exactly 5 MB is accepted.
    exact = b"%PDF-" + b"0" * (5 * 1024 * 1024 - 5)
    ok = api_file(world, reg, past_event, evidence=SimpleUploadedFile("ok.pdf", exact))
    assert ok.status_code == 201, ok.json()


def test_evidence_file_is_removed_when_the_transaction_fails(world, reg, past_event, settings, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(complaints, "record", broken)
    with pytest.raises(RuntimeError):
        file(world, reg, past_event, evidence=SimpleUploadedFile("a.txt", b"hello"))
    assert not Complaint.objects.exists()
    assert not any((settings.EVIDENCE_DIR).iterdir())


def test_lists_put_the_oldest_open_first_for_operators_and_officers_and_page_by_keyset(
    world, reg, past_event, monkeypatch
):
    monkeypatch.setattr(complaints, "PAGE_SIZE", 2)
    made = [file(world, reg, past_event) for _ in range(5)]
    complaints.complaint_decide(actor=world.officer, complaint=made[0], decision="resolved")
    complaints.complaint_decide(actor=world.officer, complaint=made[2], decision="resolved")
    expected_open_first = [made[1].pk, made[3].pk, made[4].pk, made[0].pk, made[2].pk]
    for user in (world.operator, world.officer):
        seen, url = [], "/api/v1/complaints/"
        while url:
            page = world.client(user).get(url).json()
            assert len(page["results"]) <= 2
            seen += [c["id"] for c in page["results"]]
            url = page["next"]
        assert seen == expected_open_first
    newest_first = [
        c["id"] for c in world.client(world.applicant).get("/api/v1/complaints/").json()["results"]
    ]
    assert newest_first == [made[4].pk, made[3].pk]
    only = world.client(world.officer).get("/api/v1/complaints/", {"state": "resolved"}).json()["results"]
    assert [c["id"] for c in only] == [made[0].pk, made[2].pk]


def test_email_tells_the_operator_and_the_regulator(
    world, reg, past_event, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        file(world, reg, past_event)
    recipients = {r for m in mail.outbox for r in m.to}
    assert world.operator.email in recipients and world.officer.email in recipients
    assert world.other_operator.email not in recipients and world.other_applicant.email not in recipients
    assert world.applicant.email not in recipients  # the complainant filed it
    # Each is also listed in the portal, linked to the complaint.
    listed = Notification.objects.filter(recipient=world.operator).get()
    assert listed.link.startswith("/complaints/")
    assert not Notification.objects.filter(
        recipient=world.applicant, link__startswith="/complaints/"
    ).exists()


def test_each_person_told_of_a_complaint_reads_it_in_their_own_language(
    world, reg, past_event, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=world.operator.pk).update(language="ur")
    mail.outbox.clear()
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        complaint = file(world, reg, past_event)  # filed in English
    to_operator = next(m for m in mail.outbox if m.to == [world.operator.email])
    to_officer = next(m for m in mail.outbox if m.to == [world.officer.email])
    assert to_officer.subject == f"[vpnregistry] New complaint {complaint.pk}"
    assert to_officer.body.startswith(f"Complaint {complaint.pk} is now Open.")
    assert "شکایت" in to_operator.subject and "شکایت" in to_operator.body and "Open" not in to_operator.body
