"""Work queues, targets, escalation and turnaround, driven by one table of steps.

A step is work waiting for one party: the routed agency's verification, an operator's attestation of
the resources in its space, an officer's decision (and the steps other parts add: payment, appeal).
Each entry of `STEPS` says which application states the work waits in, which column holds the moment
it entered the step, and whose work it is; the queues, the overdue flags, `vpnregistry escalate`,
the turnaround report and the "this waits for you" notifications are all read from that table, so a
new state is one more entry.

Every queue is a walk of an index holding only waiting work (see `Application.Meta.indexes`), in
waiting order, paged by keyset on (entered, id): a page costs the same however much history lies in
the tables. Turnaround reads `StepDuration`, one row per completed step written at the transition
that ended it.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Lookup, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from vpnregistry.accounts.models import Agency, Category, District, Operator, Province, Role, User
from vpnregistry.applications.models import (
    Application,
    Attestation,
    Escalation,
    Resource,
    StepDuration,
    StepTarget,
)
from vpnregistry.audit.services import record
from vpnregistry.errors import InvalidInput, NotAllowed
from vpnregistry.timeutil import shown

State = Application.State
REVIEW = (State.SUBMITTED, State.IN_REVIEW)


class StatesIn(Lookup):
    """`state IN ('a', 'b')` with the states written into the SQL, not bound as parameters.

    The queue indexes are partial (`WHERE state IN (...)`); SQLite uses a partial index only when the
    query states its condition in the same literal terms, and bound parameters are not. The states
    are the workflow's own constants, checked to be plain words before they are written in.
    """

    lookup_name = "states_in"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        values = [str(v) for v in self.rhs]
        if not values or not all(re.fullmatch(r"[a-z_]{1,30}", v) for v in values):
            raise ValueError(f"not workflow states: {values!r}")
        return f"{lhs} IN ({', '.join(repr(v) for v in values)})", list(params)


Application._meta.get_field("state").register_lookup(StatesIn)
PAGE_SIZE = 25
DAY = 86400


@dataclass(frozen=True)
class Step:
    code: str
    label: str | Promise
    role: str  # whose queue it is in
    party: str  # "agency" (the routed agency), "operator" (each operator with pending resources), "regulator"
    states: tuple[str, ...]  # the application states in which the work waits
    since: str  # the Application column holding when the work entered the step
    where: Q = field(default_factory=Q)  # anything else that must hold while the work waits


STEPS: tuple[Step, ...] = (
    Step(
        "agency",
        gettext_lazy("Agency verification"),
        Role.AGENCY,
        "agency",
        REVIEW,
        "submitted_at",
        Q(verified_at__isnull=True),
    ),
    Step("operator", gettext_lazy("Operator attestation"), Role.OPERATOR, "operator", REVIEW, "submitted_at"),
    Step(
        "decision",
        gettext_lazy("Decision"),
        Role.OFFICER,
        "regulator",
        (State.AWAITING_DECISION,),
        "state_changed_at",
    ),
    Step(
        "payment",
        gettext_lazy("Payment"),
        Role.OFFICER,
        "regulator",
        (State.AWAITING_PAYMENT,),
        "state_changed_at",
    ),
    Step("appeal", gettext_lazy("Appeal"), Role.OFFICER, "regulator", (State.APPEALED,), "state_changed_at"),
)
BY_CODE = {s.code: s for s in STEPS}
QUEUE_ROLES = {s.role for s in STEPS}
# An applicant's own work, on its home page: its drafts and what was returned to it (no step: nothing
# there is overdue, escalated or timed).
APPLICANT_WORK = (State.DRAFT, State.RETURNED)


def steps_for(role: str) -> list[Step]:
    return [s for s in STEPS if s.role == role]


def _since(role: str) -> str:
    """The one column a role's steps wait from (one column keeps its queue a single ordered walk)."""
    (column,) = {s.since for s in steps_for(role)}
    return column


def step_targets() -> dict[str, int]:
    return dict(StepTarget.objects.values_list("step", "days"))


