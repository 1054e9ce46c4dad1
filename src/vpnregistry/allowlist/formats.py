"""The allowlist document and its renderers: one per output format that operators load.

Pure Python with no Django import: the operator's sync client imports this module on a firewall
host. Every renderer is a deterministic function of an `Allowlist` (IPv4 then IPv6, ascending, as
published) and builds its text with `join` over lists, so that a million prefixes render in about
a second. No IP format carries mobile numbers; `msisdn.csv` serves one mobile operator its own.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

__all__ = ["DOCUMENT_FORMAT", "FORMATS", "Allowlist", "Format", "ipset_maxelem", "render"]

DOCUMENT_FORMAT = "vpnregistry-allowlist/1"
_KEYS = ("format", "session", "serial", "generated_at", "ipv4", "ipv6", "msisdn")
_GENERATED_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
# Operator codes are Django slugs; E.164 numbers have at most 15 digits and no leading zero.
_OPERATOR = re.compile(r"[-a-zA-Z0-9_]+")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_LENGTHS = {4: {str(n): n for n in range(33)}, 6: {str(n): n for n in range(129)}}
_AF = {4: (socket.AF_INET, 32), 6: (socket.AF_INET6, 128)}


@dataclass(frozen=True)
class Allowlist:
    """One snapshot of the allowlist, as published: aggregated CIDRs and mobile numbers per operator."""

    session: str
    serial: int
    generated_at: str
    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]
    msisdn: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str | bytes) -> Allowlist:
        """Parse and validate a document; a ValueError names the field (and item) that is wrong."""
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a JSON document: {exc}") from None
        if not isinstance(doc, dict):
            raise ValueError(f"the document must be a JSON object, not {type(doc).__name__}")
        missing = [key for key in _KEYS if key not in doc]
        if missing:
            raise ValueError(f"{missing[0]}: missing from the document")
        unknown = sorted(set(doc) - set(_KEYS))
        if unknown:
            raise ValueError(f"{unknown[0]}: not a field of {DOCUMENT_FORMAT}")
        if doc["format"] != DOCUMENT_FORMAT:
            raise ValueError(f"format: expected {DOCUMENT_FORMAT!r}, got {doc['format']!r}")
        return cls(
            session=_check_session(doc["session"]),
            serial=_check_serial(doc["serial"]),
            generated_at=_check_generated_at(doc["generated_at"]),
            ipv4=_check_prefixes("ipv4", doc["ipv4"], 4),
            ipv6=_check_prefixes("ipv6", doc["ipv6"], 6),
            msisdn=_check_msisdn(doc["msisdn"]),
        )

    def to_json(self) -> str:
        """The canonical document: its bytes are hashed, signed and stored as the snapshot."""
        doc = {
            "format": DOCUMENT_FORMAT,
            "session": self.session,
            "serial": self.serial,
            "generated_at": self.generated_at,
            "ipv4": list(self.ipv4),
            "ipv6": list(self.ipv6),
            "msisdn": {operator: list(numbers) for operator, numbers in self.msisdn.items()},
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"


# --- validation -------------------------------------------------------------------------------


def _check_session(value: object) -> str:
    if isinstance(value, str):
        try:
            if str(uuid.UUID(value)) == value:
                return value
        except ValueError:
            pass
    raise ValueError(f"session: expected a UUID in lower-case hyphenated form, got {value!r}")


def _check_serial(value: object) -> int:
    # bool is an int in Python but not a serial.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ValueError(f"serial: expected a positive integer, got {value!r}")


def _check_generated_at(value: object) -> str:
    if isinstance(value, str) and _GENERATED_AT.fullmatch(value):
        try:
            datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
            return value
        except ValueError:
            pass
    raise ValueError(f"generated_at: expected a UTC time like '2026-11-28T00:52:12Z', got {value!r}")


def _check_prefixes(name: str, items: object, version: int) -> tuple[str, ...]:
    """Canonical CIDRs of one family, ascending and not overlapping (as aggregation leaves them)."""
    if not isinstance(items, list):
        raise ValueError(f"{name}: expected a list of IPv{version} CIDR strings")
    family, bits = _AF[version]
    lengths = _LENGTHS[version]
    pton, ntop = socket.inet_pton, socket.inet_ntop
    previous_last = -1
    for index, text in enumerate(items):
        where = f"{name}[{index}]"
        if not isinstance(text, str):
            raise ValueError(f"{where}: expected a CIDR string, got {text!r}")
        address, _, length_text = text.partition("/")
        length = lengths.get(length_text)
        try:
            packed = pton(family, address)
        except (OSError, ValueError):
            packed = None
        if packed is None or length is None:
            raise ValueError(f"{where}: {text!r} is not an IPv{version} prefix in CIDR notation")
        # Canonical is what ipaddress writes; inet_ntop agrees (and is fast) but where it embeds IPv4 in IPv6.
        canonical = ntop(family, packed)
        if "." in canonical and version == 6:
            canonical = str(ipaddress.ip_address(packed))
        if canonical != address:
            raise ValueError(f"{where}: {text!r} is not in canonical form ({canonical}/{length})")
        first = int.from_bytes(packed, "big")
        host_mask = (1 << (bits - length)) - 1
        if first & host_mask:
            network = ipaddress.ip_network(text, strict=False)
            raise ValueError(f"{where}: {text!r} has host bits set (the network is {str(network)!r})")
        if first <= previous_last:
            raise ValueError(
                f"{where}: {text!r} overlaps or comes before {items[index - 1]!r}: "
                "the list must be aggregated and ascending"
            )
        previous_last = first | host_mask
    return tuple(items)


def _check_msisdn(value: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ValueError("msisdn: expected an object of operator code -> list of E.164 numbers")
    out = {}
    for operator, numbers in value.items():
        where = f"msisdn[{operator!r}]"
        if not _OPERATOR.fullmatch(operator):
            raise ValueError(f"{where}: {operator!r} is not an operator code")
        if not isinstance(numbers, list):
            raise ValueError(f"{where}: expected a list of E.164 numbers")
        for index, number in enumerate(numbers):
            if not isinstance(number, str) or not _E164.fullmatch(number):
                raise ValueError(f"{where}[{index}]: {number!r} is not an E.164 number like '+923001234567'")
            if index and number <= numbers[index - 1]:
                raise ValueError(f"{where}[{index}]: {number!r} is repeated or out of order: numbers ascend")
        out[operator] = tuple(numbers)
    return out


# --- renderers --------------------------------------------------------------------------------


def _header(allowlist: Allowlist, mark: str) -> str:
    return (
        f"{mark} vpnregistry allowlist\n"
        f"{mark} session: {allowlist.session}\n"
        f"{mark} serial: {allowlist.serial}\n"
        f"{mark} generated: {allowlist.generated_at}\n"
        f"{mark} entries: {len(allowlist.ipv4)} IPv4, {len(allowlist.ipv6)} IPv6\n"
    )


def _lines(prefix: str, items: tuple[str, ...], suffix: str = "") -> str:
    """`prefix + item + suffix` a line for each item, in one join."""
    if not items:
        return ""
    return prefix + f"{suffix}\n{prefix}".join(items) + suffix + "\n"


def render_txt(allowlist: Allowlist, *, operator: str | None = None) -> str:
    return _header(allowlist, "#") + _lines("", allowlist.ipv4) + _lines("", allowlist.ipv6)


def render_json(allowlist: Allowlist, *, operator: str | None = None) -> str:
    # IP operators get the canonical document without any mobile numbers.
    return replace(allowlist, msisdn={}).to_json()


NFT_TABLE = "inet vpnregistry"
NFT_SETS = {4: "allow_v4", 6: "allow_v6"}


def render_nft(allowlist: Allowlist, *, operator: str | None = None) -> str:
    # `table`/`set` blocks add what is missing and keep what exists (an operator's chains in the table
    # included); the flushes and adds that follow make `nft -f` replace the elements in one transaction.
    parts = [
        _header(allowlist, "#"),
        f"table {NFT_TABLE} {{\n"
        f"\tset {NFT_SETS[4]} {{\n\t\ttype ipv4_addr\n\t\tflags interval\n\t}}\n"
        f"\tset {NFT_SETS[6]} {{\n\t\ttype ipv6_addr\n\t\tflags interval\n\t}}\n"
        "}\n"
        f"flush set {NFT_TABLE} {NFT_SETS[4]}\n"
        f"flush set {NFT_TABLE} {NFT_SETS[6]}\n",
    ]
    for version, items in ((4, allowlist.ipv4), (6, allowlist.ipv6)):
        # nft rejects an empty `{ }`: an empty family is just the flush above.
        if items:
            parts.append(f"add element {NFT_TABLE} {NFT_SETS[version]} {{\n")
            parts.append(_lines("\t", items, ","))
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
        parts.append(_lines(f"add {temporary} ", items))
        parts.append(f"swap {temporary} {live}\ndestroy {temporary}\n")
    return "".join(parts)


BIRD_SETS = {4: "VPNREGISTRY_V4", 6: "VPNREGISTRY_V6"}
# The unspecified address is never a route, so an empty family's set matches nothing real yet keeps its type.
_BIRD_PLACEHOLDER = {4: "0.0.0.0/32", 6: "::/128"}


def render_bird(allowlist: Allowlist, *, operator: str | None = None) -> str:
    parts = [_header(allowlist, "#")]
    for version, items in ((4, allowlist.ipv4), (6, allowlist.ipv6)):
        parts.append(f"define {BIRD_SETS[version]} = [\n")
        if items:
            parts.append("\t" + ",\n\t".join(items) + "\n")
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
            head = f"{keyword} prefix-list {name} seq "
            parts.append(
                "".join(
                    [
                        f"{head}{seq} permit {prefix}\n"
                        for seq, prefix in zip(range(5, 5 * len(items) + 1, 5), items, strict=True)
                    ]
                )
            )
        else:
            # IOS treats a missing prefix-list as matching everything: an empty family denies all instead.
            parts.append(f"{keyword} prefix-list {name} seq 5 deny {_CISCO_DENY_ALL[version]}\n")
    return "".join(parts)


JUNIPER_LISTS = {4: "vpnregistry-v4", 6: "vpnregistry-v6"}


def render_juniper(allowlist: Allowlist, *, operator: str | None = None) -> str:
    parts = [_header(allowlist, "#")]
    for version, items in ((4, allowlist.ipv4), (6, allowlist.ipv6)):
        name = f"policy-options prefix-list {JUNIPER_LISTS[version]}"
        parts.append(f"delete {name}\n")
        # The bare `set` keeps an empty list defined, so that filters referring to it still commit.
        parts.append(_lines(f"set {name} ", items) if items else f"set {name}\n")
    return "".join(parts)


MIKROTIK_LIST = "vpnregistry"


def render_mikrotik(allowlist: Allowlist, *, operator: str | None = None) -> str:
    parts = [_header(allowlist, "#")]
    for menu, items in (
        ("/ip firewall address-list", allowlist.ipv4),
        ("/ipv6 firewall address-list", allowlist.ipv6),
    ):
        parts.append(f"{menu}\nremove [find list={MIKROTIK_LIST}]\n")
        parts.append(_lines(f"add list={MIKROTIK_LIST} address=", items))
    return "".join(parts)


def render_msisdn_csv(allowlist: Allowlist, *, operator: str | None = None) -> str:
    if not operator:
        raise ValueError("the msisdn.csv format is per mobile operator: name the operator")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["msisdn", "operator"])
    writer.writerows([(number, operator) for number in allowlist.msisdn.get(operator, ())])
    return out.getvalue()


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
