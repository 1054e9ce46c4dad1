"""The migration that keeps public keys in the database copies those of a development keys folder."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.migrating import migrate_to, migrate_to_latest
from vpnregistry.signing import keys

BEFORE = [("allowlist", "0003_publication_due")]
AFTER = [("allowlist", "0004_signing_public_key")]


@pytest.mark.django_db(transaction=True)
def test_keys_of_the_folder_current_and_retired_are_recorded():
    # A folder as `keys rotate` left it: a current key and a retired one, made before the table was.
    first = keys.current_key().public
    keys.rotate(min_announce=timedelta(0))
    keys.rotate(min_announce=timedelta(0))
    second = keys.current_key().public
    try:
        migrate_to(BEFORE)
        apps = migrate_to(AFTER)
        model = apps.get_model("allowlist", "SigningPublicKey")
        recorded = dict(model.objects.values_list("key_id", "public"))
        assert recorded == {first.key_id_hex: first.to_minisign(), second.key_id_hex: second.to_minisign()}
    finally:
        migrate_to_latest()
