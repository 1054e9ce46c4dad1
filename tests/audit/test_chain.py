"""Invariant 7: the audit log is append-only and its chain verifies; tampering is detected."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Max

from tests.audit.conftest import sql
from vpnregistry.audit.models import AuditEvent, VerifyRun
from vpnregistry.audit.services import make_checkpoint, record, verify_chain


def test_invariant_7_an_untouched_chain_verifies(log):
    report = verify_chain()
    assert report.ok and report.checked == AuditEvent.objects.count()


def test_invariant_7_the_application_cannot_edit_or_delete_a_record(log):
    event = AuditEvent.objects.get(seq=2)
    event.reason = "rewritten"
    attempts = [
        event.save,
        event.delete,
        lambda: AuditEvent.objects.filter(seq=2).update(reason="rewritten"),
        lambda: AuditEvent.objects.filter(seq__gt=5).delete(),
        lambda: AuditEvent.objects.bulk_update([event], ["reason"]),
        lambda: AuditEvent.objects.update_or_create(seq=2, defaults={"reason": "rewritten"}),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionError), transaction.atomic():
            attempt()
    assert AuditEvent.objects.get(seq=2).reason == ""
    assert verify_chain().ok


def test_invariant_7_a_changed_record_is_detected(log):
    sql("UPDATE {table} SET reason = %s WHERE seq = 3", ["quietly changed"])
    report = verify_chain()
    assert not report.ok
    assert report.first_bad_seq == 3 and "content" in report.problem
    assert report.checked == 2


def test_invariant_7_changed_data_is_detected(log):
    event = AuditEvent.objects.filter(action="registration.create").get()
    sql("UPDATE {table} SET data = %s WHERE seq = %s", ['{"value": "14.1.0.0/16"}', event.seq])
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == event.seq


def test_invariant_7_a_deleted_record_is_detected(log):
    sql("DELETE FROM {table} WHERE seq = 4")
    report = verify_chain()
    assert not report.ok
    assert report.first_bad_seq == 4 and "missing" in report.problem


def test_invariant_7_a_deleted_and_renumbered_record_is_detected(log):
    # Closing the gap by renumbering the rest does not help: each hash covers its seq and its link.
    last = AuditEvent.objects.aggregate(m=Max("seq"))["m"]
    sql("DELETE FROM {table} WHERE seq = 4")
    for seq in range(5, last + 1):
        sql("UPDATE {table} SET seq = %s WHERE seq = %s", [seq - 1, seq])
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == 4


def test_invariant_7_two_swapped_records_are_detected(log):
    sql("UPDATE {table} SET seq = 1000000 WHERE seq = 3")
    sql("UPDATE {table} SET seq = 3 WHERE seq = 5")
    sql("UPDATE {table} SET seq = 5 WHERE seq = 1000000")
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == 3


def test_invariant_7_a_truncated_tail_is_caught_by_the_checkpoint(log):
    make_checkpoint()
    last = AuditEvent.objects.aggregate(m=Max("seq"))["m"]
    sql("DELETE FROM {table} WHERE seq > %s", [last - 2])
    # The shorter chain is consistent in itself ...
    assert verify_chain(checkpoints=False).ok
    # ... but not with what was signed.
    report = verify_chain()
    assert not report.ok
    assert report.first_bad_seq == last - 1
    assert f"records {last - 1} to {last} are missing" in report.problem


def test_invariant_7_a_rewritten_tail_after_a_checkpoint_is_detected(log):
    make_checkpoint()
    last = AuditEvent.objects.order_by("-seq").first()
    sql("DELETE FROM {table} WHERE seq = %s", [last.seq])
    # Someone appends a different record in its place, with a valid hash and link.
    record(actor=None, action="snapshot.publish", object_type="snapshot", object_id="99")
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == last.seq
    assert "checkpoint" in report.problem


def test_records_added_after_a_checkpoint_verify(log):
    make_checkpoint()
    record(actor=log.officer, action="test.later", object_type="test", object_id="1")
    assert verify_chain().ok


def test_verify_log_command_says_ok_and_keeps_the_result(log, capsys):
    call_command("verify-log")
    assert "The audit chain verifies" in capsys.readouterr().out
    run = VerifyRun.objects.get()
    assert run.ok and run.checked == AuditEvent.objects.count() and run.first_bad_seq is None


def test_verify_log_command_names_the_first_broken_record_and_fails(log):
    sql("UPDATE {table} SET actor_label = %s WHERE seq = 6", ["someone-else"])
    with pytest.raises(CommandError, match="audit record 6: its content does not match its hash"):
        call_command("verify-log")
    run = VerifyRun.objects.get()
    assert not run.ok and run.first_bad_seq == 6


def test_verify_log_exits_non_zero_when_broken(log):
    sql("DELETE FROM {table} WHERE seq = 2")
    # A CommandError is what makes `vpnregistry verify-log` exit with its returncode.
    with pytest.raises(CommandError) as failure:
        call_command("verify-log", "--no-record")
    assert failure.value.returncode != 0
    assert "audit record 2: record 2 is missing" in str(failure.value)
    assert not VerifyRun.objects.exists()


def test_verify_run_and_checkpoint_rows_are_append_only(log):
    cp = make_checkpoint().checkpoint
    cp.count = 1
    with pytest.raises(PermissionError):
        cp.save()
    with pytest.raises(PermissionError):
        type(cp).objects.all().delete()
    with pytest.raises(PermissionError):
        VerifyRun.objects.all().update(ok=True)
