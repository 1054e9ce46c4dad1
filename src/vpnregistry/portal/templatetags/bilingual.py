"""Reference data in the reader's language, for templates: `{% load bilingual %}`."""

from __future__ import annotations

from django import template

from vpnregistry.bilingual import list_separator

register = template.Library()


@register.filter
def names(rows) -> str:
    """The names of `rows` (categories, provinces, services...) in the active language, as a list.

    Each row's own name (a district's without its province), joined with the language's comma
    ("Lahore, Multan"; "لاہور، ملتان"); autoescaped like any text.
    """
    return list_separator().join(getattr(row, "local_name", None) or str(row) for row in rows)
