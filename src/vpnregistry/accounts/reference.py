"""The real regime's categories, their verifying agencies and the documents each needs.

Seeded once by a data migration; from then on it is data the regulator edits in the admin. Running
the seed again adds what is missing and changes nothing the regulator has edited. Each name comes
with its Urdu (`name_ur`), as do the provinces and districts (`data/districts.csv`).
"""

from __future__ import annotations

import csv
import io
from importlib import resources

from vpnregistry.bilingual import fill_urdu_names

# code, name, name in Urdu
AGENCIES = [
    ("pseb", "Software Export Board", "سافٹ ویئر ایکسپورٹ بورڈ"),
    ("mofa", "Foreign Office", "دفترِ خارجہ"),
    ("licensing", "Regulator's Licensing Desk", "ریگولیٹر کا لائسنسنگ ڈیسک"),
]
# code, name, name in Urdu, agency, shortest IPv4 prefix, shortest IPv6 prefix
CATEGORIES = [
    ("company", "Company / software house", "کمپنی / سافٹ ویئر ہاؤس", "pseb", 24, 48),
    ("call_centre", "Call centre", "کال سینٹر", "pseb", 24, 48),
    ("freelancer", "Freelancer", "فری لانسر", "pseb", 32, 64),
    ("video_conferencing", "Video conferencing", "ویڈیو کانفرنسنگ", "licensing", 24, 48),
    ("bank", "Bank", "بینک", "licensing", 24, 48),
    ("foreign_mission", "Foreign mission", "غیر ملکی سفارتی مشن", "mofa", 24, 48),
]
# code, name, name in Urdu, needs an expiry date
DOCUMENT_TYPES = [
    ("cnic", "CNIC of the authorised person", "مجاز شخص کا قومی شناختی کارڈ", True),
    ("incorporation", "Certificate or letter of incorporation", "انکارپوریشن کا سرٹیفکیٹ یا خط", False),
    (
        "ntn_active_taxpayer",
        "Active-taxpayer proof (NTN)",
        "فعال ٹیکس دہندہ ہونے کا ثبوت (نیشنل ٹیکس نمبر)",
        True,
    ),
    (
        "call_centre_certificate",
        "Software export board's call-centre registration certificate",
        "سافٹ ویئر ایکسپورٹ بورڈ کا کال سینٹر رجسٹریشن سرٹیفکیٹ",
        True,
    ),
    (
        "authentication_letter",
        "Letter of authentication from the employer or client",
        "آجر یا کلائنٹ کی جانب سے تصدیقی خط",
        False,
    ),
    ("government_letter", "Letter from a government organisation", "کسی سرکاری ادارے کا خط", False),
    ("bank_authorisation", "The bank's authorisation letter", "بینک کا اجازت نامہ", False),
    ("accreditation_note", "Foreign Office accreditation note", "دفترِ خارجہ کا ایکریڈیٹیشن نوٹ", True),
]
_CNIC = ("CNIC of the authorised person", ["cnic"])
_INCORPORATION = (
    "Incorporation certificate or active-taxpayer proof (NTN)",
    ["incorporation", "ntn_active_taxpayer"],
)
# category: [(requirement, [document types, any one of which satisfies it])]; their Urdu in REQUIREMENTS_UR
REQUIREMENTS = {
    "company": [_CNIC, _INCORPORATION],
    "call_centre": [
        _CNIC,
        _INCORPORATION,
        ("Call-centre registration certificate", ["call_centre_certificate"]),
    ],
    "freelancer": [
        ("CNIC", ["cnic"]),
        ("Letter of authentication from the employer or client", ["authentication_letter"]),
    ],
    "video_conferencing": [
        ("CNIC", ["cnic"]),
        (
            "Incorporation letter or a government organisation's letter",
            ["incorporation", "government_letter"],
        ),
    ],
    "bank": [_CNIC, ("The bank's authorisation letter", ["bank_authorisation"])],
    "foreign_mission": [("Foreign Office accreditation note", ["accreditation_note"])],
}


