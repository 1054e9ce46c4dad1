"""The real regime's categories, their verifying agencies and the documents each needs.

Seeded once by a data migration; from then on it is data the regulator edits in the admin. Running
the seed again adds what is missing and changes nothing the regulator has edited.
"""

from __future__ import annotations

AGENCIES = [
    ("pseb", "Software Export Board"),
    ("mofa", "Foreign Office"),
    ("licensing", "Regulator's Licensing Desk"),
]
# code, name, agency, shortest IPv4 prefix, shortest IPv6 prefix
CATEGORIES = [
    ("company", "Company / software house", "pseb", 24, 48),
    ("call_centre", "Call centre", "pseb", 24, 48),
    ("freelancer", "Freelancer", "pseb", 32, 64),
    ("video_conferencing", "Video conferencing", "licensing", 24, 48),
    ("bank", "Bank", "licensing", 24, 48),
    ("foreign_mission", "Foreign mission", "mofa", 24, 48),
]
# code, name, needs an expiry date
DOCUMENT_TYPES = [
    ("cnic", "CNIC of the authorised person", True),
    ("incorporation", "Certificate or letter of incorporation", False),
    ("ntn_active_taxpayer", "Active-taxpayer proof (NTN)", True),
    ("call_centre_certificate", "Software export board's call-centre registration certificate", True),
    ("authentication_letter", "Letter of authentication from the employer or client", False),
    ("government_letter", "Letter from a government organisation", False),
    ("bank_authorisation", "The bank's authorisation letter", False),
    ("accreditation_note", "Foreign Office accreditation note", True),
]
_CNIC = ("CNIC of the authorised person", ["cnic"])
_INCORPORATION = (
    "Incorporation certificate or active-taxpayer proof (NTN)",
    ["incorporation", "ntn_active_taxpayer"],
)
# category: [(requirement, [document types, any one of which satisfies it])]
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


def seed(apps) -> None:
    """Add the agencies, categories, document types and requirements that are missing.

    `apps` is a migration's app registry or `django.apps.apps`. A category that already has
    requirements keeps them: they are the regulator's to edit.
    """
    Agency = apps.get_model("accounts", "Agency")
    Category = apps.get_model("accounts", "Category")
    DocumentType = apps.get_model("accounts", "DocumentType")
    DocumentRequirement = apps.get_model("accounts", "DocumentRequirement")
    agencies = {
        code: Agency.objects.get_or_create(code=code, defaults={"name": name})[0] for code, name in AGENCIES
    }
    categories = {
        code: Category.objects.get_or_create(
            code=code,
            defaults={"name": name, "agency": agencies[agency], "min_len_v4": v4, "min_len_v6": v6},
        )[0]
        for code, name, agency, v4, v6 in CATEGORIES
    }
    types = {
        code: DocumentType.objects.get_or_create(code=code, defaults={"name": name, "needs_expiry": expiry})[
            0
        ]
        for code, name, expiry in DOCUMENT_TYPES
    }
    for code, requirements in REQUIREMENTS.items():
        category = categories[code]
        if DocumentRequirement.objects.filter(category=category).exists():
            continue
        for position, (name, type_codes) in enumerate(requirements):
            requirement = DocumentRequirement.objects.create(category=category, name=name, position=position)
            requirement.document_types.set([types[t] for t in type_codes])
