"""Reads about restriction events."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from vpnregistry.restrictions.models import RestrictionEvent


def published_events() -> QuerySet[RestrictionEvent]:
    return RestrictionEvent.objects.filter(published_at__isnull=False).prefetch_related(
        "services", "provinces", "districts"
    )


def events_in_force(at: datetime) -> list[RestrictionEvent]:
    """Events in force at `at`, as published by then: a later publication never rewrites the past."""
    return list(published_events().filter(starts_at__lte=at, ends_at__gt=at, published_at__lte=at))


def events_for_user(user) -> QuerySet[RestrictionEvent]:
    """Officers and auditors also see events not yet published."""
    if getattr(user, "role", None) in {"officer", "auditor"}:
        return RestrictionEvent.objects.prefetch_related("services", "provinces", "districts")
    return published_events()
