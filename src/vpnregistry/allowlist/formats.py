"""The allowlist document and its renderers: one per output format that operators load.

Pure Python (and NumPy, through `netblocks`) with no Django import: the operator's sync client
imports this module on a firewall host. Every renderer is a deterministic function of an
`Allowlist` (IPv4 then IPv6, ascending, as published). Each family's CIDRs are held as one text, a
CIDR a line (`CidrList`), so that a million of them take about 20 MB rather than 70 as separate
strings, and most renderers make their format from that text with one `str.replace` instead of
one string per line (Cisco's numbered lines are made a block at a time). No IP format carries
mobile numbers; `msisdn.csv` serves one mobile operator its own.
"""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
import json
import operator as _operator
import re
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from vpnregistry.canonical import canonical_text
from vpnregistry.csvcells import cell

__all__ = ["DOCUMENT_FORMAT", "FORMATS", "Allowlist", "CidrList", "Format", "ipset_maxelem", "render"]

DOCUMENT_FORMAT = "vpnregistry-allowlist/1"
_KEYS = ("format", "session", "serial", "generated_at", "ipv4", "ipv6", "msisdn")
_GENERATED_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
# Operator codes are Django slugs; E.164 numbers have at most 15 digits and no leading zero.
_OPERATOR = re.compile(r"[-a-zA-Z0-9_]+")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_LENGTHS = {4: {str(n): n for n in range(33)}, 6: {str(n): n for n in range(129)}}
_AF = {4: (socket.AF_INET, 32), 6: (socket.AF_INET6, 128)}


class CidrList(Sequence[str]):
    """The CIDRs of one family as one ASCII text, each followed by a newline: a read-only sequence of str.

    Made from any iterable of strings, or from the text itself (`from_text`). It equals another
    CidrList with the same text, and a tuple or list of the same strings. Indexing finds the line
    boundaries once (NumPy) and keeps them; iterating splits the text. Its strings must be
    printable ASCII without quotes or backslashes (what a CIDR is made of), so that the text can
    go into every format, JSON included, as it is.
    """

    __slots__ = ("_count", "_starts", "_text")

    def __init__(self, items: Iterable[str] = ()) -> None:
        if isinstance(items, CidrList):
            self._text, self._count, self._starts = items._text, items._count, items._starts
            return
        items = items if isinstance(items, list | tuple) else list(items)
        text = "\n".join(items) + "\n" if items else ""
        if text.count("\n") != len(items):
            raise ValueError("a CIDR cannot hold a line break")
        self._text, self._count, self._starts = _checked_text(text), len(items), None

    @classmethod
    def from_text(cls, text: str | bytes) -> CidrList:
        """From the text: a CIDR a line, every line (the last too) ending with a newline."""
        if not isinstance(text, str):
            text = str(text, "ascii")
        if text and not text.endswith("\n"):
            raise ValueError("the text of a CidrList ends with a newline")
        obj = cls.__new__(cls)
        obj._text, obj._count, obj._starts = _checked_text(text), text.count("\n"), None
        return obj

    @property
    def text(self) -> str:
        """Every CIDR followed by a newline ("" when there is none)."""
        return self._text

    def json(self) -> str:
        """The CIDRs as a JSON array, exactly as `json.dumps(list(self), separators=(",", ":"))`."""
        return '["' + self._text[:-1].replace("\n", '","') + '"]' if self._count else "[]"

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        items = self._text.split("\n")
        items.pop()
        return iter(items)

    def _line_starts(self, keep: bool = True):
        """The offset of every line in the text, and the text's length after them (NumPy int64)."""
        starts = self._starts
        if starts is None:
            import numpy as np

            ends = np.flatnonzero(np.frombuffer(self._text.encode("ascii"), np.uint8) == 10)
            starts = np.concatenate([np.zeros(1, np.int64), ends + 1])
            if keep:
                self._starts = starts
        return starts

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(self._count)
            if step != 1:
                return CidrList(list(self)[index])
            if start >= stop:
                return CidrList()
            starts = self._line_starts()
            return CidrList.from_text(self._text[int(starts[start]) : int(starts[stop])])
        i = _operator.index(index)
        if i < 0:
            i += self._count
        if not 0 <= i < self._count:
            raise IndexError("CidrList index out of range")
        starts = self._line_starts()
        return self._text[int(starts[i]) : int(starts[i + 1]) - 1]

    def split_hosts(self, suffix: str) -> tuple[CidrList, CidrList]:
        """(hosts, networks): the single addresses (CIDRs ending in `suffix`, "/32" or "/128") written
        as bare addresses, and the rest as they are, each in this list's order; by NumPy over the
        text's bytes, with no string per line."""
        if not self._count:
            return CidrList(), CidrList()
        import numpy as np

        data = np.frombuffer(self._text.encode("ascii"), np.uint8)
        starts = self._line_starts(keep=False)
        ends = starts[1:] - 1  # each line's newline
        tail = np.frombuffer(suffix.encode("ascii"), np.uint8)
        width = len(tail)
        lengths = ends - starts[:-1]
        host = lengths > width
        for k in range(width):
            host &= data[np.where(host, ends - width + k, 0)] == tail[k]
        # One flag a byte (its line's), not an index a byte: eight times less memory at a million lines.
        is_host_byte = np.repeat(host, np.diff(starts))
        suffix_byte = np.zeros(len(data), bool)  # a host's suffix, dropped (its newline stays)
        suffix_byte[(ends[host][:, None] - width + np.arange(width)).ravel()] = True
        hosts = data[is_host_byte & ~suffix_byte].tobytes()
        networks = data[~is_host_byte].tobytes()
        return CidrList.from_text(hosts), CidrList.from_text(networks)

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, str) or "\n" in item or not self._count:
            return False
        return self._text.startswith(item + "\n") or f"\n{item}\n" in self._text

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CidrList):
            return self._text == other._text
        if isinstance(other, tuple | list):
            return len(other) == self._count and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if self._count <= 6:
            return f"CidrList({list(self)!r})"
        return f"CidrList([{self[0]!r}, {self[1]!r}, ..., {self[-1]!r}]: {self._count} CIDRs)"


