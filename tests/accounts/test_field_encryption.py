"""Identifiers encrypted at rest: ciphertext in the database, blind-index lookups, key rotation."""

from __future__ import annotations

import base64
import io
import os
import stat

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from tests.factories import OrganisationFactory
from vpnregistry import fieldcrypt
from vpnregistry.accounts.models import Organisation
from vpnregistry.audit.models import AuditEvent

CNIC = "35202-1234567-1"
NTN = "1234567-8"


def _raw(org) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ntn, secp_number, pseb_number, cnic, ntn_index, cnic_index FROM accounts_organisation "
            "WHERE id = %s",
            [org.pk],
        )
        row = cursor.fetchone()
    return dict(
        zip(["ntn", "secp_number", "pseb_number", "cnic", "ntn_index", "cnic_index"], row, strict=True)
    )


@pytest.fixture
def org(world):
    world.org.ntn, world.org.cnic = NTN, CNIC
    world.org.secp_number, world.org.pseb_number = "0123456", "Z-10-12345/26"
    world.org.save()
    return world.org


def test_the_database_holds_only_ciphertext(org):
    raw = _raw(org)
    for field, plain in [
        ("ntn", NTN),
        ("cnic", CNIC),
        ("secp_number", "0123456"),
        ("pseb_number", "Z-10-12345/26"),
    ]:
        assert raw[field].startswith("gAAAAA") and plain not in raw[field]
        assert plain.replace("-", "") not in raw[field]
    assert len(raw["ntn_index"]) == 64 and NTN not in raw["ntn_index"]
    fresh = Organisation.objects.get(pk=org.pk)
    assert (fresh.ntn, fresh.cnic, fresh.secp_number, fresh.pseb_number) == (
        NTN,
        CNIC,
        "0123456",
        "Z-10-12345/26",
    )


def test_each_encryption_differs_but_the_blind_index_is_stable(org, world):
    other = OrganisationFactory(category=world.company, cnic=CNIC)
    assert _raw(other)["cnic"] != _raw(org)["cnic"]
    assert _raw(other)["cnic_index"] == _raw(org)["cnic_index"]
    # The same digits in another field index differently.
    assert fieldcrypt.blind_index("ntn", "1") != fieldcrypt.blind_index("cnic", "1")


def test_rows_are_found_by_blind_index_and_not_by_ciphertext(org):
    found = Organisation.objects.filter(cnic_index__in=fieldcrypt.blind_indexes("cnic", CNIC))
    assert list(found) == [org]
    with pytest.raises(FieldError, match="blind index"):
        Organisation.objects.filter(cnic=CNIC).exists()  # tokens never compare equal: refused
    assert Organisation.objects.exclude(cnic="").get() == org
    with pytest.raises(FieldError):
        Organisation.objects.filter(cnic__startswith="35202").exists()


def test_one_organisation_per_ntn(org, world):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganisationFactory(category=world.company, ntn="12345678")  # the same NTN, written differently
    OrganisationFactory(category=world.company, ntn="")  # blanks never collide
    OrganisationFactory(category=world.company, ntn="")


def test_development_key_is_made_once_owner_only(settings, tmp_path):
    settings.FIELD_KEYS = []
    settings.FIELD_KEY_FILE = str(tmp_path / "k" / "field.key")
    token = fieldcrypt.encrypt("x")
    path = tmp_path / "k" / "field.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = path.read_bytes()
    assert fieldcrypt.decrypt(token) == "x"
    assert path.read_bytes() == key and Fernet(key.strip()).decrypt(token.encode()) == b"x"


def test_a_value_under_an_unknown_key_is_refused_loudly(org, settings):
    settings.FIELD_KEYS = [Fernet.generate_key()]
    with pytest.raises(fieldcrypt.FieldKeyError):
        Organisation.objects.get(pk=org.pk)


def test_rotation_re_encrypts_every_row_under_the_new_key(org, world, settings):
    old = Fernet.generate_key()
    settings.FIELD_KEYS = [old]
    org.save()  # now under `old`
    more = [
        OrganisationFactory(category=world.company, ntn=f"765432{i}-{i}", cnic=f"4210{i}-1234567-{i}")
        for i in range(5)
    ]
    before = {o.pk: _raw(o) for o in [org, *more]}

    new = Fernet.generate_key()
    settings.FIELD_KEYS = [new, old]
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("rotate-field-keys", "--check", stdout=out)
    assert "6 row(s) not under the first key" in out.getvalue()
    # While the rotation is under way, lookups find rows under either key.
    assert Organisation.objects.filter(ntn_index__in=fieldcrypt.blind_indexes("ntn", NTN)).get() == org

    call_command("rotate-field-keys", "--batch", "2", stdout=io.StringIO())
    call_command("rotate-field-keys", "--check", stdout=io.StringIO())  # raises if any row is stale
    assert AuditEvent.objects.filter(action="field_keys.rotate").exists()

    settings.FIELD_KEYS = [new]  # the old key is gone: everything still reads
    for o in [org, *more]:
        raw = _raw(o)
        assert raw["ntn"] != before[o.pk]["ntn"] and raw["ntn_index"] != before[o.pk]["ntn_index"]
        Fernet(new).decrypt(raw["cnic"].encode())
        fresh = Organisation.objects.get(pk=o.pk)
        assert fresh.ntn == o.ntn and fresh.cnic == o.cnic
    assert Organisation.objects.filter(ntn_index__in=fieldcrypt.blind_indexes("ntn", NTN)).get() == org


def test_new_key_prints_a_fernet_key():
    out = io.StringIO()
    call_command("rotate-field-keys", "--new-key", stdout=out)
    printed = out.getvalue()
    assert printed.count("\n") == 1 and printed.endswith("\n")  # the key alone, on one line
    key = printed.strip().encode()
    assert len(base64.urlsafe_b64decode(key)) == 32  # what Fernet takes (it raises on anything else)
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"3520212345671")) == b"3520212345671"
    again = io.StringIO()
    call_command("rotate-field-keys", "--new-key", stdout=again)
    assert again.getvalue().strip().encode() != key  # a new key each time
