"""The checks of a document's fields, each error naming the field (and item) that is wrong.

A list of CIDRs or of mobile numbers is checked whole where it is what this registry writes
(vectorised, for CIDRs), and item by item, to word the error, wherever anything is off.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import uuid
from datetime import datetime

from vpnregistry.allowlist.formats.cidrlist import CidrList

_GENERATED_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
# Operator codes are Django slugs; E.164 numbers have at most 15 digits and no leading zero.
_OPERATOR = re.compile(r"[-a-zA-Z0-9_]+")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_LENGTHS = {4: {str(n): n for n in range(33)}, 6: {str(n): n for n in range(129)}}
_AF = {4: (socket.AF_INET, 32), 6: (socket.AF_INET6, 128)}


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


def _check_prefixes(name: str, items: object, version: int) -> CidrList:
    """Canonical CIDRs of one family, ascending and not overlapping (as aggregation leaves them)."""
    if not isinstance(items, list):
        raise ValueError(f"{name}: expected a list of IPv{version} CIDR strings")
    checked = _canonical_text(items, version)
    if checked is not None:
        return CidrList.from_text(checked)
    # Something is wrong, or unusual: the item by item check below finds it and words the error.
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
    return CidrList(items)


def _canonical_text(items: list, version: int) -> str | None:
    """The items as text, a CIDR a line, when every item is a canonical CIDR of the family and they
    ascend without overlapping; None when any is not (or is unusual), for `_check_prefixes` to say
    which and why."""
    if not items:
        return ""
    try:
        text = "\n".join(items) + "\n"
    except TypeError:
        return None
    return text if _canonical_lines(text, len(items), version) else None


def _canonical_lines(text: str, count: int, version: int) -> bool:
    """Whether `text` is `count` canonical CIDRs of the family, a line each, ascending without
    overlapping. Vectorised: the text is parsed by `netblocks`, printed back from the numbers and
    compared, so that only canonical text passes; it never accepts what the item by item check
    of `_check_prefixes` would refuse (and leaves IPv4-mapped IPv6 to it)."""
    # Imported here, not at the top, for start-up time: importing the formats does not load NumPy.
    import numpy as np

    from vpnregistry.netblocks import _u128
    from vpnregistry.netblocks.textio import format_v4_cidrs, format_v6_cidrs, scan_ipv4, scan_ipv6

    if not text.isascii():
        return False
    data = text.encode("ascii")
    if version == 4:
        scan = scan_ipv4(data)
        if len(scan.addr) != count or len(scan.other_line) or format_v4_cidrs(scan.addr, scan.plen) != data:
            return False
        first = scan.addr.astype(np.int64)
        last = first + (np.left_shift(np.int64(1), 32 - scan.plen.astype(np.int64)) - 1)
        return bool((first[1:] > last[:-1]).all())
    scan6 = scan_ipv6(data)
    if len(scan6.good_line) != count:
        return False
    hi, lo = scan6.hi, scan6.lo
    mask_hi, mask_lo = _u128.host_mask(scan6.plen)
    # Host bits set, or IPv4-mapped (which `ipaddress` may print with a dotted quad): item by item.
    mapped = (hi == 0) & ((lo >> np.uint64(32)) == np.uint64(0xFFFF))
    if ((hi & mask_hi) != 0).any() or ((lo & mask_lo) != 0).any() or mapped.any():
        return False
    if format_v6_cidrs(hi, lo, scan6.plen) != data:
        return False
    last_hi, last_lo = hi | mask_hi, lo | mask_lo
    after = (hi[1:] > last_hi[:-1]) | ((hi[1:] == last_hi[:-1]) & (lo[1:] > last_lo[:-1]))
    return bool(after.all())


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
        if _numbers_ascend(numbers):
            out[operator] = tuple(numbers)
            continue
        # Something is wrong: number by number, to say which and why.
        for index, number in enumerate(numbers):
            if not isinstance(number, str) or not _E164.fullmatch(number):
                raise ValueError(f"{where}[{index}]: {number!r} is not an E.164 number like '+923001234567'")
            if index and number <= numbers[index - 1]:
                raise ValueError(f"{where}[{index}]: {number!r} is repeated or out of order: numbers ascend")
        out[operator] = tuple(numbers)
    return out


_E164_LINES = re.compile(r"(?:\+[1-9][0-9]{1,14}\n)*")


def _numbers_ascend(numbers: list) -> bool:
    """Whether every item is an E.164 number and they strictly ascend: one regular expression over
    them all (a line each) and one pass of the sort, which finds an ascending list in linear time."""
    if not numbers:
        return True
    try:
        text = "\n".join(numbers) + "\n"
    except TypeError:
        return False
    return (
        text.count("\n") == len(numbers)
        and _E164_LINES.fullmatch(text) is not None
        and sorted(numbers) == numbers
        and len(set(numbers)) == len(numbers)
    )
