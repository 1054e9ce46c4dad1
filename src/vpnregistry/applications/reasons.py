"""The Urdu wording of the rejection reasons the registry seeds (migration 0004 and the two it makes itself).

The English is in the migration that seeded them and in `services.SYSTEM_REASONS`; from then on
both wordings are data the regulator edits in the admin.
"""

from __future__ import annotations

from vpnregistry.bilingual import fill_urdu_names

URDU_REASONS = {
    "documents-missing": "کوئی مطلوبہ دستاویز موجود نہیں یا اس کی میعاد ختم ہو چکی ہے",
    "documents-invalid": "کسی دستاویز کی تصدیق نہیں ہو سکی یا وہ درخواست گزار سے مطابقت نہیں رکھتی",
    "identity-mismatch": "فراہم کردہ شناختی معلومات ادارے کے ریکارڈ سے مطابقت نہیں رکھتیں",
    "category-mismatch": "درخواست گزار اس زمرے سے تعلق نہیں رکھتا جس کے لیے درخواست دی گئی",
    "not-assigned": "یہ وسائل درخواست گزار کو اس کے آپریٹر نے تفویض نہیں کیے",
    "resources-refused": "ہر وسیلہ اس کے آپریٹر نے مسترد کر دیا",
    "overlap": "یہ وسائل کسی دوسرے ادارے کے نام رجسٹرڈ ہیں",
    "purpose": "بیان کردہ استعمال رجسٹری کے دائرۂ کار میں نہیں آتا",
    "security": "ایک سیکیورٹی ادارے کے مشورے پر مسترد کی گئی",
    "fee-unpaid": "فیس ادا نہیں کی گئی",
    "other": "دیگر: دی گئی وجہ ملاحظہ کریں",
}


def seed_urdu_names(apps) -> None:
    """Give the seeded rejection reasons whose Urdu wording is blank the one above.

    `apps` is a migration's app registry or `django.apps.apps`; a wording the regulator wrote stays.
    """
    fill_urdu_names(apps.get_model("applications", "RejectionReason"), URDU_REASONS)
