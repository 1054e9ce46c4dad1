"""Bulk exemption checks answered later: a job per body, run by a task, fetched by its owner.

A body larger than `EXEMPTIONS_SYNC_MAX_BYTES` (50 MB), or any with `Prefer: respond-async`, is kept
in a file in the `jobs` storage (a folder, `EXEMPTION_JOBS_DIR`, or the object store) and answered
by the task `vpnregistry.exemption_job`, on whichever server runs it, into a file beside it; the
caller gets `202` and the job's URL, polls it, and downloads the answer (the same CSV as the
synchronous form gives). A job and its files are deleted `EXEMPTION_JOB_SECONDS` after it
was made (a day). Running a job twice gives the same answer: the answer is written to a temporary
file and stored whole, and the check is at the job's own time.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry import storage
from vpnregistry.celery import dispatch
from vpnregistry.errors import TooLarge
from vpnregistry.restrictions import exemptions
from vpnregistry.restrictions.models import ExemptionJob

logger = logging.getLogger(__name__)

JOB_TASK = "vpnregistry.exemption_job"
State = ExemptionJob.State


def wants_async(request, length: int | None) -> bool:
    """`Prefer: respond-async` (RFC 7240), or a body past the synchronous limit."""
    prefer = request.headers.get("Prefer", "")
    asked = any(p.strip().split(";")[0].strip().lower() == "respond-async" for p in prefer.split(","))
    return asked or (length is not None and length > settings.EXEMPTIONS_SYNC_MAX_BYTES)


def files():
    return storage.get(storage.JOBS)


def input_name(job: ExemptionJob) -> str:
    return f"{job.pk}.in"


def result_name(job: ExemptionJob) -> str:
    return f"{job.pk}.csv"


def job_create(*, owner, source, at: datetime, column: int | None, start: bool = True) -> ExemptionJob:
    """Keep the body read from `source` in the job's file, then ask for the task.

    The body is read into a temporary file first, with no transaction open (it may take minutes to
    arrive). The job's row is then committed, the file stored under the job's name (in a folder,
    renamed into place; in an object store, uploaded, which for a gigabyte takes a while and is not
    done with a transaction open), and only then is the task asked for: it never runs before its
    file is there. Should the file not be stored, the row is deleted again; should the process die
    in between, the job stays queued until it expires and the sweep deletes it.
    """
    target = files()
    with storage.spool(target) as upload:
        size = 0
        for block in exemptions.read_stream(source):
            size += len(block)
            if size > settings.EXEMPTIONS_MAX_BODY_BYTES:
                raise TooLarge(
                    _("The list of addresses is larger than the %(limit)d bytes allowed.")
                    % {"limit": settings.EXEMPTIONS_MAX_BODY_BYTES}
                )
            upload.write(block)
        upload.flush()
        now = timezone.now()
        job = ExemptionJob.objects.create(
            owner=owner,
            at=at,
            column=column,
            size=size,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.EXEMPTION_JOB_SECONDS),
        )
        try:
            target.save(input_name(job), upload)
        except BaseException:
            ExemptionJob.objects.filter(pk=job.pk).delete()
            raise
    if start:
        # At once, or when the caller's own transaction commits, if it has one open.
        transaction.on_commit(lambda: job_start(job.pk), robust=True)
    return job


def job_start(pk: int) -> None:
    dispatch(JOB_TASK, args=[pk])


def job_run(pk: int) -> ExemptionJob | None:
    """Answer the job's addresses into its result file; a job done, gone or expired is left alone."""
    job = ExemptionJob.objects.filter(pk=pk).first()
    if job is None or job.state == State.DONE or job.expires_at <= timezone.now():
        return job
    ExemptionJob.objects.filter(pk=pk).update(state=State.RUNNING)
    target = files()
    try:
        with storage.open_stream(target, input_name(job)) as source, storage.spool(target) as out:
            for block in exemptions.answer_stream(exemptions.read_stream(source), job.at, column=job.column):
                out.write(block)
            out.flush()
            size = out.tell()
            target.save(result_name(job), out)
    except Exception as exc:
        logger.exception("exemption job %d failed", pk)
        ExemptionJob.objects.filter(pk=pk).update(
            state=State.FAILED, error=f"{type(exc).__name__}: {exc}"[:300], finished_at=timezone.now()
        )
        raise
    ExemptionJob.objects.filter(pk=pk).update(state=State.DONE, result_size=size, finished_at=timezone.now())
    target.delete(input_name(job))
    job.refresh_from_db()
    return job


def purge_expired(*, now: datetime | None = None) -> int:
    """Delete expired jobs and their files (the sweep runs this)."""
    now = now or timezone.now()
    expired = list(ExemptionJob.objects.filter(expires_at__lte=now).values_list("pk", flat=True))
    target = files()
    for pk in expired:
        for suffix in (".in", ".csv"):
            with contextlib.suppress(FileNotFoundError):
                target.delete(f"{pk}{suffix}")
    ExemptionJob.objects.filter(pk__in=expired).delete()
    return len(expired)
