"""A user's queue: the filters, the applications waiting for the user, and a page of them by keyset."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.accounts.models import Agency, Category, District, Operator, Province, Role
from vpnregistry.applications.models import Application, Resource
from vpnregistry.applications.queues.steps import (
    QUEUE_ROLES,
    Step,
    _since,
    _waiting_any,
    step_targets,
    steps_for,
)
from vpnregistry.errors import InvalidInput, NotAllowed

PAGE_SIZE = 25


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
