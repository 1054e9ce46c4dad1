"""The real regime's categories, routing and documents are data, seeded once and edited in the admin."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.test import Client

from tests.auth import login
from vpnregistry.accounts.models import Agency, Category, DocumentRequirement, DocumentType
from vpnregistry.accounts.reference import REQUIREMENTS, seed
from vpnregistry.audit.models import AuditEvent


@pytest.fixture
def reference(db):
    seed(apps)  # what the migration seeded (again, in case a transactional test flushed it)


def requirements(code):
    return [
        sorted(r.document_types.values_list("code", flat=True))
        for r in DocumentRequirement.objects.filter(category__code=code).order_by("position")
    ]


def test_the_real_list(reference):
    routing = dict(Category.objects.values_list("code", "agency__code"))
    assert routing == {
        "company": "pseb",
        "call_centre": "pseb",
        "freelancer": "pseb",
        "video_conferencing": "licensing",
        "bank": "licensing",
        "foreign_mission": "mofa",
    }
    assert Agency.objects.get(code="licensing").name == "Regulator's Licensing Desk"
    assert requirements("company") == [["cnic"], ["incorporation", "ntn_active_taxpayer"]]
    assert requirements("call_centre") == [
        ["cnic"],
        ["incorporation", "ntn_active_taxpayer"],
        ["call_centre_certificate"],
    ]
    assert requirements("freelancer") == [["cnic"], ["authentication_letter"]]
    assert requirements("video_conferencing") == [["cnic"], ["government_letter", "incorporation"]]
    assert requirements("bank") == [["cnic"], ["bank_authorisation"]]
    assert requirements("foreign_mission") == [["accreditation_note"]]
    assert DocumentType.objects.get(code="cnic").needs_expiry


def test_seeding_again_keeps_what_the_regulator_edited(reference):
    company = Category.objects.get(code="company")
    company.document_requirements.filter(position=1).delete()
    Category.objects.filter(pk=company.pk).update(
        name="Software house", agency=Agency.objects.get(code="mofa")
    )
    seed(apps)
    company.refresh_from_db()
    assert company.name == "Software house" and company.agency.code == "mofa"
    assert requirements("company") == [["cnic"]]
    assert DocumentRequirement.objects.count() == sum(len(r) for r in REQUIREMENTS.values()) - 1


def test_officers_edit_the_reference_data_in_the_admin_and_it_is_audited(world):
    client = Client()
    login(client, world.officer)
    assert client.get("/admin/").status_code == 200
    page = client.get(f"/admin/accounts/category/{world.company.pk}/change/")
    assert page.status_code == 200 and b"CNIC of the authorised person" in page.content
    response = client.post(
        "/admin/accounts/documenttype/add/",
        {"code": "utility_bill", "name": "Utility bill", "needs_expiry": ""},
    )
    assert response.status_code == 302
    kind = DocumentType.objects.get(code="utility_bill")
    assert AuditEvent.objects.filter(action="admin.documenttype.add", object_id=str(kind.pk)).exists()
    for name in ["applicant", "agency", "operator", "auditor"]:
        other = Client()
        login(other, getattr(world, name))
        refused = other.get("/admin/accounts/category/")
        assert refused.status_code == 302 and "/login/" in refused["Location"]
        assert other.post("/admin/accounts/documenttype/add/", {"code": "x", "name": "x"}).status_code == 302
    assert not DocumentType.objects.filter(code="x").exists()
    # Groups, tokens and login attempts are not edited here.
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 404


def test_a_categorys_requirements_are_edited_inline_and_each_change_audited(world):
    client = Client()
    login(client, world.officer)
    company = world.company
    first, second = company.document_requirements.order_by("position")
    utility = DocumentType.objects.create(code="utility_bill", name="Utility bill")
    prefix = "document_requirements"
    data = {
        "code": company.code,
        "name": company.name,
        "agency": company.agency_id,
        "min_len_v4": company.min_len_v4,
        "min_len_v6": company.min_len_v6,
        f"{prefix}-TOTAL_FORMS": "3",
        f"{prefix}-INITIAL_FORMS": "2",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        # The first stays; the second is deleted; a third is added.
        f"{prefix}-0-id": first.pk,
        f"{prefix}-0-category": company.pk,
        f"{prefix}-0-position": "0",
        f"{prefix}-0-name": first.name,
        f"{prefix}-0-document_types": list(first.document_types.values_list("pk", flat=True)),
        f"{prefix}-1-id": second.pk,
        f"{prefix}-1-category": company.pk,
        f"{prefix}-1-position": "1",
        f"{prefix}-1-name": second.name,
        f"{prefix}-1-document_types": list(second.document_types.values_list("pk", flat=True)),
        f"{prefix}-1-DELETE": "on",
        f"{prefix}-2-category": company.pk,
        f"{prefix}-2-position": "2",
        f"{prefix}-2-name": "Proof of address",
        f"{prefix}-2-document_types": [utility.pk],
    }
    response = client.post(f"/admin/accounts/category/{company.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    assert [r.name for r in company.document_requirements.order_by("position")] == [
        first.name,
        "Proof of address",
    ]
    added = company.document_requirements.get(name="Proof of address")
    events = {e.action: e for e in AuditEvent.objects.filter(action__startswith="admin.documentrequirement.")}
    assert events["admin.documentrequirement.add"].object_id == str(added.pk)
    assert events["admin.documentrequirement.delete"].object_id == str(second.pk)
    assert events["admin.documentrequirement.delete"].data["parent"] == f"category:{company.pk}"


def test_the_admin_login_is_the_portals(world):
    response = Client().get("/admin/login/?next=/admin/accounts/category/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/accounts/category/"
    evil = Client().get("/admin/login/?next=https://evil.example/")
    assert evil["Location"] == "/login/?next=/admin/"
