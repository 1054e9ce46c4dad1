"""Reads about operators and their address space."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from vpnregistry.accounts.models import AddressSpace, Operator, Organisation
from vpnregistry.db import Network, covering_q


def operator_for_network(net: Network) -> Operator | None:
    """The operator whose address space holds all of `net`, by index seeks on the space's keys."""
    row = AddressSpace.objects.filter(covering_q(net)).select_related("operator").order_by("-first").first()
    return row.operator if row else None


def operators_with_space() -> QuerySet[Operator]:
    return Operator.objects.prefetch_related(
        Prefetch("address_space", queryset=AddressSpace.objects.order_by("family", "first"))
    )


def names_alike(organisation: Organisation, limit: int = 5) -> list[Organisation]:
    """Other organisations whose names look the same as this one's (one skeleton: the same name in
    another case or spacing, or written with look-alike letters of another script; accounts/names.py).

    Shown to the organisation's reviewers and the officers, so that a name passing for another's is
    looked at; never to the organisation itself, nor to whoever signs up. An index seek.
    """
    if not organisation.name_skeleton:
        return []
    return list(
        Organisation.objects.filter(name_skeleton=organisation.name_skeleton)
        .exclude(pk=organisation.pk)
        .order_by("pk")[:limit]
    )
