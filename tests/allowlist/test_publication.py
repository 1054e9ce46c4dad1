"""Publication: snapshots, deltas, signatures, the index, key rotation and the HTTP side."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import random
import subprocess
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import require_tool
from tests.http import as_json
from tests.workflow import approved
from vpnregistry.allowlist.deltas import apply_delta
from vpnregistry.allowlist.formats import Allowlist
from vpnregistry.allowlist.models import OperatorSync, SignedIndex, Snapshot
from vpnregistry.allowlist.services import file_path, publish_snapshot
from vpnregistry.registrations.models import Registration
from vpnregistry.signing import keys
from vpnregistry.signing.minisign import PublicKey, SigningKey, prehash, verify


def index_of(world, user=None):
    client = world.client(user or world.operator)
    raw = client.get("/api/v1/allowlist/index.json").content
    signature = client.get("/api/v1/allowlist/index.json.minisig").content.decode()
    return raw, signature


def test_every_published_file_has_a_verifying_signature(world):
    approved(world, "14.1.105.0/24", "2001:dd8:1c:1::/64")
    approved(world, "14.1.106.0/24")
    snapshot = Snapshot.objects.latest()
    assert {"txt", "json", "nft", "ipset", "bird", "cisco", "juniper", "mikrotik", "delta.json"} <= set(
        snapshot.files
    )
    public = keys.current_key().public
    for name, meta in snapshot.files.items():
        data = file_path(snapshot, name).read_bytes()
        _, comment = verify(data, file_path(snapshot, name + ".minisig").read_text(), [public])
        assert f"serial={snapshot.serial}" in comment and f"sha256={meta['sha256']}" in comment
        assert meta["size"] == len(data)


def test_real_minisign_verifies_published_files(world, tmp_path):
    minisign = require_tool("minisign")
    approved(world, "14.1.105.0/24")
    snapshot = Snapshot.objects.latest()
    pub = tmp_path / "key.pub"
    pub.write_text(world.client(world.operator).get("/api/v1/allowlist/key.pub").content.decode())
    for name in ["txt", "json", "nft"]:
        result = subprocess.run(
            [minisign, "-Vm", str(file_path(snapshot, name)), "-p", str(pub)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert f"serial={snapshot.serial}" in result.stdout
    raw, signature = index_of(world)
    (tmp_path / "index.json").write_bytes(raw)
    (tmp_path / "index.json.minisig").write_text(signature)
    result = subprocess.run(
        [minisign, "-Vm", str(tmp_path / "index.json"), "-p", str(pub)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # A changed byte is caught by the real tool too.
    path = file_path(snapshot, "txt")
    tampered = tmp_path / "tampered.txt"
    tampered.write_bytes(path.read_bytes().replace(b"14.1.105.0/24", b"14.1.105.0/23"))
    (tmp_path / "tampered.txt.minisig").write_bytes(file_path(snapshot, "txt.minisig").read_bytes())
    result = subprocess.run(
        [minisign, "-Vm", str(tampered), "-p", str(pub)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0


def test_snapshots_hold_no_applicant_identity(world):
    approved(world, "14.1.105.0/24")
    snapshot = Snapshot.objects.latest()
    for name in snapshot.files:
        text = file_path(snapshot, name).read_text()
        for secret in [world.org.name, "SUB-1", world.applicant.username, world.indus.code]:
            assert secret not in text, (name, secret)


@pytest.mark.parametrize("seed", range(4))
def test_invariant_5_snapshot_plus_deltas_equals_later_snapshot(world, seed):
    """On a random history of registrations coming and going, any snapshot s plus deltas (s, t] is t."""
    rng = random.Random(seed)
    pool = [str(n) for n in ipaddress.ip_network("14.1.104.0/22").subnets(new_prefix=27)]
    pool += [str(n) for n in ipaddress.ip_network("2001:dd8:1c::/56").subnets(new_prefix=60)]
    approved(world, pool[0])
    template = Registration.objects.get()
    now = timezone.now()
    for step in range(12):
        for value in rng.sample(pool, rng.randint(1, 6)):
            _register(world, template, value, now)
        active = list(Registration.objects.filter(state="active"))
        for r in rng.sample(active, min(len(active), rng.randint(0, 4))):
            Registration.objects.filter(pk=r.pk).update(state=rng.choice(["revoked", "suspended", "expired"]))
        publish_snapshot(at=now + timedelta(minutes=step))
    snapshots = list(Snapshot.objects.order_by("serial"))
    assert len(snapshots) >= 6
    docs = {s.serial: Allowlist.from_json(s.content) for s in snapshots}
    deltas = {
        s.serial: json.loads(file_path(s, "delta.json").read_text())
        for s in snapshots
        if "delta.json" in s.files
    }
    serials = sorted(docs)
    for i, s in enumerate(serials):
        held = docs[s]
        for t in serials[i + 1 :]:
            held = apply_delta(held, deltas[t])
            assert (held.ipv4, held.ipv6) == (docs[t].ipv4, docs[t].ipv6)


def _register(world, template, value, now):
    # Registrations made straight in the table: the workflow is tested elsewhere; this is about history.
    from vpnregistry.applications.models import Resource
    from vpnregistry.db import network_keys

    net = ipaddress.ip_network(value)
    family, first, last = network_keys(net)
    resource = Resource.objects.create(
        application=template.resource.application,
        kind=f"ipv{family}",
        value=value,
        family=family,
        first=first,
        last=last,
        operator=world.indus,
        subscriber_id="S",
        state="confirmed",
    )
    return Registration.objects.create(
        resource=resource,
        organisation=world.org,
        operator=world.indus,
        kind=f"ipv{family}",
        value=value,
        family=family,
        first=first,
        last=last,
        state="active",
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=30),
    )


def test_index_names_files_deltas_and_keys(world):
    approved(world, "14.1.105.0/24")
    approved(world, "14.1.106.0/24")
    raw, signature = index_of(world)
    key, _ = verify(raw, signature, [keys.current_key().public])
    index = json.loads(raw)
    latest = Snapshot.objects.latest()
    assert index["serial"] == latest.serial and index["session"] == latest.session
    assert index["snapshot"]["files"]["json"]["sha256"] == latest.files["json"]["sha256"]
    assert index["snapshot"]["files"]["txt"]["url"] == f"/api/v1/allowlist/{latest.serial}.txt"
    assert [(d["from"], d["to"]) for d in index["deltas"]] == [(1, 2)]
    assert index["keys"]["current"] == key.to_minisign() and index["keys"]["next"] is None


def test_key_rotation_announces_then_switches(world, settings):
    approved(world, "14.1.105.0/24")
    old = keys.current_key().public
    call_command("keys", "rotate", stdout=open("/dev/null", "w"))  # noqa: SIM115
    raw, signature = index_of(world)
    index = json.loads(raw)
    announced = PublicKey.from_text(index["keys"]["next"])
    verify(raw, signature, [old])  # still signed by the old key
    with pytest.raises(Exception, match="announced"):
        call_command("keys", "rotate")
    call_command("keys", "rotate", "--force", stdout=open("/dev/null", "w"))  # noqa: SIM115
    raw, signature = index_of(world)
    verify(raw, signature, [announced])
    assert json.loads(raw)["keys"]["current"] == announced.to_minisign()
    assert (settings.ALLOWLIST_KEYS_DIR / "retired" / f"{old.key_id_hex}.json").exists()
    mode = (settings.ALLOWLIST_KEYS_DIR / "current.json").stat().st_mode & 0o777
    assert mode == 0o600


def test_conditional_get_and_caching_headers(world):
    approved(world, "14.1.105.0/24")
    client = world.client(world.operator)
    first = client.get("/api/v1/allowlist/latest.nft")
    assert first.status_code == 200 and first["ETag"]
    assert "no-cache" in first["Cache-Control"]
    assert client.get("/api/v1/allowlist/latest.nft", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    fixed = client.get("/api/v1/allowlist/1.nft")
    assert "immutable" in fixed["Cache-Control"] and fixed["ETag"] == first["ETag"]
    assert client.get("/api/v1/allowlist/1.nft.minisig").status_code == 200
    index = client.get("/api/v1/allowlist/index.json")
    assert client.get("/api/v1/allowlist/index.json", HTTP_IF_NONE_MATCH=index["ETag"]).status_code == 304
    assert client.get("/api/v1/allowlist/99.txt").status_code == 404
    assert client.get("/api/v1/allowlist/1.exe").status_code == 404
    assert client.get("/api/v1/allowlist/1.../etc/passwd").status_code == 404


def test_downloads_are_logged_per_operator(world):
    approved(world, "14.1.105.0/24")
    client = world.client(world.operator)
    client.get("/api/v1/allowlist/index.json")
    client.get("/api/v1/allowlist/latest.txt")
    sync = OperatorSync.objects.get(operator=world.indus)
    assert sync.last_serial == 1 and sync.downloads == 2 and sync.last_file == "txt"
    world.client(world.officer).get("/api/v1/allowlist/latest.txt")
    assert OperatorSync.objects.count() == 1


def test_polls_of_one_serial_are_written_once_a_minute_and_a_new_serial_at_once(world, settings):
    from vpnregistry.allowlist import selectors

    settings.DOWNLOAD_NOTE_SECONDS = 60
    selectors._unwritten.clear()
    approved(world, "14.1.105.0/24")
    client = world.client(world.operator)
    for _ in range(5):
        client.get("/api/v1/allowlist/index.json")
    sync = OperatorSync.objects.get(operator=world.indus)
    assert (sync.last_serial, sync.downloads) == (1, 1)  # the first poll wrote; four wait
    approved(world, "14.1.106.0/24")  # serial 2
    client.get("/api/v1/allowlist/index.json")
    sync.refresh_from_db()
    # A new serial is written at once, with the polls counted since the last write.
    assert (sync.last_serial, sync.downloads) == (2, 6)


def test_mobile_numbers_go_only_to_their_operator(world):
    from tests.factories import OperatorFactory, UserFactory

    sabz = OperatorFactory(code="sabz", kind="mobile")
    other = OperatorFactory(code="other", kind="mobile")
    sabz_staff = UserFactory(username="sabz-staff", role="operator", operator=sabz)
    approved(world, "14.1.105.0/24")
    client = world.client(sabz_staff)
    assert client.get("/api/v1/allowlist/latest.msisdn.csv").status_code == 200
    assert client.get("/api/v1/allowlist/latest.msisdn.sabz.csv").status_code == 200
    assert client.get(f"/api/v1/allowlist/latest.msisdn.{other.code}.csv").status_code == 404
    assert world.client(world.officer).get("/api/v1/allowlist/latest.msisdn.sabz.csv").status_code == 200
    body = as_json(world.client(world.operator).get("/api/v1/allowlist/latest.json"))
    assert body["msisdn"] == {}


def test_nothing_changed_means_no_new_serial_but_a_fresh_index(world):
    approved(world, "14.1.105.0/24")
    assert publish_snapshot() is None
    assert SignedIndex.objects.get().serial == 1
    assert settings.ALLOWLIST_DIR.exists()


def test_regulator_sees_who_runs_behind(world):
    approved(world, "14.1.105.0/24")
    world.client(world.operator).get("/api/v1/allowlist/latest.txt")
    approved(world, "14.1.106.0/24")
    rows = {
        r["code"]: r
        for r in world.client(world.officer).get("/api/v1/allowlist/operators/").json()["results"]
    }
    assert rows["indus"]["last_serial"] == 1 and rows["indus"]["behind"] == 1
    assert rows["margalla"]["last_serial"] is None and rows["margalla"]["behind"] == 2
    assert world.client(world.auditor).get("/api/v1/allowlist/operators/").status_code == 200
    for user in (world.operator, world.applicant, world.agency):
        assert world.client(user).get("/api/v1/allowlist/operators/").status_code == 403


def test_a_signature_from_the_prehash_is_the_signature_of_the_data():
    """Publication takes the BLAKE2b beside other work and signs the digest: the same signature
    (Ed25519 is deterministic), and a digest of any other length is refused."""
    key = SigningKey.generate()
    data = b"14.1.104.0/24\n" * 1000
    comment = "vpnregistry session=s serial=1 file=txt sha256=x"
    signed = key.sign_prehashed(prehash(data), trusted_comment=comment)
    assert signed == key.sign(data, trusted_comment=comment)
    assert verify(data, signed, [key.public]) == (key.public, comment)
    with pytest.raises(ValueError, match="64 bytes"):
        key.sign_prehashed(hashlib.sha256(data).digest(), trusted_comment=comment)
