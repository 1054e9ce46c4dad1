"""What sign-up and invitations both check: an account's username, email address and password, its
language, and the links mailed to it."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse
from django.utils.translation import gettext as _

from vpnregistry.accounts import language as languages
from vpnregistry.accounts.models import User
from vpnregistry.siteurl import site_url


def _link(name: str, token: str) -> str:
    return site_url() + reverse(name, kwargs={"token": token})


def _clean_email(email: str, errors: dict) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Enter a valid email address.")]
    return email.lower()


def _clean_account(
    username: str, email: str, password: str, errors: dict, *, check_taken: bool = True
) -> tuple[str, str]:
    """The account's fields checked; with `check_taken` (not at sign-up, which must not tell), a taken
    username or email address is an error too."""
    username = (username or "").strip()
    email = _clean_email(email, errors)
    if not username:
        errors["username"] = [_("A username is required.")]
    else:
        try:
            User.username_validator(username)
        except ValidationError as exc:
            errors["username"] = list(exc.messages)
        else:
            if len(username) > 150:
                errors["username"] = [_("At most 150 characters.")]
            elif check_taken and _username_taken(username):
                errors["username"] = [_("This username is taken.")]
    if check_taken and "email" not in errors and _email_taken(email):
        errors["email"] = [_("An account with this email address exists already.")]
    try:
        validate_password(password or "", user=User(username=username, email=email))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    return username, email


def _language(requested: str | None) -> str:
    """The language a new account is made with: the one asked for, else the one read in now."""
    return languages.supported(requested) or languages.current()


def _username_taken(username: str) -> bool:
    return User.objects.filter(username__iexact=username).exists()


def _email_taken(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()