# The order in which a submitted application meets the steps: the agency and the operators side by
# side, then the fee (when one is due), then the regulator's decision. Appeals come only after a refusal.
AHEAD = ("agency", "operator", "payment", "decision")


def steps_ahead(application: Application) -> list[tuple[Step, int | None]]:
    """The steps a submitted application has still to pass, each with the regulator's target in days
    (None where none is set): what the applicant's confirmation tells them to expect."""
    done = set()
    if application.verified_at is not None:
        done.add("agency")
    if application.state not in REVIEW:
        done |= {"agency", "operator"}
    if application.state == State.AWAITING_DECISION:
        done.add("payment")
    targets = step_targets()
    return [(BY_CODE[code], targets.get(code)) for code in AHEAD if code not in done]


# --- which applications wait in a step ---------------------------------------------------------


def _pending(**resource_filter) -> Exists:
    return Exists(
        Resource.objects.filter(application=OuterRef("pk"), state=Resource.State.PENDING, **resource_filter)
    )


def _waiting(step: Step, user=None, resource_filter: dict | None = None) -> Q:
    """Applications whose work waits in `step`, for `user`'s body when given."""
    q = Q(state__states_in=step.states) & step.where
    if step.party == "agency" and user is not None:
        q &= Q(agency_id=user.agency_id)
    if step.party == "operator":
        wanted = dict(resource_filter or {})
        if user is not None and wanted.setdefault("operator_id", user.operator_id) != user.operator_id:
            return Q(pk__in=[])  # another operator's work: never in this one's queue
        q &= Q(_pending(**wanted))
    return q


def _waiting_any(steps: list[Step], user=None, resource_filter: dict | None = None) -> Q:
    """Work waiting in any of `steps`. Steps that differ only in their states become one `state IN`
    (one index range for the planner, where an OR of states can lead it to walk the whole table)."""
    groups: dict[tuple, list[str]] = {}
    by_key: dict[tuple, Step] = {}
    for step in steps:
        key = (step.party, step.role, str(step.where))
        groups.setdefault(key, []).extend(step.states)
        by_key.setdefault(key, step)
    waiting = Q(pk__in=[])
    for key, states in groups.items():
        merged = Step(**{**by_key[key].__dict__, "states": tuple(dict.fromkeys(states))})
        waiting |= _waiting(merged, user, resource_filter)
    return waiting


def waiting_for(user) -> Q:
    """The applications whose work waits for `user`, in any of its role's steps (an applicant: its
    own work, `APPLICANT_WORK`); none for a role without work. The home page reads it, so that a new
    step or state reaches it and the queues alike."""
    role = getattr(user, "role", None)
    if role == Role.APPLICANT:
        return Q(state__in=APPLICANT_WORK)
    if role not in QUEUE_ROLES:
        return Q(pk__in=[])
    return _waiting_any(steps_for(role), user)


@dataclass(frozen=True)
class Filters:
    step: str = ""
    category: Category | None = None
    agency: Agency | None = None
    operator: Operator | None = None
    district: District | None = None
    province: Province | None = None
    overdue: bool = False

    def as_query(self) -> dict[str, str]:
        """The filters as query parameters, for links to the next page."""
        out = {"step": self.step, "overdue": "1" if self.overdue else ""}
        for name in ("category", "agency", "operator", "district", "province"):
            obj = getattr(self, name)
            out[name] = obj.code if obj is not None else ""
        return {k: v for k, v in out.items() if v}


