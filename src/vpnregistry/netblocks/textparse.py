"""The work of `parse_text`: a list of addresses and prefixes, one a line, read into arrays.

Plain IPv4 and IPv6 lines are parsed vectorised; anything else, and every line in doubt (host bits
set, IPv4-mapped), goes through `parse_prefix`, which words the errors. This module imports NumPy;
`aggregation.parse_text` imports it on first use, so that importing the package stays cheap.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import numpy as np

from . import _u128
from .intervals import PrefixArrays
from .parse import LineError, ParsedText, ParseError, parse_prefix
from .textio import Scan, scan_ipv4, scan_ipv6, split_lines

__all__ = ["read_text"]

_V6_CHARS = frozenset("0123456789abcdefABCDEF:")

# IPv6 read vectorised: (hi, lo, length, line number) arrays.
_V6Part = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def read_text(data: bytes) -> ParsedText:
    """What `parse_text` returns: the prefixes of `data` as arrays, and its bad lines in line order."""
    scan, other, v6_parts = _scan(data)
    strict = _Strict()
    loose6 = _read_other_lines(data, scan, other, strict.read)
    if loose6 is not None:
        v6_parts.append(loose6)
    hi, lo, plen6 = _v6_arrays(data, scan, v6_parts, strict)
    strict.errors.sort(key=lambda e: e.line)
    pa = PrefixArrays.from_arrays(
        np.concatenate([scan.addr, np.array(strict.v4s, np.uint32)]),
        np.concatenate([scan.plen, np.array(strict.v4l, np.uint8)]),
        hi,
        lo,
        plen6,
    )
    return ParsedText(pa, strict.errors)


def _scan(data: bytes) -> tuple[Scan, np.ndarray, list[_V6Part]]:
    """The vectorised scanners over the whole text: (IPv4 scan, line numbers neither scanner read,
    the IPv6 they read)."""
    v6_parts: list[_V6Part] = []
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
    return scan, other, v6_parts


class _Strict:
    """The lines read one at a time by the strict parser: the prefixes they hold, and the errors."""

    __slots__ = ("checked", "errors", "v4l", "v4s")

    def __init__(self) -> None:
        self.v4s: list[int] = []
        self.v4l: list[int] = []
        self.checked: list[tuple[int, int, int]] = []  # IPv6: (value, length, line number)
        self.errors: list[LineError] = []

    def read(self, lineno: int, text: str) -> None:
        try:
            net = parse_prefix(text)
        except ParseError as err:
            self.errors.append(LineError(lineno + 1, text, str(err), err.code, err.params))
            return
        if net.version == 4:
            self.v4s.append(int(net.network_address))
            self.v4l.append(net.prefixlen)
        else:
            self.checked.append((int(net.network_address), net.prefixlen, lineno))


def _read_other_lines(
    data: bytes, scan: Scan, other: np.ndarray, slow: Callable[[int, str], None]
) -> _V6Part | None:
    """The lines the scanners left, one at a time: blank and comment lines skipped, plain IPv6 (with
    spaces or a comment, say) read by `inet_pton` and returned, everything else given to `slow`."""
    v6_packed: list[bytes] = []
    v6_len: list[int] = []
    v6_line: list[int] = []
    pton = socket.inet_pton
    af6 = socket.AF_INET6
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
    if not v6_packed:
        return None
    ph, pl = _u128.from_packed(b"".join(v6_packed))
    return ph, pl, np.array(v6_len, np.uint8), np.array(v6_line, np.int64)


def _v6_arrays(
    data: bytes, scan: Scan, v6_parts: list[_V6Part], strict: _Strict
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All the IPv6 prefixes as (hi, lo, length) arrays: those read vectorised, less the ones in doubt,
    which the strict parser reads again, then all the strict parser read."""
    if v6_parts:
        hi, lo, plen6, line6 = (np.concatenate([p[i] for p in v6_parts]) for i in range(4))
        # Host bits set, or IPv4-mapped: the strict parser words the error or normalises.
        mh, ml = _u128.host_mask(plen6)
        mapped = (hi == 0) & ((lo >> np.uint64(32)) == np.uint64(0xFFFF)) & (plen6 >= 96)
        redo = ((hi & mh) != 0) | ((lo & ml) != 0) | mapped
        if redo.any():
            for ln, t in zip(line6[redo].tolist(), split_lines(data, scan, line6[redo]), strict=True):
                strict.read(ln, t.split("#", 1)[0].strip())
            keep = ~redo
            hi, lo, plen6 = hi[keep], lo[keep], plen6[keep]
    else:
        hi = lo = np.empty(0, np.uint64)
        plen6 = np.empty(0, np.uint8)
    if strict.checked:
        ch, cl = _u128.from_ints([c[0] for c in strict.checked])
        hi = np.concatenate([hi, ch])
        lo = np.concatenate([lo, cl])
        plen6 = np.concatenate([plen6, np.array([c[1] for c in strict.checked], np.uint8)])
    return hi, lo, plen6
