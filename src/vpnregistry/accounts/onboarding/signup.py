"""Sign-up of an organisation and the email verification of its first admin.

An organisation registers itself: its name, category and identifiers, and its first member, who is
its admin and stays inactive until the link mailed to them (signed, valid for
settings.SIGNUP_LINK_SECONDS) is followed. Every step is audited.
"""

from __future__ import annotations

import logging
import unicodedata

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.accounts import language as languages
from vpnregistry.accounts.models import Category, Organisation, Role, User
from vpnregistry.accounts.names import bidi_controls, normalise_name
from vpnregistry.accounts.onboarding.fields import (
    _clean_account,
    _email_taken,
    _language,
    _link,
    _username_taken,
)
from vpnregistry.accounts.selectors import names_alike
from vpnregistry.audit.services import record
from vpnregistry.errors import InvalidInput, WrongState
from vpnregistry.fieldcrypt import blind_indexes
from vpnregistry.identifiers import IDENTIFIER_FIELDS, clean_identifiers
from vpnregistry.notifications.mail import send_email
from vpnregistry.siteurl import site_url

# The package's name, as the log knew it before sign-up had a module of its own.
logger = logging.getLogger("vpnregistry.accounts.onboarding")

SIGNUP_SALT = "vpnregistry.accounts.signup"


def signup_answer() -> str:
    """What a sign-up is answered, made or not (the email says which)."""
    return _(
        "Check your email: we sent a message to the address given. If it holds a link, follow it "
        "within two days to activate the account."
    )


def organisation_register(
    *,
    name: str,
    category: str,
    email: str,
    username: str,
    password: str,
    ntn: str = "",
    secp_number: str = "",
    pseb_number: str = "",
    cnic: str = "",
    language: str | None = None,
) -> User | None:
    """A new organisation and its admin, inactive until the emailed link is followed.

    The admin's language is `language`, else the one the sign-up is read in (the portal's, or the
    API's `Accept-Language`): their confirmation email and everything after it is in that language.

    Refusals that depend only on what was typed (a bad address, a weak password, a malformed NTN) are
    InvalidInput, as always. Whether the username, the email address or the NTN is taken already is
    not told to whoever asks: the answer is the same either way (None here instead of the new user,
    which the views do not show), and the email carries the truth, to its address's owner (see
    `_refuse_quietly`). Nothing is saved then.
    """
    errors: dict[str, list[str]] = {}
    name = _clean_name(name, errors)
    found = Category.objects.filter(code=str(category or "").strip()).first()
    if found is None:
        errors["category"] = [_("Choose one of the categories.")]
    identifiers = _organisation_identifiers((ntn, secp_number, pseb_number, cnic), errors)
    username, email = _clean_account(username, email, password, errors, check_taken=False)
    if errors:
        raise InvalidInput(errors)
    taken = _taken(username=username, email=email, ntn=identifiers.get("ntn", ""))
    if taken:
        _refuse_quietly(taken, name=name, username=username, email=email, password=password)
        return None
    now = timezone.now()
    account = {"username": username, "email": email, "password": password, "language": _language(language)}
    try:
        return _register(name, found, identifiers, now=now, **account)
    except IntegrityError:  # the same NTN, username or address registered a moment ago
        taken = _taken(username=username, email=email, ntn=identifiers.get("ntn", "")) or {"ntn"}
        _refuse_quietly(taken, name=name, username=username, email=email, password=None)
        return None


def _clean_name(name, errors: dict) -> str:
    """The organisation's name in its normal form, checked: given, at most 200 characters, and
    without control characters (the text-direction ones named)."""
    name = normalise_name(str(name or ""))
    if not name:
        errors["name"] = [_("The organisation's name is required.")]
    elif len(name) > 200:
        errors["name"] = [_("At most 200 characters.")]
    elif controls := bidi_controls(name):
        errors["name"] = [
            _(
                "The organisation's name holds text-direction control characters (%(codes)s), which "
                "change how it is shown: type the name without them."
            )
            % {"codes": ", ".join(controls)}
        ]
    elif any(unicodedata.category(c) in {"Cc", "Cs"} for c in name):
        errors["name"] = [_("The organisation's name holds control characters: type it without them.")]
    return name


def _organisation_identifiers(values: tuple[str, ...], errors: dict) -> dict[str, str]:
    """The identifiers given (in IDENTIFIER_FIELDS' order: NTN, SECP and PSEB numbers, CNIC), stripped,
    and in their canonical forms when they are all valid; otherwise as given, the errors noted."""
    raw = {f: (v or "").strip() for f, v in zip(IDENTIFIER_FIELDS, values, strict=True)}
    try:
        # Their formats and canonical forms are the identifiers module's (an NTN's check digit, ...).
        return {**raw, **clean_identifiers(raw)}
    except InvalidInput as exc:
        errors.update(exc.errors)
        return raw


