"""A legacy register's rows as checked, and what checking them and writing them share."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime

from vpnregistry.accounts.models import Category, District, Operator
from vpnregistry.db import Network
from vpnregistry.registrations.models import Registration

COLUMNS = ["organisation", "category", "value", "operator", "subscriber_id", "valid_from", "valid_until"]
OPTIONAL = ["district"]
ACTIVE = Registration.State.ACTIVE.value


def _bits(family: int) -> int:
    return 32 if family == 4 else 128


@dataclass(slots=True)
class Row:
    """A checked row; its prefix is kept as integers (first and last address), not as an object."""

    line: int
    organisation: str
    category: Category
    value: str
    family: int
    first: int
    last: int
    prefixlen: int
    operator: Operator
    subscriber_id: str
    district: District | None
    valid_from: datetime
    valid_until: datetime

    @property
    def organisation_key(self) -> tuple[str, int]:
        """The organisation the row registers to: its name within its category."""
        return self.organisation, self.category.pk

    @property
    def net(self) -> Network:
        return ipaddress.ip_network(self.value)


OrganisationKey = tuple[str, int]


@dataclass
class Checked:
    rows: list[Row]  # the rows without any error: only these may be written
    errors: list[tuple[int, str]]  # (line, every reason the row is bad), by line
    organisations: dict[OrganisationKey, int] = field(
        default_factory=dict
    )  # those that exist, by (name, category)
    mark: int = 0  # the last active period when the registry was read (see _activity_mark)
