"""Strict parsing and normalisation of IPv4/IPv6 addresses and prefixes: the one parser for all input."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

__all__ = [
    "Address",
    "Network",
    "ParseError",
    "parse_address",
    "parse_prefix",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_DEC_OCTET = re.compile(r"(?:0|[1-9][0-9]{0,2})\Z")
_HEX_GROUP = re.compile(r"[0-9A-Fa-f]{1,4}\Z")
_V6_CHARS = re.compile(r"[0-9A-Fa-f:.]+\Z")
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_MAPPED_INT = int(_MAPPED.network_address)


class ParseError(ValueError):
    """Input that is not a valid address or prefix; str() is a sentence for a person, in English.

    `code` names the refusal for good ("ipv4_octet_too_large") and `params` holds what its sentence
    mentions, as plain values, so that a caller with a language of its own (the portal, the API)
    words it again in that language; the command line prints str(). The codes are listed in CODES.
    """

    def __init__(self, message: str, code: str = "invalid", params: dict | None = None):
        super().__init__(message)
        self.code = code
        self.params = dict(params or {})


# Every code a ParseError of this package carries, so that a caller can prove it words each one.
CODES = frozenset(
    {
        "not_text",
        "empty",
        "non_ascii_digit",
        "non_ascii",
        "zone_id",
        "trailing_text",
        "address_expected",
        "no_address_before_slash",
        "several_slashes",
        "no_prefix_length",
        "prefix_length_not_number",
        "prefix_length_leading_zero",
        "prefix_length_too_large",
        "host_bits_set",
        "ipv4_octet_count",
        "ipv4_empty_octet",
        "ipv4_hexadecimal",
        "ipv4_not_decimal",
        "ipv4_leading_zero",
        "ipv4_octet_too_large",
        "ipv6_bad_character",
        "ipv6_bad_characters",
        "ipv6_double_colon_twice",
        "ipv6_triple_colon",
        "ipv6_too_many_groups",
        "ipv6_group_count",
        "ipv6_empty_group",
        "ipv6_bad_group",
        # special.py
        "default_route",
        "special_purpose",
        "too_broad",
    }
)


def _ipv4_int(text: str, shown: str) -> int:
    """Parse a strict dotted quad into its integer; `shown` is the whole input, for the message."""
    parts = text.split(".")
    if len(parts) != 4:
        raise ParseError(
            f"{shown!r} is not an IPv4 address: it needs four numbers separated by dots",
            "ipv4_octet_count",
            {"value": shown},
        )
    value = 0
    for part in parts:
        if part == "":
            raise ParseError(
                f"{shown!r} has an empty number between dots", "ipv4_empty_octet", {"value": shown}
            )
        if part[:2].lower() == "0x":
            raise ParseError(
                f"{shown!r} uses hexadecimal; write IPv4 addresses in decimal, e.g. 192.0.2.1",
                "ipv4_hexadecimal",
                {"value": shown},
            )
        if not part.isascii() or not part.isdigit():
            raise ParseError(
                f"{shown!r} is not an IPv4 address: {part!r} is not a decimal number",
                "ipv4_not_decimal",
                {"value": shown, "part": part},
            )
        if not _DEC_OCTET.match(part):
            raise ParseError(
                f"{shown!r} has a leading zero in {part!r}; leading zeros are refused because some "
                "systems read them as octal",
                "ipv4_leading_zero",
                {"value": shown, "part": part},
            )
        octet = int(part)
        if octet > 255:
            raise ParseError(
                f"{shown!r} is not an IPv4 address: {part} is larger than 255",
                "ipv4_octet_too_large",
                {"value": shown, "part": part},
            )
        value = (value << 8) | octet
    return value


def _ipv6_int(text: str, shown: str) -> int:
    """Parse an IPv6 address (letter case and zero compression free) into its integer."""
    if not _V6_CHARS.match(text):
        raise _v6_characters_error(text, shown)
    tail_v4: int | None = None
    body = text
    if "." in text:
        # An embedded IPv4 tail (::ffff:192.0.2.1) stands for the last two groups.
        head, _, last = text.rpartition(":")
        tail_v4 = _ipv4_int(last, shown)
        body = head + ":0:0"
    if body.count("::") > 1:
        raise ParseError(
            f"{shown!r} is not an IPv6 address: '::' may appear only once",
            "ipv6_double_colon_twice",
            {"value": shown},
        )
    if ":::" in body:
        raise ParseError(
            f"{shown!r} is not an IPv6 address: it has three colons in a row",
            "ipv6_triple_colon",
            {"value": shown},
        )
    if "::" in body:
        left, right = body.split("::")
        lgroups = left.split(":") if left else []
        rgroups = right.split(":") if right else []
        if len(lgroups) + len(rgroups) > 7:
            raise ParseError(
                f"{shown!r} is not an IPv6 address: it has too many groups for '::'",
                "ipv6_too_many_groups",
                {"value": shown},
            )
        groups = [*lgroups, *(["0"] * (8 - len(lgroups) - len(rgroups))), *rgroups]
    else:
        groups = body.split(":")
        if len(groups) != 8:
            raise ParseError(
                f"{shown!r} is not an IPv6 address: it needs eight groups, or '::' for a run of zeros",
                "ipv6_group_count",
                {"value": shown},
            )
    value = 0
    for group in groups:
        if not _HEX_GROUP.match(group):
            raise _v6_group_error(group, shown)
        value = (value << 16) | int(group, 16)
    if tail_v4 is not None:
        value = (value & ~0xFFFFFFFF) | tail_v4
    return value


# Errors of _ipv6_int, built only when a check fails: a valid address (parsed once per line on the
# strict path) calls neither.


def _v6_characters_error(text: str, shown: str) -> ParseError:
    bad = next((c for c in text if not (c.isascii() and (c.isalnum() or c in ":."))), None)
    if bad is not None:
        return ParseError(
            f"{shown!r} is not an IPv6 address: it contains {bad!r}",
            "ipv6_bad_character",
            {"value": shown, "char": bad},
        )
    return ParseError(
        f"{shown!r} is not an IPv6 address: only hexadecimal digits and colons are allowed",
        "ipv6_bad_characters",
        {"value": shown},
    )


def _v6_group_error(group: str, shown: str) -> ParseError:
    if group == "":
        return ParseError(
            f"{shown!r} is not an IPv6 address: it has an empty group", "ipv6_empty_group", {"value": shown}
        )
    return ParseError(
        f"{shown!r} is not an IPv6 address: group {group!r} is not 1 to 4 hex digits",
        "ipv6_bad_group",
        {"value": shown, "group": group},
    )


def _common_checks(text: str) -> tuple[str, str]:
    """Refusals shared by addresses and prefixes; returns (stripped text, repr-able shown text)."""
    if not isinstance(text, str):
        raise ParseError(
            f"expected text, got {type(text).__name__}", "not_text", {"type": type(text).__name__}
        )
    stripped = text.strip()
    if not stripped:
        raise ParseError("the value is empty; enter an IPv4 or IPv6 address or prefix", "empty")
    if not stripped.isascii():
        bad = next(c for c in stripped if not c.isascii())
        if bad.isdigit():
            raise ParseError(
                f"{stripped!r} contains the non-ASCII digit {bad!r}; use the digits 0-9",
                "non_ascii_digit",
                {"value": stripped, "char": bad},
            )
        raise ParseError(
            f"{stripped!r} contains the non-ASCII character {bad!r}",
            "non_ascii",
            {"value": stripped, "char": bad},
        )
    if "%" in stripped:
        raise ParseError(
            f"{stripped!r} has a zone id ('%...'); zone ids are local to one host, leave it out",
            "zone_id",
            {"value": stripped},
        )
    if len(stripped.split(maxsplit=1)) > 1:  # white space inside (the ends are stripped): one C pass
        raise ParseError(
            f"{stripped!r} has unexpected text after the address; give one value per entry",
            "trailing_text",
            {"value": stripped},
        )
    return stripped, stripped


def _parse_int(addr_text: str, shown: str) -> tuple[int, int]:
    """Return (version, integer) of an address text."""
    if ":" in addr_text:
        return 6, _ipv6_int(addr_text, shown)
    return 4, _ipv4_int(addr_text, shown)


def parse_address(text: str) -> Address:
    """Parse one address strictly; IPv4-mapped IPv6 comes back as IPv4."""
    stripped, shown = _common_checks(text)
    if "/" in stripped:
        raise ParseError(
            f"{shown!r} is a prefix; an address without '/length' is expected here",
            "address_expected",
            {"value": shown},
        )
    version, value = _parse_int(stripped, shown)
    if version == 6:
        if value >> 32 == _MAPPED_INT >> 32:
            return ipaddress.IPv4Address(value & 0xFFFFFFFF)
        return ipaddress.IPv6Address(value)
    return ipaddress.IPv4Address(value)


def parse_prefix(text: str) -> Network:
    """Parse one prefix strictly (a bare address is a /32 or /128); IPv4-mapped IPv6 comes back as IPv4."""
    stripped, shown = _common_checks(text)
    addr_text, slash, len_text = stripped.partition("/")
    if not addr_text:
        raise ParseError(f"{shown!r} has no address before '/'", "no_address_before_slash", {"value": shown})
    version, value = _parse_int(addr_text, shown)
    bits = 32 if version == 4 else 128
    if slash:
        if "/" in len_text:
            raise ParseError(f"{shown!r} has more than one '/'", "several_slashes", {"value": shown})
        if not len_text:
            raise ParseError(
                f"{shown!r} has no prefix length after '/'", "no_prefix_length", {"value": shown}
            )
        if not (len_text.isascii() and len_text.isdigit()):
            raise ParseError(
                f"{shown!r} has prefix length {len_text!r}, which is not a whole number",
                "prefix_length_not_number",
                {"value": shown, "length": len_text},
            )
        if len(len_text) > 1 and len_text[0] == "0":
            raise ParseError(
                f"{shown!r} has a leading zero in its prefix length",
                "prefix_length_leading_zero",
                {"value": shown},
            )
        length = int(len_text)
        if length > bits:
            raise ParseError(
                f"{shown!r} has prefix length /{length}; an IPv{version} prefix length is 0 to {bits}",
                "prefix_length_too_large",
                {"value": shown, "length": length, "version": version, "bits": bits},
            )
    else:
        length = bits
    host_mask = (1 << (bits - length)) - 1
    if value & host_mask:
        meant: Network = _network(version, value & ~host_mask, length)
        raise ParseError(
            f"{shown!r} has host bits set; did you mean {meant}?",
            "host_bits_set",
            {"value": shown, "meant": str(meant)},
        )
    return _network(version, value, length)


def _network(version: int, value: int, length: int) -> Network:
    if version == 4:
        return ipaddress.IPv4Network((value, length))
    if length >= 96 and value >> 32 == _MAPPED_INT >> 32:
        return ipaddress.IPv4Network((value & 0xFFFFFFFF, length - 96))
    return ipaddress.IPv6Network((value, length))


# What reading a whole text gives (aggregation.parse_text): here, beside the parse errors, so that
# the NumPy-free aggregation module and the NumPy reader (textparse) both take them from below.
@dataclass(frozen=True)
class LineError:
    """A line that is not a valid address or prefix: its 1-based number, its text and why.

    `reason` is the English sentence; `code` and `params` are those of the `ParseError` behind it,
    for a caller that words the reason in another language.
    """

    line: int
    text: str
    reason: str
    code: str = "invalid"
    params: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass
class ParsedText:
    """Prefixes read from text, as arrays, with the bad lines."""

    prefixes: object  # PrefixArrays
    errors: list[LineError] = field(default_factory=list)
