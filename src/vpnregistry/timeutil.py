"""Reading times people and programs give: with an offset as given, without one in the registry's zone."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

# The times the registry holds: from the Unix epoch to far enough ahead that a validity period or a
# reminder added to the latest of them stays a valid date (Python's dates end in the year 9999, and
# a time near either end overflows when it is moved to UTC or to the registry's zone).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def parse_time(value) -> datetime:
    """An aware datetime from an ISO 8601 text (or a datetime); naive means the registry's time zone.

    Raises ValueError, saying why in the active language and with an example to follow, for anything
    else, including times outside EARLIEST..LATEST.
    """
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value or "").strip()
        if not text:
            raise ValueError(
                _("Enter a time, for example 2026-11-28T09:00 (Pakistan time) or 2026-11-28T04:00:00Z (UTC).")
            )
        try:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            raise ValueError(
                _(
                    "%(value)s is not a time: write the date, the letter T and the time, for example "
                    "2026-11-28T09:00 (Pakistan time)."
                )
                % {"value": text}
            ) from None
    try:
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
        in_range = EARLIEST <= parsed.astimezone(UTC) < LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise ValueError(
            _("%(time)s is outside the times the registry holds (the years %(first)d to %(last)d).")
            % {"time": parsed.isoformat(), "first": EARLIEST.year, "last": LATEST.year - 1}
        )
    return parsed
