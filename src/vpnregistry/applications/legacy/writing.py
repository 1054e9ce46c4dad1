"""Writing a checked legacy register: in batches of bulk inserts, each batch one transaction under the
approval lock, re-checked there against what changed in the registry since it was read."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from vpnregistry.accounts.models import Organisation, Role, User
from vpnregistry.accounts.names import name_skeleton
from vpnregistry.applications.legacy.registry import _clash_message, _Held, _Space
from vpnregistry.applications.legacy.rows import ACTIVE, Checked, OrganisationKey, Row
from vpnregistry.applications.models import Application, Resource
from vpnregistry.audit.services import record_many
from vpnregistry.db import address_key, hold_lock, insert_rows
from vpnregistry.registrations.models import REFERENCE_ALPHABET, ActivePeriod, PublicationDue, Registration

IMPORTER = "legacy-import"
BATCH = 2000  # rows written per transaction: the approval lock is held about a third of a second
EXPIRED = Registration.State.EXPIRED.value
CONFIRMED = Resource.State.CONFIRMED.value
APPROVED = Application.State.APPROVED.value
RESOURCE_FIELDS = [
    "application_id", "kind", "value", "family", "first", "last", "operator_id", "subscriber_id",
    "district_id", "state",
]  # fmt: skip
REGISTRATION_FIELDS = [
    "reference", "resource_id", "organisation_id", "operator_id", "kind", "value", "family", "first",
    "last", "district_id", "state", "valid_from", "valid_until", "created_at",
]  # fmt: skip
PUBLICATION_REASON = "import of the register kept before this registry"
KINDS = {4: Resource.Kind.IPV4.value, 6: Resource.Kind.IPV6.value}  # the kind of a row, by family


# A random byte's low five bits pick one of the alphabet's 32 symbols: 256 is a multiple of 32, so
# every symbol is equally likely, as with secrets.choice.
_SYMBOLS = bytes.maketrans(
    bytes(range(256)), "".join(REFERENCE_ALPHABET[b % 32] for b in range(256)).encode()
)


def _references(count: int) -> list[str]:
    """`count` registration references as `new_reference` makes them ("R-" and ten symbols, each
    uniformly random), from one read of the system's randomness instead of ten a reference."""
    text = secrets.token_bytes(10 * count).translate(_SYMBOLS).decode()
    return ["R-" + text[i : i + 10] for i in range(0, 10 * count, 10)]


@dataclass
class Imported:
    created: int
    already: int
    refused: list[tuple[int, str]]  # rows found bad at writing time (space taken meanwhile), by line


def import_rows(
    checked: Checked,
    *,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH,
) -> Imported:
    """Write the checked rows in batches; rows seen before are skipped.

    Each batch is one transaction under the approval lock, as an approval is, and its rows are
    checked again there against what changed in the registry since it was read: the registrations
    that became active since (by the active periods opened after the check's mark), and the
    operators' space as it is now. A row whose space was registered to another organisation, or
    left its operator, meanwhile is refused and reported, not written. Batches already written stay
    written when a later one fails; running the import again finishes it.
    """
    with transaction.atomic():
        importer, _ = User.objects.get_or_create(
            username=IMPORTER, defaults={"role": Role.OFFICER, "is_active": False}
        )
    batch = _Batch(importer, dict(checked.organisations), checked.mark)
    rows = checked.rows
    for start in range(0, len(rows), batch_size):
        with transaction.atomic():
            hold_lock("approval")
            batch.write(rows[start : start + batch_size])
        if progress:
            progress(min(start + batch_size, len(rows)), len(rows))
    return Imported(batch.created, batch.already, sorted(batch.refused))


