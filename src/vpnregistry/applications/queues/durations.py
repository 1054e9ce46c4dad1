"""Turnaround: one row per completed step, written at the transition that ended it, and the report
read from those rows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from vpnregistry.accounts.models import Operator, Role
from vpnregistry.applications.models import Application, Attestation, Resource, StepDuration
from vpnregistry.applications.queues.steps import REVIEW, STEPS, Step, _waiting, step_targets

DAY = 86400


def record_durations(*, application: Application, actor, from_state: str, entered_at, at: datetime) -> None:
    """Called by every transition: store how long each step it completes took.

    A step counts as completed when the party it waited for acted; work that left a step for another
    reason (a withdrawal, every resource refused) stores nothing. The agency's and the operators'
    steps run side by side while the application is in review; both are stored, with the moments they
    really ended, when the review is over.
    """
    to_state = application.state
    role = getattr(actor, "role", None)
    rows: list[StepDuration] = []

    def add(step: str, party: str, start, end) -> None:
        if start is not None and end is not None and end >= start:
            rows.append(
                StepDuration(
                    step=step,
                    application=application,
                    party=party,
                    entered_at=start,
                    ended_at=end,
                    seconds=int((end - start).total_seconds()),
                )
            )

    if from_state in REVIEW and to_state not in REVIEW and application.submitted_at:
        start = application.submitted_at
        agency = f"agency:{application.agency.code}" if application.agency_id else "agency"
        if application.verified_at and application.verified_at >= start:
            add("agency", agency, start, application.verified_at)
        elif role == Role.AGENCY:
            add("agency", agency, start, at)
        resources = Resource.objects.filter(application_id=application.pk)
        still_pending = set(
            resources.filter(state=Resource.State.PENDING).values_list("operator_id", flat=True)
        )
        last: dict[int, datetime] = {}
        for operator_id, when in Attestation.objects.filter(
            resource__application_id=application.pk, at__gte=start
        ).values_list("operator_id", "at"):
            last[operator_id] = max(when, last.get(operator_id, when))
        codes = dict(Operator.objects.filter(pk__in=list(last)).values_list("pk", "code"))
        for operator_id, end in last.items():
            if operator_id not in still_pending:
                add("operator", f"operator:{codes[operator_id]}", start, end)
    for step in STEPS:
        completed = from_state in step.states and to_state not in step.states and role == step.role
        if step.party == "regulator" and completed:
            add(step.code, "regulator", entered_at, at)
    if rows:
        StepDuration.objects.bulk_create(rows)


@dataclass
class Turnaround:
    step: Step
    count: int
    median: timedelta | None
    p90: timedelta | None
    target_days: int | None
    over_target: int | None
    waiting: int
    overdue: int | None

    @property
    def median_days(self) -> float | None:
        return None if self.median is None else self.median.total_seconds() / DAY

    @property
    def p90_days(self) -> float | None:
        return None if self.p90 is None else self.p90.total_seconds() / DAY


def _percentiles(qs: QuerySet, n: int, *ps: float) -> list[timedelta | None]:
    """Nearest-rank percentiles of `seconds`: one sort in the database, only the wanted rows come back."""
    if not n:
        return [None for _ in ps]
    ranks = [max(math.ceil(p * n), 1) for p in ps]
    numbered = qs.annotate(rank=Window(RowNumber(), order_by=F("seconds").asc())).filter(rank__in=ranks)
    found = dict(numbered.values_list("rank", "seconds"))
    return [timedelta(seconds=found[r]) for r in ranks]


def turnaround(start: datetime, end: datetime, *, now: datetime | None = None) -> list[Turnaround]:
    """Per step: completed in [start, end), their median and 90th percentile, and the work waiting now."""
    now = now or timezone.now()
    targets = step_targets()
    out = []
    for step in STEPS:
        done = StepDuration.objects.filter(step=step.code, ended_at__gte=start, ended_at__lt=end)
        n = done.count()
        median, p90 = _percentiles(done, n, 0.5, 0.9)
        target = targets.get(step.code)
        waiting = Application.objects.filter(_waiting(step))
        out.append(
            Turnaround(
                step=step,
                count=n,
                median=median,
                p90=p90,
                target_days=target,
                over_target=done.filter(seconds__gt=target * DAY).count() if target else None,
                waiting=waiting.count(),
                overdue=(
                    waiting.filter(**{f"{step.since}__lt": now - timedelta(days=target)}).count()
                    if target
                    else None
                ),
            )
        )
    return out
