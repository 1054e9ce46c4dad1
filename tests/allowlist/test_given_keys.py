"""Production is given its signing key, refuses to start without it, and rotates by deploying."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from tests.allowlist.test_publication import index_of
from tests.conftest import require_tool
from tests.workflow import approved
from vpnregistry.audit.services import make_checkpoint, verify_chain
from vpnregistry.signing import keys
from vpnregistry.signing.minisign import (
    PublicKey,
    SignatureError,
    SigningKey,
    make_key_main,
    read_secret_key,
    secret_key_text,
    verify,
)
from vpnregistry.signing.models import SigningPublicKey


def make_key(path) -> PublicKey:
    assert make_key_main([str(path)]) == 0
    return PublicKey.from_text(path.with_name(path.name + ".pub").read_text())


def _production(tmp_path, **extra) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VPNREGISTRY_", "DJANGO_"))}
    env.update(
        VPNREGISTRY_DEBUG="0",
        VPNREGISTRY_SECRET_KEY=secrets.token_urlsafe(50),
        VPNREGISTRY_FIELD_KEYS=Fernet.generate_key().decode(),
        VPNREGISTRY_VAR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="vpnregistry.settings",
        **extra,
    )
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True
    )


def _last_line(result) -> str:
    return result.stderr.strip().splitlines()[-1]


def test_production_refuses_to_start_without_a_signing_key(tmp_path):
    result = _production(tmp_path)
    assert result.returncode != 0
    assert "VPNREGISTRY_SIGNING_KEY_FILE must name the allowlist signing key" in _last_line(result)
    assert not (tmp_path / "keys").exists(), "a key was made"


def test_production_refuses_a_missing_or_broken_key_file(tmp_path):
    result = _production(tmp_path, VPNREGISTRY_SIGNING_KEY_FILE=str(tmp_path / "absent.key"))
    assert result.returncode != 0
    assert "VPNREGISTRY_SIGNING_KEY_FILE: cannot read" in _last_line(result) and "absent.key" in result.stderr
    (tmp_path / "broken.key").write_text("untrusted comment: x\nnot base64!\n")
    make_key(tmp_path / "good.key")
    result = _production(
        tmp_path,
        VPNREGISTRY_SIGNING_KEY_FILE=str(tmp_path / "good.key"),
        VPNREGISTRY_SIGNING_NEXT_KEY_FILE=str(tmp_path / "broken.key"),
    )
    assert result.returncode != 0
    assert "VPNREGISTRY_SIGNING_NEXT_KEY_FILE:" in _last_line(result) and "not a signing key" in result.stderr


def test_production_starts_with_a_given_key(tmp_path):
    make_key(tmp_path / "signing.key")
    result = _production(tmp_path, VPNREGISTRY_SIGNING_KEY_FILE=str(tmp_path / "signing.key"))
    assert result.returncode == 0, result.stderr


def test_make_signing_key_never_overwrites(tmp_path, capsys):
    public = make_key(tmp_path / "k")
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o600
    assert read_secret_key(tmp_path / "k").public == public
    assert make_key_main([str(tmp_path / "k")]) == 1
    assert "never overwritten" in capsys.readouterr().err
    assert read_secret_key(tmp_path / "k").public == public


def test_secret_keys_in_minisign_format_round_trip_and_are_checked():
    key = SigningKey.generate()
    text = secret_key_text(key)
    assert read_key(text) == key
    line = text.splitlines()[1]
    damaged = line[:-8] + ("A" if line[-8] != "A" else "B") + line[-7:]
    with pytest.raises(SignatureError, match="checksum"):
        read_key(text.replace(line, damaged))


def read_key(text):
    from vpnregistry.signing.minisign import parse_secret_key

    return parse_secret_key(text)


def test_minisign_reads_our_key_and_we_read_minisigns(tmp_path):
    minisign = require_tool("minisign")
    public = make_key(tmp_path / "ours.key")
    (tmp_path / "file").write_bytes(b"hello\n")
    signed = subprocess.run(
        [minisign, "-S", "-s", str(tmp_path / "ours.key"), "-m", str(tmp_path / "file")],
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    verify(b"hello\n", (tmp_path / "file.minisig").read_text(), [public])
    made = subprocess.run(
        [minisign, "-G", "-W", "-p", str(tmp_path / "theirs.pub"), "-s", str(tmp_path / "theirs.key")],
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    theirs = read_secret_key(tmp_path / "theirs.key")
    assert theirs.public == PublicKey.from_text((tmp_path / "theirs.pub").read_text())


def test_the_given_key_signs_and_nothing_is_made(world, settings, tmp_path):
    public = make_key(tmp_path / "signing.key")
    settings.SIGNING_KEY_FILE = str(tmp_path / "signing.key")
    approved(world, "14.1.105.0/24")
    raw, signature = index_of(world)
    verify(raw, signature, [public])
    index = json.loads(raw)
    assert (index["keys"]["current"], index["keys"]["next"]) == (public.to_minisign(), None)
    assert world.client(world.operator).get("/api/v1/allowlist/key.pub").content.decode() == public.to_file()
    assert not list(settings.ALLOWLIST_KEYS_DIR.glob("*.json")), "a signing key was made"
    assert SigningPublicKey.objects.filter(key_id=public.key_id_hex, public=public.to_minisign()).exists()
    with pytest.raises(CommandError, match="rotate by deploying"):
        call_command("keys", "rotate")


def test_rotation_is_a_deploy_announce_then_promote(world, settings, tmp_path):
    old = make_key(tmp_path / "a.key")
    new = make_key(tmp_path / "b.key")
    settings.SIGNING_KEY_FILE = str(tmp_path / "a.key")
    approved(world, "14.1.105.0/24")
    # Deploy 1: the next key is announced in the index, still signed by the current one.
    settings.SIGNING_NEXT_KEY_FILE = str(tmp_path / "b.key")
    approved(world, "14.1.106.0/24")
    raw, signature = index_of(world)
    verify(raw, signature, [old])
    announced = json.loads(raw)["keys"]
    assert (announced["current"], announced["next"]) == (old.to_minisign(), new.to_minisign())
    checkpoint_by_old = make_checkpoint().checkpoint
    # Deploy 2: the announced key is promoted; the old one is retired.
    settings.SIGNING_KEY_FILE, settings.SIGNING_NEXT_KEY_FILE = str(tmp_path / "b.key"), None
    approved(world, "14.1.107.0/24")
    raw, signature = index_of(world)
    verify(raw, signature, [new])
    with pytest.raises(SignatureError):
        verify(raw, signature, [old])
    promoted = json.loads(raw)["keys"]
    assert (promoted["current"], promoted["next"]) == (new.to_minisign(), None)
    # What the old key signed still verifies, with no file of it left anywhere.
    (tmp_path / "a.key").unlink()
    assert old in keys.known_public_keys()
    make_checkpoint(now=checkpoint_by_old.at + timedelta(days=1))
    report = verify_chain()
    assert report.ok and report.checkpoints == 2, report.problem
