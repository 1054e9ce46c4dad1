"""The registry's signing keys: made on first use, kept under KEYS_DIR (mode 0600), rotated in two steps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from vpnregistry.allowlist.signing import SigningKey, write_private


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


def current_key() -> SigningKey:
    """The key that signs now; made on first use."""
    stored = _read("current.json")
    if stored is None:
        key = SigningKey.generate()
        _write("current.json", key, timezone.now())
        return key
    return stored.key


def next_key() -> StoredKey | None:
    """The key announced in the index, which will sign after the next rotation."""
    return _read("next.json")


@dataclass(frozen=True)
class Rotation:
    step: str  # "announced" or "switched" or "waiting"
    key_id: str
    detail: str


def rotate(*, min_announce: timedelta, force: bool = False) -> Rotation:
    """First call: make and announce the next key. Later call: switch to it once announced long enough."""
    announced = next_key()
    if announced is None:
        key = SigningKey.generate()
        _write("next.json", key, timezone.now())
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
        retired = _dir() / "retired"
        retired.mkdir(exist_ok=True, mode=0o700)
        write_private(retired / f"{old.key.public.key_id_hex}.json", (_dir() / "current.json").read_text())
    _write("current.json", announced.key, announced.created_at)
    (_dir() / "next.json").unlink()
    return Rotation("switched", announced.key.public.key_id_hex, "the announced key signs from now on")