def parse_filters(params: Mapping, role: str) -> Filters:
    """Filters from query parameters; an unknown code is refused by name, never silently ignored."""
    errors: dict[str, list[str]] = {}
    found: dict = {}
    # One whole sentence for each kind, so that each reads naturally in every language.
    unknown = {
        "category": _("No category has the code %(code)s."),
        "agency": _("No agency has the code %(code)s."),
        "operator": _("No operator has the code %(code)s."),
        "district": _("No district has the code %(code)s."),
        "province": _("No province has the code %(code)s."),
    }
    for name, model in (
        ("category", Category),
        ("agency", Agency),
        ("operator", Operator),
        ("district", District),
        ("province", Province),
    ):
        code = str(params.get(name) or "").strip()
        if code:
            obj = model.objects.filter(code=code).first()
            if obj is None:
                errors[name] = [unknown[name] % {"code": code}]
            found[name] = obj
    step = str(params.get("step") or "").strip()
    if step and step not in {s.code for s in steps_for(role)}:
        errors["step"] = [
            _("Must be one of: %(choices)s.") % {"choices": ", ".join(s.code for s in steps_for(role))}
        ]
    overdue = str(params.get("overdue") or "").strip().lower()
    if overdue not in {"", "0", "1", "true", "false", "yes", "no", "on"}:
        errors["overdue"] = [_("Must be 1 or 0.")]
    if errors:
        raise InvalidInput(errors)
    return Filters(step=step, overdue=overdue in {"1", "true", "yes", "on"}, **found)


def queue_for(user, filters: Filters | None = None, *, now: datetime | None = None) -> QuerySet[Application]:
    """The applications waiting for `user`, oldest first; only the user's own agency's or operator's."""
    role = getattr(user, "role", None)
    if role not in QUEUE_ROLES:
        raise NotAllowed(_("Only agency reviewers, operators and officers have a queue."))
    filters = filters or Filters()
    now = now or timezone.now()
    since = _since(role)
    steps = [s for s in steps_for(role) if not filters.step or s.code == filters.step]
    resource_filter: dict = {}
    if filters.operator is not None:
        resource_filter["operator_id"] = filters.operator.pk
    if filters.district is not None:
        resource_filter["district_id"] = filters.district.pk
    if filters.province is not None:
        resource_filter["district__province_id"] = filters.province.pk
    qs = Application.objects.filter(_waiting_any(steps, user, resource_filter))
    if filters.overdue:
        targets = step_targets()
        late = Q(pk__in=[])
        for step in steps:
            if step.code in targets:
                cutoff = now - timedelta(days=targets[step.code])
                late |= Q(state__states_in=step.states, **{f"{since}__lt": cutoff})
        qs = qs.filter(late)
    if filters.category is not None:
        qs = qs.filter(category_id=filters.category.pk)
    if filters.agency is not None:
        qs = qs.filter(agency_id=filters.agency.pk)
    if resource_filter and role != Role.OPERATOR:
        qs = qs.filter(Exists(Resource.objects.filter(application=OuterRef("pk"), **resource_filter)))
    # Names come by separate lookups of the page's rows: a join here lets a planner with statistics
    # start from the small joined table and walk every application of it.
    return qs.prefetch_related("organisation", "category", "agency").order_by(since, "id")


# --- pages -------------------------------------------------------------------------------------

CURSOR = re.compile(r"^(\d{1,20})-(\d{1,20})$")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _cursor(since: datetime, pk: int) -> str:
    return f"{(since - EPOCH) // timedelta(microseconds=1)}-{pk}"


def _parse_cursor(cursor: str) -> tuple[datetime, int]:
    match = CURSOR.match(cursor or "")
    if not match:
        raise InvalidInput({"after": [_("Not a cursor given by a previous page.")]})
    try:
        since = EPOCH + timedelta(microseconds=int(match.group(1)))
    except OverflowError:
        raise InvalidInput({"after": [_("Not a cursor given by a previous page.")]}) from None
    return since, int(match.group(2))


@dataclass
class Item:
    application: Application
    step: Step
    since: datetime
    waited: timedelta
    target_days: int | None
    overdue: bool
    pending: int | None = None  # the operator's own resources waiting in this application


@dataclass
class QueuePage:
    items: list[Item]
    next_cursor: str | None


