"""The registry's languages, and translating a block into a person's: plain helpers over Django's
translation, for every layer (notifications write each reader's message in their own language).
Where the choice is stored and restored (accounts, sessions, cookies) is accounts/language.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.utils import translation


def codes() -> tuple[str, ...]:
    """The registry's languages ("en", "ur"), as settings.LANGUAGES lists them."""
    return tuple(code for code, _name in settings.LANGUAGES)


def supported(code: object) -> str | None:
    """`code` as one of the registry's languages ("ur-PK" is "ur"), or None when it is none of them."""
    if not isinstance(code, str):
        return None
    code = code.strip().lower()
    for candidate in (code, code.split("-")[0], code.split("_")[0]):
        if candidate in codes():
            return candidate
    return None


def default() -> str:
    """The registry's language where a person has none (settings.LANGUAGE_CODE)."""
    return settings.LANGUAGE_CODE


def current() -> str:
    """The language active now (a request's, or an override's), else the registry's default."""
    return supported(translation.get_language()) or default()


def of(user) -> str:
    """The language `user` reads in: the stored one, else the registry's default (an anonymous user,
    a value that is not one of ours)."""
    return supported(getattr(user, "language", None)) or default()


@contextmanager
def speaking(user_or_code) -> Iterator[str]:
    """Translate the block into a user's language (or a language code): for what is made for a person
    away from their request. Yields the language used."""
    code = supported(user_or_code) if isinstance(user_or_code, str) else of(user_or_code)
    code = code or default()
    with translation.override(code):
        yield code
