"""Reference data in both languages: Urdu names seeded, edited in the admin, shown to Urdu readers.

Categories, agencies, operators, provinces, districts, services, rejection reasons and document
types carry `name_ur`; pages, the statistics (page, JSON, CSV) and notifications show the reader's
language, the API carries `name_ur` beside the English `name`.
"""

from __future__ import annotations

import csv
import io
import unicodedata

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.utils import translation

from tests.auth import login
from vpnregistry.accounts.models import (
    Agency,
    Category,
    District,
    DocumentRequirement,
    DocumentType,
    Operator,
    Province,
)
from vpnregistry.accounts.reference import (
    CATEGORIES,
    DOCUMENT_TYPES,
    REQUIREMENTS,
    REQUIREMENTS_UR,
    places,
    seed,
    seed_urdu_names,
)
from vpnregistry.applications import reasons
from vpnregistry.applications.models import RejectionReason
from vpnregistry.audit.models import AuditEvent
from vpnregistry.restrictions import reference as service_reference
from vpnregistry.restrictions.models import Service
from vpnregistry.transparency.statistics import localised, refresh_statistics

LAHORE_UR = "لاہور"
PUNJAB_UR = "پنجاب"
COMPANY_UR = "کمپنی / سافٹ ویئر ہاؤس"  # the seeded Urdu name of the world's "Company"


@pytest.fixture
def reference_data(db):
    """The shipped places, services and reasons, as the migrations load them (a flush removes them)."""
    for row in places():
        province, _ = Province.objects.get_or_create(
            code=row["province_code"], defaults={"name": row["province"]}
        )
        District.objects.get_or_create(
            code=row["district_code"], defaults={"name": row["district"], "province": province}
        )
    seed_urdu_names(apps)
    for row in service_reference.services():
        Service.objects.get_or_create(code=row["code"], defaults={"kind": row["kind"], "name": row["name"]})
    service_reference.seed_urdu_names(apps)
    RejectionReason.objects.get_or_create(code="overlap", defaults={"text": "Held by another organisation"})
    reasons.seed_urdu_names(apps)