def queue_page(user, filters: Filters | None = None, after: str = "", size: int | None = None) -> QueuePage:
    """One page of the user's queue after `after` (a cursor from the previous page), of `size` rows
    (PAGE_SIZE, read at each call, when not given)."""
    size = PAGE_SIZE if size is None else size
    now = timezone.now()
    qs = queue_for(user, filters, now=now)
    since = _since(user.role)
    if after:
        t, pk = _parse_cursor(after)
        qs = qs.filter(Q(**{f"{since}__gte": t}) & (Q(**{f"{since}__gt": t}) | Q(id__gt=pk)))
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    targets = step_targets()
    pending: dict[int, int] = {}
    if user.role == Role.OPERATOR and rows:
        for app_id in Resource.objects.filter(
            application_id__in=[a.pk for a in rows],
            operator_id=user.operator_id,
            state=Resource.State.PENDING,
        ).values_list("application_id", flat=True):
            pending[app_id] = pending.get(app_id, 0) + 1
    items = []
    for application in rows:
        step = next(s for s in steps_for(user.role) if application.state in s.states)
        entered = getattr(application, step.since)
        target = targets.get(step.code)
        waited = now - entered
        items.append(
            Item(
                application=application,
                step=step,
                since=entered,
                waited=waited,
                target_days=target,
                overdue=target is not None and waited > timedelta(days=target),
                pending=pending.get(application.pk) if user.role == Role.OPERATOR else None,
            )
        )
    last = rows[-1] if more else None
    return QueuePage(items=items, next_cursor=_cursor(getattr(last, since), last.pk) if last else None)


# --- who must act ------------------------------------------------------------------------------


def owners(step: Step, application: Application, operator_ids=None) -> QuerySet[User]:
    """The active users whose work the step is, for this application."""
    users = User.objects.filter(is_active=True, role=step.role)
    if step.party == "agency":
        return users.filter(agency_id=application.agency_id)
    if step.party == "operator":
        if operator_ids is None:
            operator_ids = Resource.objects.filter(
                application_id=application.pk, state=Resource.State.PENDING
            ).values("operator_id")
        return users.filter(operator_id__in=operator_ids)
    return users


def steps_entered(application: Application, from_state: str, to_state: str) -> list[Step]:
    """The steps that `application` starts waiting in by moving from `from_state` to `to_state`."""
    entered = [s for s in STEPS if to_state in s.states and from_state not in s.states]
    if not entered:
        return []
    matching = Application.objects.filter(pk=application.pk)
    return [s for s in entered if matching.filter(_waiting(s)).exists()]


# --- turnaround: one row per completed step ----------------------------------------------------


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


def set_step_target(*, actor, step: str, days) -> StepTarget:
    """The regulator sets the days allowed for a step; audited."""
    if getattr(actor, "role", None) != Role.OFFICER:
        raise NotAllowed(_("Only a regulator officer can set step targets."))
    if step not in BY_CODE:
        raise InvalidInput({"step": [_("Must be one of: %(choices)s.") % {"choices": ", ".join(BY_CODE)}]})
    try:
        days = int(str(days).strip())
    except ValueError:
        raise InvalidInput({"days": [_("A whole number of days is required.")]}) from None
    if not 1 <= days <= 365:
        raise InvalidInput({"days": [_("Between 1 and 365 days.")]})
    now = timezone.now()
    with transaction.atomic():
        target = StepTarget.objects.select_for_update().filter(step=step).first()
        before = target.days if target else None
        if target is None:
            target = StepTarget(step=step, days=days)
        target.days, target.updated_at, target.updated_by = days, now, actor
        target.save()
        record(
            actor=actor,
            action="steptarget.set",
            object_type="steptarget",
            object_id=step,
            at=now,
            data={"step": step, "days": days, "before": before},
        )
    return target


# --- escalation --------------------------------------------------------------------------------


@dataclass
class EscalationReport:
    escalated: dict[str, int] = field(default_factory=dict)
    recipients: int = 0


