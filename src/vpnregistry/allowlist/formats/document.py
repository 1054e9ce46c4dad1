"""The allowlist document (`Allowlist`): the canonical JSON that is hashed, signed and stored, and
reading one, without a string per CIDR when it is exactly what `to_json` writes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from vpnregistry.allowlist.formats.cidrlist import CidrList
from vpnregistry.allowlist.formats.validation import (
    _canonical_lines,
    _check_generated_at,
    _check_msisdn,
    _check_prefixes,
    _check_serial,
    _check_session,
)
from vpnregistry.canonical import canonical_text

__all__ = ["DOCUMENT_FORMAT", "Allowlist", "from_stored"]

DOCUMENT_FORMAT = "vpnregistry-allowlist/1"
_KEYS = ("format", "session", "serial", "generated_at", "ipv4", "ipv6", "msisdn")


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
