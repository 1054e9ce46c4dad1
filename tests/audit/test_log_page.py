"""The auditors' view of the log: who may see it, filters, keyset paging, masking, chain status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.audit.conftest import sql
from tests.auth import login
from vpnregistry.audit.models import AuditEvent
from vpnregistry.audit.selectors import mask, mask_text
from vpnregistry.audit.services import make_checkpoint, record


@pytest.fixture
def as_user(client):
    def _as(user):
        login(client, user)
        return client

    return _as


def seqs(response) -> list[int]:
    return [row["event"].seq for row in response.context["rows"]]


def test_auditors_and_officers_read_the_log(as_user, log):
    for user in (log.auditor, log.officer):
        response = as_user(user).get("/audit/")
        assert response.status_code == 200
        assert seqs(response) == sorted(AuditEvent.objects.values_list("seq", flat=True), reverse=True)


@pytest.mark.parametrize("who", ["applicant", "agency", "operator"])
def test_everyone_else_gets_404(as_user, log, who):
    assert as_user(getattr(log, who)).get("/audit/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, log):
    response = client.get("/audit/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_each_record_shows_its_fields(as_user, log):
    event = AuditEvent.objects.get(action="application.approve")
    html = as_user(log.auditor).get("/audit/").content.decode()
    row = html[html.index(f'id="seq-{event.seq}"') :].split("</tr>")[0]
    for text in [str(event.seq), "officer", "application.approve", f"application:{event.object_id}"]:
        assert text in row
    assert "awaiting_decision → approved" in row and ">ok<" in row and event.hash[:12] in row


def test_filter_by_action_object_actor(as_user, log):
    client = as_user(log.auditor)
    approve = client.get("/audit/", {"action": "application.approve"})
    assert [r["event"].action for r in approve.context["rows"]] == ["application.approve"]
    every = client.get("/audit/", {"action": "application."})
    assert {r["event"].action for r in every.context["rows"]} >= {"application.create", "application.approve"}
    assert all(r["event"].action.startswith("application.") for r in every.context["rows"])
    application_id = AuditEvent.objects.get(action="application.approve").object_id
    one = client.get("/audit/", {"object_type": "application", "object_id": application_id})
    assert {(r["event"].object_type, r["event"].object_id) for r in one.context["rows"]} == {
        ("application", application_id)
    }
    by_operator = client.get("/audit/", {"actor": "indus-staff"})
    assert by_operator.context["rows"]
    assert {r["event"].actor_label for r in by_operator.context["rows"]} == {"indus-staff"}
    assert "resource.attest" in {r["event"].action for r in by_operator.context["rows"]}


def test_filter_by_date_range(as_user, log):
    old = datetime(2025, 3, 10, 10, tzinfo=UTC)
    record(actor=None, action="test.old", object_type="test", object_id="1", at=old)
    client = as_user(log.auditor)
    march = client.get("/audit/", {"since": "2025-03-10", "until": "2025-03-10"})
    assert [r["event"].action for r in march.context["rows"]] == ["test.old"]
    later = client.get("/audit/", {"since": "2025-03-11"})
    assert "test.old" not in {r["event"].action for r in later.context["rows"]}
    assert client.get("/audit/", {"since": "not-a-date"}).status_code == 200


def test_keyset_paging_never_counts_or_offsets(as_user, world):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(120):
        record(actor=None, action="test.bulk", object_type="test", object_id=str(i), at=start + timedelta(i))
    client = as_user(world.auditor)
    with CaptureQueriesContext(connection) as queries:
        first = client.get("/audit/", {"action": "test.bulk"})
    audit_sql = [q["sql"] for q in queries.captured_queries if "audit_auditevent" in q["sql"]]
    assert audit_sql
    assert not any("COUNT(" in q.upper() or "OFFSET" in q.upper() for q in audit_sql)
    seen = seqs(first)
    assert seen == list(range(120, 70, -1))
    before = first.context["next_before"]
    second = client.get("/audit/", {"action": "test.bulk", "before": before})
    third = client.get("/audit/", {"action": "test.bulk", "before": second.context["next_before"]})
    assert seqs(second) == list(range(70, 20, -1))
    assert seqs(third) == list(range(20, 0, -1)) and third.context["next_before"] is None
    # The "older" link keeps the filter.
    assert "action=test.bulk&amp;before=" in first.content.decode()


def test_identifiers_in_data_are_masked_for_auditors(as_user, log):
    secret = {
        "cnic": "35202-1234567-1",
        "note": "NTN 1234567-8 and CNIC 3520212345671",
        "sha256": "ab1234567890123cd" + "0" * 47,
        "application": "VR-2026-000123",
        "value": "14.1.105.0/24",
    }
    record(actor=log.officer, action="test.identifiers", object_type="test", object_id="1", data=secret)
    auditor = as_user(log.auditor).get("/audit/", {"action": "test.identifiers"}).content.decode()
    for hidden in ["35202-1234567-1", "1234567-8", "3520212345671"]:
        assert hidden not in auditor
    for shown in ["ab1234567890123cd", "VR-2026-000123", "14.1.105.0/24"]:
        assert shown in auditor
    officer = as_user(log.officer).get("/audit/", {"action": "test.identifiers"}).content.decode()
    # Free text is shown to officers as written; a value under an identifier's key was never
    # stored in full (audit.services.record masks it before hashing).
    assert "3520212345671" in officer
    assert "35202-1234567-1" not in officer and "*****-*****67-1" in officer


def test_mask_leaves_ordinary_figures_alone():
    assert mask({"serial": 12, "ipv4": 1234567, "ids": [3520212345671]}) == {
        "serial": 12,
        "ipv4": 1234567,
        "ids": ["•••"],
    }
    assert mask_text("CNIC 35202-1234567-1, NTN 0712345") == "CNIC •••, NTN •••"
    assert mask_text("2026-11-28T10:00:00+00:00 VR-2026-000001") == "2026-11-28T10:00:00+00:00 VR-2026-000001"


def test_page_shows_latest_checkpoint_and_verify_result_without_a_scan(as_user, log):
    client = as_user(log.auditor)
    html = client.get("/audit/").content.decode()
    assert "none yet" in html and "never run" in html
    cp = make_checkpoint().checkpoint
    call_command("verify-log")
    html = client.get("/audit/").content.decode()
    assert f"{cp.count} records" in html and cp.hash[:16] in html and "the chain verifies" in html
    sql("UPDATE {table} SET reason = %s WHERE seq = 2", ["tampered"])
    # Viewing the page does not verify: it reports the latest run ...
    assert "the chain verifies" in client.get("/audit/").content.decode()
    # An edit that old is for the full run: the nightly one starts after the checkpoint.
    with pytest.raises(Exception, match="audit record 2"):
        call_command("verify-log", "--full")
    # ... and after the next run, the breakage.
    html = client.get("/audit/").content.decode()
    assert "broken at record 2" in html
