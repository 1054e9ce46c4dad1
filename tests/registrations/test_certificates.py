"""Registration certificates: who gets one, what the PDF holds (code and QR), what the public check says."""

from __future__ import annotations

import base64
import re
import subprocess
import zlib
from datetime import timedelta

import pytest
from django.db.models import F
from django.http import Http404
from django.test import TestCase
from django.utils import timezone

from tests.conftest import require_tool
from tests.workflow import approved
from vpnregistry.audit.models import AuditEvent
from vpnregistry.codes import ALPHABET, grouped
from vpnregistry.errors import NotAllowed
from vpnregistry.registrations import certificates
from vpnregistry.registrations.models import ActivePeriod, Certificate, Registration
from vpnregistry.registrations.services import change_state, sweep

URL_BASE = "https://registry.example"


def registration(world, value="14.1.105.0/24", user=None) -> Registration:
    approved(world, value, user=user)
    return Registration.objects.get(value=value)


def backdate(reg: Registration, days: int = 1) -> Registration:
    """Arrange a registration that began `days` ago (its window and its active period alike)."""
    shift = timedelta(days=days)
    Registration.objects.filter(pk=reg.pk).update(
        valid_from=F("valid_from") - shift, valid_until=F("valid_until") - shift
    )
    ActivePeriod.objects.filter(registration=reg).update(start=F("start") - shift, end=F("end") - shift)
    reg.refresh_from_db()
    return reg


def step(actor, reg, name, reason="because"):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return change_state(actor=actor, registration=reg, step=name, reason=reason)


def page_streams(pdf: bytes) -> str:
    """The PDF's content streams, inflated: where its text and drawing operators are."""
    out = []
    compressed = rb"/Filter \[ /ASCII85Decode /FlateDecode \].*?stream\r?\n(.*?)endstream"
    for match in re.finditer(compressed, pdf, re.S):
        out.append(zlib.decompress(base64.a85decode(match.group(1).strip(), adobe=True)).decode("latin-1"))
    return "\n".join(out)


def drawn_qr(content: str) -> list[list[bool]]:
    """The QR matrix read back from the rectangles drawn on the page (the page draws no others)."""
    rects = [
        tuple(float(v) for v in m.groups())
        for m in re.finditer(r"(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) re\b", content)
    ]
    assert rects, "no QR code drawn"
    step = min(h for _, _, _, h in rects)
    x0 = min(x for x, _, _, _ in rects)
    top = max(y + h for _, y, _, h in rects)
    cells = set()
    for x, y, w, h in rects:
        row = round((top - (y + h)) / step)
        first = round((x - x0) / step)
        for col in range(first, first + round(w / step)):
            cells.add((row, col))
    size = max(r for r, _ in cells) + 1
    return [[(r, c) in cells for c in range(size)] for r in range(size)]


# --- issuing ----------------------------------------------------------------------------------


def test_the_holder_gets_one_certificate_with_a_long_random_code(world):
    reg = registration(world)
    first = certificates.issue_certificate(actor=world.applicant, registration=reg)
    again = certificates.issue_certificate(actor=world.applicant, registration=reg)
    assert first.pk == again.pk and first.code == again.code  # every copy checks the same
    assert len(first.code) == 20 and set(first.code) <= set(ALPHABET)  # 100 bits
    assert Certificate.objects.count() == 1
    audited = AuditEvent.objects.filter(action="registration.certificate", object_id=str(reg.pk))
    assert audited.count() == 1  # made once, audited once


def test_codes_differ_between_registrations(world):
    a = certificates.issue_certificate(actor=world.applicant, registration=registration(world))
    b = certificates.issue_certificate(
        actor=world.applicant, registration=registration(world, "14.1.106.0/24")
    )
    assert a.code != b.code


def test_nobody_but_the_holder_gets_the_certificate(world):
    reg = registration(world)
    for user in (world.other_applicant, world.agency, world.operator, world.officer, world.auditor):
        with pytest.raises(NotAllowed):
            certificates.issue_certificate(actor=user, registration=reg)
        with pytest.raises(Http404):
            certificates.registration_for_holder(user, reg.pk)
    assert certificates.registration_for_holder(world.applicant, reg.pk) == reg
    assert not Certificate.objects.exists()


# --- the PDF ----------------------------------------------------------------------------------


def test_the_pdf_carries_the_code_and_a_qr_code_of_the_check_url(world):
    reg = registration(world)
    certificate = certificates.issue_certificate(actor=world.applicant, registration=reg)
    url = certificates.check_url(certificate.code, base=URL_BASE + "/")
    assert url == f"{URL_BASE}/verify/{certificate.code}/"
    pdf = certificates.render_pdf(certificate, url=url)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    content = page_streams(pdf)
    assert f"({grouped(certificate.code)})" in content  # printed in groups of four
    for text in (reg.reference, reg.value, "Ravi Software", "Valid until"):
        assert text in content
    assert drawn_qr(content) == [list(map(bool, row)) for row in certificates.qr_code(url).matrix]
    other = certificates.qr_code(url.replace(certificate.code, "0" * 20)).matrix
    assert drawn_qr(content) != [list(map(bool, row)) for row in other]


def test_the_public_url_setting_wins_over_the_request(world, settings):
    settings.VPNREGISTRY_PUBLIC_URL = "https://vpn.regulator.example"
    assert certificates.check_url("ABC", base="http://internal:8000/") == (
        "https://vpn.regulator.example/verify/ABC/"
    )


