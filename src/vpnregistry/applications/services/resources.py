"""Resources asked for: every item checked (shape, operator, address space or numbering, overlaps
within the application), rows made of them, porting declared, and the hourly limit on entering them."""

from __future__ import annotations

import bisect
import ipaddress
import time
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from vpnregistry.accounts.models import District, Operator, Organisation
from vpnregistry.accounts.numbering import operator_for_number
from vpnregistry.accounts.selectors import operator_for_network
from vpnregistry.applications.models import (
    Application,
    Resource,
)
from vpnregistry.applications.msisdn import NotAMobileNumber, looks_like_msisdn, normalise_msisdn
from vpnregistry.csvcells import formula_reason
from vpnregistry.db import Network, network_keys
from vpnregistry.errors import InvalidInput, TooMany
from vpnregistry.messages import address_error
from vpnregistry.netblocks import ParseError, check_prefix
from vpnregistry.registrations.models import PortingDeclaration

MAX_RESOURCES = 1000


@dataclass(frozen=True)
class CleanResource:
    net: Network | None
    operator: Operator
    subscriber_id: str
    district: District | None = None
    msisdn: str = ""  # a mobile number in E.164, instead of a network
    # A mobile number declared ported to `operator` from this one, whose numbering holds it.
    ported_from: Operator | None = None

    @property
    def value(self) -> str:
        return self.msisdn or str(self.net)


def _storable(text: str) -> bool:
    """Text a person could type: no control characters (NUL, which PostgreSQL refuses, among them) and
    no lone surrogates (which no database encodes); JSON bodies can carry both."""
    return not any(unicodedata.category(c) in {"Cc", "Cs"} for c in text)


def clean_resources(*, organisation: Organisation, items: Iterable[Mapping]) -> list[CleanResource]:
    """Check every resource asked for; refuse the lot, naming each bad one, or return them all.

    An item has a `value` (an address, a prefix or a mobile number), a `subscriber_id`, optionally a
    `district` code, and an `operator` code: required for a mobile number (the mobile operator that
    attests it), optional for an address (then it must be the operator whose space holds it).
    """
    items = list(items)
    if not items:
        raise InvalidInput({"resources": [_("At least one resource is required.")]})
    if len(items) > MAX_RESOURCES:
        raise InvalidInput(
            {"resources": [_("At most %(n)d resources in one application.") % {"n": MAX_RESOURCES}]}
        )
    cleaner = _Cleaner(organisation, [item for item in items if isinstance(item, Mapping)])
    for item in items:
        cleaner.add(item)
    if any(cleaner.errors):
        raise InvalidInput({"resources": cleaner.errors})
    return [c for c in cleaner.cleaned if c is not None]


def _codes(mappings: list[Mapping], key: str) -> set[str]:
    """The codes given under `key`; codes no database stores (NUL, lone surrogates) are looked up
    nowhere: they are unknown."""
    codes = {str(item.get(key) or "").strip() for item in mappings}
    return {code for code in codes if _storable(code)} - {""}


@dataclass(frozen=True)
class _Given:
    """One item as given, its district and operator looked up (None when not named, or unknown)."""

    value: str
    subscriber_id: str
    district: District | None
    operator_code: str
    named: Operator | None
    ported: bool


