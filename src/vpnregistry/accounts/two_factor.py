"""Two-factor authentication with TOTP (django-otp): who must use it, enrolment, checking a code.

Staff (agency, operator, officer, auditor) must pass a second step after their password before the
portal lets them in; an applicant may enrol, and then must pass it too. API tokens are for machines
and are not subject to it. django-otp keeps the device (secret, last time step used, throttling);
`django_otp.login` marks a session as verified, and its middleware reads that back on each request.
"""

from __future__ import annotations

import logging
import math
from base64 import b32encode
from dataclasses import dataclass

import django_otp
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from vpnregistry.accounts.models import Role, User
from vpnregistry.audit.services import record
from vpnregistry.errors import InvalidInput, NotAllowed

logger = logging.getLogger(__name__)

STAFF_ROLES = frozenset({Role.AGENCY, Role.OPERATOR, Role.OFFICER, Role.AUDITOR})
# Set at login when the user has a confirmed device, so that an enrolled applicant is held to it
# without a query on every request.
SESSION_REQUIRED_KEY = "vr_otp_required"


def must_use_totp(user: User) -> bool:
    return user.role in STAFF_ROLES


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("id").first()


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled: the same secret on every visit until it is confirmed."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("-id").first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def base32_secret(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in (RFC 4648 base32, no padding)."""
    return b32encode(device.bin_key).decode().rstrip("=")


@dataclass(frozen=True)
class Refusal:
    message: str


def _check(device: TOTPDevice, token: str) -> Refusal | None:
    """Check a code against a device locked for update; None when it is accepted.

    django-otp refuses a code of a time step already used (`last_t`), and after each failure makes
    the next try wait twice as long (OTP_TOTP_THROTTLE_FACTOR seconds, then 2x, 4x, ...).
    """
    allowed, info = device.verify_is_allowed()
    if not allowed:
        wait = max(1, math.ceil((info["locked_until"] - timezone.now()).total_seconds()))
        return Refusal(
            ngettext(
                "Too many wrong codes. Try again in %(seconds)d second.",
                "Too many wrong codes. Try again in %(seconds)d seconds.",
                wait,
            )
            % {"seconds": wait}
        )
    token = token.strip().replace(" ", "")
    if token.isdigit() and len(token) == device.digits:
        accepted = device.verify_token(token)  # counts a failure itself
    else:
        device.throttle_increment()
        accepted = False
    if not accepted:
        logger.warning("a wrong two-factor code for user %s", device.user_id)
        return Refusal(_("That code is not right, or was already used. Enter the current code."))
    return None


def verify(request, token: str) -> Refusal | None:
    """The login's second step: check a code of the user's confirmed device; mark the session verified."""
    user = request.user
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("id").first()
        )
        if device is None:
            return Refusal(_("You have no authenticator yet; set one up first."))
        refusal = _check(device, token)
    if refusal is None:
        _mark_verified(request, device)
    return refusal


def confirm_enrolment(request, token: str) -> Refusal | None:
    """Confirm the pending device with a code from it; the user is then verified in this session."""
    user = request.user
    with transaction.atomic():
        if TOTPDevice.objects.devices_for_user(user, confirmed=True).exists():
            raise NotAllowed(_("An authenticator is already set up for this account."))
        device = (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-id").first()
        )
        if device is None:
            raise InvalidInput({"token": [_("Start the set-up again: no secret was shown to you.")]})
        refusal = _check(device, token)
        if refusal is None:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            record(actor=user, action="account.totp-enrol", obj=user, object_type="user")
    if refusal is None:
        _mark_verified(request, device)
    return refusal


def _mark_verified(request, device: TOTPDevice) -> None:
    # A new session key for the raised privilege, then django-otp's own marker in the session.
    request.session.cycle_key()
    django_otp.login(request, device)
    request.session[SESSION_REQUIRED_KEY] = True


def reset(*, actor: User | None, user: User, reason: str = "") -> int:
    """Remove a user's authenticators (a lost phone): they set up a new one at their next login."""
    if actor is not None and actor.role != Role.OFFICER:
        raise NotAllowed(_("Only an officer resets another account's authenticator."))
    with transaction.atomic():
        removed, _rows = TOTPDevice.objects.filter(user=user).delete()
        record(actor=actor, action="account.totp-reset", obj=user, object_type="user", reason=reason)
    return removed


def note_enrolment_at_login(sender, request, user, **kwargs) -> None:
    """At a password login: an applicant who enrolled an authenticator owes the second step too."""
    if request is not None and hasattr(request, "session") and not must_use_totp(user):
        if TOTPDevice.objects.devices_for_user(user, confirmed=True).exists():
            request.session[SESSION_REQUIRED_KEY] = True
        else:
            request.session.pop(SESSION_REQUIRED_KEY, None)


def provision(*, user: User) -> TOTPDevice:
    """A confirmed authenticator made here rather than scanned (the demo accounts): replaces any old one.

    Whoever receives its secret can log in as the user; the demo writes it to a 0600 file.
    """
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name="provisioned", confirmed=True)
        record(
            actor=None, action="account.totp-enrol", obj=user, object_type="user", data={"provisioned": True}
        )
    return device
