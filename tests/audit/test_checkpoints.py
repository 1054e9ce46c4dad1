"""Signed checkpoints: once a UTC day, served publicly, verifiable with our code and with minisign."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.audit.conftest import sql
from tests.conftest import require_tool
from vpnregistry.audit.models import AuditEvent, Checkpoint
from vpnregistry.audit.services import GENESIS, make_checkpoint, record, trusted_comment, verify_chain
from vpnregistry.signing import keys
from vpnregistry.signing.minisign import SignatureError, SigningKey, verify


def test_a_checkpoint_signs_the_count_and_the_latest_hash(log):
    result = make_checkpoint()
    assert result.created
    cp = result.checkpoint
    last = AuditEvent.objects.order_by("-seq").first()
    assert (cp.count, cp.hash) == (last.seq, last.hash)
    body = json.loads(cp.body)
    assert body["count"] == last.seq and body["hash"] == last.hash and body["previous"] == ""
    _key, comment = verify(cp.body.encode(), cp.signature, [keys.current_key().public])
    assert f"count={last.seq}" in comment and f"hash={last.hash}" in comment


def test_an_empty_log_has_a_checkpoint_too(world):
    cp = make_checkpoint().checkpoint
    assert (cp.count, cp.hash) == (0, GENESIS)
    assert verify_chain().ok


def test_one_checkpoint_a_utc_day_unless_forced(log):
    now = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
    first = make_checkpoint(now=now)
    record(actor=None, action="test.more", object_type="test", object_id="1")
    again = make_checkpoint(now=now + timedelta(minutes=30))
    assert not again.created and again.checkpoint.pk == first.checkpoint.pk
    forced = make_checkpoint(now=now + timedelta(minutes=31), force=True)
    assert forced.created and forced.checkpoint.count == first.checkpoint.count + 1
    next_day = make_checkpoint(now=now + timedelta(hours=2))
    assert next_day.created and str(next_day.checkpoint.day) == "2026-11-29"
    assert Checkpoint.objects.count() == 3
    # Each names the one before it.
    bodies = [json.loads(c.body) for c in Checkpoint.objects.order_by("id")]
    assert all(b["previous"] for b in bodies[1:])
    assert verify_chain().ok


def test_the_command_is_idempotent(log, capsys):
    call_command("checkpoint")
    call_command("checkpoint")
    out = capsys.readouterr().out
    assert "Signed" in out and "Already signed today" in out
    assert Checkpoint.objects.count() == 1
    call_command("checkpoint", "--force")
    assert Checkpoint.objects.count() == 2


def test_no_checkpoint_over_a_broken_chain(log):
    sql("UPDATE {table} SET reason = %s WHERE seq = 2", ["changed"])
    with pytest.raises(CommandError, match="broken"):
        call_command("checkpoint")
    assert not Checkpoint.objects.exists()


def test_a_changed_checkpoint_is_detected(log):
    cp = make_checkpoint().checkpoint
    table = connection.ops.quote_name(Checkpoint._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET count = %s WHERE id = %s", [cp.count - 1, cp.pk])
    report = verify_chain()
    assert not report.ok and "changed after it was signed" in report.problem


def test_a_checkpoint_signed_by_an_unknown_key_is_detected(log):
    cp = make_checkpoint().checkpoint
    # Signed by a key this registry never used nor announced.
    stranger = SigningKey.generate().sign(
        cp.body.encode(), trusted_comment=trusted_comment(count=cp.count, hash=cp.hash, day=cp.day)
    )
    table = connection.ops.quote_name(Checkpoint._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET signature = %s WHERE id = %s", [stranger, cp.pk])
    report = verify_chain()
    assert not report.ok and "does not verify" in report.problem


def test_a_checkpoint_signed_with_a_retired_key_verifies_where_that_key_never_was(log, settings, tmp_path):
    make_checkpoint()
    # Another server, whose keys folder never held the key that signed: the database knows its public key.
    settings.ALLOWLIST_KEYS_DIR = tmp_path / "other-keys"
    assert verify_chain().ok


def test_a_checkpoint_survives_key_rotation(log):
    make_checkpoint()
    keys.rotate(min_announce=timedelta(0))
    keys.rotate(min_announce=timedelta(0))
    assert verify_chain().ok


def test_latest_checkpoint_is_public(client, log):
    assert client.get("/transparency/checkpoints/latest.json").status_code == 404
    cp = make_checkpoint().checkpoint
    body = client.get("/transparency/checkpoints/latest.json")
    signature = client.get("/transparency/checkpoints/latest.json.minisig")
    assert body.status_code == signature.status_code == 200
    assert body["Content-Type"] == "application/json"
    assert body.content == cp.body.encode()
    public = keys.current_key().public
    key_text = client.get("/transparency/key.pub").content.decode()
    assert key_text == public.to_file()
    _key, comment = verify(body.content, signature.content.decode(), [public])
    assert f"count={cp.count}" in comment
    with pytest.raises(SignatureError):
        verify(body.content.replace(b'"count"', b'"Count"'), signature.content.decode(), [public])
    assert client.get(f"/transparency/checkpoints/{cp.pk}.json").content == cp.body.encode()
    assert client.get(f"/transparency/checkpoints/{cp.pk}.json.minisig").content == cp.signature.encode()
    assert client.get("/transparency/checkpoints/999.json").status_code == 404


def test_past_checkpoints_are_listed_and_paged(client, log):
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    for day in range(55):
        make_checkpoint(now=start + timedelta(days=day))
    first = client.get("/transparency/checkpoints/")
    assert first.status_code == 200
    html = first.content.decode()
    assert "2026-02-24" in html and "2026-01-01" not in html
    older = first.context["page"].next_before
    assert older is not None
    second = client.get(f"/transparency/checkpoints/?before={older}").content.decode()
    assert "2026-01-01" in second and "2026-02-24" not in second


def test_real_minisign_verifies_a_checkpoint(client, log, tmp_path):
    minisign = require_tool("minisign")
    make_checkpoint()
    (tmp_path / "key.pub").write_bytes(client.get("/transparency/key.pub").content)
    (tmp_path / "latest.json").write_bytes(client.get("/transparency/checkpoints/latest.json").content)
    (tmp_path / "latest.json.minisig").write_bytes(
        client.get("/transparency/checkpoints/latest.json.minisig").content
    )
    result = subprocess.run(
        [minisign, "-Vm", str(tmp_path / "latest.json"), "-p", str(tmp_path / "key.pub")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "vpnregistry audit checkpoint" in result.stdout
    forged = tmp_path / "latest.json"
    forged.write_text(forged.read_text().replace('"count": ', '"count": 1'))
    result = subprocess.run(
        [minisign, "-Vm", str(forged), "-p", str(tmp_path / "key.pub")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
