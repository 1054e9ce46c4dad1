"""Backup and restore: every registration, snapshot, file and audit record comes back, chain intact."""

from __future__ import annotations

import io
import shutil
import stat

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from tests.conftest import require_tool
from tests.workflow import approved
from vpnregistry.allowlist.models import Snapshot
from vpnregistry.allowlist.services import file_path
from vpnregistry.audit.models import AuditEvent
from vpnregistry.audit.services import verify_chain
from vpnregistry.registrations.models import ActivePeriod, Registration

pytestmark = pytest.mark.django_db(transaction=True)


def state():
    return {
        "registrations": sorted(Registration.objects.values_list("reference", "value", "state")),
        "periods": ActivePeriod.objects.count(),
        "snapshots": sorted(Snapshot.objects.values_list("serial", "sha256")),
        "audit": list(AuditEvent.objects.order_by("seq").values_list("seq", "hash")),
    }


def test_backup_then_restore_brings_everything_back(world, tmp_path):
    if connection.vendor == "postgresql":
        require_tool("pg_dump")
        require_tool("pg_restore")
    approved(world, "14.1.105.0/24")
    approved(world, "2001:dd8:1c:1::/64")
    before = state()
    published = file_path(Snapshot.objects.latest(), "txt").read_bytes()
    key = (settings.ALLOWLIST_KEYS_DIR / "current.json").read_bytes()
    archive = tmp_path / "registry.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds the signing keys

    # Lose things: a registration's rows, an audit record (by hand, past the guards), the files.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE seq = 3")
    approved(world, "14.1.106.0/24")
    shutil.rmtree(settings.ALLOWLIST_DIR)
    shutil.rmtree(settings.ALLOWLIST_KEYS_DIR)
    assert state() != before

    out = io.StringIO()
    call_command("restore", str(archive), "--yes", stdout=out)
    assert state() == before
    assert verify_chain().ok and "verifies" in out.getvalue()
    assert file_path(Snapshot.objects.latest(), "txt").read_bytes() == published
    assert (settings.ALLOWLIST_KEYS_DIR / "current.json").read_bytes() == key


def test_a_backup_holds_documents_and_evidence_and_restores_into_an_empty_var(world, settings, tmp_path):
    """Every stored file (published serials, documents, evidence) and the keys come back into empty
    folders and download as before; the archive leaves out no kind of file but jobs (kept a day)."""
    from tests.storage import scenario

    done = scenario.backed_up(world, tmp_path)
    made, before, archive, held = done.made, done.before, done.archive, done.held
    assert f"documents/{made.document.file}" in held and f"complaints/{made.complaint.evidence_file}" in held

    empty = tmp_path / "empty-var"
    settings.ALLOWLIST_DIR, settings.ALLOWLIST_KEYS_DIR = empty / "allowlist", empty / "keys"
    settings.DOCUMENTS_DIR, settings.EVIDENCE_DIR = empty / "documents", empty / "complaints"
    settings.EXEMPTION_JOBS_DIR = empty / "exemption-jobs"
    assert scenario.downloads(world, made, job=False)["document"]["status"] == 404
    call_command("restore", str(archive), "--yes", stdout=io.StringIO())
    assert scenario.downloads(world, made, job=False) == before
