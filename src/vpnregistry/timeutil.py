"""Times in the registry: reading those people and programs give (with an offset as given, without one
in the registry's zone), and showing them to people in the registry's zone, named."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

# The times the registry holds: from the Unix epoch to far enough ahead that a validity period or a
# reminder added to the latest of them stays a valid date (Python's dates end in the year 9999, and
# a time near either end overflows when it is moved to UTC or to the registry's zone).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def utc_iso(at: datetime, *, timespec: str = "auto", z: bool = True) -> str:
    """`at` in UTC as ISO 8601 for machines: "2026-11-28T04:05:06Z" (signed documents, hashes, files).

    `timespec` is datetime.isoformat's: "auto" writes microseconds only when there are any (the
    exemption statements), "seconds" never (the allowlist's documents, the audit checkpoints),
    "microseconds" always, six digits (the audit log's hashes). `z` ends the text with "Z"; False
    with "+00:00" (the audit log's hashes). A naive time is read in the process's own time zone, as
    datetime.astimezone reads it: make it aware first to mean another.
    """
    text = at.astimezone(UTC).isoformat(timespec=timespec)
    return text[:-6] + "Z" if z else text


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


# How a page shows a time: in the registry's zone, named, so that nobody reads a Karachi time as UTC
# ("2026-12-06 10:21 PKT"). Digits and Latin letters in both languages: it is one left-to-right run.
SHOWN = "%Y-%m-%d %H:%M %Z"
SHOWN_SECONDS = "%Y-%m-%d %H:%M:%S %Z"
SHOWN_DAY = "%Y-%m-%d"


def local(value) -> datetime:
    """An aware datetime (or an ISO 8601 text, as parse_time reads it) in the registry's time zone."""
    return timezone.localtime(parse_time(value))


def shown(value, *, seconds: bool = False, day: bool = False) -> str:
    """A time as a person reads it, in the registry's zone with the zone named: "2026-12-06 10:21 PKT".

    `day` shows only the date ("2026-12-06"), and a date (without a time) is shown so too. Machine
    formats (the API, JSON, CSV, a `<time>`'s datetime attribute) keep ISO 8601; this is for people.
    """
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime(SHOWN_DAY)
    return local(value).strftime(SHOWN_DAY if day else SHOWN_SECONDS if seconds else SHOWN)