# --- the public check -------------------------------------------------------------------------


def test_find_forgives_how_people_type_codes(world):
    certificate = certificates.issue_certificate(actor=world.applicant, registration=registration(world))
    typed = grouped(certificate.code).lower().replace("0", "o").replace("1", "l")
    assert certificates.find(typed) == certificate
    assert certificates.find(" " + grouped(certificate.code, 5) + " ") == certificate
    assert certificates.find(certificate.code[:-1]) is None
    assert certificates.find(certificate.code[:-1] + "U") is None  # not in the alphabet
    assert certificates.find("") is None


def test_check_shows_valid_suspended_and_revoked(world):
    reg = registration(world)
    certificate = certificates.issue_certificate(actor=world.applicant, registration=reg)
    check = certificates.public_check(certificates.find(certificate.code))
    assert (check.state, check.valid_now) == ("active", True)
    step(world.officer, reg, "suspend", "court order")
    check = certificates.public_check(certificates.find(certificate.code))
    assert (check.state, check.valid_now) == ("suspended", False)
    # Past its end it is still suspended, as the sweep leaves it: waiting does not turn it "expired".
    now = timezone.now()
    Registration.objects.filter(pk=reg.pk).update(
        valid_from=now - timedelta(days=400), valid_until=now - timedelta(hours=1)
    )
    check = certificates.public_check(certificates.find(certificate.code))
    assert (check.state, check.valid_now) == ("suspended", False)
    step(world.officer, reg, "revoke", "fraud")
    check = certificates.public_check(certificates.find(certificate.code))
    assert (check.state, check.valid_now) == ("revoked", False)


def test_check_shows_expired_before_and_after_the_sweep(world):
    reg = backdate(registration(world), days=400)  # validity ended 35 days ago
    certificate = certificates.issue_certificate(actor=world.applicant, registration=reg)
    check = certificates.public_check(certificates.find(certificate.code))
    assert (check.state, check.valid_now) == ("expired", False)  # the sweep has not run yet
    sweep()
    check = certificates.public_check(certificates.find(certificate.code))
    assert (check.state, check.valid_now) == ("expired", False)
    was = reg.valid_from + timedelta(days=10)
    assert certificates.public_check(certificate, at=was).active_at is True


def test_active_at_the_minute_before_and_after_a_suspension(world):
    reg = backdate(registration(world))
    certificate = certificates.issue_certificate(actor=world.applicant, registration=reg)
    step(world.officer, reg, "suspend", "court order")
    suspended_at = Registration.objects.get(pk=reg.pk).state_changed_at
    minute = timedelta(minutes=1)
    assert certificates.public_check(certificate, at=suspended_at - minute).active_at is True
    assert certificates.public_check(certificate, at=suspended_at + minute).active_at is False
    assert certificates.public_check(certificate, at=suspended_at).active_at is False  # ends at that instant
    step(world.officer, reg, "reinstate", "order lifted")
    back_at = Registration.objects.get(pk=reg.pk).state_changed_at
    assert certificates.public_check(certificate, at=back_at + minute).active_at is True
    between = suspended_at + (back_at - suspended_at) / 2
    assert certificates.public_check(certificate, at=between).active_at is False  # the past stays
    assert certificates.public_check(certificate, at=reg.valid_from - minute).active_at is False
    assert certificates.public_check(certificate).active_at is None  # no time asked about


def test_check_names_no_person(world):
    company = certificates.issue_certificate(actor=world.applicant, registration=registration(world))
    check = certificates.public_check(company)
    assert check.organisation == "Ravi Software"  # a company registry: companies are named
    freelance_reg = registration(world, "14.1.106.7/32", user=world.freelancer_applicant)
    freelance = certificates.issue_certificate(actor=world.freelancer_applicant, registration=freelance_reg)
    check = certificates.public_check(freelance)
    assert check.organisation is None  # a freelancer is a person
    assert "SUB-1" not in repr(check) and "A Freelancer" not in repr(check)


def test_a_mobile_number_is_shown_only_in_part():
    reg = Registration(kind="msisdn", value="+923001234567")
    assert certificates.masked(reg) == "+92300•••••67"
    assert certificates.masked(Registration(kind="ipv4", value="14.1.105.0/24")) == "14.1.105.0/24"


@pytest.mark.tools
def test_a_pdf_reader_finds_the_code_and_a_qr_reader_the_url(world, tmp_path):
    """The PDF read by poppler, its page rendered and its QR code decoded by zbar, as a phone would."""
    pdftotext, pdftoppm, zbarimg = (require_tool(t) for t in ("pdftotext", "pdftoppm", "zbarimg"))
    certificate = certificates.issue_certificate(actor=world.applicant, registration=registration(world))
    url = certificates.check_url(certificate.code, base=URL_BASE)
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(certificates.render_pdf(certificate, url=url))
    text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, check=True, text=True).stdout
    assert grouped(certificate.code) in text and "Certificate of registration" in text
    subprocess.run([pdftoppm, "-png", "-r", "150", str(pdf), str(tmp_path / "page")], check=True)
    decoded = subprocess.run(
        [zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(tmp_path / "page-1.png")],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    assert decoded.strip() == url
