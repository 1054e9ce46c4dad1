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
    """A line that is not a valid address or prefix: its 1-based number, its text and why."""

    line: int
    text: str
    reason: str


@dataclass
class ParsedText:
    """Prefixes read from text, as arrays, with the bad lines."""

    prefixes: object  # PrefixArrays
    errors: list[LineError] = field(default_factory=list)


def parse_text(data: bytes) -> ParsedText:
    """Read one address or prefix a line (blank lines and # comments ignored), strictly.

    Canonical IPv4 lines are parsed vectorised; IPv6 through inet_pton; the rest, and everything
    in doubt, through `parse_prefix`, which words the errors.
    """
    import numpy as np

    from . import _u128
    from .intervals import PrefixArrays
    from .textio import scan_ipv4, split_lines

    scan = scan_ipv4(data)
    v4s: list[int] = []
    v4l: list[int] = []
    v6_packed: list[bytes] = []
    v6_len: list[int] = []
    v6_line: list[int] = []
    errors: list[LineError] = []
    others = split_lines(data, scan, scan.other_line)
    pton = socket.inet_pton
    af6 = socket.AF_INET6

    def slow(lineno: int, text: str) -> None:
        try:
            net = parse_prefix(text)
        except ParseError as err:
            errors.append(LineError(lineno + 1, text, str(err)))
            return
        if net.version == 4:
            v4s.append(int(net.network_address))
            v4l.append(net.prefixlen)
        else:
            v6_packed.append(net.network_address.packed)
            v6_len.append(net.prefixlen)
            v6_line.append(-1)  # already checked

    for lineno, raw in zip(scan.other_line.tolist(), others, strict=True):
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
            elif length.isdigit() and length.isascii() and (length == "0" or length[0] != "0"):
                n = int(length)
                if n > 128:
                    slow(lineno, text)
                    continue
            else:
                slow(lineno, text)
                continue
            v6_packed.append(packed)
            v6_len.append(n)
            v6_line.append(lineno)
        else:
            slow(lineno, text)

    hi, lo = _u128.from_packed(b"".join(v6_packed))
    plen6 = np.array(v6_len, np.uint8)
    if len(hi):
        # Host bits set, or IPv4-mapped: let the strict parser word the error or normalise.
        mh, ml = _u128.host_mask(plen6)
        mapped = (hi == 0) & ((lo >> np.uint64(32)) == np.uint64(0xFFFF)) & (plen6 >= 96)
        redo = np.flatnonzero(((hi & mh) != 0) | ((lo & ml) != 0) | mapped)
        if len(redo):
            keep = np.ones(len(hi), bool)
            keep[redo] = False
            lines = np.array(v6_line)[redo].tolist()
            texts = [split_lines(data, scan, np.array([ln]))[0] for ln in lines]
            hi, lo, plen6 = hi[keep], lo[keep], plen6[keep]
            n_before = len(v6_packed)
            for ln, t in zip(lines, texts, strict=True):
                slow(ln, t.split("#", 1)[0].strip())
            if len(v6_packed) > n_before:
                xh, xl = _u128.from_packed(b"".join(v6_packed[n_before:]))
                hi = np.concatenate([hi, xh])
                lo = np.concatenate([lo, xl])
                plen6 = np.concatenate([plen6, np.array(v6_len[n_before:], np.uint8)])
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
    if items and all(isinstance(x, str) for x in items) and not any("\n" in x for x in items):
        parsed = parse_text("\n".join(items).encode("utf-8", "surrogateescape"))
        if parsed.errors:
            raise ParseError(parsed.errors[0].reason)
        pa = parsed.prefixes
    else:
        pa = PrefixArrays.from_networks(items)
    return IntervalSet.from_prefixes(pa).to_cidrs()