# Each requirement's wording above, in Urdu.
REQUIREMENTS_UR = {
    "CNIC of the authorised person": "مجاز شخص کا قومی شناختی کارڈ",
    "Incorporation certificate or active-taxpayer proof (NTN)": (
        "انکارپوریشن سرٹیفکیٹ یا فعال ٹیکس دہندہ ہونے کا ثبوت (نیشنل ٹیکس نمبر)"
    ),
    "Call-centre registration certificate": "کال سینٹر رجسٹریشن سرٹیفکیٹ",
    "CNIC": "قومی شناختی کارڈ",
    "Letter of authentication from the employer or client": "آجر یا کلائنٹ کی جانب سے تصدیقی خط",
    "Incorporation letter or a government organisation's letter": (
        "انکارپوریشن کا خط یا کسی سرکاری ادارے کا خط"
    ),
    "The bank's authorisation letter": "بینک کا اجازت نامہ",
    "Foreign Office accreditation note": "دفترِ خارجہ کا ایکریڈیٹیشن نوٹ",
}


def seed(apps) -> None:
    """Add the agencies, categories, document types and requirements that are missing.

    `apps` is a migration's app registry or `django.apps.apps`. A category that already has
    requirements keeps them: they are the regulator's to edit. Urdu names are set too, from the
    migration that added them on (migration 0005 runs this before the models have them).
    """
    Agency = apps.get_model("accounts", "Agency")
    Category = apps.get_model("accounts", "Category")
    DocumentType = apps.get_model("accounts", "DocumentType")
    DocumentRequirement = apps.get_model("accounts", "DocumentRequirement")
    urdu = _has_urdu_names(Agency)

    def named(name: str, name_ur: str) -> dict[str, str]:
        return {"name": name, "name_ur": name_ur} if urdu else {"name": name}

    agencies = {
        code: Agency.objects.get_or_create(code=code, defaults=named(name, name_ur))[0]
        for code, name, name_ur in AGENCIES
    }
    categories = {
        code: Category.objects.get_or_create(
            code=code,
            defaults={**named(name, name_ur), "agency": agencies[agency], "min_len_v4": v4, "min_len_v6": v6},
        )[0]
        for code, name, name_ur, agency, v4, v6 in CATEGORIES
    }
    types = {
        code: DocumentType.objects.get_or_create(
            code=code, defaults={**named(name, name_ur), "needs_expiry": expiry}
        )[0]
        for code, name, name_ur, expiry in DOCUMENT_TYPES
    }
    if urdu:
        seed_urdu_names(apps)
    for code, requirements in REQUIREMENTS.items():
        category = categories[code]
        if DocumentRequirement.objects.filter(category=category).exists():
            continue
        for position, (name, type_codes) in enumerate(requirements):
            requirement = DocumentRequirement.objects.create(
                category=category, position=position, **named(name, REQUIREMENTS_UR[name])
            )
            requirement.document_types.set([types[t] for t in type_codes])


def places() -> list[dict[str, str]]:
    """The rows of `data/districts.csv`: province and district, each with its code and Urdu name."""
    text = (
        resources.files("vpnregistry.accounts").joinpath("data", "districts.csv").read_text(encoding="utf-8")
    )
    return list(csv.DictReader(io.StringIO(text)))


def seed_urdu_names(apps) -> None:
    """Give the seeded agencies, categories, document types and requirements, provinces and districts their
    Urdu names.

    Only where `name_ur` is blank: an Urdu name the regulator wrote stays. Rows that were never
    seeded (a category or district the regulator added) are left alone; so are the operators,
    which are not seeded (the demo's have Urdu names of their own). `apps` as for `seed`.
    """
    rows = places()
    fill_urdu_names(apps.get_model("accounts", "Agency"), {code: ur for code, _n, ur in AGENCIES})
    fill_urdu_names(apps.get_model("accounts", "Category"), {code: ur for code, _n, ur, *_ in CATEGORIES})
    fill_urdu_names(
        apps.get_model("accounts", "DocumentType"), {code: ur for code, _n, ur, _e in DOCUMENT_TYPES}
    )
    # A requirement by its wording: one the regulator reworded is theirs to translate.
    fill_urdu_names(apps.get_model("accounts", "DocumentRequirement"), REQUIREMENTS_UR, key="name")
    fill_urdu_names(
        apps.get_model("accounts", "Province"), {r["province_code"]: r["province_ur"] for r in rows}
    )
    fill_urdu_names(
        apps.get_model("accounts", "District"), {r["district_code"]: r["district_ur"] for r in rows}
    )


def _has_urdu_names(model) -> bool:
    """Whether `model` (perhaps a migration's historical one) has `name_ur` yet."""
    return any(f.name == "name_ur" for f in model._meta.get_fields())