class _Cleaner:
    """One application's resources checked in order: each item's errors, or its clean resource, by
    position. The districts and operators named are read once, for all the items."""

    def __init__(self, organisation: Organisation, mappings: list[Mapping]):
        self.organisation = organisation
        self.category = organisation.category
        codes = _codes(mappings, "district")
        self.districts = {d.code: d for d in District.objects.filter(code__in=codes)} if codes else {}
        codes = _codes(mappings, "operator")
        self.operators = {o.code: o for o in Operator.objects.filter(code__in=codes)} if codes else {}
        self.cleaned: list[CleanResource | None] = []
        self.errors: list[dict] = []
        self.taken = _Taken()
        self.numbers: dict[str, int] = {}

    def add(self, item) -> None:
        error: dict[str, list[str]] = {}
        entry = None
        if not isinstance(item, Mapping):
            error["value"] = [_("Each resource must be an object with a value and a subscriber_id.")]
        else:
            entry = self._clean(item, error)
        self.cleaned.append(None if error else entry)
        self.errors.append(error)

    def _clean(self, item: Mapping, error: dict) -> CleanResource | None:
        # Checked in this order, so that an item's errors are listed in it: subscriber ID, district,
        # operator, then the value itself.
        subscriber_id = str(item.get("subscriber_id") or "").strip()
        if problem := _subscriber_id_problem(subscriber_id):
            error["subscriber_id"] = [problem]
        given = _Given(
            value=str(item.get("value") or "").strip(),
            subscriber_id=subscriber_id,
            district=self._named(item, "district", self.districts, error),
            operator_code=str(item.get("operator") or "").strip(),
            named=self._named(item, "operator", self.operators, error),
            ported=declared_ported(item.get("ported")),
        )
        if looks_like_msisdn(given.value):
            return self._msisdn(given, error)
        entry = self._network(given, error)
        if entry is not None and not error:
            self.taken.add(entry.net, len(self.cleaned))
        return entry

    def _named(self, item: Mapping, key: str, known: dict, error: dict):
        """The district or operator an item names by its code (None when it names none); an unknown
        code is the item's error."""
        code = str(item.get(key) or "").strip()
        if not code:
            return None
        found = known.get(code)
        if found is None:
            shown = code if _storable(code) else ascii(code)
            if key == "district":
                message = _(
                    "%(code)s is not a district code: give the code of a district in the list, "
                    "such as pb-lahore."
                )
            else:
                message = _(
                    "%(code)s is not an operator code: give the code of an operator in the list of operators."
                )
            error[key] = [message % {"code": shown}]
        return found

    def _network(self, given: _Given, error: dict) -> CleanResource | None:
        named, category = given.named, self.category
        try:
            net = check_prefix(given.value, min_len_v4=category.min_len_v4, min_len_v6=category.min_len_v6)
        except ParseError as exc:
            error["value"] = [address_error(exc)]
            return None
        operator = operator_for_network(net)
        clash = self.taken.clash(net)
        if operator is None:
            error["value"] = [_("%(net)s is in no operator's address space.") % {"net": net}]
        elif named is not None and named.pk != operator.pk:
            error["operator"] = [
                _("%(net)s is in the address space of %(operator)s, not %(named)s.")
                % {"net": net, "operator": operator.code, "named": named.code}
            ]
        elif clash is not None:
            error["value"] = [
                _("%(net)s overlaps resource %(n)d (%(other)s) of this application.")
                % {"net": net, "n": clash + 1, "other": self.cleaned[clash].net}
            ]
        else:
            # A resource another organisation holds is not refused here: the answer would tell anybody
            # who holds what. Its reviewers see the conflict (`selectors.conflicts_shown`) and reject it.
            return CleanResource(
                net=net, operator=operator, subscriber_id=given.subscriber_id, district=given.district
            )
        return None

    def _msisdn(self, given: _Given, error: dict) -> CleanResource | None:
        named, operator_code = given.named, given.operator_code
        try:
            number = normalise_msisdn(given.value)
        except NotAMobileNumber as exc:
            error["value"] = [str(exc)]
            return None
        if not operator_code:
            # The operator whose numbering the number was issued from; a ported number names its operator.
            named = operator_for_number(number)
            if named is None:
                error["operator"] = [
                    _("No operator's numbering holds %(number)s: name the mobile operator that attests it.")
                    % {"number": number}
                ]
        elif named is not None and named.kind != Operator.Kind.MOBILE:
            error["operator"] = [_("%(code)s is not a mobile operator.") % {"code": named.code}]
        owner = operator_for_number(number) if operator_code and named is not None else None
        ported_from = owner if owner is not None and owner.pk != named.pk else None
        if ported_from is not None and not given.ported and "operator" not in error:
            # Naming an operator other than the numbering's is a claim that the number was ported.
            error["ported"] = [
                _(
                    "%(number)s is in the numbering of %(owner)s, not %(named)s: declare that it was "
                    "ported to %(named)s, or name %(owner)s."
                )
                % {"number": number, "owner": owner.code, "named": named.code}
            ]
        if number in self.numbers:
            error["value"] = [
                _("%(number)s is resource %(n)d of this application already.")
                % {"number": number, "n": self.numbers[number] + 1}
            ]
        self.numbers.setdefault(number, len(self.cleaned))
        if error or named is None:
            return None
        return CleanResource(
            net=None,
            msisdn=number,
            operator=named,
            subscriber_id=given.subscriber_id,
            district=given.district,
            ported_from=ported_from,
        )


def _subscriber_id_problem(subscriber_id: str) -> str:
    """Why a subscriber ID cannot be taken (empty when it can)."""
    if not subscriber_id:
        return _("The subscriber ID is required: the customer or account number on the bill.")
    if len(subscriber_id) > 64:
        return _("The subscriber ID is longer than 64 characters.")
    if not _storable(subscriber_id):
        return _("The subscriber ID holds control characters; type it as on the bill.")
    if formula_reason(subscriber_id):
        return _(
            "The subscriber ID may not begin with = or @, nor with + or - followed by anything "
            "but a digit: spreadsheets run such text as a formula. Type it as on the bill."
        )
    return ""


