"""Importing registrations made before the registry (the regime already held over 31,000).

Every row is checked before anything is written: a file with a bad row imports nothing unless the
caller asks to skip bad rows. Rows already imported are recognised and left alone, so importing
the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from vpnregistry.accounts.models import Category, District, Operator, Organisation, Role, User
from vpnregistry.accounts.selectors import operator_for_network
from vpnregistry.applications.models import Application, Resource
from vpnregistry.audit.services import record
from vpnregistry.db import Network, network_keys, serialise
from vpnregistry.netblocks import ParseError, check_prefix
from vpnregistry.registrations.models import ActivePeriod, Registration
from vpnregistry.registrations.selectors import conflicting_registration
from vpnregistry.timeutil import parse_time

COLUMNS = ["organisation", "category", "value", "operator", "subscriber_id", "valid_from", "valid_until"]
OPTIONAL = ["district"]
IMPORTER = "legacy-import"


@dataclass(frozen=True)
class Row:
    line: int
    organisation: str
    category: Category
    net: Network
    operator: Operator
    subscriber_id: str
    district: District | None
    valid_from: datetime
    valid_until: datetime


@dataclass
class Checked:
    rows: list[Row]
    errors: list[tuple[int, str]]


def check_file(text: str) -> Checked:
    """Parse and check every row; nothing is written."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return Checked([], [(1, f"the header lacks the column(s): {', '.join(missing)}")])
    categories = {c.code: c for c in Category.objects.all()}
    operators = {o.code: o for o in Operator.objects.all()}
    districts = {d.code: d for d in District.objects.all()}
    rows: list[Row] = []
    errors: list[tuple[int, str]] = []
    for raw in reader:
        line = reader.line_num
        reasons: list[str] = []
        get = {k: (raw.get(k) or "").strip() for k in COLUMNS + OPTIONAL}
        category = categories.get(get["category"])
        operator = operators.get(get["operator"])
        district = districts.get(get["district"]) if get["district"] else None
        if not get["organisation"]:
            reasons.append("organisation: empty")
        if category is None:
            reasons.append(f"category: {get['category']!r} is not a category code")
        if operator is None:
            reasons.append(f"operator: {get['operator']!r} is not an operator code")
        if get["district"] and district is None:
            reasons.append(f"district: {get['district']!r} is not a district code")
        if not get["subscriber_id"]:
            reasons.append("subscriber_id: empty")
        net = None
        try:
            limits = (category.min_len_v4, category.min_len_v6) if category else (0, 0)
            net = check_prefix(get["value"], min_len_v4=limits[0], min_len_v6=limits[1])
        except ParseError as exc:
            reasons.append(f"value: {exc}")
        if net is not None and operator is not None:
            holder = operator_for_network(net)
            if holder is None or holder.pk != operator.pk:
                reasons.append(f"value: {net} is not in {operator.code}'s address space")
        times = {}
        for field in ("valid_from", "valid_until"):
            try:
                times[field] = parse_time(get[field])
            except ValueError as exc:
                reasons.append(f"{field}: {exc}")
        if len(times) == 2 and times["valid_until"] <= times["valid_from"]:
            reasons.append("valid_until: must come after valid_from")
        if reasons:
            errors.append((line, "; ".join(reasons)))
            continue
        rows.append(
            Row(
                line,
                get["organisation"],
                category,
                net,
                operator,
                get["subscriber_id"],
                district,
                times["valid_from"],
                times["valid_until"],
            )
        )
    errors.extend(_overlaps(rows))
    return Checked(rows, sorted(errors))


def _overlaps(rows: list[Row]) -> list[tuple[int, str]]:
    """Rows of different organisations that overlap each other, or another's active registration."""
    errors = []
    by_start = sorted(rows, key=lambda r: (r.net.version, int(r.net.network_address), -r.net.prefixlen))
    open_rows: list[Row] = []
    for row in by_start:
        open_rows = [o for o in open_rows if o.net.version == row.net.version and row.net.subnet_of(o.net)]
        clash = next(
            (
                o
                for o in open_rows
                if o.organisation != row.organisation
                and o.valid_from < row.valid_until
                and row.valid_from < o.valid_until
            ),
            None,
        )
        if clash is not None:
            errors.append(
                (
                    row.line,
                    f"value: {row.net} overlaps {clash.net} of another organisation (line {clash.line})",
                )
            )
        open_rows.append(row)
    for row in rows:
        existing = conflicting_registration(net=row.net, organisation=_organisation_stub(row))
        if existing is not None and row.valid_until > timezone.now():
            errors.append(
                (row.line, f"value: {row.net} overlaps {existing.value}, registered to another organisation")
            )
    return errors


def _organisation_stub(row: Row) -> Organisation | None:
    return Organisation.objects.filter(name=row.organisation, category=row.category).first() or Organisation(
        pk=0
    )


@dataclass
class Imported:
    created: int
    already: int


def import_rows(rows: Iterable[Row], *, progress: Callable[[int], None] | None = None) -> Imported:
    """Write the checked rows in one transaction, under the approval lock; rows seen before are skipped."""
    now = timezone.now()
    created = already = 0
    with transaction.atomic():
        serialise("approval")
        importer, _ = User.objects.get_or_create(
            username=IMPORTER, defaults={"role": Role.OFFICER, "is_active": False}
        )
        applications: dict[int, Application] = {}
        for done, row in enumerate(rows, 1):
            organisation, _ = Organisation.objects.get_or_create(name=row.organisation, category=row.category)
            value = str(row.net)
            if Registration.objects.filter(
                organisation=organisation, value=value, valid_from=row.valid_from
            ).exists():
                already += 1
                continue
            application = applications.get(organisation.pk)
            if application is None:
                application = applications[organisation.pk] = Application.objects.create(
                    organisation=organisation,
                    category=row.category,
                    created_by=importer,
                    state=Application.State.APPROVED,
                    decided_at=now,
                    decided_by=importer,
                    decision_reason="Imported from the register kept before this registry.",
                )
            family, first, last = network_keys(row.net)
            resource = Resource.objects.create(
                application=application,
                kind=f"ipv{family}",
                value=value,
                family=family,
                first=first,
                last=last,
                operator=row.operator,
                subscriber_id=row.subscriber_id,
                district=row.district,
                state=Resource.State.CONFIRMED,
            )
            active = row.valid_until > now
            registration = Registration.objects.create(
                resource=resource,
                organisation=organisation,
                operator=row.operator,
                kind=resource.kind,
                value=value,
                family=family,
                first=first,
                last=last,
                district=row.district,
                state=Registration.State.ACTIVE if active else Registration.State.EXPIRED,
                valid_from=row.valid_from,
                valid_until=row.valid_until,
            )
            ActivePeriod.objects.create(registration=registration, start=row.valid_from, end=row.valid_until)
            record(
                actor=importer,
                action="registration.import",
                obj=registration,
                to_state=registration.state,
                at=now,
                data={"value": value, "line": row.line},
            )
            created += 1
            if progress:
                progress(done)
    return Imported(created, already)
