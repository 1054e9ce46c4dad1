"""Organisation documents: upload checks, the check before submission, reuse, and who may read them."""

from __future__ import annotations

import hashlib
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import Client
from django.utils import timezone

from tests.auth import login
from tests.factories import OrganisationFactory, UserFactory
from tests.workflow import draft
from vpnregistry.accounts import documents
from vpnregistry.accounts.models import Category, Document, DocumentType
from vpnregistry.accounts.sample_files import minimal_pdf, minimal_png
from vpnregistry.applications import documents as document_access
from vpnregistry.applications import services
from vpnregistry.applications.models import Application
from vpnregistry.audit.models import AuditEvent
from vpnregistry.errors import InvalidInput, NotAllowed

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
SOON = timezone.localdate() + timedelta(days=30)


def pdf(name="doc.pdf", content=None):
    return SimpleUploadedFile(name, content or minimal_pdf("a document"), content_type="application/pdf")


@pytest.fixture
def bare(world):
    """A company with nothing on file, and its member."""
    org = OrganisationFactory(category=world.company, name="Bare Ltd", documents=False)
    return UserFactory(username="bare", organisation=org)


def test_an_upload_is_stored_privately_with_its_hash_and_type_from_the_content(world, bare):
    content = minimal_png()
    # Named .pdf and declared as a PDF, but its bytes are a PNG: the content decides.
    upload = SimpleUploadedFile("scan.pdf", content, content_type="application/pdf")
    document = documents.document_upload(actor=bare, document_type="cnic", upload=upload, expires_on=SOON)
    assert document.content_type == "image/png"
    assert document.sha256 == hashlib.sha256(content).hexdigest() and document.size == len(content)
    assert document.organisation == bare.organisation and document.uploaded_by == bare
    path = Path(settings.DOCUMENTS_DIR) / document.file
    assert path.read_bytes() == content
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for public in (settings.STATIC_ROOT, settings.MEDIA_ROOT):
        assert not path.resolve().is_relative_to(Path(public).resolve())
    event = AuditEvent.objects.get(action="document.upload", object_id=str(document.pk))
    assert event.data["sha256"] == document.sha256 and event.data["type"] == "cnic"


@pytest.mark.parametrize(
    "content, field",
    [
        (b"just some text, not a document", "file"),
        (b"", "file"),
        (b"GIF89a" + b"\x00" * 20, "file"),
        (b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024), "file"),  # one header past 5 MB
    ],
)
def test_files_that_are_not_pdf_png_or_jpeg_or_too_big_are_refused(world, bare, content, field):
    before = set(Path(settings.DOCUMENTS_DIR).iterdir())
    upload = SimpleUploadedFile("x.pdf", content, content_type="application/pdf")
    with pytest.raises(InvalidInput) as exc:
        documents.document_upload(actor=bare, document_type="incorporation", upload=upload)
    assert field in exc.value.errors
    assert not Document.objects.filter(organisation=bare.organisation).exists()
    assert set(Path(settings.DOCUMENTS_DIR).iterdir()) == before  # nothing written


def test_jpeg_and_exactly_5_mb_are_accepted(world, bare):
    assert documents.document_upload(
        actor=bare, document_type="incorporation", upload=SimpleUploadedFile("a.jpg", JPEG)
    ).content_type == ("image/jpeg")
    big = b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024 - 9)
    assert len(big) == 5 * 1024 * 1024
    assert documents.document_upload(
        actor=bare, document_type="incorporation", upload=pdf(content=big)
    ).size == (len(big))


def test_type_expiry_and_role_refusals(world, bare):
    with pytest.raises(InvalidInput) as exc:
        documents.document_upload(actor=bare, document_type="accreditation_note", upload=pdf())
    assert "document_type" in exc.value.errors  # not one a company is asked for
    with pytest.raises(InvalidInput) as exc:
        documents.document_upload(actor=bare, document_type="cnic", upload=pdf())
    assert "expires_on" in exc.value.errors  # a CNIC has an expiry date
    with pytest.raises(InvalidInput) as exc:
        documents.document_upload(
            actor=bare,
            document_type="cnic",
            upload=pdf(),
            expires_on=timezone.localdate() - timedelta(days=1),
        )
    assert "expires_on" in exc.value.errors
    with pytest.raises(InvalidInput) as exc:
        documents.document_upload(actor=bare, document_type="cnic", upload=pdf(), expires_on="31/12/2030")
    assert "expires_on" in exc.value.errors
    with pytest.raises(InvalidInput) as exc:
        documents.document_upload(actor=bare, document_type="cnic", upload=None, expires_on=SOON)
    assert "file" in exc.value.errors
    for outsider in (world.agency, world.operator, world.officer, world.auditor):
        with pytest.raises(NotAllowed):
            documents.document_upload(actor=outsider, document_type="cnic", upload=pdf(), expires_on=SOON)
    assert not Document.objects.filter(organisation=bare.organisation).exists()


