"""Logging a test client in to the portal the way a person does: password, then (staff) the TOTP step."""

from __future__ import annotations

import time
from base64 import b32decode

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from vpnregistry.accounts.two_factor import base32_secret, must_use_totp


def device_for(user) -> TOTPDevice:
    """The user's confirmed authenticator, made on first use (as if the user had set one up)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def totp_secret(user) -> str:
    """The base32 secret of the user's authenticator, as a person types it into an app."""
    return base32_secret(device_for(user))


def _key(secret: str) -> bytes:
    secret = secret.replace(" ", "").upper()
    return b32decode(secret + "=" * (-len(secret) % 8))


def code(secret: str, *, steps_ahead: int = 0) -> str:
    """The current TOTP code of a base32 secret (RFC 6238, 30 s, 6 digits), as an app shows it."""
    return f"{totp(_key(secret), drift=steps_ahead):06d}"


_typed: dict[str, int] = {}


def fresh_code(secret: str) -> str:
    """The code a person would type at a login: the current one, or the next one when the current
    was already typed (the registry takes each time step once), waiting for it if need be.
    """
    clock = TOTP(_key(secret))
    step = max(clock.t(), _typed.get(secret, -1) + 1)
    while step > clock.t() + 1:  # one step ahead is accepted; further ahead, wait as a person would
        time.sleep(1)
    _typed[secret] = step
    clock.time = step * clock.step
    return f"{clock.token():06d}"


def login(client, user, *, second_factor: bool = True):
    """Sign `user` in to the client's session, and for staff mark it verified as `django_otp.login` does.

    `second_factor=False` stops after the password, as a staff member who has not yet given a code.
    """
    client.force_login(user)
    if second_factor and must_use_totp(user):
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device_for(user).persistent_id
        session.save()
    return client
