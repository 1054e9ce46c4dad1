"""Interval sets from inclusive address ranges, and the fixed-width hex keys such ranges are stored as."""

import ipaddress

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpnregistry.netblocks import IntervalSet, _u128
from vpnregistry.netblocks.textio import format_v4_cidrs, format_v6_cidrs, parse_hex128

LAST4 = (1 << 32) - 1
LAST6 = (1 << 128) - 1


def _keys(values: list[int]) -> bytes:
    return "".join(f"{v:032x}" for v in values).encode()


def test_hex_keys_read_back_exactly():
    values = [0, 1, LAST4, LAST4 + 1, LAST6, 0x0123456789ABCDEF0123456789ABCDEF, 0x20010DD8 << 96]
    hi, lo = parse_hex128(_keys(values))
    assert hi.dtype == lo.dtype == np.uint64
    assert _u128.to_ints(hi, lo) == values
    empty = parse_hex128(b"")
    assert len(empty[0]) == len(empty[1]) == 0


@given(st.lists(st.integers(0, LAST6), max_size=50))
def test_hex_keys_property(values):
    assert _u128.to_ints(*parse_hex128(_keys(values))) == values


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"0" * 31, "not a whole number"),
        (b"0" * 32 + b"0" * 33, "not a whole number"),
        (b"0" * 31 + b"g", r"number 0 is not 32 lower-case hex digits"),
        (b"0" * 32 + b"0" * 31 + b"A", r"number 1 is not 32 lower-case hex digits: b'0+A'"),
        (b"0" * 32 + b" " * 32, "number 1"),
        (b"\xff" * 32, "number 0"),
    ],
)
def test_hex_keys_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_hex128(text)


def _v6(values: list[int]) -> tuple[np.ndarray, np.ndarray]:
    return _u128.from_ints(values)


def _reference(ranges: list[tuple[int, int]], version: int) -> list[str]:
    cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    nets = [n for a, b in ranges for n in ipaddress.summarize_address_range(cls(a), cls(b))]
    return [str(n) for n in ipaddress.collapse_addresses(nets)]


def _built(r4: list[tuple[int, int]], r6: list[tuple[int, int]]) -> IntervalSet:
    return IntervalSet.from_ranges(
        np.array([a for a, _ in r4], np.int64),
        np.array([b for _, b in r4], np.int64),
        _v6([a for a, _ in r6]),
        _v6([b for _, b in r6]),
    )


def _text(s: IntervalSet) -> tuple[list[str], list[str]]:
    pa = s.cidr_arrays()
    v4 = format_v4_cidrs(pa.v4_start, pa.v4_len).decode().splitlines()
    v6 = format_v6_cidrs(pa.v6_hi, pa.v6_lo, pa.v6_len).decode().splitlines()
    return v4, v6


def _ranges(last: int, near: int):
    """Ranges in any order, many overlapping, abutting or nested: endpoints drawn near a few points."""
    point = st.one_of(st.integers(0, last), st.integers(max(0, near - 300), min(last, near + 300)))
    return st.lists(st.tuples(point, point).map(sorted).map(tuple), max_size=25)


@given(_ranges(LAST4, 0x0E010000), _ranges(LAST6, 0x20010DD8 << 96))
def test_ranges_make_the_cidrs_ipaddress_makes(r4, r6):
    assert _text(_built(r4, r6)) == (_reference(r4, 4), _reference(r6, 6))


@given(st.lists(st.tuples(st.integers(0, LAST6), st.integers(0, 128)), max_size=20))
def test_ranges_of_prefixes_are_the_prefixes_set(prefixes):
    nets = [ipaddress.IPv6Network((v >> (128 - n) << (128 - n), n)) for v, n in prefixes]
    ranges = [(int(n.network_address), int(n.broadcast_address)) for n in nets]
    assert _built([], ranges) == IntervalSet.from_prefixes(nets)


def test_ranges_at_the_edges_of_the_spaces():
    assert _text(_built([(0, LAST4)], [(0, LAST6)])) == (["0.0.0.0/0"], ["::/0"])
    assert _text(_built([(LAST4, LAST4), (LAST4 - 1, LAST4 - 1)], [(LAST6, LAST6)])) == (
        ["255.255.255.254/31"],
        ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"],
    )
    # A range crossing the boundary of the 64-bit words, and one crossing a whole word.
    lo_top = (1 << 64) - 1
    assert _text(_built([], [(lo_top, lo_top + 1)])) == ([], ["::ffff:ffff:ffff:ffff/128", "0:0:0:1::/128"])
    assert _text(_built([], [(1 << 64, (2 << 64) - 1)])) == ([], ["0:0:0:1::/64"])
    assert not IntervalSet.from_ranges()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"v4_first": np.array([5]), "v4_last": np.array([4])},
        {"v4_first": np.array([5]), "v4_last": np.array([1 << 32])},
        {"v4_first": np.array([-1]), "v4_last": np.array([4])},
        {"v4_first": np.array([1, 2]), "v4_last": np.array([4])},
        {"v6_first": _v6([1 << 70]), "v6_last": _v6([(1 << 70) - 1])},
        {"v6_first": _v6([5]), "v6_last": _v6([4])},
        {"v6_first": _v6([1, 2]), "v6_last": _v6([4])},
    ],
)
def test_ranges_refused(kwargs):
    with pytest.raises(ValueError, match="IPv"):
        IntervalSet.from_ranges(**kwargs)