def test_submission_is_refused_naming_each_missing_document_then_accepted(world, bare):
    application = draft(world, "14.1.105.0/24", user=bare)
    with pytest.raises(InvalidInput) as exc:
        services.application_submit(actor=bare, application=application)
    messages = " ".join(exc.value.errors["documents"])
    assert "CNIC of the authorised person" in messages
    assert "Incorporation certificate or active-taxpayer proof (NTN)" in messages
    application.refresh_from_db()
    assert application.state == Application.State.DRAFT and not application.tracking_number

    documents.document_upload(actor=bare, document_type="cnic", upload=pdf(), expires_on=SOON)
    with pytest.raises(InvalidInput) as exc:
        services.application_submit(actor=bare, application=application)
    assert len(exc.value.errors["documents"]) == 1 and "Incorporation" in exc.value.errors["documents"][0]

    # Either of the group will do: the active-taxpayer proof instead of an incorporation certificate.
    documents.document_upload(actor=bare, document_type="ntn_active_taxpayer", upload=pdf(), expires_on=SOON)
    services.application_submit(actor=bare, application=application)
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED


def test_documents_are_reused_by_later_applications_until_they_expire(world, bare):
    cnic = documents.document_upload(actor=bare, document_type="cnic", upload=pdf(), expires_on=SOON)
    documents.document_upload(actor=bare, document_type="incorporation", upload=pdf())
    first = draft(world, "14.1.105.0/24", user=bare)
    services.application_submit(actor=bare, application=first)
    second = draft(world, "14.1.106.0/24", user=bare)
    services.application_submit(actor=bare, application=second)  # the same documents serve again

    Document.objects.filter(pk=cnic.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    third = draft(world, "14.1.107.0/24", user=bare)
    with pytest.raises(InvalidInput) as exc:
        services.application_submit(actor=bare, application=third)
    assert "CNIC" in exc.value.errors["documents"][0]
    # A deleted document does not count either.
    renewed = documents.document_upload(actor=bare, document_type="cnic", upload=pdf(), expires_on=SOON)
    Document.objects.filter(pk=renewed.pk).update(deleted_at=timezone.now())
    with pytest.raises(InvalidInput):
        services.application_submit(actor=bare, application=third)


def test_a_category_without_requirements_needs_nothing(world):
    category = Category.objects.create(code="trial", name="Trial", agency=world.pseb)
    org = OrganisationFactory(category=category, documents=False)
    member = UserFactory(organisation=org)
    application = draft(world, "14.1.105.0/24", user=member)
    services.application_submit(actor=member, application=application)
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED
    assert not Document.objects.filter(organisation=org).exists()  # submitted with none on file


def test_requirements_are_data_the_regulator_edits(world, bare):
    """A new required type stops submissions until it is on file; routing follows the category's agency."""
    kind = DocumentType.objects.create(code="utility_bill", name="Utility bill")
    requirement = world.company.document_requirements.create(name="Proof of address", position=9)
    requirement.document_types.add(kind)
    documents.document_upload(actor=bare, document_type="cnic", upload=pdf(), expires_on=SOON)
    documents.document_upload(actor=bare, document_type="incorporation", upload=pdf())
    application = draft(world, "14.1.105.0/24", user=bare)
    with pytest.raises(InvalidInput) as exc:
        services.application_submit(actor=bare, application=application)
    assert exc.value.errors == {"documents": [pytest.approx(exc.value.errors["documents"][0])]}
    assert "Proof of address" in exc.value.errors["documents"][0]
    documents.document_upload(actor=bare, document_type="utility_bill", upload=pdf())
    Category.objects.filter(pk=world.company.pk).update(agency=world.licensing)
    services.application_submit(actor=bare, application=application)
    application.refresh_from_db()
    assert application.agency == world.licensing


# --- who may read -----------------------------------------------------------------------------


@pytest.fixture
def on_file(world):
    """The world's company has a document and a submitted application, routed to the export board."""
    application = draft(world, "14.1.105.0/24")
    services.application_submit(actor=world.applicant, application=application)
    return Document.objects.filter(organisation=world.org).first()


def test_who_may_read_a_document(world, on_file):
    readers = {
        "applicant": True,
        "other_applicant": False,
        "agency": True,  # the agency the application was routed to
        "licensing_reviewer": False,  # another agency
        "operator": False,
        "other_operator": False,
        "officer": True,
        "auditor": False,
    }
    for name, allowed in readers.items():
        user = getattr(world, name)
        if allowed:
            assert document_access.document_for(user, on_file.pk) == on_file, name
        else:
            with pytest.raises(Http404):
                document_access.document_for(user, on_file.pk)
    with pytest.raises(Http404):
        document_access.document_for(UserFactory(organisation=world.org, is_active=False), on_file.pk)


def test_an_agency_sees_nothing_before_an_application_is_routed_to_it(world):
    document = Document.objects.filter(organisation=world.org).first()
    with pytest.raises(Http404):
        document_access.document_for(world.agency, document.pk)  # nothing submitted yet


@pytest.mark.parametrize("prefix", ["/documents/{pk}/", "/api/v1/documents/{pk}/file/"])
def test_downloads_serve_the_bytes_to_readers_and_404_to_everyone_else(world, on_file, prefix):
    url = prefix.format(pk=on_file.pk)
    stored = (Path(settings.DOCUMENTS_DIR) / on_file.file).read_bytes()
    for name in ["applicant", "agency", "officer"]:
        client = Client()
        login(client, getattr(world, name))
        response = client.get(url)
        assert response.status_code == 200, name
        assert b"".join(response.streaming_content) == stored
        assert response["Content-Type"] == on_file.content_type
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "attachment" in response["Content-Disposition"]
    for name in ["other_applicant", "operator", "auditor", "licensing_reviewer"]:
        client = Client()
        login(client, getattr(world, name))
        assert client.get(url).status_code in {403, 404}, name
    anonymous = Client().get(url)
    assert anonymous.status_code in {401, 403} or "/login/" in anonymous.get("Location", "")


def test_a_deleted_document_cannot_be_downloaded(world, on_file):
    Document.objects.filter(pk=on_file.pk).update(deleted_at=timezone.now())
    client = Client()
    login(client, world.applicant)
    assert client.get(f"/documents/{on_file.pk}/").status_code == 404


def test_the_api_lists_only_the_organisation_asked_for_to_its_readers(world, on_file):
    mine = world.client(world.applicant).get("/api/v1/documents/")
    assert mine.status_code == 200
    assert {d["organisation"] for d in mine.json()["results"]} == {world.org.pk}
    other = world.client(world.other_applicant).get(f"/api/v1/documents/?organisation={world.org.pk}")
    assert other.status_code == 404
    reviewer = world.client(world.agency).get(f"/api/v1/documents/requirements/?organisation={world.org.pk}")
    assert reviewer.status_code == 200 and all(r["met"] for r in reviewer.json())
    assert world.client(world.agency).get("/api/v1/documents/").status_code == 400  # whose?
    assert world.client(world.auditor).get("/api/v1/documents/").status_code == 403
    assert world.client(world.officer).get("/api/v1/documents/?organisation=999999").status_code == 404
    assert world.client(world.officer).get("/api/v1/documents/?organisation=x").status_code == 400
    officer = Client()
    login(officer, world.officer)
    assert officer.get("/organisations/999999/documents/").status_code == 404


def test_upload_through_the_api_and_the_portal(world, bare):
    client = world.client(bare)
    response = client.post(
        "/api/v1/documents/",
        {"document_type": "cnic", "file": pdf(), "expires_on": SOON.isoformat()},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["document_type"] == "cnic" and response.json()["content_type"] == "application/pdf"
    refused = client.post(
        "/api/v1/documents/",
        {"document_type": "incorporation", "file": SimpleUploadedFile("a.txt", b"text")},
        format="multipart",
    )
    assert refused.status_code == 400 and "file" in refused.json()
    requirements = client.get("/api/v1/documents/requirements/").json()
    assert [r["met"] for r in requirements] == [True, False]
    assert set(requirements[1]["document_types"]) == {"incorporation", "ntn_active_taxpayer"}

    portal = Client()
    login(portal, bare)
    page = portal.get("/documents/")
    assert page.status_code == 200 and b"Incorporation certificate or active-taxpayer proof" in page.content
    done = portal.post("/documents/", {"document_type": "incorporation", "file": pdf()})
    assert done.status_code == 302
    assert all(s.met for s in documents.requirement_status(bare.organisation))
    bad = portal.post(
        "/documents/", {"document_type": "incorporation", "file": SimpleUploadedFile("x", b"hi")}
    )
    assert bad.status_code == 400 and b"not a PDF, PNG or JPEG" in bad.content
