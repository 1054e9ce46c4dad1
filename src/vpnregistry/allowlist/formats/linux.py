"""Linux firewalls: an `nft -f` file (nft) and an `ipset restore` file (ipset)."""

from __future__ import annotations

from vpnregistry.allowlist.formats.cidrlist import CidrList
from vpnregistry.allowlist.formats.common import _header, _lines
from vpnregistry.allowlist.formats.document import Allowlist

__all__ = [
    "IPSET_SETS",
    "NFT_HOSTS",
    "NFT_HOST_SUFFIX",
    "NFT_NETS",
    "NFT_RETIRED",
    "NFT_TABLE",
    "ipset_maxelem",
    "nft_set_of",
    "render_ipset",
    "render_nft",
]

NFT_TABLE = "inet vpnregistry"
# Single addresses go in sets without `flags interval` and prefixes in sets with it. nft (1.0.6, the
# version Debian 12 ships) reads every element of every interval set in the ruleset before any
# command, even one that adds to another set, and the kernel hands them over slowly: with 800,000
# entries in interval sets each command took 50 to 90 s, with the single addresses apart a few
# seconds. An operator's rules match both sets of a family.
NFT_HOSTS = {4: "allow_v4_hosts", 6: "allow_v6_hosts"}
NFT_NETS = {4: "allow_v4_nets", 6: "allow_v6_nets"}
NFT_HOST_SUFFIX = {4: "/32", 6: "/128"}
# The sets of the first layout, each of both kinds: declared and deleted by every file, so that a
# rule still naming one makes the load fail, loudly, instead of matching a set no longer refilled.
NFT_RETIRED = {4: "allow_v4", 6: "allow_v6"}


def nft_set_of(version: int, cidr: str) -> tuple[str, str]:
    """(set, element) for one CIDR: a single address goes bare into the family's hosts set."""
    suffix = NFT_HOST_SUFFIX[version]
    if cidr.endswith(suffix):
        return NFT_HOSTS[version], cidr[: -len(suffix)]
    return NFT_NETS[version], cidr


def render_nft(allowlist: Allowlist, *, operator: str | None = None) -> str:
    # `table`/`set` blocks add what is missing and keep what exists (an operator's chains in the table
    # included); the flushes and adds that follow make `nft -f` replace the elements in one transaction.
    declare, names = [], []
    for version in (4, 6):
        kind = f"ipv{version}_addr"
        declare.append(f"\tset {NFT_HOSTS[version]} {{\n\t\ttype {kind}\n\t}}\n")
        declare.append(f"\tset {NFT_NETS[version]} {{\n\t\ttype {kind}\n\t\tflags interval\n\t}}\n")
        names += [NFT_HOSTS[version], NFT_NETS[version]]
    retired = "".join(
        f"\tset {NFT_RETIRED[v]} {{\n\t\ttype ipv{v}_addr\n\t\tflags interval\n\t}}\n" for v in (4, 6)
    )
    parts = [
        _header(allowlist, "#"),
        f"table {NFT_TABLE} {{\n{''.join(declare)}{retired}}}\n",
        *(f"delete set {NFT_TABLE} {NFT_RETIRED[v]}\n" for v in (4, 6)),
        *(f"flush set {NFT_TABLE} {name}\n" for name in names),
    ]
    for version, items in ((4, allowlist.ipv4), (6, allowlist.ipv6)):
        hosts, nets = CidrList(items).split_hosts(NFT_HOST_SUFFIX[version])
        # nft rejects an empty `{ }`: an empty set is just the flush above.
        for name, entries in ((NFT_HOSTS[version], hosts), (NFT_NETS[version], nets)):
            if entries:
                parts.append(f"add element {NFT_TABLE} {name} {{\n")
                parts.extend(_lines("\t", entries, ","))
                parts.append("}\n")
    return "".join(parts)


IPSET_SETS = {4: "vpnregistry-v4", 6: "vpnregistry-v6"}
_IPSET_MIN = 65536


def ipset_maxelem(count: int) -> int:
    """65536, then steps of 16x: `create -exist` of a live set fails when its maxelem differs, so it
    should change as seldom as possible while always fitting (a limit, not memory: ipset grows on use)."""
    maxelem = _IPSET_MIN
    while maxelem < count:
        maxelem *= 16
    return maxelem


def _ipset_hashsize(count: int) -> int:
    # The starting size of the hash table, so that a large load does not resize it again and again.
    return max(1024, 1 << max(count - 1, 1).bit_length())


def render_ipset(allowlist: Allowlist, *, operator: str | None = None) -> str:
    parts = [_header(allowlist, "#")]
    for version, items in ((4, allowlist.ipv4), (6, allowlist.ipv6)):
        live = IPSET_SETS[version]
        temporary = f"{live}-tmp"
        options = (
            f"hash:net family {'inet' if version == 4 else 'inet6'} "
            f"hashsize {_ipset_hashsize(len(items))} maxelem {ipset_maxelem(len(items))}"
        )
        # The live set first, so that a mismatch fails before anything changes; the temporary set may
        # be left from a failed load, hence -exist and flush.
        parts.append(
            f"create {live} {options} -exist\ncreate {temporary} {options} -exist\nflush {temporary}\n"
        )
        parts.extend(_lines(f"add {temporary} ", items))
        parts.append(f"swap {temporary} {live}\ndestroy {temporary}\n")
    return "".join(parts)
