"""Classification against the IANA special-purpose registries, and the per-category prefix limits."""

from __future__ import annotations

import csv
import functools
import ipaddress
from dataclasses import dataclass
from importlib import resources

from .parse import Network, ParseError, parse_prefix

__all__ = ["CATEGORY_LIMITS", "SpecialBlock", "check_prefix", "special_purpose", "special_registry"]

# (shortest IPv4 length, shortest IPv6 length) a category may register.
CATEGORY_LIMITS: dict[str, tuple[int, int]] = {
    "company": (24, 48),
    "call_centre": (24, 48),
    "freelancer": (32, 64),
    "video_conferencing": (24, 48),
    "bank": (24, 48),
    "foreign_mission": (24, 48),
}


@dataclass(frozen=True, slots=True)
class SpecialBlock:
    """One registry entry: the block and its short name ("private-use")."""

    prefix: Network
    name: str
    globally_reachable: bool = False
    reference: str = ""


@functools.cache
def special_registry() -> tuple[SpecialBlock, ...]:
    """All entries of the data file, reachable ones included, in file order."""
    text = resources.files(__package__).joinpath("data/iana-special-purpose.csv").read_text("ascii")
    rows = csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#"))
    return tuple(
        SpecialBlock(
            prefix=ipaddress.ip_network(row["prefix"]),
            name=row["name"],
            globally_reachable=row["globally_reachable"] == "true",
            reference=row["reference"],
        )
        for row in rows
    )


def _bounds(net: Network) -> tuple[int, int]:
    return int(net.network_address), int(net.broadcast_address)


def _covered_by(lo: int, hi: int, pieces: list[tuple[int, int]]) -> bool:
    """Whether [lo, hi] is covered entirely by the union of `pieces`."""
    for a, b in sorted(pieces):
        if a > lo:
            return False
        if b >= lo:
            lo = b + 1
            if lo > hi:
                return True
    return False


def special_purpose(net: Network | str) -> SpecialBlock | None:
    """The special-purpose block that `net` overlaps, or None when all of `net` is globally reachable.

    When several blocks apply, the most specific one containing `net` is named, else the largest
    one inside it. The default route counts as special (name "default-route").
    """
    if isinstance(net, str):
        net = parse_prefix(net)
    if net.prefixlen == 0:
        return SpecialBlock(prefix=net, name="default-route")
    lo, hi = _bounds(net)
    entries = [e for e in special_registry() if e.prefix.version == net.version]
    refused = []
    for entry in entries:
        if entry.globally_reachable:
            continue
        elo, ehi = _bounds(entry.prefix)
        if ehi < lo or elo > hi:
            continue
        # The overlap is special unless reachable entries more specific than this one cover it.
        olo, ohi = max(lo, elo), min(hi, ehi)
        exceptions = [
            _bounds(x.prefix)
            for x in entries
            if x.globally_reachable and x.prefix.prefixlen > entry.prefix.prefixlen
        ]
        if not _covered_by(olo, ohi, exceptions):
            refused.append(entry)
    if not refused:
        return None
    containing = [e for e in refused if net.subnet_of(e.prefix)]  # type: ignore[arg-type]
    if containing:
        return max(containing, key=lambda e: e.prefix.prefixlen)
    return min(refused, key=lambda e: (e.prefix.prefixlen, e.prefix.network_address))


def check_prefix(text: str, *, min_len_v4: int = 24, min_len_v6: int = 48) -> Network:
    """Parse `text` and refuse special-purpose space and prefixes broader than the limits."""
    net = parse_prefix(text)
    block = special_purpose(net)
    if block is not None:
        if block.name == "default-route":
            raise ParseError(f"{str(net)!r} is the default route, which covers every address")
        where = "is in" if net.subnet_of(block.prefix) else "overlaps"  # type: ignore[arg-type]
        raise ParseError(f"{str(net)!r} {where} {block.prefix}, {block.name}")
    limit = min_len_v4 if net.version == 4 else min_len_v6
    if net.prefixlen < limit:
        raise ParseError(f"/{net.prefixlen} is broader than the /{limit} this category allows")
    return net