def _checked_text(text: str) -> str:
    if text and (
        not text.isascii()
        or not text.replace("\n", "/").isprintable()
        or '"' in text
        or "\\" in text
        or text.startswith("\n")
        or "\n\n" in text
    ):
        raise ValueError("a CIDR is printable ASCII, without quotes or backslashes, and not empty")
    return text


@dataclass(frozen=True)
class Allowlist:
    """One snapshot of the allowlist, as published: aggregated CIDRs and mobile numbers per operator.

    `ipv4` and `ipv6` may be given as any sequence of strings; they are held as `CidrList`s.
    """

    session: str
    serial: int
    generated_at: str
    ipv4: CidrList
    ipv6: CidrList
    msisdn: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("ipv4", "ipv6"):
            value = getattr(self, name)
            if not isinstance(value, CidrList):
                object.__setattr__(self, name, CidrList(value))

    @classmethod
    def from_json(cls, text: str | bytes) -> Allowlist:
        """Parse and validate a document; a ValueError names the field (and item) that is wrong."""
        canonical = _from_canonical(text)
        if canonical is not None:
            return canonical
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
        """The canonical document: its bytes are hashed, signed and stored as the snapshot.

        `canonical(doc, ensure_ascii=True, newline=True)` (vpnregistry/canonical.py), written key by
        key (in sorted order) so that the CIDR arrays come straight from their text.
        """

        def dumps(value: object) -> str:
            return canonical_text(value, ensure_ascii=True, newline=False)

        msisdn = {operator: list(numbers) for operator, numbers in self.msisdn.items()}
        return "".join(
            [
                f'{{"format":{dumps(DOCUMENT_FORMAT)},"generated_at":{dumps(self.generated_at)},"ipv4":',
                self.ipv4.json(),
                ',"ipv6":',
                self.ipv6.json(),
                f',"msisdn":{dumps(msisdn)},"serial":{dumps(self.serial)},"session":{dumps(self.session)}}}\n',
            ]
        )


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


