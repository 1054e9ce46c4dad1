"""What monitoring reads: whether this server can serve (`/readyz`) and the registry's figures (`/metrics`).

Every figure is an index seek or a count over a small table (the outbox rows, operators, jobs that
expire within a day); none reads the registrations. Counts of applications in their closed states
(approved, rejected, withdrawn: most of them, ever growing) are taken at most every few minutes and
kept in the shared cache.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Min
from django.utils import timezone
from redis import RedisError
from rest_framework.throttling import BaseThrottle

from vpnregistry.allowlist.models import Snapshot
from vpnregistry.allowlist.selectors import operator_sync_status
from vpnregistry.applications.models import Application
from vpnregistry.audit.models import VerifyRun
from vpnregistry.notifications.models import OutgoingMail
from vpnregistry.registrations.models import PublicationDue
from vpnregistry.restrictions.models import ExemptionJob

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# Readiness


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> bool:
    """False when no broker is configured (tasks run in the asking process)."""
    url = settings.CELERY_BROKER_URL
    if not url:
        return False
    from kombu import Connection

    timeout = settings.READYZ_TIMEOUT_SECONDS
    with Connection(url, connect_timeout=timeout) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
    return True


def _cache() -> None:
    # Written and read back: the throttles write too. Another process may write in between; any
    # value read back shows that the cache answered.
    cache.set("readyz", secrets.token_hex(8), 10)
    if cache.get("readyz") is None:
        raise RuntimeError("the cache lost a value just written")


def _storage() -> None:
    from django.core.files.storage import storages

    # The published files' storage where one is configured for them, else the default; an exists()
    # is one cheap request to an object store, one stat on a disk.
    name = "allowlist" if "allowlist" in settings.STORAGES else "default"
    storages[name].exists("readyz")


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]  # name -> "ok", "not configured" or "failed"

    @property
    def ready(self) -> bool:
        return all(state != "failed" for state in self.checks.values())

    @property
    def failing(self) -> list[str]:
        return [name for name, state in self.checks.items() if state == "failed"]


def readiness() -> Readiness:
    """Whether the database, the broker (if any), the cache and the storage answer now."""
    checks = {}
    for name, check in (
        ("database", _database),
        ("broker", _broker),
        ("cache", _cache),
        ("storage", _storage),
    ):
        try:
            checks[name] = "not configured" if check() is False else "ok"
        except Exception as exc:  # whatever a backend raises, the answer is "not ready", named
            logger.warning("readiness: the %s does not answer: %s: %s", name, type(exc).__name__, exc)
            checks[name] = "failed"
    return Readiness(checks)


# ---------------------------------------------------------------------------------------------
# Who may read the metrics


def _networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n.strip(), strict=False) for n in settings.METRICS_NETWORKS if n.strip()]


def metrics_allowed(request) -> bool:
    """From the monitoring network (the client's address as the throttles see it, through the proxy
    when VPNREGISTRY_BEHIND_PROXY), or with the bearer token VPNREGISTRY_METRICS_TOKEN."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and secrets.compare_digest(given[7:].strip(), token):
        return True
    try:
        address = ipaddress.ip_address(BaseThrottle().get_ident(request).strip())
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in _networks())


# ---------------------------------------------------------------------------------------------
# The figures, in Prometheus' text format


CLOSED_STATES = [Application.State.APPROVED, Application.State.REJECTED, Application.State.WITHDRAWN]
CLOSED_COUNTS_KEY = "metrics:closed-applications"


