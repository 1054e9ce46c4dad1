"""The login's second step: staff need a TOTP code after the password; applicants may choose it."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tests.auth import code, device_for, login, totp_secret
from tests.factories import PASSWORD, api_key
from tests.test_authorization_matrix import RULES, ctx  # noqa: F401 (ctx is a fixture)
from vpnregistry.accounts import two_factor
from vpnregistry.accounts.middleware import OPEN_BEFORE_SECOND_STEP
from vpnregistry.audit.models import AuditEvent
from vpnregistry.errors import NotAllowed

pytestmark = pytest.mark.django_db

STAFF = ["agency", "operator", "officer", "auditor"]


def password_step(client, user, **extra):
    response = client.post("/login/", {"username": user.username, "password": PASSWORD, **extra})
    assert response.status_code == 302, response.content
    return response


def wrong_code_for(secret: str) -> str:
    """A well-formed code that no step in the accepted window (previous, current, next) has."""
    near = {code(secret, steps_ahead=k) for k in (-2, -1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c not in near)


def send_code(client, token, next_url="/"):
    return client.post("/login/otp/", {"token": token, "next": next_url})


def secret_on_page(html: str) -> str:
    match = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html)
    assert match, html
    return match.group(1).replace(" ", "")


@pytest.mark.parametrize("role", STAFF)
def test_staff_password_alone_reaches_no_portal_page(client, world, role):
    user = getattr(world, role)
    device_for(user)
    assert password_step(client, user)["Location"] == "/"
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/login/otp/?next=%2F"
    for path in ["/applications/", "/allowlist/", "/audit/", "/complaints/", "/account/two-factor/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/otp/"), path
    # The half-open session is not a way into the API either.
    assert client.get("/api/v1/me/").status_code in {401, 403}
    page = client.get("/login/otp/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html
    assert '<label for="id_token">' in html
    # Nothing of the portal is offered until the step is done, but logging out is.
    assert "/applications/" not in html and "/logout/" in html


@pytest.mark.parametrize("role", STAFF)
def test_the_right_code_lets_staff_in_with_a_new_session_key(client, world, role):
    user = getattr(world, role)
    secret = totp_secret(user)
    password_step(client, user)
    assert client.get("/allowlist/")["Location"] == "/login/otp/?next=%2Fallowlist%2F"
    before = client.cookies["sessionid"].value
    response = send_code(client, code(secret), next_url="/allowlist/")
    assert response.status_code == 302 and response["Location"] == "/allowlist/"
    assert client.cookies["sessionid"].value != before
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200  # the verified session also serves the API
    # Once verified, the step only sends the user on.
    assert client.get("/login/otp/")["Location"] == "/"


def test_an_offsite_next_is_not_followed(client, world):
    secret = totp_secret(world.officer)
    password_step(client, world.officer)
    response = send_code(client, code(secret), next_url="https://elsewhere.example/")
    assert response["Location"] == "/"


def test_a_wrong_code_is_refused_and_the_next_try_must_wait(client, world, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 600  # so that "at once" is surely within the wait
    secret = totp_secret(world.officer)
    password_step(client, world.officer)
    for bad in [wrong_code_for(secret), "12ab56", "1234567"]:
        response = send_code(client, bad)
        assert response.status_code == 200
        assert 'role="alert"' in response.content.decode()
        assert client.get("/")["Location"].startswith("/login/otp/")
        # Each failure makes the wait longer; the right code is then refused too, until it passes.
        response = send_code(client, code(secret))
        assert response.status_code == 200 and "Too many wrong codes" in response.content.decode()
        assert client.get("/")["Location"].startswith("/login/otp/")
        TOTPDevice.objects.filter(user=world.officer).update(
            throttling_failure_timestamp=TOTPDevice.objects.get(
                user=world.officer
            ).throttling_failure_timestamp
            - timedelta(days=3650)
        )
    assert TOTPDevice.objects.get(user=world.officer).throttling_failure_count == 3
    assert send_code(client, code(secret))["Location"] == "/"
    assert TOTPDevice.objects.get(user=world.officer).throttling_failure_count == 0
    assert client.get("/").status_code == 200


def test_a_code_is_never_accepted_twice(client, world):
    secret = totp_secret(world.operator)
    used = code(secret)
    password_step(client, world.operator)
    assert send_code(client, used)["Location"] == "/"
    client.post("/logout/")
    password_step(client, world.operator)
    response = send_code(client, used)
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert client.get("/")["Location"].startswith("/login/otp/")


def test_applicants_are_not_asked(client, world):
    password_step(client, world.applicant)
    assert client.get("/").status_code == 200
    assert client.get("/login/otp/")["Location"] == "/"


def test_api_tokens_work_for_staff_without_any_code(world):
    assert not TOTPDevice.objects.exists()
    for role in STAFF:
        user = getattr(world, role)
        token_only = world.client(user)
        assert token_only.get("/api/v1/me/").status_code == 200
        # A half-open portal session beside the token changes nothing for the token.
        both = login(APIClient(), user, second_factor=False)
        both.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
        assert both.get("/api/v1/me/").status_code == 200


def test_staff_without_an_authenticator_set_one_up_at_login(client, world):
    password_step(client, world.agency)
    page = client.get("/login/otp/").content.decode()
    secret = secret_on_page(page)
    assert "otpauth://totp/vpnregistry%3Areviewer?secret=" in page
    assert 'src="data:image/svg+xml' in page
    # The same secret until it is confirmed, and no way around the step meanwhile.
    assert secret_on_page(client.get("/login/otp/").content.decode()) == secret
    assert client.get("/")["Location"].startswith("/login/otp/")
    response = send_code(client, wrong_code_for(secret))
    assert response.status_code == 200 and not TOTPDevice.objects.filter(confirmed=True).exists()
    TOTPDevice.objects.update(throttling_failure_timestamp=None, throttling_failure_count=0)
    assert send_code(client, code(secret))["Location"] == "/"
    device = TOTPDevice.objects.get(user=world.agency)
    assert device.confirmed
    assert AuditEvent.objects.filter(action="account.totp-enrol", actor=world.agency).count() == 1
    assert client.get("/").status_code == 200
    # At the next login the step asks for a code, and shows no secret any more.
    client.post("/logout/")
    password_step(client, world.agency)
    page = client.get("/login/otp/").content.decode()
    assert 'id="totp-secret"' not in page and "otpauth://" not in page
    assert send_code(client, code(secret, steps_ahead=1))["Location"] == "/"


def test_an_applicant_may_choose_a_second_step(client, world):
    login(client, world.applicant)
    secret = secret_on_page(client.get("/account/two-factor/").content.decode())
    response = client.post("/account/two-factor/", {"token": code(secret)})
    assert response.status_code == 302
    assert "guards this account" in client.get("/account/two-factor/").content.decode()
    assert AuditEvent.objects.filter(action="account.totp-enrol", actor=world.applicant).exists()
    client.post("/logout/")
    password_step(client, world.applicant)
    assert client.get("/applications/")["Location"] == "/login/otp/?next=%2Fapplications%2F"
    assert send_code(client, code(secret, steps_ahead=1), "/applications/")["Location"] == "/applications/"
    assert client.get("/applications/").status_code == 200


def test_a_reset_authenticator_ends_the_verified_session_and_asks_for_a_new_one(client, world):
    login(client, world.officer)
    assert client.get("/").status_code == 200
    out = io.StringIO()
    call_command("totp", "reset", "officer", "--reason", "lost phone", stdout=out)
    assert "Removed" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=world.officer).exists()
    assert AuditEvent.objects.filter(action="account.totp-reset", reason="lost phone").exists()
    assert client.get("/")["Location"].startswith("/login/otp/")
    assert 'id="totp-secret"' in client.get("/login/otp/").content.decode()
    listing = io.StringIO()
    call_command("totp", "list", stdout=listing)
    assert re.search(r"officer\s+officer\s+not enrolled", listing.getvalue())


def test_every_route_is_held_at_the_second_step(ctx, world):  # noqa: F811 (the imported fixture)
    """A half-open staff session gets, from every URL of the matrix, what an anonymous caller gets,
    except that portal pages send it to the second step; only the step itself and leaving are open.
    """
    for name, rules in RULES.items():
        for rule in rules:
            url = rule.url(ctx)
            responses = []
            for client in [APIClient(), login(APIClient(), world.officer, second_factor=False)]:
                with transaction.atomic():
                    call = getattr(client, rule.method.lower())
                    responses.append(call(url, rule.data(ctx), format="json" if rule.json else None))
                    transaction.set_rollback(True)
            anonymous, half_open = responses
            if name in OPEN_BEFORE_SECOND_STEP or name.startswith("api:"):
                if name not in {"portal:login-otp", "portal:logout"}:
                    assert half_open.status_code == anonymous.status_code, (name, url)
            else:
                assert half_open.status_code == 302, (name, url)
                assert half_open["Location"].startswith("/login/otp/"), (name, url)


def test_only_an_officer_resets_another_accounts_authenticator(world):
    device_for(world.operator)
    for actor in [world.auditor, world.operator, world.applicant]:
        with pytest.raises(NotAllowed):
            two_factor.reset(actor=actor, user=world.operator)
    assert TOTPDevice.objects.filter(user=world.operator).exists()
    assert two_factor.reset(actor=world.officer, user=world.operator, reason="new phone") == 1
    assert AuditEvent.objects.filter(action="account.totp-reset", actor=world.officer).exists()
