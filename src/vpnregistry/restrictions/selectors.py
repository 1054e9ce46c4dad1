"""Reads about restriction events."""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import QuerySet

from vpnregistry.restrictions.models import RestrictionEvent


def published_events() -> QuerySet[RestrictionEvent]:
    return RestrictionEvent.objects.filter(published_at__isnull=False).prefetch_related(
        "services", "provinces", "districts"
    )


def events_in_force(at: datetime) -> list[RestrictionEvent]:
    """Events in force at `at`, as published by then: a later publication never rewrites the past."""
    return list(published_events().filter(starts_at__lte=at, ends_at__gt=at, published_at__lte=at))


def latest_publication() -> tuple | None:
    """When the last event was published, and its id: one short query (events are few, a handful a
    month) whose answer changes with every publication.

    Published events never change (a correction is a new event), so whoever keeps copies of them
    (`exemptions.published_in_force`, the public feeds) asks only this to know they are current.
    """
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {q('published_at')}, {q('id')} {latest_publication_from()}"
        )  # quoted names, no values
        return cursor.fetchone()


def latest_publication_from() -> str:
    """`FROM ... LIMIT 1` of `latest_publication`'s query, for queries that read it as a subquery
    (quoted names from the model, no values)."""
    q = connection.ops.quote_name
    return (
        f"FROM {q(RestrictionEvent._meta.db_table)} WHERE {q('published_at')} IS NOT NULL "
        f"ORDER BY {q('published_at')} DESC, {q('id')} DESC LIMIT 1"
    )


def events_for_user(user) -> QuerySet[RestrictionEvent]:
    """Officers and auditors also see events not yet published."""
    if getattr(user, "role", None) in {"officer", "auditor"}:
        return RestrictionEvent.objects.prefetch_related("services", "provinces", "districts")
    return published_events()
