"""Backup and restore with the files on an object store: the archive holds the objects the database
refers to, and a restore into an empty bucket (or into folders) serves every download as before."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tests.storage import scenario
from tests.storage.conftest import folder_storages
from vpnregistry.allowlist.services import file_name

pytestmark = [pytest.mark.multiprocess, pytest.mark.django_db(transaction=True)]


def test_an_object_store_backup_restores_into_an_empty_bucket_and_into_folders(
    object_store, world, settings, tmp_path
):
    done = scenario.backed_up(world, tmp_path)
    made, before, archive, held = done.made, done.before, done.archive, done.held
    snapshot = made.snapshot
    assert {
        f"allowlist/{file_name(snapshot, n + e)}" for n in snapshot.files for e in ("", ".minisig")
    } <= held
    assert f"documents/{made.document.file}" in held and f"complaints/{made.complaint.evidence_file}" in held
    assert not any(name.startswith("jobs/") for name in held)  # a job's files live a day

    # Into a new, empty bucket: every file downloads as it did.
    empty = object_store.new_bucket()
    settings.STORAGES = object_store.storages(empty)
    out = io.StringIO()
    call_command("restore", str(archive), "--yes", stdout=out)
    assert "verifies" in out.getvalue()
    assert scenario.downloads(world, made, job=False) == before
    restored = object_store.client.list_objects_v2(Bucket=empty)["Contents"]
    assert {o["Key"] for o in restored} >= {f"documents/{made.document.file}"}

    # And into empty folders: the registry moves off the object store the same way.
    for setting in ("ALLOWLIST_DIR", "DOCUMENTS_DIR", "EVIDENCE_DIR", "EXEMPTION_JOBS_DIR"):
        setattr(settings, setting, tmp_path / "folders" / setting.lower())
    settings.STORAGES = folder_storages()
    call_command("restore", str(archive), "--yes", stdout=io.StringIO())
    assert scenario.downloads(world, made, job=False) == before
