"""Routers: a BIRD set (bird), Cisco IOS prefix-lists (cisco), a Junos prefix-list (juniper) and a
RouterOS address list (mikrotik)."""

from __future__ import annotations

from vpnregistry.allowlist.formats.cidrlist import CidrList
from vpnregistry.allowlist.formats.common import _header, _lines
from vpnregistry.allowlist.formats.document import Allowlist

__all__ = [
    "BIRD_SETS",
    "CISCO_LISTS",
    "JUNIPER_LISTS",
    "MIKROTIK_LIST",
    "render_bird",
    "render_cisco",
    "render_juniper",
    "render_mikrotik",
]

BIRD_SETS = {4: "VPNREGISTRY_V4", 6: "VPNREGISTRY_V6"}
# The unspecified address is never a route, so an empty family's set matches nothing real yet keeps its type.
_BIRD_PLACEHOLDER = {4: "0.0.0.0/32", 6: "::/128"}


def render_bird(allowlist: Allowlist, *, operator: str | None = None) -> str:
    parts = [_header(allowlist, "#")]
    for version, items in ((4, allowlist.ipv4), (6, allowlist.ipv6)):
        parts.append(f"define {BIRD_SETS[version]} = [\n")
        if items:
            parts.extend(_lines("\t", items, ",", end=""))
        else:
            parts.append(f"\t{_BIRD_PLACEHOLDER[version]}\t# placeholder: no IPv{version} prefix published\n")
        parts.append("];\n")
    return "".join(parts)


CISCO_LISTS = {4: ("ip", "VPNREGISTRY-V4"), 6: ("ipv6", "VPNREGISTRY-V6")}
_CISCO_DENY_ALL = {4: "0.0.0.0/0 le 32", 6: "::/0 le 128"}


def render_cisco(allowlist: Allowlist, *, operator: str | None = None) -> str:
    parts = [_header(allowlist, "!")]
    for version, items in ((4, allowlist.ipv4), (6, allowlist.ipv6)):
        keyword, name = CISCO_LISTS[version]
        parts.append(f"no {keyword} prefix-list {name}\n")
        if items:
            parts.append(_numbered(f"{keyword} prefix-list {name} seq ", " permit ", items))
        else:
            # IOS treats a missing prefix-list as matching everything: an empty family denies all instead.
            parts.append(f"{keyword} prefix-list {name} seq 5 deny {_CISCO_DENY_ALL[version]}\n")
    return "".join(parts)


_BLOCK = 1 << 14  # lines `_numbered` makes at a time, so that only one block's strings exist at once


def _numbered(head: str, middle: str, items: CidrList) -> str:
    """`head + seq + middle + item` a line for each item, seq being 5, 10, 15, ...

    One f-string a line (faster, measured, than assembling the lines with array operations), a
    block of lines at a time, written into one buffer of the exact size: a million lines never
    exist as a million strings, nor as blocks waiting to be joined.
    """
    n = len(items)
    text = items.text
    starts = items._line_starts(keep=False)
    # The digits of 5, 10, ..., 5n: for each width, how many numbers have it.
    digits = sum(
        d * max(0, min(5 * n, 10**d - 1) // 5 - (10 ** (d - 1) - 1) // 5)
        for d in range(1, len(str(5 * n)) + 1)
    )
    out = bytearray((len(head) + len(middle)) * n + digits + len(text))
    at = 0
    for first in range(0, n, _BLOCK):
        last = min(first + _BLOCK, n)
        lines = text[int(starts[first]) : int(starts[last]) - 1].split("\n")
        seqs = range(5 * first + 5, 5 * last + 1, 5)
        block = "".join(
            [f"{head}{seq}{middle}{line}\n" for seq, line in zip(seqs, lines, strict=True)]
        ).encode()
        out[at : at + len(block)] = block
        at += len(block)
    del out[at:]  # nothing, unless the length above was miscounted (a slice assignment would grow it)
    return out.decode("ascii")


JUNIPER_LISTS = {4: "vpnregistry-v4", 6: "vpnregistry-v6"}


def render_juniper(allowlist: Allowlist, *, operator: str | None = None) -> str:
    parts = [_header(allowlist, "#")]
    for version, items in ((4, allowlist.ipv4), (6, allowlist.ipv6)):
        name = f"policy-options prefix-list {JUNIPER_LISTS[version]}"
        parts.append(f"delete {name}\n")
        # The bare `set` keeps an empty list defined, so that filters referring to it still commit.
        parts.extend(_lines(f"set {name} ", items) if items else [f"set {name}\n"])
    return "".join(parts)


MIKROTIK_LIST = "vpnregistry"


def render_mikrotik(allowlist: Allowlist, *, operator: str | None = None) -> str:
    parts = [_header(allowlist, "#")]
    for menu, items in (
        ("/ip firewall address-list", allowlist.ipv4),
        ("/ipv6 firewall address-list", allowlist.ipv6),
    ):
        parts.append(f"{menu}\nremove [find list={MIKROTIK_LIST}]\n")
        parts.extend(_lines(f"add list={MIKROTIK_LIST} address=", items))
    return "".join(parts)
