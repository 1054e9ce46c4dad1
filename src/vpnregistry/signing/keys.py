"""The registry's signing keys: given in production, made on first use in development.

Production is given its key by VPNREGISTRY_SIGNING_KEY_FILE and may announce the next one with
VPNREGISTRY_SIGNING_NEXT_KEY_FILE; rotation is a deploy (announce, later promote), and settings refuse
to start without a key rather than make one that no other server holds. Development (no key file
given) keeps its keys under ALLOWLIST_KEYS_DIR (mode 0600) and rotates them with `keys rotate`.

Every public key is recorded in the database the first time a process sees it, so that what a key
signed (checkpoints, statements) still verifies on any server after the key is retired.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from vpnregistry.signing.minisign import PublicKey, SigningKey, read_secret_key, write_private
from vpnregistry.signing.models import SigningPublicKey


class KeysGiven(ValueError):
    """Keys are given by the deployment: they are rotated by deploying, not by this process."""


def given() -> bool:
    """Whether the deployment gives the signing key (production) instead of keeping it in the folder."""
    return bool(getattr(settings, "SIGNING_KEY_FILE", None))


def _dir() -> Path:
    path = Path(settings.ALLOWLIST_KEYS_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@dataclass(frozen=True)
class StoredKey:
    key: SigningKey
    created_at: datetime


def _read(name: str) -> StoredKey | None:
    path = _dir() / name
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return StoredKey(SigningKey.from_json(data), datetime.fromisoformat(data["created_at"]))


def _write(name: str, key: SigningKey, created_at: datetime) -> None:
    write_private(_dir() / name, json.dumps({**key.to_json(), "created_at": created_at.isoformat()}) + "\n")


_files: dict[str, tuple[tuple[int, int], SigningKey]] = {}


def _given_file(path: str) -> SigningKey:
    # Read once per process (a request signs nothing new, but the index and key pages show the key);
    # read again if the file was replaced.
    stat = os.stat(path)
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _files.get(path)
    if cached is None or cached[0] != stamp:
        cached = _files[path] = (stamp, read_secret_key(path))
    return cached[1]


# key id -> when the database first saw it, for the keys this process has recorded.
_recorded: dict[str, datetime] = {}


def record(public: PublicKey) -> datetime | None:
    """Keep `public` in the database; when it was first seen, or None if the database does not answer."""
    try:
        with transaction.atomic():
            row, _ = SigningPublicKey.objects.get_or_create(
                key_id=public.key_id_hex,
                defaults={"public": public.to_minisign(), "first_seen": timezone.now()},
            )
    except DatabaseError:
        # No database yet (before `migrate`): recorded by the next process that signs.
        return None
    _recorded[public.key_id_hex] = row.first_seen
    return row.first_seen


def _seen(public: PublicKey) -> datetime | None:
    """`record`, once per process and key."""
    return _recorded.get(public.key_id_hex) or record(public)


def current_key() -> SigningKey:
    """The key that signs now: the given one, or (development) the folder's, made on first use."""
    if given():
        key = _given_file(settings.SIGNING_KEY_FILE)
    else:
        stored = _read("current.json")
        if stored is None:
            key = SigningKey.generate()
            _write("current.json", key, timezone.now())
        else:
            key = stored.key
    _seen(key.public)
    return key


def next_key() -> StoredKey | None:
    """The key announced in the index, which will sign after the next rotation (or deploy)."""
    if given():
        path = getattr(settings, "SIGNING_NEXT_KEY_FILE", None)
        if not path:
            return None
        key = _given_file(path)
        # Announced since this registry first saw it: the database remembers across deploys.
        first_seen = _seen(key.public) or timezone.now()
        return StoredKey(key, first_seen)
    stored = _read("next.json")
    if stored is not None:
        _seen(stored.key.public)
    return stored


def known_public_keys() -> list[PublicKey]:
    """Every public key that may have signed something of this registry: current, announced, retired."""
    found = [current_key().public]
    if (announced := next_key()) is not None:
        found.append(announced.key.public)
    ids = {key.key_id for key in found}
    for text in SigningPublicKey.objects.values_list("public", flat=True):
        key = PublicKey.from_text(text)
        if key.key_id not in ids:
            ids.add(key.key_id)
            found.append(key)
    return found


@dataclass(frozen=True)
class Rotation:
    step: str  # "announced" or "switched" or "waiting"
    key_id: str
    detail: str


def rotate(*, min_announce: timedelta, force: bool = False) -> Rotation:
    """Development: first call makes and announces the next key; a later call switches to it once
    announced long enough. Production is given its keys and rotates by deploying (KeysGiven)."""
    if given():
        raise KeysGiven(
            "the signing key is given by VPNREGISTRY_SIGNING_KEY_FILE: rotate by deploying, first with the "
            "new key as VPNREGISTRY_SIGNING_NEXT_KEY_FILE, later as VPNREGISTRY_SIGNING_KEY_FILE"
        )
    announced = next_key()
    if announced is None:
        key = SigningKey.generate()
        _write("next.json", key, timezone.now())
        record(key.public)
        return Rotation("announced", key.public.key_id_hex, "the next key is announced in the index")
    age = timezone.now() - announced.created_at
    if age < min_announce and not force:
        return Rotation(
            "waiting",
            announced.key.public.key_id_hex,
            f"announced {int(age.total_seconds())} s ago; clients get {int(min_announce.total_seconds())} s "
            "to pick it up (use --force to switch now)",
        )
    old = _read("current.json")
    if old is not None:
        # Its public key is in the database (recorded when it signed); the secret is kept beside it.
        record(old.key.public)
        retired = _dir() / "retired"
        retired.mkdir(exist_ok=True, mode=0o700)
        write_private(retired / f"{old.key.public.key_id_hex}.json", (_dir() / "current.json").read_text())
    _write("current.json", announced.key, announced.created_at)
    (_dir() / "next.json").unlink()
    return Rotation("switched", announced.key.public.key_id_hex, "the announced key signs from now on")
