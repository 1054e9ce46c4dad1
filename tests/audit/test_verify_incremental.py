"""verify-log reads rows, not models, and nightly only the records after its anchor (invariant 7)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Max

from tests.audit.conftest import sql
from vpnregistry.audit.models import AuditEvent, VerifyRun
from vpnregistry.audit.services import (
    _canonical_data,
    _digests,
    _read,
    make_checkpoint,
    record,
    record_verify_run,
    verify_chain,
    walk,
)

AWKWARD = [
    ("quotes", 'a "quoted" word, a back\\slash and a tab\t', {"said": 'he said "no"\n'}),
    ("controls", "bell\x07 escape\x1b delete\x7f", {"\x01key": "\x1f", "list": ["\x02"]}),
    ("urdu", "دستاویزات نامکمل ہیں", {"وجہ": "نامکمل", "ok": True}),
    ("separators", "line\u2028paragraph\u2029end", {"emoji": "🛡️ VPN", "é": 1, "e": 2, "E": 3}),
    ("nested", "", {"b": {"z": [1, 2.5, -0.1, None, False], "a": {}}, "a": [], "n": 10**20}),
    ("spacer lookalike", "", {"s": ',"\\u0000",', "t": "\\u0000", "u": "[1,2]"}),
    ("empty", "", {}),
]


def _rows_and_hashes():
    rows, ats = _read(seqs=list(AuditEvent.objects.values_list("seq", flat=True)))
    return _digests(rows, ats), [row[10] for row in rows]


def test_rows_hash_to_the_bytes_record_hashed(world):
    # Every record is hashed by record() with _digest; read back as rows, each must come out the same.
    karachi = timezone(timedelta(hours=5))
    for n, (name, reason, data) in enumerate(AWKWARD):
        at = datetime(2026, 3, 1, 9, n, n, 0 if n % 2 else 123456 + n, tzinfo=karachi if n % 3 else UTC)
        record(
            actor=None,
            action=f"test.{name}",
            object_type="test",
            object_id=name,
            reason=reason,
            data=data,
            at=at,
        )
    digests, stored = _rows_and_hashes()
    assert len(digests) == len(AWKWARD) and digests == stored
    assert verify_chain().ok


def test_data_encoded_a_page_at_a_time_matches_one_at_a_time(monkeypatch):
    texts = [json.dumps(data) for _name, _reason, data in AWKWARD] + ["{}", "[]", '"text"', "3"]
    one_by_one = [walk._canonical_one(text) for text in texts]
    assert one_by_one[0] == '{"said":"he said \\"no\\"\\n"}'
    monkeypatch.setattr(walk, "connection", SimpleNamespace(vendor="postgresql"))
    # The lookalike of the spacer sends that page through one text at a time; the rest go together.
    assert _canonical_data(texts) == one_by_one
    assert _canonical_data(texts[:5] + texts[6:]) == one_by_one[:5] + one_by_one[6:]
    # A text that is not one JSON value (never from jsonb) is still read as Django would read it.
    assert _canonical_data(["[1", "2]"]) == ['"[1"', '"2]"']
    assert _canonical_data([]) == []


def test_a_stored_time_without_a_fraction_or_in_another_form_reads_as_django_reads_it():
    assert walk._sqlite_at("2026-03-01 09:00:00") == "2026-03-01T09:00:00.000000+00:00"
    assert walk._sqlite_at("2026-03-01 09:00:00.000120") == "2026-03-01T09:00:00.000120+00:00"
    assert walk._sqlite_at("2026-03-01T14:00:00.5+05:00") == "2026-03-01T09:00:00.500000+00:00"
    assert walk._sqlite_at("not a time") == "not a time"


@pytest.fixture
def verified(log):
    """The log after a checkpoint and a successful run (the anchor), plus three newer records."""
    anchor = make_checkpoint().checkpoint
    record_verify_run(verify_chain())
    for n in range(3):
        record(actor=log.officer, action="test.later", object_type="test", object_id=str(n))
    return SimpleNamespace(anchor=anchor.count, head=anchor.count + 3)


def nightly():
    return verify_chain(incremental=True)


def test_the_nightly_run_reads_only_the_records_after_the_anchor(verified):
    report = nightly()
    assert report.ok and report.start == verified.anchor and report.checked == verified.head
    assert f"read from record {verified.anchor + 1} on" in report.note
    assert verify_chain().ok and verify_chain().start == 0


def test_the_nightly_run_detects_an_edit_after_the_anchor(verified):
    sql("UPDATE {table} SET reason = %s WHERE seq = %s", ["quietly changed", verified.anchor + 2])
    report = nightly()
    assert not report.ok and report.first_bad_seq == verified.anchor + 2
    assert "content" in report.problem and report.checked == verified.anchor + 1


def test_the_nightly_run_detects_a_deleted_tail(verified):
    # The run of the first three new records counted them; no checkpoint has yet.
    record_verify_run(nightly())
    sql("DELETE FROM {table} WHERE seq > %s", [verified.anchor + 1])
    for report in (nightly(), verify_chain()):
        assert not report.ok and report.first_bad_seq == verified.anchor + 2
        assert f"records {verified.anchor + 2} to {verified.head} are missing" in report.problem
        assert f"counted {verified.head}" in report.problem


def test_the_nightly_run_detects_a_tail_cut_back_past_the_anchor(verified):
    sql("DELETE FROM {table} WHERE seq >= %s", [verified.anchor - 1])
    # The nightly run looks the anchor up; it does not read the record before it.
    report = nightly()
    assert not report.ok and report.first_bad_seq == verified.anchor
    assert f"record {verified.anchor} is missing: the checkpoint of" in report.problem
    full = verify_chain()
    assert not full.ok and full.first_bad_seq == verified.anchor - 1
    assert f"records {verified.anchor - 1} to {verified.anchor} are missing" in full.problem


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [("reason", "rewritten", "content"), ("hash", "f" * 64, "differs from the one the checkpoint")],
)
def test_the_nightly_run_and_the_full_run_detect_a_broken_anchor(verified, column, value, problem):
    sql(f"UPDATE {{table}} SET {column} = %s WHERE seq = %s", [value, verified.anchor])
    report = nightly()
    assert not report.ok and report.first_bad_seq == verified.anchor and problem in report.problem
    assert report.checked == verified.anchor - 1
    full = verify_chain()
    assert not full.ok and full.first_bad_seq == verified.anchor


def test_an_old_edit_is_seen_by_the_full_run_only_and_then_by_every_run(verified):
    sql("UPDATE {table} SET reason = %s WHERE seq = 3", ["quietly changed"])
    # Record 3 lies before the anchor and no checkpoint counted it: the nightly run cannot see it.
    assert nightly().ok
    full = verify_chain()
    assert not full.ok and full.first_bad_seq == 3 and "content" in full.problem
    # Once a run has found the chain broken, the next nightly run reads the whole log again.
    record_verify_run(full)
    report = nightly()
    assert not report.ok and report.first_bad_seq == 3 and report.start == 0
    assert "found the chain broken" in report.note


def test_an_older_checkpointed_record_is_checked_by_the_nightly_run(log):
    first = make_checkpoint(force=True).checkpoint
    record(actor=None, action="test.between", object_type="test", object_id="1")
    make_checkpoint(force=True)
    record_verify_run(verify_chain())
    sql("UPDATE {table} SET actor_label = %s WHERE seq = %s", ["someone-else", first.count])
    report = nightly()
    assert report.start == first.count + 1
    assert not report.ok and report.first_bad_seq == first.count and "content" in report.problem


def test_without_a_verified_checkpoint_the_nightly_run_reads_everything(log):
    assert "no earlier run" in nightly().note
    record_verify_run(verify_chain())
    # A checkpoint made after the last run was not verified by it.
    make_checkpoint()
    report = nightly()
    assert report.ok and report.start == 0 and "no checkpoint that the last run" in report.note
    record_verify_run(report)
    assert nightly().start == AuditEvent.objects.aggregate(m=Max("seq"))["m"]


def test_verify_log_is_nightly_by_default_and_full_on_request(verified, capsys):
    sql("UPDATE {table} SET reason = %s WHERE seq = 2", ["quietly changed"])
    call_command("verify-log")
    out = capsys.readouterr().out
    assert "The audit chain verifies" in out and f"read from record {verified.anchor + 1} on" in out
    assert VerifyRun.objects.order_by("-id").first().checked == verified.head
    with pytest.raises(CommandError, match="audit record 2: its content does not match its hash"):
        call_command("verify-log", "--full")
    with pytest.raises(CommandError, match="found the chain broken: the whole log was read"):
        call_command("verify-log")


def test_another_database_is_read_through_the_orm(log, monkeypatch):
    # Neither PostgreSQL nor SQLite: rows come through the ORM's converters, hashed the same way.
    monkeypatch.setattr(walk, "connection", SimpleNamespace(vendor="other"))
    report = verify_chain(batch=5)
    assert report.ok and report.checked == AuditEvent.objects.count()
    sql("UPDATE {table} SET data = %s WHERE seq = 4", ['{"value": "changed"}'])
    report = verify_chain(batch=5)
    assert not report.ok and report.first_bad_seq == 4
