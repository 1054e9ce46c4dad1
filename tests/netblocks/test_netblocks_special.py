"""Classification against the IANA special-purpose registries and the category limits."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.netblocks.test_netblocks_properties import lines, networks

from vpnregistry.netblocks import CATEGORY_LIMITS, ParseError, check_prefix, special_purpose


@pytest.mark.parametrize(
    ("text", "block", "name"),
    [
        ("192.168.1.0/24", "192.168.0.0/16", "private-use"),
        ("10.1.2.3", "10.0.0.0/8", "private-use"),
        ("172.31.255.255", "172.16.0.0/12", "private-use"),
        ("127.0.0.1", "127.0.0.0/8", "loopback"),
        ("169.254.1.1", "169.254.0.0/16", "link-local"),
        ("100.64.0.1", "100.64.0.0/10", "shared-address-space"),
        ("192.0.2.1", "192.0.2.0/24", "documentation"),
        ("198.51.100.0/24", "198.51.100.0/24", "documentation"),
        ("203.0.113.9", "203.0.113.0/24", "documentation"),
        ("198.19.0.1", "198.18.0.0/15", "benchmarking"),
        ("224.0.0.1", "224.0.0.0/4", "multicast"),
        ("239.255.255.255", "224.0.0.0/4", "multicast"),
        ("240.0.0.1", "240.0.0.0/4", "reserved"),
        ("255.255.255.255", "255.255.255.255/32", "limited-broadcast"),
        ("0.1.2.3", "0.0.0.0/8", "this-network"),
        ("192.0.0.8", "192.0.0.8/32", "ipv4-dummy-address"),
        ("0.0.0.0/0", "0.0.0.0/0", "default-route"),
        ("::/0", "::/0", "default-route"),
        ("::1", "::1/128", "loopback"),
        ("::", "::/128", "unspecified"),
        ("fe80::1", "fe80::/10", "link-local"),
        ("fd00::/8", "fc00::/7", "unique-local"),
        ("2001:db8:1::/48", "2001:db8::/32", "documentation"),
        ("3fff::1", "3fff::/20", "documentation"),
        ("ff02::1", "ff00::/8", "multicast"),
        ("2001:2::/48", "2001:2::/48", "benchmarking"),
        ("100::1", "100::/64", "discard-only"),
        ("8.0.0.0/6", "10.0.0.0/8", "private-use"),
    ],
)
def test_special_purpose_names_the_block(text, block, name):
    found = special_purpose(text)
    assert found is not None
    assert (str(found.prefix), found.name) == (block, name)


@pytest.mark.parametrize(
    "text",
    [
        "8.8.8.0/24",
        "1.1.1.1",
        "192.0.0.9",
        "192.0.0.10",
        "2400:cb00::/32",
        "2001:1::1",
        "2001:20::/28",
        "223.255.255.255",
        "64:ff9b::1",
    ],
)
def test_globally_reachable_is_not_special(text):
    assert special_purpose(text) is None


def test_check_prefix_messages():
    with pytest.raises(ParseError, match=r"is in 192\.168\.0\.0/16, private-use"):
        check_prefix("192.168.0.0/24")
    with pytest.raises(ParseError, match=r"^/16 is broader than the /24 this category allows$"):
        check_prefix("8.8.0.0/16")
    with pytest.raises(ParseError, match=r"/56 is broader than the /64"):
        check_prefix("2400:cb00::/56", min_len_v4=32, min_len_v6=64)
    assert str(check_prefix("8.8.8.0/24")) == "8.8.8.0/24"
    assert str(check_prefix("8.8.8.8", min_len_v4=32)) == "8.8.8.8/32"


def test_category_limits():
    assert CATEGORY_LIMITS["freelancer"] == (32, 64)
    assert set(CATEGORY_LIMITS) == {
        "company",
        "call_centre",
        "freelancer",
        "video_conferencing",
        "bank",
        "foreign_mission",
    }


# --- properties -------------------------------------------------------------------------------------
# `check_prefix` is what every resource value typed in the portal or sent to the API goes through.


@given(networks, st.sampled_from(sorted(set(CATEGORY_LIMITS.values()))))
def test_check_prefix_accepts_exactly_public_prefixes_within_the_limits(net, limits):
    min_v4, min_v6 = limits
    refused = special_purpose(net) is not None or net.prefixlen < (min_v4 if net.version == 4 else min_v6)
    try:
        got = check_prefix(str(net), min_len_v4=min_v4, min_len_v6=min_v6)
    except ParseError as exc:
        assert refused, f"{net} refused: {exc}"
    else:
        assert not refused and got == net


@given(st.one_of(st.text(max_size=60), lines()), st.sampled_from(sorted(set(CATEGORY_LIMITS.values()))))
def test_check_prefix_answers_any_text_with_a_prefix_or_a_reason(text, limits):
    min_v4, min_v6 = limits
    try:
        got = check_prefix(text, min_len_v4=min_v4, min_len_v6=min_v6)
    except ParseError as exc:
        assert str(exc)
    else:
        assert check_prefix(str(got), min_len_v4=min_v4, min_len_v6=min_v6) == got
        assert ipaddress.ip_network(str(got), strict=True) == got
