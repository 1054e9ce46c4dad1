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

import io
from dataclasses import dataclass
from datetime import datetime

import segno
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vpnregistry.accounts.models import Role
from vpnregistry.audit.services import record
from vpnregistry.codes import grouped, normalised
from vpnregistry.errors import NotAllowed
from vpnregistry.registrations.models import (
    CERTIFICATE_CODE_LENGTH,
    ActivePeriod,
    Certificate,
    Registration,
)

State = Registration.State


def registration_for_holder(user, pk) -> Registration:
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
    """The public page that checks `code`, under `base` (the setting, else the request's address)."""
    return (settings.VPNREGISTRY_PUBLIC_URL or base.rstrip("/")) + reverse(
        "portal:certificate-check", args=[code]
    )


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
    category: str
    organisation: str | None
    state: str
    state_label: str
    valid_from: datetime
    valid_until: datetime
    valid_now: bool
    checked_at: datetime
    at: datetime | None
    active_at: bool | None


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
        organisation=(
            None
            if category.code in settings.VPNREGISTRY_INDIVIDUAL_CATEGORIES
            else registration.organisation.name
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


def _local(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")


def render_pdf(certificate: Certificate, *, url: str) -> bytes:
    """One A4 page: what is registered, to whom, until when, and how to check it.

    In English: the PDF's built-in fonts have no Urdu script, and Urdu needs a shaping engine the
    PDF library does not have; the public check page, linked by the QR code, is in both languages.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen import canvas

    registration = certificate.registration
    application = registration.resource.application
    now = timezone.now()
    buffer = io.BytesIO()
    with translation.override("en"):
        pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
        pdf.setTitle(_("Certificate of registration %(reference)s") % {"reference": registration.reference})
        pdf.setAuthor("vpnregistry")
        pdf.setSubject(_("Verification code %(code)s") % {"code": grouped(certificate.code)})
        width, height = A4
        left, top = 20 * mm, height - 25 * mm

        pdf.setFont("Helvetica-Bold", 20)
        pdf.drawString(left, top, _("Certificate of registration"))
        pdf.setFont("Helvetica", 11)
        pdf.drawString(left, top - 8 * mm, _("VPN endpoint registry"))
        pdf.setLineWidth(0.8)
        pdf.line(left, top - 12 * mm, width - left, top - 12 * mm)

        facts = [
            (_("Registration"), registration.reference),
            (_("Resource"), registration.value),
            (_("Holder"), registration.organisation.name),
            (_("Category"), application.category.name),
            (_("Operator"), registration.operator.name),
            (_("Application"), application.tracking_number or ""),
            (_("Valid from"), _local(registration.valid_from)),
            (_("Valid until"), _local(registration.valid_until)),
            (_("State when printed"), str(State(_effective_state(registration, now)).label)),
            (_("Printed"), _local(now)),
        ]
        y = top - 22 * mm
        for label, value in facts:
            pdf.setFont("Helvetica-Bold", 11)
            pdf.drawString(left, y, label)
            pdf.setFont("Helvetica", 11)
            pdf.drawString(left + 45 * mm, y, value)
            y -= 7 * mm

        y -= 6 * mm
        pdf.setFont("Helvetica-Bold", 12)
        pdf.drawString(left, y, _("Verification code"))
        pdf.setFont("Courier-Bold", 18)
        pdf.drawString(left, y - 9 * mm, grouped(certificate.code))

        qr_bottom = y - 15 * mm - QR_SIZE_MM * mm
        _draw_qr(pdf, qr_code(url), x=left, y=qr_bottom, size=QR_SIZE_MM * mm)
        beside = left + QR_SIZE_MM * mm + 8 * mm
        text = pdf.beginText(beside, qr_bottom + QR_SIZE_MM * mm - 5 * mm)
        text.setFont("Helvetica", 10)
        how = _(
            "Scan the code, or open this address, to see whether the registration is valid now and "
            "whether it was active at a given time:"
        )
        for line in simpleSplit(how, "Helvetica", 10, width - left - beside):
            text.textLine(line)
        text.setFont("Courier", 8)
        text.textLine(url)
        pdf.drawText(text)

        note = pdf.beginText(left, qr_bottom - 12 * mm)
        note.setFont("Helvetica-Oblique", 9)
        caveat = _(
            "This certificate shows the registration as it stood when it was printed. A registration "
            "can later be suspended, revoked, surrendered or expire: only the registry's check is "
            "authoritative."
        )
        for line in simpleSplit(caveat, "Helvetica-Oblique", 9, width - 2 * left):
            note.textLine(line)
        pdf.drawText(note)
        pdf.showPage()
        pdf.save()
    return buffer.getvalue()


def _draw_qr(pdf, qr: segno.QRCode, *, x: float, y: float, size: float) -> None:
    """The QR code as filled squares (vector, sharp at any print size), with its quiet zone of 4."""
    matrix = qr.matrix
    modules = len(matrix) + 8
    step = size / modules
    path = pdf.beginPath()
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            run = c
            while run < len(row) and row[run]:
                run += 1
            # One rectangle per run of dark modules in a row: fewer drawing operations.
            path.rect(x + (c + 4) * step, y + size - (r + 5) * step, (run - c) * step, step)
            c = run
    pdf.drawPath(path, stroke=0, fill=1)
