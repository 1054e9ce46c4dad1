"""The migrations that add `name_ur` fill it for the seeded reference data, and only for that."""

from __future__ import annotations

import pytest

from tests.migrating import migrate_to, migrate_to_latest

BEFORE = [
    ("accounts", "0008_organisation_name_skeleton"),
    ("applications", "0008_outgoing_mail"),
    ("restrictions", "0003_exemption_jobs"),
]
AFTER = [
    ("accounts", "0009_urdu_names"),
    ("applications", "0009_rejection_reason_urdu_name"),
    ("restrictions", "0004_service_urdu_name"),
]


@pytest.mark.django_db(transaction=True)
def test_the_migrations_fill_the_urdu_names_of_the_seeded_rows():
    old_apps = migrate_to(BEFORE)
    try:
        # The rows as the earlier migrations seeded them (made again: a transactional test's flush
        # may have removed them), and one the regulator added, which has no Urdu name to be given.
        Province = old_apps.get_model("accounts", "Province")
        District = old_apps.get_model("accounts", "District")
        Agency = old_apps.get_model("accounts", "Agency")
        Category = old_apps.get_model("accounts", "Category")
        DocumentType = old_apps.get_model("accounts", "DocumentType")
        Service = old_apps.get_model("restrictions", "Service")
        RejectionReason = old_apps.get_model("applications", "RejectionReason")
        punjab, _ = Province.objects.get_or_create(code="PB", defaults={"name": "Punjab"})
        District.objects.get_or_create(code="pb-lahore", defaults={"name": "Lahore", "province": punjab})
        District.objects.create(code="pb-new", name="New District", province=punjab)
        pseb, _ = Agency.objects.get_or_create(code="pseb", defaults={"name": "Software Export Board"})
        bank, _ = Category.objects.get_or_create(code="bank", defaults={"name": "Bank", "agency": pseb})
        Requirement = old_apps.get_model("accounts", "DocumentRequirement")
        Requirement.objects.filter(category=bank).delete()
        seeded = Requirement.objects.create(category=bank, name="The bank's authorisation letter")
        reworded = Requirement.objects.create(category=bank, name="The bank's letter", position=1)
        DocumentType.objects.get_or_create(code="cnic", defaults={"name": "CNIC"})
        Service.objects.get_or_create(code="tiktok", defaults={"kind": "application", "name": "TikTok"})
        RejectionReason.objects.get_or_create(code="fee-unpaid", defaults={"text": "The fee was not paid"})

        new_apps = migrate_to(AFTER)

        def urdu(app: str, model: str, code: str) -> str:
            return new_apps.get_model(app, model).objects.get(code=code).name_ur

        assert urdu("accounts", "Province", "PB") == "پنجاب"
        assert urdu("accounts", "District", "pb-lahore") == "لاہور"
        assert urdu("accounts", "District", "pb-new") == ""
        assert urdu("accounts", "Agency", "pseb") == "سافٹ ویئر ایکسپورٹ بورڈ"
        assert urdu("accounts", "Category", "bank") == "بینک"
        assert urdu("accounts", "DocumentType", "cnic") == "مجاز شخص کا قومی شناختی کارڈ"
        requirements = new_apps.get_model("accounts", "DocumentRequirement").objects
        assert requirements.get(pk=seeded.pk).name_ur == "بینک کا اجازت نامہ"
        assert requirements.get(pk=reworded.pk).name_ur == ""
        assert urdu("restrictions", "Service", "tiktok") == "ٹک ٹاک"
        assert urdu("applications", "RejectionReason", "fee-unpaid") == "فیس ادا نہیں کی گئی"

        migrate_to(BEFORE)  # and back: the fields go, the English names stay
        assert Province.objects.get(code="PB").name == "Punjab"
    finally:
        migrate_to_latest()
