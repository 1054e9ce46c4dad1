"""The fee rule: who pays, for how many addresses, how much.

Addresses are counted one by one: an IPv4 prefix counts as many addresses as it holds (a /29 is 8).
An IPv6 prefix counts as 1: it is one assignment to one subscriber line (a /64 or /56 is what a
single line receives), and counting 2**64 addresses would make any IPv6 use unpayable. Mobile numbers
do not count.

An application pays when the organisation's registered addresses (its active registrations and its
suspended ones still within their validity, leaving out those the application renews, which it
replaces) plus the addresses
of the application's confirmed resources come to the threshold (settings.FEE_THRESHOLD,
5) or more. So the application that first reaches the threshold pays, and so does every later one,
renewals included. It pays VPNREGISTRY_FEE_PER_ADDRESS (PKR) for each address it asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from vpnregistry.applications.models import Application, Resource
from vpnregistry.registrations.models import Registration


def addresses_of(*, family: int | None, first: str, last: str) -> int:
    """How many addresses a stored resource or registration counts for."""
    if family == 4:
        return int(last, 16) - int(first, 16) + 1
    if family == 6:
        return 1
    return 0  # a mobile number


@dataclass(frozen=True)
class Fee:
    registered: int  # addresses the organisation holds already (without those being renewed)
    requested: int  # addresses this application asks for (its confirmed resources)
    amount: Decimal  # zero when the rule does not apply

    @property
    def due(self) -> bool:
        return self.amount > 0


def fee_for(application: Application) -> Fee:
    """Work out the fee of an application whose resources are attested."""
    resources = application.resources.filter(state=Resource.State.CONFIRMED)
    requested = sum(
        addresses_of(family=f, first=a, last=b)
        for f, a, b in resources.values_list("family", "first", "last")
    )
    renewed = resources.exclude(renews=None).values("renews_id")
    # A suspended registration past its end date stays suspended (the sweep expires active ones
    # only) but holds nothing any more: it is counted only while its validity runs.
    held = (
        Registration.objects.filter(
            Q(state=Registration.State.ACTIVE)
            | Q(state=Registration.State.SUSPENDED, valid_until__gt=timezone.now()),
            organisation_id=application.organisation_id,
            family__isnull=False,
        )
        .exclude(id__in=renewed)
        .values_list("family", "first", "last")
    )
    registered = sum(addresses_of(family=f, first=a, last=b) for f, a, b in held.iterator(5000))
    per_address = Decimal(str(settings.FEE_PER_ADDRESS))
    due = requested > 0 and registered + requested >= settings.FEE_THRESHOLD
    return Fee(
        registered=registered, requested=requested, amount=per_address * requested if due else Decimal(0)
    )
