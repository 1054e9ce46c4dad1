"""Exemption statements: content, signatures (the library and the real minisign), exact history,
scope, privacy, and the public check by id."""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from tests.auth import login
from tests.conftest import require_tool
from tests.events import KARACHI_SOUTH, LAHORE, located, make_event
from vpnregistry.audit.models import AuditEvent
from vpnregistry.registrations.models import ActivePeriod
from vpnregistry.registrations.services import end_activity, registration_change_state, resume_activity
from vpnregistry.restrictions.models import ExemptionStatement
from vpnregistry.signing import keys
from vpnregistry.signing.minisign import PublicKey, SignatureError, verify
from vpnregistry.timeutil import utc_iso


def statement(world, event, user=None):
    response = world.client(user or world.applicant).get(f"/api/v1/events/{event.pk}/statement.json")
    assert response.status_code == 200, response.content
    return response


def signature(world, event, statement_id=None, user=None):
    query = {"statement": statement_id} if statement_id else {}
    response = world.client(user or world.applicant).get(
        f"/api/v1/events/{event.pk}/statement.json.minisig", query
    )
    assert response.status_code == 200, response.content
    return response.content.decode()


def test_statement_names_the_event_and_the_registrations_with_their_stretches(world, past_event):
    whole = located(world, "14.1.105.0/24", LAHORE)
    broken = located(world, "14.1.106.0/24", LAHORE)
    # Suspended for two hours in the middle of the event, then reinstated.
    gap_from = past_event.starts_at + timedelta(hours=5)
    gap_to = gap_from + timedelta(hours=2)
    end_activity(registration=broken, at=gap_from)
    resume_activity(registration=broken, at=gap_to)
    response = statement(world, past_event)
    raw = response.content
    doc = json.loads(raw)
    # Canonical: sorted keys, no spaces, so the bytes are the signed bytes.
    assert raw == json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert doc["event"] == {
        "id": past_event.pk,
        "title": "Polling day",
        "legal_reference": "Order 12/2026",
        "starts_at": utc_iso(past_event.starts_at),
        "ends_at": utc_iso(past_event.ends_at),
    }
    assert doc["event"]["starts_at"].endswith("Z")
    assert doc["covers"]["complete"] is True
    record = ExemptionStatement.objects.get()
    assert doc["statement"]["id"] == str(record.id) == response["X-Statement-Id"]
    assert record.sha256 == hashlib.sha256(raw).hexdigest() == response["X-Statement-SHA256"]
    assert record.organisation == world.org and record.event == past_event
    rows = {r["reference"]: r for r in doc["registrations"]}
    assert set(rows) == {whole.reference, broken.reference}
    assert rows[whole.reference]["prefix"] == "14.1.105.0/24"
    assert rows[whole.reference]["whole_window"] is True
    assert rows[whole.reference]["active"] == [
        {"from": utc_iso(past_event.starts_at), "until": utc_iso(past_event.ends_at)}
    ]
    assert rows[broken.reference]["whole_window"] is False
    assert rows[broken.reference]["active"] == [
        {"from": utc_iso(past_event.starts_at), "until": utc_iso(gap_from)},
        {"from": utc_iso(gap_to), "until": utc_iso(past_event.ends_at)},
    ]
    assert AuditEvent.objects.filter(action="statement.issue", object_id=str(record.id)).exists()


def test_statement_says_nothing_about_other_organisations(world, past_event):
    located(world, "14.1.105.0/24", LAHORE)
    theirs = located(world, "14.1.107.0/24", LAHORE, user=world.other_applicant)
    raw = statement(world, past_event).content.decode()
    assert theirs.reference not in raw and "14.1.107.0" not in raw and world.other_org.name not in raw
    assert "SUB-1" not in raw  # nor the subscriber ids
    other = json.loads(statement(world, past_event, user=world.other_applicant).content)
    assert [r["reference"] for r in other["registrations"]] == [theirs.reference]


def test_scope_and_overlap_decide_which_registrations_are_named(world):
    start = (timezone.now() - timedelta(days=3)).replace(microsecond=0)
    punjab = make_event(world, start, start + timedelta(days=1), provinces=["PB"])
    lahore = located(world, "14.1.105.0/24", LAHORE)
    located(world, "14.1.106.0/24", KARACHI_SOUTH)  # out of scope
    late = located(world, "14.1.104.0/24", LAHORE, since_days=1)  # approved after the event
    doc = json.loads(statement(world, punjab).content)
    assert [r["reference"] for r in doc["registrations"]] == [lahore.reference]
    assert late.reference not in json.dumps(doc)
    assert doc["registrations"][0]["district"] == LAHORE