def _overdue(step: Step, cutoff: datetime, batch: int):
    """(application, party, entered, operator id or None) for work in `step` waiting since before
    `cutoff` and not yet escalated for this entry; bounded by the work waiting in the step."""
    done = Escalation.objects.filter(
        application=OuterRef("pk"), step=step.code, entered_at=OuterRef(step.since)
    )
    if step.party != "operator":
        qs = (
            Application.objects.filter(_waiting(step), **{f"{step.since}__lt": cutoff})
            .exclude(Exists(done))
            .select_related("agency")
            .order_by(step.since, "id")
        )
        for application in qs.iterator(chunk_size=batch):
            party = f"agency:{application.agency.code}" if step.party == "agency" else "regulator"
            yield application, party, getattr(application, step.since), None
        return
    pairs = (
        Resource.objects.filter(
            state=Resource.State.PENDING,
            application__state__states_in=step.states,
            application__submitted_at__lt=cutoff,
        )
        .values_list("application_id", "operator_id", "operator__code", "application__submitted_at")
        .distinct()
        .order_by("application__submitted_at", "application_id", "operator_id")
    )
    for app_id, operator_id, code, entered in pairs.iterator(chunk_size=batch):
        party = f"operator:{code}"
        if not Escalation.objects.filter(
            application_id=app_id, step=step.code, party=party, entered_at=entered
        ).exists():
            yield Application.objects.get(pk=app_id), party, entered, operator_id


def _escalation_text(lines: list[dict]):
    """The subject and body of one recipient's escalation digest, as functions that write them in the
    active language (notifications.send calls them in the recipient's)."""

    def subject() -> str:
        return ngettext(
            "%(n)d item waiting past its target", "%(n)d items waiting past their target", len(lines)
        ) % {"n": len(lines)}

    def line(values: dict) -> str:
        return (
            ngettext(
                "%(ref)s: %(step)s (%(party)s) waiting since %(since)s, target %(days)d day",
                "%(ref)s: %(step)s (%(party)s) waiting since %(since)s, target %(days)d days",
                values["days"],
            )
            % values
        )

    def body() -> str:
        heading = _("These waited longer than the regulator's target and have been escalated:")
        return heading + "\n\n" + "\n".join(line(values) for values in lines)

    return subject, body


def escalate(*, now: datetime | None = None, batch: int = 500) -> EscalationReport:
    """For cron, idempotent: escalate each piece of work past its target once per entry into its step.

    Each escalation is recorded (an `Escalation` row and an audit event, in one transaction); then
    every recipient (the step's owners and the officers) gets one message listing what was escalated.
    """
    from vpnregistry.notifications.services import Message, send

    now = now or timezone.now()
    report = EscalationReport()
    targets = step_targets()
    # What each recipient is told, as the values of its lines: written in their language when sent.
    digest: dict[int, list[dict]] = defaultdict(list)
    officers = list(User.objects.filter(is_active=True, role=Role.OFFICER).values_list("pk", flat=True))
    for step in STEPS:
        days = targets.get(step.code)
        if days is None:
            continue
        cutoff = now - timedelta(days=days)
        count = 0
        for application, party, entered, operator_id in _overdue(step, cutoff, batch):
            try:
                with transaction.atomic():
                    Escalation.objects.create(
                        step=step.code, application=application, party=party, entered_at=entered, at=now
                    )
                    record(
                        actor=None,
                        action="application.escalate",
                        obj=application,
                        at=now,
                        data={
                            "step": step.code,
                            "party": party,
                            "entered_at": entered.isoformat(),
                            "target_days": days,
                        },
                    )
            except IntegrityError:  # escalated meanwhile by another run
                continue
            count += 1
            line = {
                "ref": application.tracking_number,
                "step": step.label,
                "party": party,
                "since": shown(entered),
                "days": days,
            }
            ops = [operator_id] if operator_id is not None else None
            for user_id in {*owners(step, application, ops).values_list("pk", flat=True), *officers}:
                digest[user_id].append(line)
        report.escalated[step.code] = count
    link = reverse("portal:queue") + "?overdue=1"
    # One message a recipient, in their language, written together in batches rather than a
    # transaction each.
    send(
        Message([user], *_escalation_text(digest[user.pk]), link)
        for user in User.objects.filter(pk__in=list(digest)).only("pk", "email", "language").order_by("pk")
    )
    report.recipients = len(digest)
    return report