def _cut_canonical(text: str, *, check: bool) -> Allowlist | None:
    """The document `to_json` wrote, its CIDR arrays cut out of the text; with `check`, each array
    checked as canonical CIDR text and the result written back byte for byte. None when it is not."""
    open4 = text.find(',"ipv4":[')
    close4 = text.find("]", open4)
    open6 = close4 + 1
    close6 = text.find("]", open6)
    if open4 < 0 or close4 < 0 or close6 < 0 or not text.startswith(',"ipv6":[', open6):
        return None
    try:
        doc = json.loads(text[:open4] + ',"ipv4":[],"ipv6":[]' + text[close6 + 1 :])
    except ValueError:
        return None
    if not isinstance(doc, dict) or set(doc) != set(_KEYS) or doc["format"] != DOCUMENT_FORMAT:
        return None
    cidrs = []
    for version, start, end in ((4, open4 + 9, close4), (6, open6 + 9, close6)):
        # The array's body, from its first quote to its last: '"a","b"' is the text "a\nb\n".
        if start == end:
            lines = ""
        elif end - start >= 2 and text[start] == text[end - 1] == '"':
            lines = text[start + 1 : end - 1].replace('","', "\n") + "\n"
        else:
            return None
        try:
            cidr_list = CidrList.from_text(lines)
        except ValueError:
            return None
        if check and not _canonical_lines(lines, len(cidr_list), version):
            return None
        cidrs.append(cidr_list)
    try:
        allowlist = Allowlist(
            session=_check_session(doc["session"]),
            serial=_check_serial(doc["serial"]),
            generated_at=_check_generated_at(doc["generated_at"]),
            ipv4=cidrs[0],
            ipv6=cidrs[1],
            msisdn=_check_msisdn(doc["msisdn"]),
        )
    except ValueError:
        return None
    return allowlist if not check or allowlist.to_json() == text else None


def from_stored(text: str, sha256: str) -> Allowlist:
    """A snapshot's document as this registry stored it, known by its digest: cut apart without the
    checks a document from elsewhere gets (at a million registrations they took half a second of
    every publication, which reads the previous document for its delta). A document that does not
    match its digest is an error, never read."""
    data = text.encode("ascii") if text.isascii() else b""
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError("a stored snapshot's document does not match its SHA-256")
    allowlist = _cut_canonical(text, check=False)
    if allowlist is None:
        raise ValueError("a stored snapshot's document is not in the canonical form")
    return allowlist


def _from_canonical(text: str | bytes) -> Allowlist | None:
    """The document when it is exactly what `to_json` writes (the stored snapshots, the published
    json files), read without `json.loads` making a string per CIDR; None for anything else, which
    `from_json` then reads and checks the general way.

    The CIDR arrays are cut out of the text and checked as text (`_canonical_lines`); the rest,
    small, goes through `json.loads` and the same checks as always. Only a document that the
    result writes back byte for byte is accepted, so this reads nothing the general way would not.
    """
    if not isinstance(text, str):
        try:
            text = str(text, "ascii")  # to_json writes ASCII only
        except (UnicodeDecodeError, TypeError):
            return None
    return _cut_canonical(text, check=True)


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


# --- renderers --------------------------------------------------------------------------------


def _header(allowlist: Allowlist, mark: str) -> str:
    return (
        f"{mark} vpnregistry allowlist\n"
        f"{mark} session: {allowlist.session}\n"
        f"{mark} serial: {allowlist.serial}\n"
        f"{mark} generated: {allowlist.generated_at}\n"
        f"{mark} entries: {len(allowlist.ipv4)} IPv4, {len(allowlist.ipv6)} IPv6\n"
    )


def _lines(prefix: str, items: CidrList, suffix: str = "", end: str | None = None) -> list[str]:
    """Parts of `prefix + item + suffix` a line for each item (the last item's suffix is `end` when
    given), made from the list's text with one `replace`: no string per line."""
    if not items:
        return []
    if not prefix and not suffix and not end:
        return [items.text]
    if (suffix if end is None else end) == "":
        # The text's last newline is left as it is: no copy of the text without it.
        return [prefix, items.text.replace("\n", f"{suffix}\n{prefix}", len(items) - 1)]
    body = items.text[:-1].replace("\n", f"{suffix}\n{prefix}")
    return [prefix, body, suffix if end is None else end, "\n"]


def render_txt(allowlist: Allowlist, *, operator: str | None = None) -> str:
    return "".join([_header(allowlist, "#"), *_lines("", allowlist.ipv4), *_lines("", allowlist.ipv6)])


def render_json(allowlist: Allowlist, *, operator: str | None = None) -> str:
    # IP operators get the canonical document without any mobile numbers.
    return replace(allowlist, msisdn={}).to_json()


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


def render_msisdn_csv(allowlist: Allowlist, *, operator: str | None = None) -> str:
    if not operator:
        raise ValueError("the msisdn.csv format is per mobile operator: name the operator")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["msisdn", "operator"])
    writer.writerows([(cell(number), cell(operator)) for number in allowlist.msisdn.get(operator, ())])
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
