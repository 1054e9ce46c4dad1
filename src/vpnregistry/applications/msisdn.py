"""Mobile numbers: parsed and normalised to E.164 with phonenumbers; only the country's mobile numbers.

A freelancer without a static address registers the mobile number through which the VPN connects
instead. The number is stored as E.164 (``+923001234567``), which is also how the per-operator
``msisdn.<operator>.csv`` allowlist files carry it (see allowlist/formats.py).
"""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _

# The country whose mobile numbers the registry accepts (ISO 3166-1 alpha-2, as phonenumbers names it).
REGION = "PK"


class NotAMobileNumber(ValueError):
    pass


def looks_like_msisdn(value: str) -> bool:
    """An address always has a dot (IPv4) or a colon (IPv6); anything else is read as a phone number."""
    return bool(value) and "." not in value and ":" not in value


def normalise_msisdn(value: str, region: str = REGION) -> str:
    """The number in E.164, or NotAMobileNumber saying why not. National forms (0300 1234567) are read
    as numbers of `region`."""
    text = value.strip()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise NotAMobileNumber(
            _("%(value)s is not a phone number: give a mobile number such as 0300 1234567.") % {"value": text}
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise NotAMobileNumber(_("%(value)s is not a valid phone number.") % {"value": text})
    if phonenumbers.region_code_for_number(number) != region:
        raise NotAMobileNumber(
            _("%(value)s is not a Pakistani number: give a mobile number of Pakistan, such as 0300 1234567.")
            % {"value": text}
        )
    if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
        raise NotAMobileNumber(_("%(value)s is not a mobile number.") % {"value": text})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
