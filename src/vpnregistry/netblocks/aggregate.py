"""Aggregation of prefixes into the minimal list of CIDR blocks covering exactly the same addresses."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from .parse import Network, parse_prefix

__all__ = ["aggregate", "range_to_cidrs"]


def range_to_cidrs(first: int, last: int, bits: int) -> list[tuple[int, int]]:
    """The minimal (start, prefix length) blocks covering [first, last] in a `bits`-wide family."""
    out = []
    while first <= last:
        # The largest block aligned at `first` that does not run past `last`.
        size_bits = (first & -first).bit_length() - 1 if first else bits
        span_bits = (last - first + 1).bit_length() - 1
        step = min(size_bits, span_bits)
        out.append((first, bits - step))
        first += 1 << step
    return out


def _ranges(nets: Iterable[Network | str]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    v4: list[tuple[int, int]] = []
    v6: list[tuple[int, int]] = []
    for net in nets:
        if isinstance(net, str):
            net = parse_prefix(net)
        (v4 if net.version == 4 else v6).append((int(net.network_address), int(net.broadcast_address)))
    return v4, v6


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def aggregate(nets: Iterable[Network | str]) -> list[Network]:
    """Minimal CIDRs covering exactly the addresses of `nets`: IPv4 then IPv6, each ascending.

    Strings are parsed with `parse_prefix` (strict); a bad one raises `ParseError`.
    """
    v4, v6 = _ranges(nets)
    out: list[Network] = []
    for ranges, bits, cls in ((v4, 32, ipaddress.IPv4Network), (v6, 128, ipaddress.IPv6Network)):
        for lo, hi in _merge(ranges):
            out.extend(cls((start, length)) for start, length in range_to_cidrs(lo, hi, bits))
    return out
