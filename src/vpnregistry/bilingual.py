"""Reference data in both languages: an English name every row has, and an Urdu one beside it.

Categories, agencies, operators, provinces, districts, services, rejection reasons and document
types carry `name_ur` (blank until someone writes it) beside their English name. The English name
stays what machines read (codes aside, it is what the API's `name` and the JSON exports carry); a
person reads `local_name`, the name in the active language, and `str()` of such a row is that name,
so a form's choices, a template's `{{ category }}` and a notification's text follow the reader
(or, made off the request, whatever language the caller activated for its addressee).
"""

from __future__ import annotations

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

URDU = "ur"


def is_urdu(language: str | None = None) -> bool:
    """Whether `language` (the active one when not given) is Urdu, whatever its region ("ur-PK")."""
    code = language if language is not None else translation.get_language()
    return (code or "").split("-")[0].lower() == URDU


def localised(english: str, urdu: str | None, language: str | None = None) -> str:
    """`urdu` when the language (the active one unless given) is Urdu and it is set, else `english`."""
    if urdu and is_urdu(language):
        return urdu
    return english


def list_separator(language: str | None = None) -> str:
    """The comma between the items of a list: the Arabic-script comma in Urdu."""
    return "، " if is_urdu(language) else ", "


def urdu_name_field(max_length: int) -> models.CharField:
    """The `name_ur` field: as long as the English name it translates, blank until someone writes it."""
    return models.CharField(_("Name in Urdu"), max_length=max_length, blank=True)


class BilingualName:
    """Mixin for a model with an English name (`ENGLISH_FIELD`, "name") and `name_ur` beside it.

    A plain mixin rather than an abstract model: the Urdu field is declared on each model with
    `urdu_name_field` so that it has the same length as the English name it translates. Each model's
    `__str__` returns `local_name` (or a text built on it), so whatever shows a row in a form's
    choices or a template shows it in the reader's language.
    """

    ENGLISH_FIELD = "name"

    @property
    def local_name(self) -> str:
        """The name in the active language: the Urdu one in Urdu when it is set, else the English one."""
        return localised(getattr(self, self.ENGLISH_FIELD), getattr(self, "name_ur", ""))

    def name_in(self, language: str) -> str:
        """The name in `language`, whatever language is active."""
        return localised(getattr(self, self.ENGLISH_FIELD), getattr(self, "name_ur", ""), language)


def fill_urdu_names(model, names: dict[str, str], *, key: str = "code") -> int:
    """Set `name_ur` of the rows of `model` whose `key` is in `names` and whose Urdu name is blank.

    For the seeding code and the data migrations (`model` may be a migration's historical model):
    a name the regulator already wrote is never overwritten. Returns how many rows it filled.
    """
    filled = 0
    for row in model.objects.filter(**{f"{key}__in": list(names)}, name_ur=""):
        row.name_ur = names[getattr(row, key)]
        row.save(update_fields=["name_ur"])
        filled += 1
    return filled
