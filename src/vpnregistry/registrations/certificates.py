"""Registration certificates: the holder's PDF, and the public check of its verification code.

The code is 20 characters of Crockford's base32 from the operating system's random source (100
bits), stored with a unique index and printed in groups of four. A random code rather than an HMAC
of the registration's reference: it is found by one index seek, reveals nothing about the
registration, and does not make a server key something that must be kept secret, and never
rotated, for as long as a printed certificate lives. At 100 bits, enumeration is hopeless even
without the per-address limit the lookups also have.

The public check names nobody: the resource (a mobile number only partly), its category, its state,
its validity, and whether it was active at a given time (from the registration's active periods,
the same history exemption answers use). The organisation's name is shown only for categories of
companies: for a freelancer the "organisation" is a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import segno
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vpnregistry import printing
from vpnregistry.accounts.models import Role
from vpnregistry.audit.services import record
from vpnregistry.bilingual import localised
from vpnregistry.codes import grouped, normalised
from vpnregistry.errors import NotAllowed
from vpnregistry.registrations.models import (
    CERTIFICATE_CODE_LENGTH,
    ActivePeriod,
    Certificate,
    Registration,
)
from vpnregistry.siteurl import site_url
from vpnregistry.timeutil import shown

State = Registration.State


def registration_for_organisation(user, pk) -> Registration:
    """A registration of the user's own organisation, for an applicant member; 404 for anyone else."""
    if getattr(user, "role", None) != Role.APPLICANT:
        raise Http404("certificates are for the registration's holder")
    try:
        return Registration.objects.select_related("organisation").get(
            pk=pk, organisation_id=user.organisation_id
        )
    except (Registration.DoesNotExist, ValueError, TypeError):
        raise Http404("no such registration") from None


def issue_certificate(*, actor, registration: Registration) -> Certificate:
    """The registration's certificate: made (and audited) on the first download, the same after."""
    if getattr(actor, "role", None) != Role.APPLICANT:
        raise NotAllowed(_("Only the registration's holder can download its certificate."))
    if registration.organisation_id != actor.organisation_id:
        raise NotAllowed(_("This registration belongs to another organisation."))
    existing = Certificate.objects.filter(registration=registration).first()
    if existing is not None:
        return existing
    now = timezone.now()
    try:
        with transaction.atomic():
            certificate = Certificate.objects.create(registration=registration, issued_at=now)
            record(
                actor=actor,
                action="registration.certificate",
                obj=registration,
                at=now,
                data={"certificate": certificate.pk},
            )
    except IntegrityError:
        # Two first downloads at once: the other one made it.
        return Certificate.objects.get(registration=registration)
    return certificate


def check_url(code: str, *, base: str) -> str:
    """The public page that checks `code`, under the registry's address (SITE_URL), else `base` (the
    request's address)."""
    return site_url(request_base=base) + reverse("portal:certificate-check", args=[code])


def find(code: str) -> Certificate | None:
    """The certificate with this code (as typed: any case, dashes, spaces), or None."""
    stored = normalised(code, CERTIFICATE_CODE_LENGTH)
    if stored is None:
        return None
    return (
        Certificate.objects.select_related(
            "registration", "registration__organisation", "registration__resource__application__category"
        )
        .filter(code=stored)
        .first()
    )


def _effective_state(registration: Registration, now: datetime) -> str:
    # The sweep expires active registrations on its schedule; the check does not wait for it. A
    # suspended one stays suspended past its end (the sweep leaves it so), and says so.
    if registration.state == State.ACTIVE and registration.valid_until <= now:
        return State.EXPIRED
    return registration.state


def _active_at(registration: Registration, at: datetime) -> bool:
    return ActivePeriod.objects.filter(registration=registration, start__lte=at, end__gt=at).exists()


def masked(registration: Registration) -> str:
    """The resource as the public may see it: addresses in full, a mobile number only partly."""
    if registration.kind != "msisdn":
        return registration.value
    value = registration.value
    return value[:6] + "•" * max(0, len(value) - 8) + value[-2:]