class _Batch:
    """What one import carries from batch to batch: organisations, applications, the activity mark,
    counts.

    A row written by an earlier batch is recognised as any row imported before is, by the query of
    `_new`: its organisation is known by then.
    """

    def __init__(self, importer: User, organisations: dict[OrganisationKey, int], mark: int):
        self.importer = importer
        self.organisations = organisations
        self.mark = mark
        self.applications: dict[int, int] = {}  # organisation -> the application this import made for it
        self.created = self.already = 0
        self.refused: list[tuple[int, str]] = []

    def write(self, rows: Sequence[Row]) -> None:
        """Write one batch; the caller holds the approval lock in the batch's transaction."""
        now = timezone.now()
        rows, repeats = self._new(rows)
        refused = self._recheck(rows, now)
        # A row repeated in the file shares the fate of its first: refused with it, or already there.
        for row, first in repeats:
            if first.line in refused:
                refused[row.line] = refused[first.line]
            else:
                self.already += 1
        self.refused += refused.items()
        rows = [row for row in rows if row.line not in refused]
        if rows:
            self._write(rows, now)
        # Every period up to here is either this import's or was read above: the next batch
        # re-checks against those opened after it.
        self.mark = ActivePeriod.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def _recheck(self, rows: list[Row], now: datetime) -> dict[int, str]:
        """The rows the registry refuses now, by line, with why."""
        refused: dict[int, str] = {}
        space = _Space()
        for row in rows:
            if space.operator_of(row) != row.operator.pk:
                refused[row.line] = f"value: {row.value} is no longer in {row.operator.code}'s address space"
        fresh = _Held(
            Registration.objects.filter(periods__id__gt=self.mark, state=ACTIVE, family__isnull=False)
            .values_list("family", "first", "last", "organisation_id", "value")
            .distinct()
        )
        for row in rows:
            if row.line not in refused and row.valid_until > now:
                value = fresh.clash(row, self.organisations.get(row.organisation_key, 0))
                if value is not None:
                    refused[row.line] = _clash_message(row, value)
        return refused

    def _write(self, rows: list[Row], now: datetime) -> None:
        """Write the batch's rows: their resources, registrations, active periods and audit records,
        each table in one bulk write (COPY on PostgreSQL: see `insert_rows`)."""
        self._organisations_for(rows)
        made = self._applications_for(rows, now)
        # The durable wish to publish, in the batch's transaction (as request_publication writes it,
        # one per approved application): a run cut short is published by whatever publishes next.
        insert_rows(
            PublicationDue,
            ["at", "reason", "application_id"],
            [(now, PUBLICATION_REASON, pk) for pk in made] or [(now, PUBLICATION_REASON, None)],
        )
        keys = [(address_key(row.first), address_key(row.last)) for row in rows]
        resources = self._resources(rows, keys)
        states = [ACTIVE if row.valid_until > now else EXPIRED for row in rows]
        registrations = self._registrations(rows, keys, resources, states, now)
        insert_rows(
            ActivePeriod,
            ["registration_id", "start", "end"],
            [(pk, row.valid_from, row.valid_until) for row, pk in zip(rows, registrations, strict=True)],
        )
        record_many(
            {
                "actor": self.importer,
                "action": "registration.import",
                "object_type": "registration",
                "object_id": str(pk),
                "to_state": state,
                "at": now,
                "data": {"value": row.value, "line": row.line},
            }
            for row, pk, state in zip(rows, registrations, states, strict=True)
        )
        self.created += len(rows)

    def _resources(self, rows: list[Row], keys: list[tuple[str, str]]) -> list[int]:
        """Write the rows' resources, confirmed, in one bulk write; their ids, in the rows' order."""
        return insert_rows(
            Resource,
            RESOURCE_FIELDS,
            [
                (
                    self.applications[self.organisations[row.organisation_key]],
                    KINDS[row.family],
                    row.value,
                    row.family,
                    first,
                    last,
                    row.operator.pk,
                    row.subscriber_id,
                    row.district.pk if row.district else None,
                    CONFIRMED,
                )
                for row, (first, last) in zip(rows, keys, strict=True)
            ],
        )

    def _registrations(
        self,
        rows: list[Row],
        keys: list[tuple[str, str]],
        resources: list[int],
        states: list[str],
        now: datetime,
    ) -> list[int]:
        """Write the rows' registrations, each of its resource and in its state, in one bulk write;
        their ids, in the rows' order."""
        return insert_rows(
            Registration,
            REGISTRATION_FIELDS,
            [
                (
                    reference,
                    resource,
                    self.organisations[row.organisation_key],
                    row.operator.pk,
                    KINDS[row.family],
                    row.value,
                    row.family,
                    first,
                    last,
                    row.district.pk if row.district else None,
                    state,
                    row.valid_from,
                    row.valid_until,
                    now,
                )
                for row, (first, last), resource, reference, state in zip(
                    rows, keys, resources, _references(len(rows)), states, strict=True
                )
            ],
        )

    def _new(self, rows: Sequence[Row]) -> tuple[list[Row], list[tuple[Row, Row]]]:
        """The rows not written before (by an earlier run, or earlier in this one), in one query,
        and the rows that repeat one of them in this batch, each with the row it repeats."""
        known = [row for row in rows if row.organisation_key in self.organisations]
        there = set(
            Registration.objects.filter(
                kind__in=["ipv4", "ipv6"],
                value__in={row.value for row in known},
                organisation_id__in={self.organisations[row.organisation_key] for row in known},
            ).values_list("organisation_id", "value", "valid_from")
        )
        new: list[Row] = []
        firsts: dict[tuple[OrganisationKey, str, datetime], Row] = {}
        repeats: list[tuple[Row, Row]] = []
        for row in rows:
            key = (row.organisation_key, row.value, row.valid_from)
            if (self.organisations.get(row.organisation_key), row.value, row.valid_from) in there:
                self.already += 1
            elif key in firsts:
                repeats.append((row, firsts[key]))
            else:
                firsts[key] = row
                new.append(row)
        return new, repeats

    def _organisations_for(self, rows: list[Row]) -> None:
        """Make the organisations the rows name that do not exist yet, as `Organisation.save` would
        (the name was normalised when it was read; its skeleton finds look-alikes of it). A register
        carries no identifiers, so they stay blank and their blind indexes empty, as save leaves them."""
        missing = sorted({row.organisation_key for row in rows} - self.organisations.keys())
        made = insert_rows(
            Organisation,
            ["name", "category_id", "name_skeleton"],
            [(name, category, name_skeleton(name)[:200]) for name, category in missing],
        )
        self.organisations.update(zip(missing, made, strict=True))

    def _applications_for(self, rows: list[Row], now: datetime) -> list[int]:
        """Make the applications this import has not made yet for the rows' organisations; their ids."""
        first_rows: dict[int, Row] = {}
        for row in rows:
            organisation = self.organisations[row.organisation_key]
            if organisation not in self.applications:
                first_rows.setdefault(organisation, row)
        made = insert_rows(
            Application,
            ["organisation_id", "category_id", "created_by_id", "state", "decided_at", "decided_by_id",
             "decision_reason", "state_changed_at"],
            [
                (organisation, row.category.pk, self.importer.pk, APPROVED, now, self.importer.pk,
                 "Imported from the register kept before this registry.", now)
                for organisation, row in first_rows.items()
            ],
        )  # fmt: skip
        self.applications.update(zip(first_rows, made, strict=True))
        return made
