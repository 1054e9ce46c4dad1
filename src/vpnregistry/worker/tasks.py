"""The registry's tasks: each idempotent, so that a task run twice (a worker killed before it
acknowledged, with late acknowledgement) ends as if it ran once.

They are named (`vpnregistry.*`) so that code below this layer can ask for them by name through
`dispatch` without importing this module. The scheduler's table is `CELERY_BEAT_SCHEDULE` in
settings.py; each task is also a management command, for cron.
"""

from __future__ import annotations

import logging

from celery.signals import worker_ready

from vpnregistry.allowlist.publication import publish_pending, sweep_temporary_files
from vpnregistry.allowlist.publication import sweep as run_sweep
from vpnregistry.applications.documents import purge_documents as run_purge
from vpnregistry.applications.queues import escalate as run_escalate
from vpnregistry.audit.services import make_checkpoint, record_verify_run, verify_chain
from vpnregistry.celery import app, broker_url, dispatch
from vpnregistry.db import refresh_planner_statistics
from vpnregistry.notifications.mail import SEND_TASK, deliver_due
from vpnregistry.registrations.outbox import PUBLISH_TASK
from vpnregistry.restrictions.jobs import job_run, purge_expired
from vpnregistry.transparency.statistics import refresh_statistics as run_refresh

logger = logging.getLogger(__name__)


@app.task(name="vpnregistry.publish")
def publish() -> int | None:
    """Publish what is due; one publisher at a time; nothing due: return at once.

    Too soon after the latest snapshot (`VPNREGISTRY_ALLOWLIST_MIN_INTERVAL`), it asks for itself
    again when the interval has passed instead of dropping the wish.
    """
    outcome = publish_pending(respect_interval=True)
    if outcome.wait:
        dispatch(PUBLISH_TASK, countdown=outcome.wait)
    return outcome.serial


@app.task(name="vpnregistry.send_mail")
def send_mail() -> dict:
    """Send the emails that are due; while some wait for a retry, ask for itself again when due."""
    from django.utils import timezone

    delivery = deliver_due()
    if delivery.next_due is not None and broker_url():
        wait = max(1.0, (delivery.next_due - timezone.now()).total_seconds())
        dispatch(SEND_TASK, countdown=wait)
    return {"sent": delivery.sent, "retried": delivery.retried, "failed": delivery.failed}


@app.task(name="vpnregistry.exemption_job")
def exemption_job(job_id: int) -> str | None:
    """Answer one bulk exemption check kept as a job (restrictions/jobs.py)."""
    job = job_run(job_id)
    return job.state if job else None


@app.task(name="vpnregistry.sweep")
def sweep() -> dict:
    """Expire, remind, republish when due, sweep a killed publisher's temporary files."""
    report = run_sweep()
    sweep_temporary_files()
    purge_expired()
    refresh_planner_statistics()
    return {
        "expired": len(report.expired),
        "reminded": len(report.reminded),
        "published_serial": report.published_serial,
    }


@app.task(name="vpnregistry.escalate")
def escalate() -> dict:
    report = run_escalate()
    return {"escalated": dict(report.escalated), "recipients": report.recipients}


@app.task(name="vpnregistry.checkpoint")
def checkpoint() -> str:
    return str(make_checkpoint().checkpoint.day)


@app.task(name="vpnregistry.verify_log")
def verify_log() -> int:
    """Walk the audit chain (incrementally) and keep the result; a broken chain fails the task."""
    report = verify_chain(incremental=True)
    record_verify_run(report)
    if not report.ok:
        raise RuntimeError(f"audit record {report.first_bad_seq}: {report.problem}")
    return report.checked


@app.task(name="vpnregistry.purge_documents")
def purge_documents() -> int:
    return run_purge()


@app.task(name="vpnregistry.refresh_statistics")
def refresh_statistics() -> float:
    return run_refresh().seconds


@worker_ready.connect
def _publish_on_start(**_kwargs) -> None:
    """A worker that starts publishes whatever a crash left due, with no manual step."""
    if broker_url():
        dispatch("vpnregistry.publish")