@dataclass(frozen=True)
class CertificateCheck:
    code: str
    reference: str
    resource: str
    kind: str
    category: str  # its English name (the API's `category`)
    category_ur: str  # its Urdu name, blank when none was written (the API's `category_ur`)
    organisation: str | None
    state: str
    state_label: str
    valid_from: datetime
    valid_until: datetime
    valid_now: bool
    checked_at: datetime
    at: datetime | None
    active_at: bool | None

    @property
    def category_name(self) -> str:
        """The category's name in the reader's language (for the page)."""
        return localised(self.category, self.category_ur)


def public_check(certificate: Certificate, *, at: datetime | None = None) -> CertificateCheck:
    """What the public may learn from a code: valid now, and (given `at`) whether active then."""
    registration = certificate.registration
    category = registration.resource.application.category
    now = timezone.now()
    state = _effective_state(registration, now)
    return CertificateCheck(
        code=grouped(certificate.code),
        reference=registration.reference,
        resource=masked(registration),
        kind=registration.kind,
        category=category.name,
        category_ur=category.name_ur,
        organisation=(
            None if category.code in settings.INDIVIDUAL_CATEGORIES else registration.organisation.name
        ),
        state=state,
        state_label=str(State(state).label),
        valid_from=registration.valid_from,
        valid_until=registration.valid_until,
        valid_now=_active_at(registration, now),
        checked_at=now,
        at=at,
        active_at=_active_at(registration, at) if at is not None else None,
    )


# --- the PDF ----------------------------------------------------------------------------------

QR_SIZE_MM = 42


def qr_code(url: str) -> segno.QRCode:
    """The QR code printed on the certificate (error correction M: survives a crease or a stain)."""
    return segno.make(url, error="m", micro=False, boost_error=False)


LANGUAGES = ("en", "ur")


def certificate_language(requested: str | None = None) -> str:
    """`requested` when it is one of ours (the API's `?lang=`), else the active language, else English.

    The active language is the reader's: in a request, the one they read the portal in (their stored
    language from their login on, accounts/language.py) or send the API in; whatever prints for a
    person away from their request wraps the call in `accounts.language.speaking(person)`.
    """
    for candidate in (requested, translation.get_language()):
        code = (candidate or "").split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return "en"


def render_html(certificate: Certificate, *, url: str, language: str = "en") -> str:
    """The certificate as the HTML page WeasyPrint prints, in `language` ("en" or "ur")."""
    registration = certificate.registration
    application = registration.resource.application
    now = timezone.now()
    qr = qr_code(url).svg_data_uri(border=4, dark="#000", xmldecl=False, nl=False)
    with translation.override(language):
        facts = [
            (_("Registration"), registration.reference, True),
            (_("Resource"), masked(registration), True),
            (_("Holder"), registration.organisation.name, False),
            (_("Category"), application.category.local_name, False),
            (_("Operator"), registration.operator.local_name, False),
            (_("Application"), application.tracking_number or "", True),
            (_("Valid from"), shown(registration.valid_from), True),
            (_("Valid until"), shown(registration.valid_until), True),
            (_("State when printed"), str(State(_effective_state(registration, now)).label), False),
            (_("Printed"), shown(now), True),
        ]
        return render_to_string(
            "registrations/certificate.html",
            {
                "language": language,
                "direction": "rtl" if translation.get_language_bidi() else "ltr",
                "reference": registration.reference,
                "code": grouped(certificate.code),
                "facts": facts,
                "url": url,
                "qr": qr,
                "qr_mm": QR_SIZE_MM,
                "fonts": printing.font_urls(),
            },
        )


def render_pdf(certificate: Certificate, *, url: str, language: str | None = None) -> bytes:
    """One A4 page: what is registered, to whom, until when, and how to check it.

    In `language` (default: the active one): Urdu right to left in Noto Nastaliq Urdu, its letters
    joined by Pango and HarfBuzz, the values that read left to right kept in their order.
    """
    html = render_html(certificate, url=url, language=certificate_language(language))
    return html_to_pdf(html, render_css())


def render_css() -> str:
    """The certificate's stylesheet: the fonts and the page's layout."""
    return render_to_string(
        "registrations/certificate.css", {"fonts": printing.font_urls(), "qr_mm": QR_SIZE_MM}
    )


html_to_pdf = printing.html_to_pdf
