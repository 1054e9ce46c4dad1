"""The allowlist document and its renderers: one per output format that operators load.

Pure Python (and NumPy, through `netblocks`) with no Django import: the operator's sync client
imports this module on a firewall host. Every renderer is a deterministic function of an
`Allowlist` (IPv4 then IPv6, ascending, as published). Each family's CIDRs are held as one text, a
CIDR a line (`CidrList`), so that a million of them take about 20 MB rather than 70 as separate
strings, and most renderers make their format from that text with one `str.replace` instead of
one string per line (Cisco's numbered lines are made a block at a time). No IP format carries
mobile numbers; `msisdn.csv` serves one mobile operator its own.

One module per family of formats: `plain` (txt, json), `linux` (nft, ipset), `routers` (bird,
cisco, juniper, mikrotik) and `mobile` (msisdn.csv), sharing `common`; the document is `document`
(its fields' checks `validation`) and a family's CIDRs `cidrlist`. This package holds the list of
formats and `render`, and re-exports the names that callers use as `formats.<name>`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vpnregistry.allowlist.formats.cidrlist import CidrList
from vpnregistry.allowlist.formats.document import DOCUMENT_FORMAT, Allowlist, from_stored
from vpnregistry.allowlist.formats.linux import (
    IPSET_SETS,
    NFT_HOST_SUFFIX,
    NFT_HOSTS,
    NFT_NETS,
    NFT_RETIRED,
    NFT_TABLE,
    ipset_maxelem,
    nft_set_of,
    render_ipset,
    render_nft,
)
from vpnregistry.allowlist.formats.linux import _ipset_hashsize as _ipset_hashsize  # for benchmarks
from vpnregistry.allowlist.formats.mobile import render_msisdn_csv
from vpnregistry.allowlist.formats.plain import render_json, render_txt
from vpnregistry.allowlist.formats.routers import _BIRD_PLACEHOLDER as _BIRD_PLACEHOLDER  # for benchmarks
from vpnregistry.allowlist.formats.routers import _CISCO_DENY_ALL as _CISCO_DENY_ALL  # for benchmarks
from vpnregistry.allowlist.formats.routers import (
    BIRD_SETS,
    CISCO_LISTS,
    JUNIPER_LISTS,
    MIKROTIK_LIST,
    render_bird,
    render_cisco,
    render_juniper,
    render_mikrotik,
)

__all__ = [
    "BIRD_SETS",
    "CISCO_LISTS",
    "DOCUMENT_FORMAT",
    "FORMATS",
    "IPSET_SETS",
    "JUNIPER_LISTS",
    "MIKROTIK_LIST",
    "NFT_HOSTS",
    "NFT_HOST_SUFFIX",
    "NFT_NETS",
    "NFT_RETIRED",
    "NFT_TABLE",
    "Allowlist",
    "CidrList",
    "Format",
    "from_stored",
    "ipset_maxelem",
    "nft_set_of",
    "render",
]


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    render: Callable[..., str]


_TEXT = "text/plain; charset=utf-8"
FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("txt", _TEXT, render_txt),
        Format("json", "application/json", render_json),
        Format("nft", _TEXT, render_nft),
        Format("ipset", _TEXT, render_ipset),
        Format("bird", _TEXT, render_bird),
        Format("cisco", _TEXT, render_cisco),
        Format("juniper", _TEXT, render_juniper),
        Format("mikrotik", _TEXT, render_mikrotik),
        Format("msisdn.csv", "text/csv; charset=utf-8; header=present", render_msisdn_csv),
    )
}


def render(name: str, allowlist: Allowlist, *, operator: str | None = None) -> str:
    """The allowlist in one format. `msisdn.csv` requires `operator` and holds only that operator's
    numbers; the IP formats hold no mobile numbers at all."""
    try:
        fmt = FORMATS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown allowlist format {name!r}; known: {', '.join(FORMATS)}") from None
    return fmt.render(allowlist, operator=operator)
