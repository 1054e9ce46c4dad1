"""The migration that keeps public keys in the database copies those of a development keys folder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from vpnregistry.allowlist import keys

BEFORE = [("allowlist", "0003_publication_due")]
AFTER = [("allowlist", "0004_signing_public_key")]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_keys_of_the_folder_current_and_retired_are_recorded():
    # A folder as `keys rotate` left it: a current key and a retired one, made before the table was.
    first = keys.current_key().public
    keys.rotate(min_announce=timedelta(0))
    keys.rotate(min_announce=timedelta(0))
    second = keys.current_key().public
    try:
        _migrate(BEFORE)
        apps = _migrate(AFTER)
        model = apps.get_model("allowlist", "SigningPublicKey")
        recorded = dict(model.objects.values_list("key_id", "public"))
        assert recorded == {first.key_id_hex: first.to_minisign(), second.key_id_hex: second.to_minisign()}
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
