"""Aggregation into minimal CIDRs: pinned edge cases."""

import ipaddress

from vpnregistry.netblocks import aggregate


def _s(nets):
    return [str(n) for n in nets]


def test_adjacent_nested_and_mixed_families():
    got = aggregate(
        ["2001:db8::/33", "10.0.1.0/24", "2001:db8:8000::/33", "10.0.0.0/24", "10.0.0.128/25", "1.2.3.4"]
    )
    assert _s(got) == ["1.2.3.4/32", "10.0.0.0/23", "2001:db8::/32"]


def test_default_routes_and_last_addresses():
    assert _s(aggregate(["0.0.0.0/1", "128.0.0.0/1"])) == ["0.0.0.0/0"]
    assert _s(aggregate(["::/1", "8000::/1", "0.0.0.0/0", "1.2.3.4"])) == ["0.0.0.0/0", "::/0"]
    assert _s(aggregate(["255.255.255.255", "255.255.255.254"])) == ["255.255.255.254/31"]
    last6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
    assert _s(aggregate([last6, ipaddress.ip_network("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe")])) == [
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"
    ]


def test_empty():
    assert aggregate([]) == []
