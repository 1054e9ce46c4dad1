"""The table of steps: which application states work waits in, since when, for whom; which
applications wait in a step, whose work it is, and the regulator's target days for each."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, Lookup, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vpnregistry.accounts.models import Role, User
from vpnregistry.applications.models import Application, Resource, StepTarget
from vpnregistry.audit.services import record
from vpnregistry.errors import InvalidInput, NotAllowed

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
