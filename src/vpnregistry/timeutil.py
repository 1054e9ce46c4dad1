"""Reading times people and programs give: with an offset as given, without one in the registry's zone."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def parse_time(value) -> datetime:
    """An aware datetime from an ISO 8601 text (or a datetime); naive means the registry's time zone."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value or "").strip()
        if not text:
            raise ValueError("a time is required, as ISO 8601 (2026-11-28T09:00 or 2026-11-28T04:00:00Z)")
        try:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO 8601 time such as 2026-11-28T09:00") from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed
