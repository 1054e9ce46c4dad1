"""Aggregation of prefixes into the minimal list of CIDR blocks, from objects or from text."""

from __future__ import annotations

from collections.abc import Iterable

from .parse import LineError, Network, ParsedText, ParseError

__all__ = ["LineError", "ParsedText", "aggregate", "aggregate_text", "parse_text"]


def parse_text(data: bytes) -> ParsedText:
    """Read one address or prefix a line (blank lines and # comments ignored), strictly.

    Plain IPv4 and IPv6 lines are parsed vectorised; anything else, and every line in doubt
    (host bits set, IPv4-mapped), goes through `parse_prefix`, which words the errors.
    """
    # Imported here, not at the top, for start-up time: importing the package does not load NumPy.
    from .textparse import read_text

    return read_text(data)


def aggregate_text(data: bytes) -> tuple[bytes, list[LineError]]:
    """Text in, text out: the minimal CIDRs of the lines of `data` (IPv4 then IPv6) and the bad lines."""
    # Imported here, not at the top, for start-up time: importing the package does not load NumPy.
    from .intervals import IntervalSet
    from .textio import format_v4_cidrs, format_v6_cidrs

    parsed = parse_text(data)
    cidrs = IntervalSet.from_prefixes(parsed.prefixes).cidr_arrays()
    out = format_v4_cidrs(cidrs.v4_start, cidrs.v4_len) + format_v6_cidrs(
        cidrs.v6_hi, cidrs.v6_lo, cidrs.v6_len
    )
    return out, parsed.errors


def aggregate(nets: Iterable[Network | str]) -> list[Network]:
    """Minimal CIDRs covering exactly the addresses of `nets`: IPv4 then IPv6, each ascending.

    Strings are parsed with `parse_prefix` (strict); a bad one raises `ParseError`.
    """
    # Imported here, not at the top, for start-up time: importing the package does not load NumPy.
    from .intervals import IntervalSet, PrefixArrays

    items = list(nets)
    # Strings take the vectorised text path unless one holds what a text file may but a value may not.
    plain = all(isinstance(x, str) and x.strip() and "\n" not in x and "#" not in x for x in items)
    if items and plain:
        parsed = parse_text("\n".join(items).encode("utf-8", "surrogateescape"))
        if parsed.errors:
            first = parsed.errors[0]
            raise ParseError(first.reason, first.code, first.params)
        pa = parsed.prefixes
    else:
        pa = PrefixArrays.from_networks(items)
    return IntervalSet.from_prefixes(pa).to_cidrs()