def in_urdu(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    return client


def in_english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- the data -------------------------------------------------------------------------------------


def test_every_shipped_district_and_province_has_an_urdu_name_in_arabic_script():
    rows = places()
    assert len(rows) == 168
    for row in rows:
        for key in ("province_ur", "district_ur"):
            value = row[key]
            assert value.strip() == value and value, (row["district_code"], key)
            # Urdu letters and spaces only: no Latin letter, no Arabic (not Urdu) yeh, kaf or heh.
            assert all(c == " " or unicodedata.name(c).startswith("ARABIC") for c in value), value
            assert not set(value) & {"\u064a", "\u0643", "\u0647"}, value
    by_code = {r["district_code"]: r["district_ur"] for r in rows}
    assert by_code["pb-lahore"] == LAHORE_UR
    assert by_code["pb-attock"] == "اٹک"
    assert by_code["pb-bahawalnagar"] == "بہاولنگر"
    assert by_code["sd-karachi-south"] == "کراچی جنوبی"
    assert by_code["ba-quetta"] == "کوئٹہ"
    provinces = {r["province_code"]: r["province_ur"] for r in rows}
    assert provinces["PB"] == PUNJAB_UR and provinces["KP"] == "خیبر پختونخوا"
    # Within a province no two districts share an Urdu name (a slip of the pen would show as one).
    seen = {(r["province_code"], r["district_ur"]) for r in rows}
    assert len(seen) == len(rows)


def test_every_seeded_row_has_its_urdu_name(reference_data):
    seed(apps)
    assert not District.objects.filter(name_ur="").exists()
    assert not Province.objects.filter(name_ur="").exists()
    assert District.objects.get(code="pb-lahore").name_ur == LAHORE_UR
    assert dict(
        Category.objects.filter(code__in=[c for c, *_ in CATEGORIES]).values_list("code", "name_ur")
    ) == {code: ur for code, _name, ur, *_ in CATEGORIES}
    assert all(DocumentType.objects.get(code=code).name_ur == ur for code, _n, ur, _e in DOCUMENT_TYPES)
    assert Agency.objects.get(code="mofa").name_ur == "دفترِ خارجہ"
    assert {name for reqs in REQUIREMENTS.values() for name, _types in reqs} == set(REQUIREMENTS_UR)
    assert not DocumentRequirement.objects.filter(name__in=list(REQUIREMENTS_UR), name_ur="").exists()
    assert DocumentRequirement.objects.filter(name="CNIC", name_ur="قومی شناختی کارڈ").exists()
    assert not Service.objects.filter(name_ur="").exists()
    assert Service.objects.get(code="whatsapp").name_ur == "واٹس ایپ"
    assert RejectionReason.objects.get(code="overlap").name_ur == reasons.URDU_REASONS["overlap"]


def test_seeding_again_fills_blanks_and_keeps_what_the_regulator_wrote(reference_data):
    seed(apps)
    Category.objects.filter(code="bank").update(name_ur="بینک دولت")
    Category.objects.filter(code="freelancer").update(name_ur="")
    District.objects.filter(code="pb-lahore").update(name_ur="لاہور شہر")
    District.objects.filter(code="pb-multan").update(name_ur="")
    seed(apps)
    assert Category.objects.get(code="bank").name_ur == "بینک دولت"
    assert Category.objects.get(code="freelancer").name_ur == "فری لانسر"
    assert District.objects.get(code="pb-lahore").name_ur == "لاہور شہر"
    assert District.objects.get(code="pb-multan").name_ur == "ملتان"


def test_the_system_rejection_reasons_are_made_with_their_urdu_wording(db):
    from vpnregistry.applications.services import system_reason as _system_reason

    RejectionReason.objects.filter(code="resources-refused").delete()
    assert _system_reason("resources-refused").name_ur == reasons.URDU_REASONS["resources-refused"]


# --- local_name and str() -------------------------------------------------------------------------


def test_local_name_follows_the_active_language_and_falls_back_to_english(reference_data):
    lahore = District.objects.select_related("province").get(code="pb-lahore")
    reason = RejectionReason.objects.get(code="overlap")
    operator = Operator.objects.create(code="plain", name="Plain Net")  # no Urdu name written
    with translation.override("ur"):
        assert lahore.local_name == LAHORE_UR and str(lahore.province) == PUNJAB_UR
        assert str(lahore) == f"{LAHORE_UR}، {PUNJAB_UR}"  # the Arabic-script comma
        assert str(reason) == f"overlap: {reasons.URDU_REASONS['overlap']}"
        assert str(operator) == "Plain Net"
        assert lahore.name_in("en") == "Lahore"
    with translation.override("en"):
        assert str(lahore) == "Lahore, Punjab"
        assert reason.local_name == reason.text
        assert lahore.name_in("ur") == LAHORE_UR


# --- pages, statistics, API, admin ----------------------------------------------------------------


def test_the_queue_filters_name_categories_agencies_and_provinces_in_the_readers_language(
    world, reference_data
):
    client = login(Client(), world.officer)
    urdu = in_urdu(client).get("/queue/").content.decode()
    assert f">{COMPANY_UR}</option>" in urdu and f">{PUNJAB_UR}</option>" in urdu
    assert ">سافٹ ویئر ایکسپورٹ بورڈ</option>" in urdu
    assert ">Company</option>" not in urdu and ">Punjab</option>" not in urdu
    english = in_english(client).get("/queue/").content.decode()
    assert ">Company</option>" in english and ">Punjab</option>" in english
    assert COMPANY_UR not in english and PUNJAB_UR not in english


def test_the_documents_page_names_requirements_and_types_in_the_readers_language(world):
    client = login(Client(), world.applicant)
    incorporation = "انکارپوریشن سرٹیفکیٹ یا فعال ٹیکس دہندہ ہونے کا ثبوت (نیشنل ٹیکس نمبر)"
    urdu = in_urdu(client).get("/documents/").content.decode()
    assert incorporation in urdu and "انکارپوریشن کا سرٹیفکیٹ یا خط" in urdu
    assert "Incorporation certificate or active-taxpayer proof" not in urdu
    english = in_english(client).get("/documents/").content.decode()
    assert (
        "Incorporation certificate or active-taxpayer proof (NTN)" in english and incorporation not in english
    )


def test_statistics_page_and_csv_name_categories_in_the_readers_language_and_the_json_both(
    client, world, reference_data
):
    refresh_statistics()
    # English first, so that the figures are cached by a request in English: Urdu must not be frozen
    # out of them, nor English after an Urdu request.
    english_csv = in_english(client).get("/statistics.csv").content.decode()
    urdu_csv = in_urdu(client).get("/statistics.csv").content.decode()
    again = in_english(client).get("/statistics.csv").content.decode()
    assert english_csv == again
    urdu_rows = list(csv.DictReader(io.StringIO(urdu_csv)))
    english_rows = list(csv.DictReader(io.StringIO(english_csv)))
    assert {r["row"] for r in urdu_rows if r["table"] == "by_category"} >= {COMPANY_UR}
    assert {r["row"] for r in urdu_rows if r["table"] == "by_province"} >= {PUNJAB_UR}
    assert {r["column"] for r in urdu_rows if r["table"] == "ipv4_by_month"} >= {COMPANY_UR}
    assert "Company" in {r["row"] for r in english_rows if r["table"] == "by_category"}
    assert COMPANY_UR not in english_csv and PUNJAB_UR not in english_csv
    assert len(urdu_rows) == len(english_rows)  # the same figures, named differently

    # The JSON, for programs, keeps the English names, with the Urdu ones beside them.
    data = in_urdu(client).get("/statistics.json").json()
    by_category = next(t for t in data["tables"] if t["id"] == "by_category")
    assert by_category["rows_ur"][by_category["rows"].index("Company")] == COMPANY_UR
    by_month = next(t for t in data["tables"] if t["id"] == "ipv4_by_month")
    assert by_month["columns_ur"][by_month["columns"].index("Company")] == COMPANY_UR
    page = in_urdu(client).get("/statistics/").content.decode()
    assert COMPANY_UR in page and PUNJAB_UR in page
    assert COMPANY_UR not in in_english(client).get("/statistics/").content.decode()


def test_statistics_stored_before_the_urdu_names_show_english():
    def stored(**labels) -> dict:
        table = {"id": "by_category", "title": "T", "unit": "u", "note": "", **labels}
        return {"generated_at": "2026-12-06T00:00:00+00:00", "notes": [], "tables": [table]}

    old = stored(rows=["Company"], columns=["Organisations"])
    with translation.override("ur"):
        assert localised(old)["tables"][0]["rows"] == ["Company"]
    bilingual = stored(rows=["Company"], rows_ur=[COMPANY_UR], columns=["Organisations"], columns_ur=[""])
    with translation.override("ur"):
        shown = localised(bilingual)["tables"][0]
        # A name by its stored Urdu; a fixed label by the catalogue.
        assert shown["rows"] == [COMPANY_UR]
        assert shown["columns"] == [translation.gettext("Organisations")]
    with translation.override("en"):
        assert localised(bilingual)["tables"][0]["rows"] == ["Company"]
    assert bilingual["tables"][0]["rows"] == ["Company"]  # the stored (cached) figures are untouched


def test_the_api_keeps_english_names_and_adds_name_ur(world, reference_data):
    api = world.client(world.applicant)
    lahore = api.get("/api/v1/districts/pb-lahore/").json()
    assert lahore["name"] == "Lahore" and lahore["name_ur"] == LAHORE_UR
    assert lahore["province"] == "Punjab" and lahore["province_ur"] == PUNJAB_UR
    whatsapp = api.get("/api/v1/services/whatsapp/").json()
    assert whatsapp["name"] == "WhatsApp" and whatsapp["name_ur"] == "واٹس ایپ"
    reason = api.get("/api/v1/rejection-reasons/overlap/").json()
    assert reason["name_ur"] == reasons.URDU_REASONS["overlap"]
    Operator.objects.filter(code="indus").update(name_ur="انڈس")
    operators = {o["code"]: o for o in api.get("/api/v1/operators/").json()["results"]}
    assert operators["indus"]["name_ur"] == "انڈس" and operators["margalla"]["name_ur"] == ""
    # Whatever the reader's language, `name` stays English: it is what machines read.
    in_urdu = api.get("/api/v1/districts/pb-lahore/", HTTP_ACCEPT_LANGUAGE="ur").json()
    assert (in_urdu["name"], in_urdu["name_ur"]) == ("Lahore", LAHORE_UR)


def test_officers_edit_urdu_names_in_the_admin_and_it_is_audited(world, reference_data):
    client = login(Client(), world.officer)
    lahore = District.objects.get(code="pb-lahore")
    listing = client.get("/admin/accounts/district/?q=lahore").content.decode()
    assert LAHORE_UR in listing
    response = client.post(
        f"/admin/accounts/district/{lahore.pk}/change/",
        {"code": "pb-lahore", "name": "Lahore", "name_ur": "لاہور شہر", "province": lahore.province_id},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    lahore.refresh_from_db()
    assert lahore.name_ur == "لاہور شہر"
    event = AuditEvent.objects.get(action="admin.district.change", object_id=str(lahore.pk))
    assert event.data == {"changed": ["name_ur"]}

    # An operator's names only: its code and kind are not edited here, nor is one added.
    indus = world.indus
    response = client.post(
        f"/admin/accounts/operator/{indus.pk}/change/",
        {"code": "changed", "kind": "mobile", "name": indus.name, "name_ur": "انڈس فائبر"},
    )
    assert response.status_code == 302
    indus.refresh_from_db()
    assert (indus.name_ur, indus.code, indus.kind) == ("انڈس فائبر", "indus", Operator.Kind.FIXED)
    assert client.get("/admin/accounts/operator/add/").status_code == 403

    whatsapp = Service.objects.get(code="whatsapp")
    response = client.post(
        f"/admin/restrictions/service/{whatsapp.pk}/change/",
        {"code": "whatsapp", "kind": "application", "name": "WhatsApp", "name_ur": "وٹس ایپ"},
    )
    assert response.status_code == 302
    whatsapp.refresh_from_db()
    assert whatsapp.name_ur == "وٹس ایپ"
    # Rows others refer to are never deleted here.
    assert client.get(f"/admin/restrictions/service/{whatsapp.pk}/delete/").status_code == 403
    assert client.get(f"/admin/accounts/district/{lahore.pk}/delete/").status_code == 403
    for name in ["applicant", "agency", "operator", "auditor"]:
        refused = login(Client(), getattr(world, name)).get("/admin/accounts/district/")
        assert refused.status_code == 302 and "/login/" in refused["Location"]
