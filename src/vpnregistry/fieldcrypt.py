"""Columns encrypted at rest, and keyed blind indexes for finding rows by an encrypted value.

The keys are Fernet keys (AES-128-CBC with HMAC-SHA256, from `cryptography`) given in
`VPNREGISTRY_FIELD_KEYS`, comma-separated: the first encrypts, every one decrypts
(`MultiFernet`), so a new key is put first, `vpnregistry rotate-field-keys` re-encrypts every row
with it, and the old key is then dropped. In development, with no keys given, one key is made on
first use in a file of the keys folder (mode 0600); settings refuse to start with debug off and no
keys.

A blind index is an HMAC-SHA256 of the canonical value under a key derived from a field key (HKDF),
so equal values have equal indexes without the value being stored in the clear. Lookups compute
the index under every configured key, so they keep working while a rotation is under way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import FieldError
from django.core.signals import setting_changed
from django.db import models

KEY_FILE_NAME = "field.key"
_lock = threading.Lock()


class FieldKeyError(RuntimeError):
    pass


def _key_file() -> Path:
    configured = getattr(settings, "FIELD_KEY_FILE", None)
    return Path(configured) if configured else Path(settings.ALLOWLIST_KEYS_DIR) / KEY_FILE_NAME


def _development_key(path: Path) -> bytes:
    """The development key in `path`, made (0600, atomically, race-free) when missing."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(Fernet.generate_key() + b"\n")
    try:
        os.link(partial, path)  # fails if another process made it first; then theirs is used
    except FileExistsError:
        pass
    finally:
        partial.unlink()
    return path.read_bytes().strip()


@lru_cache(maxsize=8)
def _keys_for(configured: tuple[bytes, ...], key_file: str) -> tuple[bytes, ...]:
    if configured:
        return configured
    with _lock:
        return (_development_key(Path(key_file)),)


def field_keys() -> tuple[bytes, ...]:
    configured = tuple(getattr(settings, "FIELD_KEYS", None) or ())
    return _keys_for(configured, "" if configured else str(_key_file()))


def fernet() -> MultiFernet:
    return _fernet(field_keys())


@lru_cache(maxsize=8)
def _fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])


@lru_cache(maxsize=32)
def _index_key(key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"vpnregistry blind index").derive(
        base64.urlsafe_b64decode(key)
    )


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError):
        raise FieldKeyError(
            "an encrypted column could not be decrypted with any key in VPNREGISTRY_FIELD_KEYS"
        ) from None


def encrypted_with_primary(token: str) -> bool:
    """Whether `token` is encrypted under the first key (what rotation leaves behind)."""
    try:
        Fernet(field_keys()[0]).decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


def blind_index(purpose: str, value: str, key: bytes | None = None) -> str:
    mac = hmac.new(_index_key(key or field_keys()[0]), f"{purpose}\x00{value}".encode(), hashlib.sha256)
    return mac.hexdigest()


def blind_indexes(purpose: str, value: str) -> list[str]:
    """The index of `value` under every configured key: for lookups that survive a rotation."""
    return [blind_index(purpose, value, key) for key in field_keys()]


def _clear_caches(*, setting, **kwargs):
    if setting in {"FIELD_KEYS", "FIELD_KEY_FILE", "ALLOWLIST_KEYS_DIR"}:
        _keys_for.cache_clear()


setting_changed.connect(_clear_caches)


class _BlankOnlyExact(models.lookups.Exact):
    """`field=""` (is it blank?) works; `field="value"` would compare a fresh random token and never
    match, so it is refused with a pointer to the blind index."""

    def get_prep_lookup(self):
        if self.rhs not in ("", None):
            raise FieldError(
                f"{self.lhs.target.name}: an encrypted column cannot be compared with a value; "
                "filter on its blind index (fieldcrypt.blind_indexes) instead"
            )
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; Python code sees the plain value.

    Only equality through a blind index can find a row by it: filtering on the column itself
    compares tokens, which never match (each encryption is randomised)."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return _BlankOnlyExact
        if lookup_name != "isnull":
            return None  # comparisons of ciphertext mean nothing; refuse them loudly
        return super().get_lookup(lookup_name)


class BlindIndexField(models.CharField):
    """The keyed HMAC of another field's value, kept up to date on every save (and bulk_create)."""

    def __init__(self, *args, source: str = "", purpose: str = "", **kwargs):
        self.source = source
        self.purpose = purpose or source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if self.purpose != self.source:
            kwargs["purpose"] = self.purpose
        for key, default in {"max_length": 64, "null": True, "blank": True, "editable": False}.items():
            if kwargs.get(key) == default:
                kwargs.pop(key)
        return name, path, args, kwargs

    def compute(self, instance) -> str | None:
        value = getattr(instance, self.source)
        return blind_index(self.purpose, value) if value else None

    def pre_save(self, model_instance, add):
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value


def encrypted_models() -> list[tuple[type[models.Model], list[str], list[str]]]:
    """(model, encrypted field names, blind index field names) of every installed model that has any."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        fields = model._meta.concrete_fields
        encrypted = [f.name for f in fields if isinstance(f, EncryptedTextField)]
        if encrypted:
            indexes = [f.name for f in fields if isinstance(f, BlindIndexField)]
            found.append((model, encrypted, indexes))
    return found


def _raw_tokens(model, names: list[str], pks: list) -> dict:
    """The stored tokens of some rows, read without decrypting (no from_db_value on a raw cursor)."""
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(n).column) for n in names)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    placeholders = ", ".join(["%s"] * len(pks))
    with connection.cursor() as cursor:
        # Names come from the model and are quoted; the values are bound.
        sql = f"SELECT {pk_column}, {columns} FROM {table} WHERE {pk_column} IN ({placeholders})"  # noqa: S608
        cursor.execute(sql, pks)
        return {row[0]: row[1:] for row in cursor.fetchall()}


def count_stale(batch: int = 1000) -> dict[str, int]:
    """Per model, how many rows hold a value not encrypted under the first key."""
    result = {}
    for model, names, _ in encrypted_models():
        stale = 0
        pks = list(model._base_manager.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(pks), batch):
            for tokens in _raw_tokens(model, names, pks[start : start + batch]).values():
                if any(t and not encrypted_with_primary(t) for t in tokens):
                    stale += 1
        result[model._meta.label] = stale
    return result


def rotate(*, batch: int = 500, progress=None) -> dict[str, int]:
    """Re-encrypt every encrypted value under the first key and recompute the blind indexes.

    Rows are taken by primary key in batches, each batch in its own transaction with its rows
    locked, so the registry keeps running and an interrupted rotation resumes where it stopped
    (rows already under the first key are rewritten again, harmlessly). Returns rows per model.
    """
    from django.db import transaction

    done = {}
    for model, names, indexes in encrypted_models():
        manager = model._base_manager
        last = None
        count = 0
        while True:
            with transaction.atomic():
                qs = manager.order_by("pk")
                if last is not None:
                    qs = qs.filter(pk__gt=last)
                pks = list(qs.values_list("pk", flat=True)[:batch])
                if not pks:
                    break
                rows = list(manager.select_for_update().filter(pk__in=pks).order_by("pk"))
                for row in rows:
                    for name in indexes:
                        row._meta.get_field(name).pre_save(row, False)
                # bulk_update writes each value through get_prep_value: a fresh token, first key.
                manager.bulk_update(rows, [*names, *indexes])
                last = pks[-1]
                count += len(rows)
            if progress:
                progress(model._meta.label, count)
        done[model._meta.label] = count
    return done
