"""Every refusal of `netblocks` carries a stable code and the values its sentence names, beside the
English sentence the command line prints."""

import pytest

from vpnregistry.netblocks import (
    CODES,
    ParseError,
    aggregate,
    check_prefix,
    parse_address,
    parse_prefix,
    parse_text,
)

# One input for each code, with the parameters it must carry (a subset) and the English text kept.
CASES = [
    (parse_prefix, 42, "not_text", {"type": "int"}, "expected text, got int"),
    (parse_prefix, "  ", "empty", {}, "the value is empty; enter an IPv4 or IPv6 address or prefix"),
    (parse_prefix, "1.2.3.٤", "non_ascii_digit", {"value": "1.2.3.٤", "char": "٤"}, "non-ASCII digit"),
    (parse_prefix, "1.2.3.x✓", "non_ascii", {"char": "✓"}, "non-ASCII character"),
    (parse_prefix, "fe80::1%eth0", "zone_id", {"value": "fe80::1%eth0"}, "zone id"),
    (parse_prefix, "1.2.3.4 5.6.7.8", "trailing_text", {}, "unexpected text after the address"),
    (parse_address, "1.2.3.0/24", "address_expected", {"value": "1.2.3.0/24"}, "is a prefix"),
    (parse_prefix, "/24", "no_address_before_slash", {}, "no address before '/'"),
    (parse_prefix, "1.2.3.0/24/2", "several_slashes", {}, "more than one '/'"),
    (parse_prefix, "1.2.3.0/", "no_prefix_length", {}, "no prefix length"),
    (parse_prefix, "1.2.3.0/x", "prefix_length_not_number", {"length": "x"}, "not a whole number"),
    (parse_prefix, "1.2.3.0/024", "prefix_length_leading_zero", {}, "leading zero in its prefix length"),
    (
        parse_prefix,
        "1.2.3.0/33",
        "prefix_length_too_large",
        {"length": 33, "version": 4, "bits": 32},
        "an IPv4 prefix length is 0 to 32",
    ),
    (parse_prefix, "1.2.3.4/24", "host_bits_set", {"meant": "1.2.3.0/24"}, "did you mean 1.2.3.0/24?"),
    (parse_prefix, "1.2.3", "ipv4_octet_count", {"value": "1.2.3"}, "four numbers separated by dots"),
    (parse_prefix, "1..2.3", "ipv4_empty_octet", {}, "empty number between dots"),
    (parse_prefix, "0x1.2.3.4", "ipv4_hexadecimal", {}, "uses hexadecimal"),
    (parse_prefix, "1.2.3.a", "ipv4_not_decimal", {"part": "a"}, "'a' is not a decimal number"),
    (parse_prefix, "1.2.3.04", "ipv4_leading_zero", {"part": "04"}, "leading zero in '04'"),
    (parse_prefix, "1.2.3.256", "ipv4_octet_too_large", {"part": "256"}, "256 is larger than 255"),
    (parse_prefix, "2001:db8::_", "ipv6_bad_character", {"char": "_"}, "it contains '_'"),
    (parse_prefix, "2001:db8::g", "ipv6_bad_characters", {}, "only hexadecimal digits and colons"),
    (parse_prefix, "1::2::3", "ipv6_double_colon_twice", {}, "'::' may appear only once"),
    (parse_prefix, "1:::2", "ipv6_triple_colon", {}, "three colons in a row"),
    (parse_prefix, "1:2:3:4::5:6:7:8", "ipv6_too_many_groups", {}, "too many groups for '::'"),
    (parse_prefix, "1:2:3:4:5:6:7", "ipv6_group_count", {}, "it needs eight groups"),
    (parse_prefix, ":1:2:3:4:5:6:7", "ipv6_empty_group", {}, "it has an empty group"),
    (parse_prefix, "12345::", "ipv6_bad_group", {"group": "12345"}, "group '12345' is not 1 to 4 hex digits"),
    (check_prefix, "0.0.0.0/0", "default_route", {"value": "0.0.0.0/0"}, "is the default route"),
    (
        check_prefix,
        "10.1.2.0/24",
        "special_purpose",
        {"inside": True, "block": "10.0.0.0/8", "name": "private-use", "refused_as": ""},
        "'10.1.2.0/24' is in 10.0.0.0/8, private-use",
    ),
    (
        check_prefix,
        "64:ff9b::c000:200/120",
        "special_purpose",
        {"refused_as": "nat64", "ipv4": "192.0.2.0/24"},
        "(this one for 192.0.2.0/24): register the IPv4 address itself",
    ),
    (
        check_prefix,
        "14.1.0.0/16",
        "too_broad",
        {"value": "14.1.0.0/16", "length": 16, "limit": 24},
        "/16 is broader than the /24 this category allows",
    ),
]


@pytest.mark.parametrize(("parse", "text", "code", "params", "english"), CASES)
def test_refusal_carries_code_params_and_the_english_sentence(parse, text, code, params, english):
    with pytest.raises(ParseError) as exc:
        parse(text)
    assert exc.value.code == code
    assert params.items() <= exc.value.params.items()
    assert english in str(exc.value)


def test_the_cases_cover_every_code():
    assert {case[2] for case in CASES} == CODES


def test_a_bad_line_of_a_text_keeps_its_code_and_params():
    parsed = parse_text(b"192.0.2.0/24\n1.2.3.256\n2001:db8::/32\n")
    [error] = parsed.errors
    assert (error.line, error.text, error.code, error.params["part"]) == (
        2,
        "1.2.3.256",
        "ipv4_octet_too_large",
        "256",
    )
    assert error.reason == "'1.2.3.256' is not an IPv4 address: 256 is larger than 255"
    with pytest.raises(ParseError) as exc:
        aggregate(["192.0.2.0/24", "1.2.3.256"])
    assert (exc.value.code, str(exc.value)) == ("ipv4_octet_too_large", error.reason)
