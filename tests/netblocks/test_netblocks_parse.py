"""Strict parsing: what is accepted, how it is normalised, and the reasons given for refusals."""

import ipaddress

import pytest

from vpnregistry.netblocks import ParseError, parse_address, parse_prefix


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.0/24", "192.0.2.0/24"),
        (" 198.51.100.7 \n", "198.51.100.7/32"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("255.255.255.255", "255.255.255.255/32"),
        ("2001:DB8::/32", "2001:db8::/32"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1/128"),
        ("::", "::/128"),
        ("::/0", "::/0"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"),
        ("::ffff:1.2.3.0/120", "1.2.3.0/24"),
        ("::ffff:1.2.3.4", "1.2.3.4/32"),
        ("::FFFF:102:304", "1.2.3.4/32"),
        ("::1.2.3.4", "::102:304/128"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221/128"),
    ],
)
def test_parse_prefix_normalises(text, expected):
    assert str(parse_prefix(text)) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("010.0.0.1", "leading zero"),
        ("10.0.0.01/32", "leading zero"),
        ("0x0a.0.0.1", "hexadecimal"),
        ("1.2.3", "four numbers"),
        ("1.2.3.4.5", "four numbers"),
        ("256.0.0.0", "larger than 255"),
        ("١٩٢.0.2.1", "non-ASCII digit"),
        ("fe80::1%eth0", "zone id"),
        ("1.2.3.4/33", "0 to 32"),
        ("2001:db8::/129", "0 to 128"),
        ("1.2.3.0/024", "leading zero"),
        ("1.2.3.0/-1", "whole number"),
        ("1.2.3.0/", "no prefix length"),
        ("/24", "no address"),
        ("1.2.3.4 5.6.7.8", "unexpected text"),
        ("1.2.3.4/24/24", "more than one"),
        ("1.2.3.4x", "not a decimal"),
        ("1::2::3", "only once"),
        ("1:2:3:4:5:6:7", "eight groups"),
        ("12345::", "1 to 4 hex digits"),
        ("g::", "only hexadecimal digits"),
        ("::ffff:1.2.3.04", "leading zero"),
    ],
)
def test_parse_prefix_refuses_with_reason(text, reason):
    with pytest.raises(ParseError, match=reason):
        parse_prefix(text)


def test_host_bits_name_the_network_meant():
    with pytest.raises(ParseError) as err:
        parse_prefix("10.0.0.1/8")
    assert str(err.value) == "'10.0.0.1/8' has host bits set; did you mean 10.0.0.0/8?"
    with pytest.raises(ParseError, match=r"did you mean 2001:db8::/32\?"):
        parse_prefix("2001:db8::1/32")
    with pytest.raises(ParseError, match=r"did you mean 1\.2\.3\.0/24\?"):
        parse_prefix("::ffff:1.2.3.4/120")


def test_parse_error_is_value_error():
    assert issubclass(ParseError, ValueError)


def test_parse_address():
    assert parse_address(" 192.0.2.1 ") == ipaddress.IPv4Address("192.0.2.1")
    assert parse_address("::ffff:192.0.2.1") == ipaddress.IPv4Address("192.0.2.1")
    assert parse_address("2001:DB8::1") == ipaddress.IPv6Address("2001:db8::1")
    with pytest.raises(ParseError, match="prefix"):
        parse_address("192.0.2.0/24")
