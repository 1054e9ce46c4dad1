"""Pinned edge cases of the interval algebra and the lookup indexes."""

import ipaddress

import numpy as np
import pytest

from vpnregistry.netblocks import IntervalSet, LookupIndex, MembershipIndex, _u128, diff, overlaps

LAST4 = (1 << 32) - 1
LAST6 = (1 << 128) - 1


def S(*texts):
    return IntervalSet.from_prefixes(list(texts))


def cidrs(s):
    return [str(n) for n in s.to_cidrs()]


def test_default_routes_in_the_algebra():
    everything = S("0.0.0.0/0", "::/0")
    assert cidrs(everything) == ["0.0.0.0/0", "::/0"]
    assert everything.num_addresses() == (1 << 32, 1 << 128)
    assert cidrs(everything - S("10.0.0.0/8")) == [
        "0.0.0.0/5",
        "8.0.0.0/7",
        "11.0.0.0/8",
        "12.0.0.0/6",
        "16.0.0.0/4",
        "32.0.0.0/3",
        "64.0.0.0/2",
        "128.0.0.0/1",
        "::/0",
    ]
    assert cidrs(everything & S("192.0.2.0/24", "2001:db8::/32")) == ["192.0.2.0/24", "2001:db8::/32"]
    assert not (everything - everything)
    assert cidrs(S("::/1") | S("8000::/1")) == ["::/0"]
    assert cidrs(S("0.0.0.0/0") ^ S("0.0.0.0/1")) == ["128.0.0.0/1"]


def test_last_address_of_each_family():
    s = S("255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
    assert cidrs(s) == ["255.255.255.255/32", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"]
    assert s.ranges(4) == [(LAST4, LAST4)]
    assert s.ranges(6) == [(LAST6, LAST6)]
    assert s.contains_v4(np.array([LAST4, LAST4 - 1], np.uint32)).tolist() == [True, False]
    h, lo = _u128.from_ints([LAST6, LAST6 - 1, 0])
    assert s.contains_v6(h, lo).tolist() == [True, False, False]
    assert cidrs(S("255.255.255.254/31") - s) == ["255.255.255.254/32"]
    assert cidrs(S("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120") - s)[-1] == (
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128"
    )


def test_adjacent_and_nested_blocks():
    assert cidrs(S("10.0.0.0/25", "10.0.0.128/25")) == ["10.0.0.0/24"]
    assert cidrs(S("10.0.0.0/24", "10.0.0.7", "10.0.0.0/25")) == ["10.0.0.0/24"]
    assert cidrs(S("10.0.0.1", "10.0.0.2")) == ["10.0.0.1/32", "10.0.0.2/32"]  # adjacent, not mergeable
    assert cidrs(S("10.0.0.0/24") - S("10.0.0.0/25")) == ["10.0.0.128/25"]
    assert cidrs(S("2001:db8::/48", "2001:db8:1::/48")) == ["2001:db8::/47"]
    assert cidrs(S("2001:db8::/64", "2001:db8:0:0:8000::/65")) == ["2001:db8::/64"]


def test_mixed_families_in_one_input():
    s = S("2001:db8::/32", "192.0.2.0/24", "::ffff:198.51.100.0/120")
    assert cidrs(s) == ["192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"]
    assert "192.0.2.9" in s
    assert "2001:db8::1" in s
    assert "2001:db9::1" not in s
    assert ipaddress.ip_network("192.0.2.0/25") in s


def test_diff_and_overlaps_pinned():
    added, removed = diff(["10.0.0.0/23", "2001:db8::/32"], ["10.0.0.0/24", "10.0.2.0/24", "2001:db8::/32"])
    assert [str(n) for n in added] == ["10.0.2.0/24"]
    assert [str(n) for n in removed] == ["10.0.1.0/24"]
    pairs = overlaps(
        ["10.0.0.0/8", "1.2.3.4", "::/0"], ["10.1.0.0/16", "10.0.0.0/8", "2001::/16", "1.2.3.0/24"]
    )
    assert pairs.tolist() == [[0, 0], [0, 1], [1, 3], [2, 2]]


@pytest.mark.parametrize("dir24", [False, True])
def test_indexes_at_the_edges(dir24):
    nets = ["0.0.0.0/32", "255.255.255.255/32", "255.255.255.0/24", "10.0.0.0/8", "10.1.2.0/24", "10.1.2.3"]
    m = MembershipIndex(nets, dir24=dir24)
    lk = LookupIndex(nets, ids=[100, 101, 102, 103, 104, 105], dir24=dir24)
    q = np.array(
        [0, 1, LAST4, LAST4 - 1, 0xFFFFFEFF, 0x0A010203, 0x0A010204, 0x0A010300, 0x0B000000], np.uint32
    )
    assert m.contains_v4(q).tolist() == [True, False, True, True, False, True, True, True, False]
    assert lk.lookup_v4(q).tolist() == [100, -1, 101, 102, -1, 105, 104, 103, -1]
    everything = MembershipIndex(["0.0.0.0/0"], dir24=dir24)
    assert everything.contains_v4(q).all()
    assert LookupIndex(["0.0.0.0/0", "0.0.0.0/0"], ids=[7, 8], dir24=dir24).lookup_v4(q).tolist() == [
        7
    ] * len(q)


def test_ipv6_index_at_the_edges():
    nets = ["::/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "2001:db8::/32", "2001:db8::/64", "::/0"]
    lk = LookupIndex(nets)
    h, lo = _u128.from_ints(
        [0, 1, LAST6, int(ipaddress.IPv6Address("2001:db8::1")), int(ipaddress.IPv6Address("2001:db8:1::1"))]
    )
    assert lk.lookup_v6(h, lo).tolist() == [0, 4, 1, 3, 2]
    assert MembershipIndex(nets[:4]).contains_v6(h, lo).tolist() == [True, False, True, True, True]


def test_streaming_in_chunks():
    m = MembershipIndex(["10.0.0.0/8"])
    chunks = [np.array([0x0A000001, 1], np.uint32), np.array([0x0AFFFFFF], np.uint32)]
    assert [c.tolist() for c in m.stream_v4(chunks)] == [[True, False], [True]]