def _register(name, category, identifiers, *, username, email, password, language, now) -> User:
    with transaction.atomic():
        organisation = Organisation(name=name, category=category)
        for field_name, value in identifiers.items():
            setattr(organisation, field_name, value)
        organisation.save()
        user = User(
            username=username,
            email=email,
            role=Role.APPLICANT,
            organisation=organisation,
            is_org_admin=True,
            is_active=False,
            language=language,
        )
        user.set_password(password)
        user.save()
        record(
            actor=user,
            action="organisation.signup",
            obj=organisation,
            at=now,
            data={
                "category": category.code,
                "admin": user.pk,
                # Organisations whose names look the same, for the agency (never told to the applicant).
                "names_alike": [o.pk for o in names_alike(organisation)],
            },
        )
        transaction.on_commit(lambda: verification_send(user))
    return user


def _ntn_taken(ntn: str) -> bool:
    return Organisation.objects.filter(ntn_index__in=blind_indexes("ntn", ntn)).exists()


def _taken(*, username: str, email: str, ntn: str) -> set[str]:
    taken = set()
    if _email_taken(email):
        taken.add("email")
    if _username_taken(username):
        taken.add("username")
    if ntn and _ntn_taken(ntn):
        taken.add("ntn")
    return taken


def _refuse_quietly(taken: set[str], *, name: str, username: str, email: str, password: str | None) -> None:
    """A sign-up that cannot be made, answered as if it had been: the email says why, to its owner.

    An address in use already: its account's holder is told that someone tried to sign up with it
    (nothing about the rest). Otherwise the address given is told which of the username and the NTN
    is taken. The password is hashed all the same, so that the answer takes as long as a sign-up.
    """
    if password is not None:
        make_password(password)
    logger.info("sign-up not made: %s taken", ", ".join(sorted(taken)))
    # To the account holding the address, in its language; otherwise in the sign-up's own.
    holder = (
        User.objects.filter(email__iexact=email).only("pk", "language").first() if "email" in taken else None
    )
    with languages.speaking(holder if holder is not None else languages.current()):
        subject, body = _refusal(taken, name=name, username=username)
    transaction.on_commit(lambda: send_email(subject, body, email))


def _refusal(taken: set[str], *, name: str, username: str) -> tuple[str, str]:
    """The subject and body of `_refuse_quietly`'s email, in the active language."""
    if "email" in taken:
        subject = _("Someone tried to sign up with your address")
        body = _(
            "Someone tried to register %(org)s with the VPN registry giving this address, which has an "
            "account already. Nothing was registered.\n\n"
            "If it was you: log in with your account instead (%(login)s); if it is waiting for its "
            "confirmation, ask for a new link (%(resend)s).\n\n"
            "If it was not you, ignore this message."
        ) % {
            "org": name,
            "login": site_url() + reverse("portal:login"),
            "resend": site_url() + reverse("portal:signup-resend"),
        }
    else:
        reasons = []
        if "username" in taken:
            reasons.append(_("- the username %(username)s is taken: choose another") % {"username": username})
        if "ntn" in taken:
            reasons.append(
                _("- an organisation with this NTN is registered already: ask its admin to invite you")
            )
        subject = _("Your sign-up could not be completed")
        body = _(
            "Someone (we hope you) tried to register %(org)s with the VPN registry giving this address. "
            "Nothing was registered:\n\n%(reasons)s\n\n"
            "Sign up again at %(signup)s. If it was not you, ignore this message."
        ) % {
            "org": name,
            "reasons": "\n".join(reasons),
            "signup": site_url() + reverse("portal:signup"),
        }
    return subject, body


def signup_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "e": user.email}, salt=SIGNUP_SALT)


def verification_send(user: User) -> None:
    """The sign-up link, in the account's language (whoever asks for it again, in whichever)."""
    link = _link("portal:signup-verify", signup_token(user))
    with languages.speaking(user):
        subject = _("Confirm your email address")
        body = _(
            "Someone (we hope you) registered %(org)s with the VPN registry and gave this address.\n\n"
            "Follow this link within two days to confirm it and activate the account:\n%(link)s\n\n"
            "If it was not you, ignore this message: the account stays inactive."
        ) % {"org": user.organisation.name, "link": link}
    send_email(subject, body, user.email)


def email_verify(*, token: str) -> User:
    """Follow the sign-up link: the account becomes active. Works once, within the link's time."""
    try:
        data = signing.loads(token or "", salt=SIGNUP_SALT, max_age=settings.SIGNUP_LINK_SECONDS)
    except signing.SignatureExpired:
        expired = _("This link has expired. Ask for a new one (lost confirmation email).")
        raise InvalidInput({"token": [expired]}) from None
    except signing.BadSignature:
        raise InvalidInput({"token": [_("This link is not valid.")]}) from None
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=data.get("u"), email=data.get("e")).first()
        if user is None:
            raise InvalidInput({"token": [_("This link is not valid.")]})
        if user.email_verified_at is not None:
            raise WrongState(_("This email address was confirmed already. Log in."))
        user.email_verified_at = now
        user.is_active = True
        user.save(update_fields=["email_verified_at", "is_active"])
        record(actor=user, action="user.verify-email", obj=user, object_type="user", at=now)
    return user


def verification_resend(*, email: str) -> None:
    """A new sign-up link for an account still waiting for one; says nothing about other addresses."""
    email = (email or "").strip()
    user = (
        User.objects.select_related("organisation")
        .filter(
            email__iexact=email, is_active=False, email_verified_at__isnull=True, organisation__isnull=False
        )
        .first()
    )
    if user is not None:
        verification_send(user)
