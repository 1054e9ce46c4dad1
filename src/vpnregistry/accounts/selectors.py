"""Reads about operators and their address space."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from vpnregistry.accounts.models import AddressSpace, Operator
from vpnregistry.db import Network, covering_q


def operator_for_network(net: Network) -> Operator | None:
    """The operator whose address space holds all of `net`, by index seeks on the space's keys."""
    row = AddressSpace.objects.filter(covering_q(net)).select_related("operator").order_by("-first").first()
    return row.operator if row else None


def operators_with_space() -> QuerySet[Operator]:
    return Operator.objects.prefetch_related(
        Prefetch("address_space", queryset=AddressSpace.objects.order_by("family", "first"))
    )
