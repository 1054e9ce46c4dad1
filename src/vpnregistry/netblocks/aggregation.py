"""Aggregation of prefixes into the minimal list of CIDR blocks, from objects or from text."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

from .parse import Network, ParseError, parse_prefix

__all__ = ["LineError", "ParsedText", "aggregate", "aggregate_text", "parse_text"]

_V6_CHARS = frozenset("0123456789abcdefABCDEF:")


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


def parse_text(data: bytes) -> ParsedText:
    """Read one address or prefix a line (blank lines and # comments ignored), strictly.

    Plain IPv4 and IPv6 lines are parsed vectorised; anything else, and every line in doubt
    (host bits set, IPv4-mapped), goes through `parse_prefix`, which words the errors.
    """
    import numpy as np

    from . import _u128
    from .intervals import PrefixArrays
    from .textio import scan_ipv4, scan_ipv6, split_lines

    v6_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    head = data[: 1 << 16]
    if head.count(b":") > 2 * head.count(b"."):
        # Mostly IPv6: scan for it first, then for IPv4 among the lines left.
        s6 = scan_ipv6(data)
        v6_parts.append((s6.hi, s6.lo, s6.plen, s6.good_line))
        scan = scan_ipv4(data, skip_lines=s6.good_line)
        other = scan.other_line
    else:
        scan = scan_ipv4(data)
        other = scan.other_line
        if len(other) > 32:
            s6 = scan_ipv6(data)
            if len(s6.good_line):
                v6_parts.append((s6.hi, s6.lo, s6.plen, s6.good_line))
                other = np.setdiff1d(other, s6.good_line, assume_unique=True)
    v4s: list[int] = []
    v4l: list[int] = []
    v6_packed: list[bytes] = []
    v6_len: list[int] = []
    v6_line: list[int] = []
    errors: list[LineError] = []
    pton = socket.inet_pton
    af6 = socket.AF_INET6
    checked: list[tuple[int, int, int]] = []  # IPv6 from the strict parser: (value, length)

    def slow(lineno: int, text: str) -> None:
        try:
            net = parse_prefix(text)
        except ParseError as err:
            errors.append(LineError(lineno + 1, text, str(err), err.code, err.params))
            return
        if net.version == 4:
            v4s.append(int(net.network_address))
            v4l.append(net.prefixlen)
        else:
            checked.append((int(net.network_address), net.prefixlen, lineno))

    for lineno, raw in zip(other.tolist(), split_lines(data, scan, other), strict=True):
        text = (
            raw.split("#", 1)[0].strip() if ("#" in raw or raw[:1].isspace() or raw[-1:].isspace()) else raw
        )
        if not text:
            continue
        addr, slash, length = text.partition("/")
        if ":" in addr and _V6_CHARS.issuperset(addr):
            try:
                packed = pton(af6, addr)
            except OSError:
                slow(lineno, text)
                continue
            if not slash:
                n = 128
            elif (
                length.isdigit()
                and length.isascii()
                and (length == "0" or length[0] != "0")
                and int(length) <= 128
            ):
                n = int(length)
            else:
                slow(lineno, text)
                continue
            v6_packed.append(packed)
            v6_len.append(n)
            v6_line.append(lineno)
        else:
            slow(lineno, text)
    if v6_packed:
        ph, pl = _u128.from_packed(b"".join(v6_packed))
        v6_parts.append((ph, pl, np.array(v6_len, np.uint8), np.array(v6_line, np.int64)))
    if v6_parts:
        hi, lo, plen6, line6 = (np.concatenate([p[i] for p in v6_parts]) for i in range(4))
        # Host bits set, or IPv4-mapped: the strict parser words the error or normalises.
        mh, ml = _u128.host_mask(plen6)
        mapped = (hi == 0) & ((lo >> np.uint64(32)) == np.uint64(0xFFFF)) & (plen6 >= 96)
        redo = ((hi & mh) != 0) | ((lo & ml) != 0) | mapped
        if redo.any():
            for ln, t in zip(line6[redo].tolist(), split_lines(data, scan, line6[redo]), strict=True):
                slow(ln, t.split("#", 1)[0].strip())
            keep = ~redo
            hi, lo, plen6 = hi[keep], lo[keep], plen6[keep]
    else:
        hi = lo = np.empty(0, np.uint64)
        plen6 = np.empty(0, np.uint8)
    if checked:
        ch, cl = _u128.from_ints([c[0] for c in checked])
        hi = np.concatenate([hi, ch])
        lo = np.concatenate([lo, cl])
        plen6 = np.concatenate([plen6, np.array([c[1] for c in checked], np.uint8)])
    errors.sort(key=lambda e: e.line)
    pa = PrefixArrays.from_arrays(
        np.concatenate([scan.addr, np.array(v4s, np.uint32)]),
        np.concatenate([scan.plen, np.array(v4l, np.uint8)]),
        hi,
        lo,
        plen6,
    )
    return ParsedText(pa, errors)


def aggregate_text(data: bytes) -> tuple[bytes, list[LineError]]:
    """Text in, text out: the minimal CIDRs of the lines of `data` (IPv4 then IPv6) and the bad lines."""
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
