"""Classification against the IANA special-purpose registries and the category limits."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.netblocks.test_netblocks_properties import lines, networks

from vpnregistry.netblocks import CATEGORY_LIMITS, ParseError, check_prefix, special_purpose
from vpnregistry.netblocks.special import GLOBAL_UNICAST_V6, special_registry


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
        "2400:cb00::/32",
        "223.255.255.255",
        "192.88.98.0/24",
        "192.88.100.0/24",
        "2000::/48",
        "3ffe:ffff::/48",
        "2001:dd8:1c::/48",
    ],
)
def test_public_unicast_is_not_special(text):
    assert special_purpose(text) is None


# Found by the hostile review (issue 18): each passed the parser, and each is refused with its reason.
@pytest.mark.parametrize(
    ("text", "message"),
    [
        # NAT64: the IPv4 Internet again, private space included, wrapped in IPv6.
        ("64:ff9b::a00:1", r"in 64:ff9b::/96, .*NAT64 prefix.*\(this one for 10\.0\.0\.1/32\)"),
        ("64:ff9b::/96", r"is in 64:ff9b::/96, ipv4-ipv6-translation; a NAT64 prefix"),
        ("64:ff9b::808:800/120", r"this one for 8\.8\.8\.0/24\): register the IPv4 address itself"),
        ("64:ff9b:1::/48", r"is in 64:ff9b:1::/48, local-use-ipv4-ipv6-translation; a NAT64 prefix"),
        # IPv6 outside 2000::/3.
        ("fec0::/48", r"is in 8000::/1, outside-global-unicast; IPv6 outside 2000::/3"),
        ("1::/48", r"is in ::/3, outside-global-unicast; IPv6 outside 2000::/3"),
        ("4000::/48", r"is in 4000::/2, outside-global-unicast; IPv6 outside 2000::/3"),
        ("::a00:1/128", r"is in ::/3, outside-global-unicast"),
        ("::/2", r"overlaps ::/3, outside-global-unicast"),
        # Shared anycast and identifier blocks: reachable, but no one organisation's.
        ("192.175.48.0/24", r"is in 192\.175\.48\.0/24, direct-delegation-as112-service; .*not assignable"),
        ("2620:4f:8000::/48", r"direct-delegation-as112-service; .*not assignable to one organisation"),
        ("2001:4:112::/48", r"is in 2001:4:112::/48, as112-v6; .*not assignable to one organisation"),
        ("192.31.196.0/24", r"is in 192\.31\.196\.0/24, as112-v4; .*not assignable"),
        ("192.52.193.0/24", r"is in 192\.52\.193\.0/24, amt; .*not assignable"),
        ("2001:3::/48", r"is in 2001:3::/32, amt; .*not assignable"),
        ("2001:20::/48", r"is in 2001:20::/28, orchidv2; .*not assignable"),
        ("2001:30::/48", r"is in 2001:30::/28, drone-remote-id-entity-tags; .*not assignable"),
        ("192.0.0.9", r"is in 192\.0\.0\.9/32, port-control-protocol-anycast; .*not assignable"),
        ("2001:1::1", r"is in 2001:1::1/128, port-control-protocol-anycast; .*not assignable"),
        # The row missing from the table until the 2025-10-09 revision was compared.
        ("192.88.99.2", r"is in 192\.88\.99\.2/32, 6a44-relay-anycast-address$"),
    ],
)
def test_space_no_organisation_can_hold_is_refused_with_its_reason(text, message):
    with pytest.raises(ParseError, match=message):
        check_prefix(text, min_len_v4=24, min_len_v6=48)


def test_the_data_file_states_its_source_revision_and_tags_every_reachable_entry():
    from importlib import resources

    text = resources.files("vpnregistry.netblocks").joinpath("data/iana-special-purpose.csv").read_text()
    assert "revised 2025-10-09" in text
    for block in special_registry():
        if block.globally_reachable:
            assert block.refused_as in {"shared", "nat64"}, block


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
        # Judged without special_purpose: IPv6 only inside 2000::/3, no registry entry touched.
        assert net.version == 4 or net.subnet_of(GLOBAL_UNICAST_V6)
        assert not [
            e for e in special_registry() if e.prefix.version == net.version and net.overlaps(e.prefix)
        ]


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