def _label(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class _Text:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def metric(self, name: str, kind: str, help: str, samples) -> None:
        self.lines.append(f"# HELP {name} {help}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            if value is None:  # not known (never published, never verified): no sample
                continue
            text = ",".join(f'{key}="{_label(v)}"' for key, v in labels.items())
            self.lines.append(f"{name}{{{text}}} {_number(value)}" if text else f"{name} {_number(value)}")

    def render(self) -> str:
        return "\n".join(self.lines) + "\n"


def _number(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(round(value, 3))
    return str(value)


def _application_counts() -> dict[str, int]:
    counts = {state: 0 for state in Application.State.values}
    # Open states: few rows each, counted by the state index every time.
    open_states = [s for s in Application.State.values if s not in CLOSED_STATES]
    for row in (
        Application.objects.filter(state__in=open_states).values("state").annotate(n=Count("id")).order_by()
    ):
        counts[row["state"]] = row["n"]
    try:
        closed = cache.get(CLOSED_COUNTS_KEY)
    except RedisError:
        closed = None  # the shared cache is down: counted now (and `/readyz` says so)
    if closed is None:
        closed = dict(
            Application.objects.filter(state__in=CLOSED_STATES)
            .values("state")
            .annotate(n=Count("id"))
            .order_by()
            .values_list("state", "n")
        )
        with contextlib.suppress(RedisError):
            cache.set(CLOSED_COUNTS_KEY, closed, settings.METRICS_CLOSED_COUNTS_SECONDS)
    counts.update(closed)
    return counts


def _epoch(when) -> float | None:
    return when.timestamp() if when else None


def metrics_text() -> str:
    """Every figure, in Prometheus' text format, section by section in a fixed order."""
    now = timezone.now()
    out = _Text()
    out.metric(
        "vpnregistry_applications",
        "gauge",
        "Applications by state (approved, rejected and withdrawn as of a few minutes ago).",
        [({"state": state}, n) for state, n in _application_counts().items()],
    )
    _publication_metrics(out, now)
    _outbox_metrics(out)
    _operator_metrics(out)
    _audit_metrics(out)
    out.metric(
        "vpnregistry_metrics_timestamp_seconds", "gauge", "When these figures were read.", [({}, time.time())]
    )
    return out.render()


def _publication_metrics(out: _Text, now: datetime) -> None:
    """The publication outbox, and the latest published snapshot."""
    due = PublicationDue.objects.aggregate(pending=Count("id"), oldest=Min("at"))
    out.metric(
        "vpnregistry_publication_pending",
        "gauge",
        "Changes waiting to be published (the publication outbox).",
        [({}, due["pending"])],
    )
    out.metric(
        "vpnregistry_publication_oldest_age_seconds",
        "gauge",
        "How long the oldest unpublished change has waited (0 when none waits).",
        [({}, (now - due["oldest"]).total_seconds() if due["oldest"] else 0.0)],
    )
    latest = Snapshot.objects.order_by("-serial").values_list("serial", "created_at").first()
    out.metric(
        "vpnregistry_allowlist_serial",
        "gauge",
        "The latest published serial.",
        [({}, latest[0] if latest else 0)],
    )
    out.metric(
        "vpnregistry_allowlist_published_timestamp_seconds",
        "gauge",
        "When the latest snapshot was published (Unix time).",
        [({}, _epoch(latest[1]) if latest else None)],
    )


def _outbox_metrics(out: _Text) -> None:
    """The mail outbox and the bulk exemption checks: what waits, and what was given up on."""
    mail = dict(
        OutgoingMail.objects.filter(state__in=[OutgoingMail.State.PENDING, OutgoingMail.State.FAILED])
        .values("state")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("state", "n")
    )
    out.metric(
        "vpnregistry_mail_pending",
        "gauge",
        "Emails waiting to be sent (the mail outbox), retries included.",
        [({}, mail.get(OutgoingMail.State.PENDING, 0))],
    )
    job_states = [ExemptionJob.State.QUEUED, ExemptionJob.State.RUNNING, ExemptionJob.State.FAILED]
    jobs = dict(
        ExemptionJob.objects.filter(state__in=job_states)
        .values("state")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("state", "n")
    )
    out.metric(
        "vpnregistry_exemption_jobs",
        "gauge",
        "Bulk exemption checks waiting or running.",
        [({"state": s}, jobs.get(s, 0)) for s in (ExemptionJob.State.QUEUED, ExemptionJob.State.RUNNING)],
    )
    out.metric(
        "vpnregistry_task_failures",
        "gauge",
        "Work given up on: emails after their last try, bulk exemption checks that failed (kept a day).",
        [
            ({"task": "send_mail"}, mail.get(OutgoingMail.State.FAILED, 0)),
            ({"task": "exemption_job"}, jobs.get(ExemptionJob.State.FAILED, 0)),
        ],
    )


def _operator_metrics(out: _Text) -> None:
    """How far each operator runs behind, and when it last fetched."""
    operators = list(
        operator_sync_status().values_list("code", "behind", "sync__last_serial", "sync__last_seen")
    )
    out.metric(
        "vpnregistry_operator_sync_lag_serials",
        "gauge",
        "Serials each operator runs behind the latest (all of them when it never fetched).",
        [({"operator": code}, behind) for code, behind, _serial, _seen in operators],
    )
    out.metric(
        "vpnregistry_operator_last_fetch_timestamp_seconds",
        "gauge",
        "When each operator last fetched (Unix time; noted at most every "
        f"{settings.DOWNLOAD_NOTE_SECONDS} s).",
        [({"operator": code}, _epoch(seen)) for code, _behind, _serial, seen in operators if seen],
    )


def _audit_metrics(out: _Text) -> None:
    """The latest verification of the audit log."""
    run = VerifyRun.objects.order_by("-id").values_list("ok", "at").first()
    out.metric(
        "vpnregistry_audit_chain_ok",
        "gauge",
        "Whether the latest verification of the audit log found the chain whole (1) or not (0).",
        [({}, run[0] if run else None)],
    )
    out.metric(
        "vpnregistry_audit_verified_timestamp_seconds",
        "gauge",
        "When the audit log was last verified (Unix time).",
        [({}, _epoch(run[1]) if run else None)],
    )
