"""An organisation's identifiers: parsed strictly, stored in one canonical form, shown masked.

- CNIC (the responsible person's computerised national identity card): 13 digits, printed
  `12345-1234567-1`. Accepted with or without the dashes; stored with them.
- NTN (the Federal Board of Revenue's national tax number of a company or association of persons):
  7 digits and a check digit, printed `1234567-8`. Accepted as `1234567-8` or `12345678`; stored
  with the dash. The check digit's rule is not published by the FBR: the one rule found in public
  material (weights 7..1, modulo 11) fails on NTNs published by the FBR's own lists, so only the
  shape (7 digits and a check digit) is checked here, never the digit itself.
- SECP number (the company registration office's incorporation number) and PSEB number (the board's
  registration certificate number): their formats are not published; letters, digits, `-` and `/`,
  up to 30 characters, stored upper-case without surrounding spaces.

Error messages name the field and never repeat the value, so that they can be logged.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from vpnregistry.errors import InvalidInput

IDENTIFIER_FIELDS = ("ntn", "secp_number", "pseb_number", "cnic")
LABELS = {
    "cnic": _("CNIC"),
    "ntn": _("NTN"),
    "secp_number": _("SECP number"),
    "pseb_number": _("PSEB number"),
}

_CNIC_RE = re.compile(r"^([0-9]{5})-?([0-9]{7})-?([0-9])$")
_NTN_RE = re.compile(r"^([0-9]{7})-?([0-9])$")
_REFERENCE_RE = re.compile(r"^[A-Z0-9](?:[A-Z0-9/-]{0,28}[A-Z0-9])?$", re.ASCII)
MASK_CHAR = "*"


class IdentifierError(ValueError):
    """A value that is not a valid identifier; `field` names which, `message` says why."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _strip(value: object) -> str:
    return str(value or "").strip().replace(" ", "")


def normalise_cnic(value: object, *, field: str = "cnic") -> str:
    """`12345-1234567-1` from 13 digits with or without dashes; '' stays ''."""
    text = _strip(value)
    if not text:
        return ""
    match = _CNIC_RE.match(text)
    if not match:
        raise IdentifierError(
            field, str(_("A CNIC is 13 digits, written 12345-1234567-1 (the dashes may be left out)."))
        )
    return "-".join(match.groups())


def normalise_ntn(value: object, *, field: str = "ntn") -> str:
    """`1234567-8` from 7 digits and a check digit, with or without the dash; '' stays ''."""
    text = _strip(value)
    if not text:
        return ""
    match = _NTN_RE.match(text)
    if not match:
        raise IdentifierError(
            field,
            str(_("An NTN is 7 digits and a check digit, written 1234567-8 (the dash may be left out).")),
        )
    return "-".join(match.groups())


def normalise_reference(value: object, *, field: str) -> str:
    """An SECP or PSEB number: letters, digits, '-' and '/', upper-case; '' stays ''."""
    text = str(value or "").strip().upper()
    if not text:
        return ""
    if not _REFERENCE_RE.match(text):
        raise IdentifierError(
            field,
            str(_("Use letters, digits, '-' and '/' only, at most 30 characters.")),
        )
    return text


NORMALISERS = {
    "cnic": normalise_cnic,
    "ntn": normalise_ntn,
    "secp_number": lambda v, field="secp_number": normalise_reference(v, field=field),
    "pseb_number": lambda v, field="pseb_number": normalise_reference(v, field=field),
}


def normalise(field: str, value: object) -> str:
    return NORMALISERS[field](value, field=field)


def clean_identifiers(values: dict) -> dict:
    """The canonical form of each identifier given, or InvalidInput naming every bad field."""
    cleaned, errors = {}, {}
    for field, value in values.items():
        if field not in NORMALISERS:
            continue
        try:
            cleaned[field] = normalise(field, value)
        except IdentifierError as exc:
            errors[field] = [exc.message]
    if errors:
        raise InvalidInput(errors)
    return cleaned


def validator(field: str):
    """A Django validator for a model or form field (full_clean, ModelForm, admin)."""

    def validate(value):
        try:
            normalise(field, value)
        except IdentifierError as exc:
            raise ValidationError(exc.message, code="invalid") from None

    validate.__name__ = f"validate_{field}"
    return validate


def validate_cnic(value):
    return validator("cnic")(value)


def validate_ntn(value):
    return validator("ntn")(value)


def validate_reference(value):
    try:
        normalise_reference(value, field="reference")
    except IdentifierError as exc:
        raise ValidationError(exc.message, code="invalid") from None


def mask(value: str, *, keep: int = 3) -> str:
    """Every letter and digit but the last `keep` replaced by '*', separators kept:
    `12345-1234567-1` -> `*****-*****67-1`, `1234567-8` -> `*****67-8`."""
    if not value:
        return ""
    alnum = sum(ch.isalnum() for ch in value)
    hide = max(alnum - keep, 0) if alnum > keep else alnum  # too short to show any of it
    out = []
    for ch in value:
        if ch.isalnum() and hide > 0:
            out.append(MASK_CHAR)
            hide -= 1
        else:
            out.append(ch)
    return "".join(out)


def masked_identifiers(organisation) -> dict[str, str]:
    return {field: mask(getattr(organisation, field) or "") for field in IDENTIFIER_FIELDS}


def full_identifiers(organisation) -> dict[str, str]:
    return {field: getattr(organisation, field) or "" for field in IDENTIFIER_FIELDS}


def reviews_application(user, application) -> bool:
    """Whether `user` reviews `application`: an officer, or a reviewer of the agency it is routed to.

    Only they see an organisation's identifiers in full, and only on that application's detail.
    """
    role = getattr(user, "role", None)
    if role == "officer":
        return True
    return role == "agency" and application.agency_id is not None and application.agency_id == user.agency_id


class ShownIdentifiers:
    """An organisation's identifiers as one caller may see them (masked or in full).

    Its repr never shows a full value: Django logs a whole template context at DEBUG when a
    variable is missing, and a context holding this object must not put identifiers in the log.
    """

    __slots__ = ("cnic", "masked", "ntn", "pseb_number", "secp_number")

    def __init__(self, *, masked: bool, ntn: str, secp_number: str, pseb_number: str, cnic: str):
        self.masked = masked
        self.ntn, self.secp_number, self.pseb_number, self.cnic = ntn, secp_number, pseb_number, cnic

    @classmethod
    def of(cls, organisation, *, masked: bool) -> ShownIdentifiers:
        values = masked_identifiers(organisation) if masked else full_identifiers(organisation)
        return cls(masked=masked, **values)

    def as_dict(self) -> dict:
        return {"masked": self.masked, **{f: getattr(self, f) for f in IDENTIFIER_FIELDS}}

    def __repr__(self) -> str:
        shown = ", ".join(f"{f}={mask(getattr(self, f))!r}" for f in IDENTIFIER_FIELDS)
        return f"<ShownIdentifiers {'masked' if self.masked else 'in full'}: {shown}>"

    __str__ = __repr__


def identifiers_for(user, application) -> ShownIdentifiers:
    """The application's organisation's identifiers as `user` may see them on its detail page."""
    return ShownIdentifiers.of(application.organisation, masked=not reviews_application(user, application))
