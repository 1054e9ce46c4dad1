"""One of every kind of stored file, made through the registry's own paths, and their downloads.

Shared by the object-store tests and the backup tests: `make` publishes a serial, uploads a
document, files a complaint with evidence and answers a bulk exemption job; `downloads` fetches
each through the API as the people entitled to it do, so that a test compares them before and
after (another storage, a restore).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone

from tests.events import make_event
from tests.workflow import approved
from vpnregistry.accounts.models import Document
from vpnregistry.accounts.sample_files import minimal_pdf
from vpnregistry.allowlist.models import Snapshot
from vpnregistry.registrations.models import ActivePeriod, Registration
from vpnregistry.restrictions import complaints, jobs

EVIDENCE = b"ping 14.1.105.1 from 10:00 to 11:30: no answer\n"
JOB_BODY = b"14.1.105.1\n203.0.113.9\nnot-an-address\n"


@dataclass
class Made:
    snapshot: Snapshot
    document: Document
    document_bytes: bytes
    complaint: object
    job: object


def _registration(world, value: str) -> Registration:
    """Approved and published, active since a month ago (so that a past event concerns it)."""
    application = approved(world, value)
    registration = Registration.objects.get(resource__application=application, value=value)
    since = timezone.now() - timedelta(days=30)
    Registration.objects.filter(pk=registration.pk).update(valid_from=since)
    ActivePeriod.objects.filter(registration=registration).update(start=since)
    registration.refresh_from_db()
    return registration


def make(world) -> Made:
    registration = _registration(world, "14.1.105.0/24")
    start = (timezone.now() - timedelta(days=3)).replace(microsecond=0)
    event = make_event(world, start, start + timedelta(days=1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        complaint = complaints.complaint_file(
            actor=world.applicant,
            registration=registration.reference,
            event=event.pk,
            happened_at=(start + timedelta(hours=2)).isoformat(),
            service="mobile-data",
            description="The VPN to our client dropped at 10:00.",
            evidence=SimpleUploadedFile("trace.txt", EVIDENCE),
        )
    pdf = minimal_pdf("Incorporation certificate of the test organisation")
    uploaded = world.client(world.applicant).post(
        "/api/v1/documents/",
        {
            "document_type": "cnic",
            "file": SimpleUploadedFile("cnic.pdf", pdf, content_type="application/pdf"),
            "expires_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
        },
        format="multipart",
    )
    assert uploaded.status_code == 201, uploaded.content
    job = jobs.job_create(
        owner=world.operator, source=io.BytesIO(JOB_BODY), at=timezone.now(), column=None, start=False
    )
    jobs.job_run(job.pk)
    return Made(
        snapshot=Snapshot.objects.order_by("-serial").first(),
        document=Document.objects.get(pk=uploaded.json()["id"]),
        document_bytes=pdf,
        complaint=complaint,
        job=job,
    )


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


KEPT_HEADERS = ("Content-Type", "Content-Length", "ETag", "Cache-Control", "Content-Disposition")


def answer(response) -> dict:
    """What a client gets: the status, the headers that say what it is, the bytes."""
    return {
        "status": response.status_code,
        **{name: response.get(name) for name in KEPT_HEADERS},
        "body": body(response),
    }


def downloads(world, made: Made, *, job: bool = True) -> dict[str, dict]:
    """Every stored file of `made`, fetched through the API by someone entitled to it (the job's
    answer too unless `job` is false: backups leave jobs out)."""
    operator = world.client(world.operator)
    serial = made.snapshot.serial
    got = {
        f"allowlist {name}": answer(operator.get(f"/api/v1/allowlist/{serial}.{name}"))
        for name in sorted(made.snapshot.files)
        if not name.startswith("msisdn.")
    }
    got["allowlist txt.minisig"] = answer(operator.get(f"/api/v1/allowlist/{serial}.txt.minisig"))
    got["document"] = answer(world.client(world.applicant).get(f"/api/v1/documents/{made.document.pk}/file/"))
    got["evidence"] = answer(
        world.client(world.applicant).get(f"/api/v1/complaints/{made.complaint.pk}/evidence/")
    )
    if job:
        got["job"] = answer(operator.get(f"/api/v1/exemptions/jobs/{made.job.pk}/result"))
    return got


def reference_services() -> None:
    """The restriction services a migration seeds, again: a transactional test's flush removed them."""
    import importlib

    from django.apps import apps

    importlib.import_module("vpnregistry.restrictions.migrations.0001_initial").load_services(apps, None)


@dataclass
class BackedUp:
    made: Made
    before: dict[str, dict]  # every download before the backup
    archive: object  # the archive's path
    held: set[str]  # the files the archive holds


def backed_up(world, folder) -> BackedUp:
    """The scenario made and downloaded, then `vpnregistry backup` into `folder`: what a restore
    test starts from (on PostgreSQL it needs pg_dump and pg_restore)."""
    import io
    import tarfile

    from django.core.management import call_command
    from django.db import connection

    from tests.conftest import require_tool

    if connection.vendor == "postgresql":
        require_tool("pg_dump")
        require_tool("pg_restore")
    reference_services()
    made = make(world)
    before = downloads(world, made, job=False)
    assert all(a["status"] == 200 for a in before.values()), before
    archive = folder / "registry.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    with tarfile.open(archive) as tar:
        held = {m.name for m in tar.getmembers() if m.isfile()}
    return BackedUp(made, before, archive, held)