def test_signature_verifies_with_the_library_and_names_the_statement(world, past_event):
    located(world, "14.1.105.0/24", LAHORE)
    response = statement(world, past_event)
    statement_id, sha = response["X-Statement-Id"], response["X-Statement-SHA256"]
    sig = signature(world, past_event)  # the latest statement
    _key, comment = verify(response.content, sig, [keys.current_key().public])
    assert statement_id in comment and sha in comment
    assert signature(world, past_event, statement_id) == sig  # Ed25519: the same bytes, the same signature
    with pytest.raises(SignatureError):
        verify(response.content.replace(b"14.1.105.0", b"14.1.106.0"), sig, [keys.current_key().public])


def test_signature_verifies_with_the_real_minisign(world, past_event, tmp_path):
    minisign = require_tool("minisign")
    located(world, "14.1.105.0/24", LAHORE)
    response = statement(world, past_event)
    pub = world.client(world.officer).get("/api/v1/allowlist/key.pub")
    assert pub.status_code == 200
    (tmp_path / "key.pub").write_bytes(pub.content)
    (tmp_path / "statement.json").write_bytes(response.content)
    (tmp_path / "statement.json.minisig").write_text(signature(world, past_event, response["X-Statement-Id"]))
    PublicKey.from_text(pub.content.decode())  # the published key is a minisign key
    done = subprocess.run(
        [minisign, "-Vm", "statement.json", "-p", "key.pub"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert response["X-Statement-Id"] in done.stdout and response["X-Statement-SHA256"] in done.stdout
    (tmp_path / "statement.json").write_bytes(response.content.replace(b"Polling", b"Pulling"))
    tampered = subprocess.run(
        [minisign, "-Vm", "statement.json", "-p", "key.pub"], cwd=tmp_path, capture_output=True, text=True
    )
    assert tampered.returncode != 0


def test_statements_are_reproducible_after_a_later_suspension(world, past_event):
    registration = located(world, "14.1.105.0/24", LAHORE)
    first = json.loads(statement(world, past_event).content)
    # Suspended today by an officer, long after the event; then revoked.
    registration_change_state(
        actor=world.officer, registration=registration, step="suspend", reason="Unpaid fee"
    )
    second = json.loads(statement(world, past_event).content)
    registration_change_state(
        actor=world.officer, registration=registration, step="revoke", reason="Still unpaid"
    )
    third = json.loads(statement(world, past_event).content)
    assert second["registrations"] == first["registrations"] == third["registrations"]
    assert first["registrations"][0]["whole_window"] is True
    assert len({first["statement"]["id"], second["statement"]["id"], third["statement"]["id"]}) == 3
    assert ExemptionStatement.objects.count() == 3


def test_an_event_after_a_suspension_does_not_name_the_registration(world):
    registration = located(world, "14.1.105.0/24", LAHORE)
    suspended_at = timezone.now() - timedelta(hours=2)
    end_activity(registration=registration, at=suspended_at)
    after = make_event(world, suspended_at + timedelta(minutes=30), suspended_at + timedelta(hours=1))
    assert json.loads(statement(world, after).content)["registrations"] == []


def test_an_event_under_way_is_covered_up_to_the_statement(world):
    located(world, "14.1.105.0/24", LAHORE)
    start = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)
    running = make_event(world, start, start + timedelta(hours=3))
    doc = json.loads(statement(world, running).content)
    assert doc["covers"]["complete"] is False
    assert doc["covers"]["until"] == doc["statement"]["issued_at"]
    assert doc["registrations"][0]["active"][0]["until"] == doc["statement"]["issued_at"]
    soon = make_event(world, timezone.now() + timedelta(hours=1), timezone.now() + timedelta(hours=2))
    early = world.client(world.applicant).get(f"/api/v1/events/{soon.pk}/statement.json")
    assert early.status_code == 409 and "begins" in early.json()["detail"]


def test_statements_are_for_applicants_of_their_own_organisation(world, past_event):
    located(world, "14.1.105.0/24", LAHORE)
    mine = statement(world, past_event)
    url = f"/api/v1/events/{past_event.pk}/statement.json"
    for user in (world.operator, world.officer, world.auditor, world.agency):
        assert world.client(user).get(url).status_code == 404
        assert world.client(user).get(url + ".minisig").status_code == 404
    assert world.client(None).get(url).status_code == 401
    # Another organisation cannot fetch our statement's signature by its id.
    other = world.client(world.other_applicant).get(url + ".minisig", {"statement": mine["X-Statement-Id"]})
    assert other.status_code == 404
    draft = make_event(world, past_event.starts_at, past_event.ends_at, published=False)
    assert world.client(world.applicant).get(f"/api/v1/events/{draft.pk}/statement.json").status_code == 404
    assert world.client(world.applicant).get("/api/v1/events/999999/statement.json").status_code == 404


def test_public_check_shows_event_time_and_hash_only(client, world, past_event):
    located(world, "14.1.105.0/24", LAHORE)
    response = statement(world, past_event)
    statement_id, sha = response["X-Statement-Id"], response["X-Statement-SHA256"]
    page = client.get(f"/statements/{statement_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert sha in html and "Polling day" in html and "Order 12/2026" in html
    assert world.org.name not in html and "14.1.105.0" not in html and "R-" not in html
    assert "It matches" in client.get(f"/statements/{statement_id}/", {"sha256": sha}).content.decode()
    assert (
        "does not match" in client.get(f"/statements/{statement_id}/", {"sha256": "0" * 64}).content.decode()
    )
    assert client.get(f"/statements/{uuid.uuid4()}/").status_code == 404


def test_portal_lists_events_and_issues_a_printable_statement(client, world, past_event):
    registration = located(world, "14.1.105.0/24", LAHORE)
    login(client, world.applicant)
    listing = client.get("/statements/")
    assert listing.status_code == 200
    assert f"/statements/events/{past_event.pk}/" in listing.content.decode()
    assert "Download statement" in listing.content.decode()
    issued = client.get(f"/statements/events/{past_event.pk}/")
    assert issued.status_code == 302
    record = ExemptionStatement.objects.get()
    assert issued["Location"] == f"/statements/{record.id}/print/"
    printable = client.get(issued["Location"]).content.decode()
    assert registration.reference in printable and "14.1.105.0/24" in printable and record.sha256 in printable
    raw = client.get(f"/statements/{record.id}/statement.json")
    assert raw.content.decode() == record.content
    sig = client.get(f"/statements/{record.id}/statement.json.minisig").content.decode()
    verify(raw.content, sig, [keys.current_key().public])
    login(client, world.other_applicant)
    assert client.get(f"/statements/{record.id}/print/").status_code == 404
    assert client.get(f"/statements/{record.id}/statement.json").status_code == 404
    login(client, world.operator)
    assert client.get("/statements/").status_code == 404


def test_times_in_the_statement_are_utc(world, past_event):
    located(world, "14.1.105.0/24", LAHORE)
    doc = json.loads(statement(world, past_event).content)
    issued = doc["statement"]["issued_at"]
    assert issued.endswith("Z")
    assert ActivePeriod.objects.exists()
    assert doc["event"]["starts_at"] == past_event.starts_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.tools
def test_the_printable_copy_as_a_pdf_in_either_language(client, world, past_event, tmp_path):
    """The copy printed by WeasyPrint as the certificate is: poppler reads the identifiers back in
    English and in Urdu (the Urdu letters' shaping has its test with the certificate's)."""
    from tests.registrations.test_certificates import pdf_text

    registration = located(world, "14.1.105.0/24", LAHORE)
    login(client, world.applicant)
    client.get(f"/statements/events/{past_event.pk}/")
    record = ExemptionStatement.objects.get()
    link = f"/statements/{record.id}/statement.pdf"
    assert link in client.get(f"/statements/{record.id}/print/").content.decode()
    for language, heading in (("en", "Exemption statement"), ("ur", None)):
        client.cookies["django_language"] = language
        response = client.get(link)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert "no-store" in response["Cache-Control"]
        text = pdf_text(response.content, tmp_path)
        for value in (str(record.id), record.sha256, registration.reference, "14.1.105.0/24"):
            assert value in text, (language, value)
        assert (heading in text) if heading else ("Exemption statement" not in text)
    login(client, world.other_applicant)
    assert client.get(link).status_code == 404
