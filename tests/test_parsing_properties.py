"""Hypothesis drives the small parsers every request goes through: times, and ids or cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpnregistry.db import whole_number
from vpnregistry.timeutil import EARLIEST, LATEST, parse_time

KARACHI = ZoneInfo("Asia/Karachi")

offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
# Near the ends of what Python's dates hold, where moving to another zone overflows, as well as inside.
naive = st.one_of(
    st.datetimes(),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(1, 1, 2)),
    st.datetimes(min_value=datetime(9999, 12, 30), max_value=datetime(9999, 12, 31, 23, 59)),
    st.datetimes(min_value=datetime(1969, 12, 31), max_value=datetime(1970, 1, 2)),
)
iso_like = st.text(st.sampled_from("0123456789-:T Zz+.²١"), max_size=32)


@given(st.one_of(st.text(max_size=40), iso_like))
def test_any_text_is_a_time_in_range_or_a_value_error(text):
    try:
        parsed = parse_time(text)
    except ValueError as exc:
        assert str(exc)
    else:
        assert parsed.tzinfo is not None
        assert EARLIEST <= parsed.astimezone(UTC) < LATEST
        assert parse_time(parsed.isoformat()) == parsed


@given(naive, st.one_of(st.none(), offsets))
def test_a_time_is_read_in_the_registry_zone_unless_it_has_an_offset(moment, offset):
    text = (moment if offset is None else moment.replace(tzinfo=offset)).isoformat()
    try:
        parsed = parse_time(text)
    except ValueError as exc:
        assert "outside the times the registry holds" in str(exc)
        return
    assert EARLIEST <= parsed.astimezone(UTC) < LATEST
    assert parsed.replace(tzinfo=None) == moment  # the wall time given is kept
    if offset is None:
        assert parsed.utcoffset() == moment.replace(tzinfo=KARACHI).utcoffset()
    else:
        assert parsed.utcoffset() == offset.utcoffset(None)


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00", "9999-12-31T23:59-05:00", "1969-12-31T23:59Z", "9000-01-01T05:00"]
)
def test_times_that_overflow_or_lie_outside_are_refused(text):
    # Year 1 in Karachi is year 0 in UTC, which Python cannot hold: this was a 500 in the API.
    with pytest.raises(ValueError, match="outside the times the registry holds"):
        parse_time(text)


@given(st.one_of(st.text(max_size=12), st.integers(0, 10**30).map(str)))
def test_whole_number_takes_ascii_digits_only(text):
    number = whole_number(text)
    if text.isascii() and text.isdigit():
        assert number == int(text)
    else:
        assert number is None


@pytest.mark.parametrize("text", ["²", "١٢", "\uff11\uff12", "-1", "+1", " 1", "1_000", ""])
def test_whole_number_refuses_what_int_or_isdigit_would_misread(text):
    # "²".isdigit() is True but int("²") raises: cursors and ids like it were 500s.
    assert whole_number(text) is None
