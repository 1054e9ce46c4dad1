"""Registration certificates: who gets one, what the PDF holds (code and QR), what the public check says."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest
from django.db.models import F
from django.http import Http404
from django.test import TestCase
from django.utils import timezone, translation

from tests.conftest import require_tool
from tests.workflow import registration
from vpnregistry import printing
from vpnregistry.allowlist.publication import sweep
from vpnregistry.audit.models import AuditEvent
from vpnregistry.codes import ALPHABET, grouped
from vpnregistry.errors import NotAllowed
from vpnregistry.registrations import certificates
from vpnregistry.registrations.models import ActivePeriod, Certificate, Registration
from vpnregistry.registrations.services import registration_change_state

URL_BASE = "https://registry.example"


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
        return registration_change_state(actor=actor, registration=reg, step=name, reason=reason)


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
            certificates.registration_for_organisation(user, reg.pk)
    assert certificates.registration_for_organisation(world.applicant, reg.pk) == reg
    assert not Certificate.objects.exists()


# --- the PDF ----------------------------------------------------------------------------------


def certificate_and_url(world, value="14.1.105.0/24", user=None):
    reg = registration(world, value, user=user)
    certificate = certificates.issue_certificate(actor=user or world.applicant, registration=reg)
    return certificate, certificates.check_url(certificate.code, base=URL_BASE + "/")


def test_the_page_printed_carries_the_code_and_a_qr_code_of_the_check_url(world):
    certificate, url = certificate_and_url(world)
    assert url == f"{URL_BASE}/verify/{certificate.code}/"
    reg = certificate.registration
    for language, direction in (("en", "ltr"), ("ur", "rtl")):
        html = certificates.render_html(certificate, url=url, language=language)
        assert f'<html lang="{language}" dir="{direction}">' in html
        # Values that read left to right stay so inside Urdu: each is an isolated run.
        for value in (grouped(certificate.code), reg.reference, reg.value, url):
            assert re.search(rf'<bdi dir="ltr" class="ltr[^"]*">{re.escape(value)}</bdi>', html), value
        assert "Ravi Software" in html and " PKT" in html
        assert certificates.qr_code(url).svg_data_uri(border=4, dark="#000", xmldecl=False, nl=False) in html
    assert "Certificate of registration" in certificates.render_html(certificate, url=url, language="en")
    assert "رجسٹریشن سرٹیفکیٹ" in certificates.render_html(certificate, url=url, language="ur")


def test_the_category_and_operator_are_printed_in_the_certificates_language(world):
    from vpnregistry.accounts.models import Operator

    Operator.objects.filter(code="indus").update(name_ur="انڈس فائبر")
    certificate, url = certificate_and_url(world)
    urdu = certificates.render_html(certificate, url=url, language="ur")
    assert "کمپنی / سافٹ ویئر ہاؤس" in urdu and "انڈس فائبر" in urdu
    english = certificates.render_html(certificate, url=url, language="en")
    assert "Company" in english and "انڈس فائبر" not in english
    # The public check page names the category in the reader's language; the API gives both names.
    check = certificates.public_check(certificate)
    assert (check.category, check.category_ur) == ("Company", "کمپنی / سافٹ ویئر ہاؤس")
    with translation.override("ur"):
        assert check.category_name == "کمپنی / سافٹ ویئر ہاؤس"
    assert check.category_name == "Company"


def test_a_mobile_number_is_printed_only_in_part(world):
    certificate, url = certificate_and_url(world)
    reg = certificate.registration
    reg.kind, reg.value = "msisdn", "+923001234567"  # as a mobile registration would hold it
    html = certificates.render_html(certificate, url=url, language="en")
    assert "+92300•••••67" in html and "+923001234567" not in html


def test_the_language_is_the_one_asked_for_else_the_active_one():
    assert certificates.certificate_language("ur") == "ur"
    assert certificates.certificate_language("fr") == "en"
    with translation.override("ur"):
        assert certificates.certificate_language(None) == "ur"
        assert certificates.certificate_language("en") == "en"
    with translation.override("en-gb"):
        assert certificates.certificate_language(None) == "en"


def test_the_pdf_fetches_nothing_but_the_projects_fonts():
    fetch = printing.url_fetcher()
    for url in ("https://fonts.example/noto.woff2", "file:///etc/passwd", "ftp://x/y"):
        with pytest.raises(ValueError):
            fetch(url)
    font = next(iter(printing.font_files().values()))
    assert font.read_bytes()[:4] == b"wOF2"  # the project's own woff2 file, handed over decoded
    assert fetch(font.as_uri()).read()[:4] in (b"\x00\x01\x00\x00", b"true")


def test_the_public_url_setting_wins_over_the_request(world, settings):
    settings.SITE_URL = "https://vpn.regulator.example"
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


# --- the PDF, read back by poppler and zbar ------------------------------------------------------

BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
URDU_TITLE = "رجسٹریشن سرٹیفکیٹ"  # "Certificate of registration": the page's heading in Urdu


def pdf_text(pdf: bytes, tmp_path) -> str:
    """The PDF's text as poppler reads it, without the direction marks it adds around runs."""
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        [require_tool("pdftotext"), str(path), "-"], capture_output=True, check=True, text=True
    )
    return out.stdout.translate(BIDI_CONTROLS)