class _Taken:
    """The networks accepted so far in one application, per family, sorted: each new one is checked
    against its neighbours in O(log n), not against every other. Accepted networks never overlap,
    so a clash is with the one starting at or before the new one, or with the one right after it."""

    def __init__(self):
        self.starts: dict[int, list[int]] = {4: [], 6: []}
        self.rows: dict[int, list[tuple[int, int]]] = {4: [], 6: []}  # (last address, position)

    def clash(self, net: Network) -> int | None:
        first, last = int(net.network_address), int(net.broadcast_address)
        starts, rows = self.starts[net.version], self.rows[net.version]
        i = bisect.bisect_right(starts, first)
        if i and rows[i - 1][0] >= first:
            return rows[i - 1][1]
        if i < len(starts) and starts[i] <= last:
            return rows[i][1]
        return None

    def add(self, net: Network, position: int) -> None:
        first = int(net.network_address)
        starts, rows = self.starts[net.version], self.rows[net.version]
        i = bisect.bisect_right(starts, first)
        starts.insert(i, first)
        rows.insert(i, (int(net.broadcast_address), position))


def declared_ported(value) -> bool:
    """An item's `ported` as given by JSON (true), a form (on) or a CSV cell (yes, true, 1, y)."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "y", "on"}


def resource_items(resources: Iterable[Resource]) -> list[dict]:
    """Stored resources as the items clean_resources takes: to check them again, or to copy them."""
    return [
        {
            "value": r.value,
            "subscriber_id": r.subscriber_id,
            "district": r.district.code if r.district_id else "",
            "operator": r.operator.code,
            "ported": hasattr(r, "porting"),
        }
        for r in resources
    ]


def count_entered(organisation: Organisation, count: int) -> None:
    """Count `count` resources entered by the organisation this hour, or refuse past the limit.

    Every resource entered counts, accepted or not (a CSV file's every row): the limit is on asking,
    so that nobody learns much by trying resources. The counter lives in the cache (Redis in
    production, shared by every app server), one per organisation and clock hour; a refused request
    is not counted.
    """
    limit = settings.RESOURCES_PER_HOUR
    if not limit or not count:
        return
    now = int(time.time())
    key = f"resources-entered:{organisation.pk}:{now // 3600}"
    cache.add(key, 0, timeout=7200)
    try:
        total = cache.incr(key, count)
    except ValueError:  # expired between add and incr
        cache.set(key, count, timeout=7200)
        total = count
    if total > limit:
        cache.decr(key, count)
        minutes = (3600 - now % 3600) // 60 + 1
        raise TooMany(
            _(
                "An organisation may enter at most %(limit)d resources an hour (every row of a CSV "
                "file counts); these %(count)d would pass it."
            )
            % {"limit": limit, "count": count}
            + " "
            + ngettext("Try again in %(minutes)d minute.", "Try again in %(minutes)d minutes.", minutes)
            % {"minutes": minutes},
            retry_after=3600 - now % 3600,
        )


def resource_row(application: Application, c: CleanResource, renews=None) -> Resource:
    if c.msisdn:
        kind, family, first, last = Resource.Kind.MSISDN, None, "", ""
    else:
        family, first, last = network_keys(c.net)
        kind = f"ipv{family}"
    return Resource(
        application=application,
        kind=kind,
        value=c.value,
        family=family,
        first=first,
        last=last,
        operator=c.operator,
        subscriber_id=c.subscriber_id,
        district=c.district,
        renews=renews,
    )


def add_resources(application: Application, cleaned: list[CleanResource]) -> None:
    rows = Resource.objects.bulk_create([resource_row(application, c) for c in cleaned])
    declare_porting(rows, cleaned)


def declare_porting(rows: list[Resource], cleaned: list[CleanResource]) -> None:
    """The porting declarations of newly added resources (rows in the order of `cleaned`)."""
    now = timezone.now()
    PortingDeclaration.objects.bulk_create(
        [
            PortingDeclaration(resource=row, numbering_operator=c.ported_from, declared_at=now)
            for row, c in zip(rows, cleaned, strict=True)
            if c.ported_from is not None
        ]
    )


def resource_network(resource: Resource) -> Network:
    return ipaddress.ip_network(resource.value)
