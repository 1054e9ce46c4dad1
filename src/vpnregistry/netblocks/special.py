"""Classification against the IANA special-purpose registries, and the per-category prefix limits.

What a registration may hold is public unicast space that one organisation can be assigned: not
an entry of the special-purpose registries (reachable or not), and for IPv6 inside 2000::/3.
"""

from __future__ import annotations

import bisect
import csv
import functools
import ipaddress
from dataclasses import dataclass
from importlib import resources

from .parse import Network, ParseError, parse_prefix

__all__ = [
    "CATEGORY_LIMITS",
    "GLOBAL_UNICAST_V6",
    "SpecialBlock",
    "check_prefix",
    "special_purpose",
    "special_registry",
]

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
    """One registry entry: the block and its short name ("private-use").

    `refused_as` says why a block is refused when "not globally reachable" does not: "shared"
    (anycast or identifier space, not assignable to one organisation), "nat64" (its addresses stand
    for IPv4 addresses) or "not-global-unicast" (IPv6 outside 2000::/3); empty otherwise.
    """

    prefix: Network
    name: str
    globally_reachable: bool = False
    reference: str = ""
    refused_as: str = ""


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
            refused_as=row["refused_as"],
        )
        for row in rows
    )


# IANA allocates IPv6 global unicast from 2000::/3 alone (IPv6 Address Space registry, RFC 4291
# section 2.4): the rest is reserved or special, listed or not. These three blocks are its complement.
GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
OUTSIDE_GLOBAL_UNICAST_V6: tuple[SpecialBlock, ...] = tuple(
    SpecialBlock(
        prefix=ipaddress.IPv6Network(block),
        name="outside-global-unicast",
        reference="RFC 4291",
        refused_as="not-global-unicast",
    )
    for block in ("::/3", "4000::/2", "8000::/1")
)


def _bounds(net: Network) -> tuple[int, int]:
    first = int(net.network_address)
    return first, first | ((1 << (net.max_prefixlen - net.prefixlen)) - 1)


@functools.cache
def _blocks(version: int) -> tuple[SpecialBlock, ...]:
    listed = tuple(e for e in special_registry() if e.prefix.version == version)
    return listed + (OUTSIDE_GLOBAL_UNICAST_V6 if version == 6 else ())


@functools.cache
def _block_bounds(version: int) -> tuple[tuple[int, int, SpecialBlock], ...]:
    """Each block of a family with its first and last address as integers, worked out once: an import
    of a million rows asks about every one of them."""
    return tuple((*_bounds(entry.prefix), entry) for entry in _blocks(version))


@functools.cache
def _union(version: int) -> tuple[list[int], list[int]]:
    """The family's blocks together, as sorted runs that neither overlap nor touch: their first and
    last addresses. A prefix clear of them all (nearly every one asked about) is known by one bisect."""
    runs: list[list[int]] = []
    for lo, hi, _entry in sorted(_block_bounds(version), key=lambda bound: bound[:2]):
        if runs and lo <= runs[-1][1] + 1:
            runs[-1][1] = max(runs[-1][1], hi)
        else:
            runs.append([lo, hi])
    return [lo for lo, _hi in runs], [hi for _lo, hi in runs]


def _clear(version: int, lo: int, hi: int) -> bool:
    """Whether [lo, hi] overlaps no block of the family: only the last run starting at or before
    `hi` can reach it, the runs being sorted and apart."""
    firsts, lasts = _union(version)
    at = bisect.bisect_right(firsts, hi) - 1
    return at < 0 or lasts[at] < lo


def special_purpose(net: Network | str) -> SpecialBlock | None:
    """The special block that `net` overlaps, or None when all of `net` is public unicast space.

    Every entry of the special-purpose registries is refused: those not globally reachable, and
    the reachable ones too, which are anycast or identifier blocks (or NAT64 prefixes) that no one
    organisation holds. So is IPv6 outside 2000::/3. When several blocks apply, the most specific
    one containing `net` is named, else the largest one inside it. The default route counts as
    special (name "default-route").
    """
    if isinstance(net, str):
        net = parse_prefix(net)
    if net.prefixlen == 0:
        return SpecialBlock(prefix=net, name="default-route")
    lo, hi = _bounds(net)
    if _clear(net.version, lo, hi):
        return None
    refused = [entry for elo, ehi, entry in _block_bounds(net.version) if elo <= hi and lo <= ehi]
    if not refused:
        return None
    containing = [e for e in refused if net.subnet_of(e.prefix)]  # type: ignore[arg-type]
    if containing:
        return max(containing, key=lambda e: e.prefix.prefixlen)
    return min(refused, key=lambda e: (e.prefix.prefixlen, e.prefix.network_address))


def _why(net: Network, block: SpecialBlock) -> str:
    """What follows the block's name in a refusal: empty when "not globally reachable" is the reason."""
    if block.refused_as == "shared":
        return "; shared anycast or identifier space, not assignable to one organisation"
    if block.refused_as == "not-global-unicast":
        return "; IPv6 outside 2000::/3, the only space allocated for global unicast"
    if block.refused_as == "nat64":
        why = "; a NAT64 prefix, whose addresses stand for IPv4 addresses"
        inside = _nat64_ipv4(net, block)
        if inside:
            why += f" (this one for {inside}): register the IPv4 address itself"
        return why
    return ""


def _nat64_ipv4(net: Network, block: SpecialBlock) -> str:
    """The IPv4 prefix a prefix inside a /96 NAT64 block stands for ("192.0.2.0/24"), else ""."""
    if block.refused_as != "nat64" or block.prefix.prefixlen != 96 or net.prefixlen < 96:
        return ""
    if not net.subnet_of(block.prefix):  # type: ignore[arg-type]
        return ""
    return str(ipaddress.IPv4Network((int(net.network_address) & 0xFFFFFFFF, net.prefixlen - 96)))


def check_prefix(text: str, *, min_len_v4: int = 24, min_len_v6: int = 48) -> Network:
    """Parse `text` and refuse special-purpose space and prefixes broader than the limits."""
    net = parse_prefix(text)
    block = special_purpose(net)
    if block is not None:
        if block.name == "default-route":
            raise ParseError(
                f"{str(net)!r} is the default route, which covers every address",
                "default_route",
                {"value": str(net)},
            )
        where = "is in" if net.subnet_of(block.prefix) else "overlaps"  # type: ignore[arg-type]
        raise ParseError(
            f"{str(net)!r} {where} {block.prefix}, {block.name}{_why(net, block)}",
            "special_purpose",
            {
                "value": str(net),
                "inside": where == "is in",
                "block": str(block.prefix),
                "name": block.name,
                "refused_as": block.refused_as,
                "ipv4": _nat64_ipv4(net, block),
            },
        )
    limit = min_len_v4 if net.version == 4 else min_len_v6
    if net.prefixlen < limit:
        raise ParseError(
            f"/{net.prefixlen} is broader than the /{limit} this category allows",
            "too_broad",
            {"value": str(net), "length": net.prefixlen, "limit": limit},
        )
    return net