def heading_width(pdf: bytes, tmp_path) -> float:
    """How wide the page's heading is drawn, in points: the span of the glyphs of the largest size.

    Measured from where the glyphs are drawn (pdftotext -bbox), not from their text: a shaped word
    and the same letters drawn one by one read back alike, but Nastaliq's joined forms take a
    fraction of the width of its isolated letters.
    """
    path = tmp_path / "bbox.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        [require_tool("pdftotext"), "-bbox", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    boxes = [
        tuple(float(m[k]) for k in ("x0", "y0", "x1", "y1"))
        for m in re.finditer(
            r'<word xMin="(?P<x0>[\d.]+)" yMin="(?P<y0>[\d.]+)" xMax="(?P<x1>[\d.]+)" yMax="(?P<y1>[\d.]+)"',
            out,
        )
    ]
    tallest = max(y1 - y0 for _, y0, _, y1 in boxes)
    heading = [(x0, x1) for x0, y0, x1, y1 in boxes if y1 - y0 > 0.9 * tallest]
    return max(x1 for _, x1 in heading) - min(x0 for x0, _ in heading)


def isolated_letters(html: str) -> str:
    """The page with its Urdu heading drawn as a renderer that cannot shape draws it: every letter
    in its isolated form (a zero-width non-joiner between letters stops them joining)."""
    assert f"<h1>{URDU_TITLE}</h1>" in html
    return html.replace(f"<h1>{URDU_TITLE}</h1>", f"<h1>{chr(0x200C).join(URDU_TITLE)}</h1>")


def shaped(pdf: bytes, unshaped_reference: bytes, tmp_path) -> bool:
    """The shaping check: joined Nastaliq is far narrower than the same letters isolated."""
    return heading_width(pdf, tmp_path) < 0.8 * heading_width(unshaped_reference, tmp_path)


@pytest.mark.tools
@pytest.mark.parametrize("language", ["en", "ur"])
def test_a_pdf_reader_finds_the_code_resource_and_holder(world, tmp_path, language):
    certificate, url = certificate_and_url(world)
    text = pdf_text(certificates.render_pdf(certificate, url=url, language=language), tmp_path)
    reg = certificate.registration
    for value in (grouped(certificate.code), reg.reference, reg.value, "Ravi Software", url):
        assert value in text
    assert ("Certificate of registration" in text) == (language == "en")
    assert "PKT" in text


@pytest.mark.tools
@pytest.mark.parametrize("language", ["en", "ur"])
def test_a_qr_reader_finds_the_check_url(world, tmp_path, language):
    """The page rendered by poppler and its QR code decoded by zbar, as a phone would."""
    pdftoppm, zbarimg = (require_tool(t) for t in ("pdftoppm", "zbarimg"))
    certificate, url = certificate_and_url(world)
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(certificates.render_pdf(certificate, url=url, language=language))
    subprocess.run([pdftoppm, "-png", "-r", "150", str(pdf), str(tmp_path / "page")], check=True)
    decoded = subprocess.run(
        [zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(tmp_path / "page-1.png")],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    assert decoded.strip() == url


@pytest.mark.tools
def test_urdu_letters_are_joined(world, tmp_path):
    """The key one: the Urdu heading is drawn shaped (Pango and HarfBuzz join Nastaliq's letters),
    not as the row of isolated letters a renderer without shaping draws (ReportLab did)."""
    certificate, url = certificate_and_url(world)
    html = certificates.render_html(certificate, url=url, language="ur")
    css = certificates.render_css()
    pdf = certificates.html_to_pdf(html, css)
    unshaped = certificates.html_to_pdf(isolated_letters(html), css)
    assert shaped(pdf, unshaped, tmp_path)
    # The check tells the two apart: isolated letters do not pass it.
    assert not shaped(unshaped, unshaped, tmp_path)
    assert certificates.render_pdf(certificate, url=url, language="ur").startswith(b"%PDF-")
