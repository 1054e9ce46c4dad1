"""The allowlist's fast path answers operators' polls exactly as the full stack does, or not at all."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.auth import login
from tests.factories import OperatorFactory, UserFactory, api_key
from tests.workflow import approved
from vpnregistry.allowlist.api import fastpath

FAST = "vpnregistry.allowlist.api.fastpath.AllowlistFastPath"


def _answer(settings, user_or_token, path, headers, *, fast: bool):
    stack = list(settings.MIDDLEWARE)
    assert FAST in stack
    if not fast:
        settings.MIDDLEWARE = [m for m in stack if m != FAST]
    client = APIClient()  # a new client loads the middleware as the settings now name it
    token = (
        user_or_token if user_or_token is None or isinstance(user_or_token, str) else api_key(user_or_token)
    )
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get(path, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    settings.MIDDLEWARE = stack
    return response.status_code, dict(response.headers), body


@pytest.fixture
def polls(world, monkeypatch):
    """The world with a published serial, and a count of the answers the fast path gave itself."""
    sabz = OperatorFactory(code="sabz", kind="mobile")
    world.sabz_staff = UserFactory(username="sabz-staff", role="operator", operator=sabz)
    approved(world, "14.1.105.0/24")
    answered = []
    original = fastpath.AllowlistFastPath.answer

    def counting(self, request):
        response = original(self, request)
        answered.append(response is not None)
        return response

    monkeypatch.setattr(fastpath.AllowlistFastPath, "answer", counting)
    world.answered = answered
    return world


def _etag(world, path):
    return world.client(world.operator).get(path).headers.get("ETag", '"x"')  # an exemption check has none


CASES = [
    # (who, path, headers, answered by the fast path)
    ("operator", "/api/v1/allowlist/index.json", {}, True),
    ("operator", "/api/v1/allowlist/index.json.minisig", {}, True),
    ("operator", "/api/v1/allowlist/latest.txt", {}, True),
    ("operator", "/api/v1/allowlist/latest.nft.minisig", {}, True),
    ("operator", "/api/v1/allowlist/1.json", {}, True),
    ("operator", "/api/v1/allowlist/latest.txt", {"HTTP_ACCEPT": "text/plain"}, True),
    ("officer", "/api/v1/allowlist/latest.bird", {}, True),
    ("auditor", "/api/v1/allowlist/latest.ipset", {}, True),
    ("sabz_staff", "/api/v1/allowlist/latest.msisdn.csv", {}, True),
    # Everything else goes on to the full stack, which answers with its reasons.
    ("sabz_staff", "/api/v1/allowlist/latest.msisdn.other.csv", {}, False),  # another's numbers
    ("operator", "/api/v1/allowlist/99.txt", {}, False),  # no such serial
    ("operator", "/api/v1/allowlist/1.exe", {}, False),  # no such file
    ("applicant", "/api/v1/allowlist/latest.txt", {}, False),  # a role that may not read it
    ("not-a-token", "/api/v1/allowlist/latest.txt", {}, False),
    (None, "/api/v1/allowlist/latest.txt", {}, False),
    ("operator", "/api/v1/allowlist/key.pub", {}, False),  # not a poll
    ("operator", "/api/v1/allowlist/operators/", {}, False),
    # Single exemption checks: a registered address, one not registered, an address in the past.
    ("operator", "/api/v1/exemptions/check?address=14.1.105.7", {}, True),
    ("officer", "/api/v1/exemptions/check?address=14.1.106.7", {"HTTP_ACCEPT": "*/*"}, True),
    ("auditor", "/api/v1/exemptions/check?address=14.1.105.7&at=2020-01-01T00:00", {}, True),
    ("operator", "/api/v1/exemptions/check?address=14.1.105.7", {"HTTP_ACCEPT": "application/json"}, True),
    ("operator", "/api/v1/exemptions/check?address=14.1.105.7", {"HTTP_ACCEPT": "text/html"}, False),
    ("operator", "/api/v1/exemptions/check?address=14.1.105.7&format=json", {}, False),
    ("operator", "/api/v1/exemptions/check?address=not-an-address", {}, False),  # the 400 names it
    ("operator", "/api/v1/exemptions/check?address=14.1.105.7&at=yesterday", {}, False),
    ("applicant", "/api/v1/exemptions/check?address=14.1.105.7", {}, False),
]


@pytest.mark.parametrize(("who", "path", "headers", "fast"), CASES)
def test_the_fast_path_answers_as_the_full_stack_does(polls, settings, who, path, headers, fast):
    user = getattr(polls, who, who) if who else None
    for conditional in (False, True):
        extra = dict(headers)
        if conditional and fast:
            extra["HTTP_IF_NONE_MATCH"] = _etag(polls, path) if who == "operator" else '"x"'
        polls.answered.clear()
        full = _answer(settings, user, path, extra, fast=False)
        assert polls.answered == []  # the full stack alone
        quick = _answer(settings, user, path, extra, fast=True)
        assert polls.answered == [fast]
        assert quick[0] == full[0] and _body(path, quick[2]) == _body(path, full[2])
        assert _differences(quick[1], full[1]) == {}


NOW = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?")


def _body(path: str, body: bytes) -> bytes:
    """The answer's bytes, but for the time in an exemption check that named none (it is now); the
    browsable API's page (both times from the full stack) carries a new CSRF token each time."""
    if b"<html" in body:
        return b"<html>"
    if "/exemptions/check" in path and not re.search(r"[?&]at=", path):
        return NOW.sub(b"<now>", body)
    return body


def _differences(quick: dict, full: dict) -> dict:
    """Headers that differ, but for one: the full stack reads the session for its two-factor check and
    so answers `Vary: Cookie`; the fast path never reads it, and its answer depends on the token alone."""
    quick, full = (
        {**h, "Vary": h["Vary"].replace(", Cookie", "")} if "Vary" in h else h for h in (quick, full)
    )
    return {k: (quick.get(k), full.get(k)) for k in quick.keys() | full.keys() if quick.get(k) != full.get(k)}


def test_a_revoked_token_is_refused_at_once(polls, settings):
    client = polls.client(polls.operator)
    assert client.get("/api/v1/allowlist/latest.txt").status_code == 200
    polls.operator.api_token.delete()
    assert client.get("/api/v1/allowlist/latest.txt").status_code == 401
    assert polls.answered[-1] is False


def test_the_throttle_counts_the_fast_path_and_refuses_through_the_full_stack(polls, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "user": "3/min"}
    cache.clear()
    client = polls.client(polls.operator)
    statuses = [client.get("/api/v1/allowlist/index.json").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert polls.answered == [True, True, True, False]
    assert "Retry-After" in client.get("/api/v1/allowlist/index.json")


def test_a_request_left_to_the_full_stack_is_counted_once(polls, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "user": "3/min"}
    cache.clear()
    client = polls.client(polls.operator)
    statuses = [client.get("/api/v1/allowlist/99.txt").status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]  # three counted, not six
    assert polls.answered == [False, False, False, False]


def test_other_methods_and_sessions_take_the_full_stack(polls):
    client = polls.client(polls.operator)
    assert client.post("/api/v1/allowlist/index.json").status_code == 405
    assert client.head("/api/v1/allowlist/index.json").status_code == 200
    assert polls.answered == []  # not even looked at
    session = APIClient()
    login(session, polls.auditor)  # password and second factor, as in the portal
    assert session.get("/api/v1/allowlist/index.json").status_code == 200
    assert polls.answered == [False]  # no token: declined


CHECK = "/api/v1/exemptions/check?address=14.1.105.7"


def _holder_reference(world) -> str:
    from vpnregistry.registrations.models import Registration

    return Registration.objects.get(value="14.1.105.0/24").reference


def test_a_single_check_reads_the_token_and_the_holder_in_one_round_trip(polls, monkeypatch):
    """The holder's read goes with the token's (one wait for the database)."""
    from vpnregistry.accounts import authentication
    from vpnregistry.restrictions import exemptions

    calls = []
    together = authentication.fetch_prepared_together

    def counting(reads):
        calls.append(len(reads))
        return together(reads)

    monkeypatch.setattr(authentication, "fetch_prepared_together", counting)
    monkeypatch.setattr(exemptions, "fetch_prepared", lambda *a: pytest.fail("a second round trip"))
    answer = polls.client(polls.operator).get(CHECK)
    assert answer.status_code == 200 and answer.json()["registration"] == _holder_reference(polls)
    assert calls == [2] and polls.answered == [True]


def _expire(world, settings):
    from datetime import timedelta

    from django.utils import timezone

    from vpnregistry.accounts.models import ApiToken

    old = timezone.now() - timedelta(days=settings.API_TOKEN_DAYS + 1)
    ApiToken.objects.filter(user=world.operator).update(created=old)


def _deactivate(world, settings):
    world.operator.is_active = False
    world.operator.save(update_fields=["is_active"])


def _throttle(world, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "user": "1/min"}
    cache.clear()
    assert world.client(world.operator).get(CHECK).status_code == 200  # the one the rate allows


@pytest.mark.parametrize(
    ("who", "prepare", "status"),
    [
        ("not-a-token", None, 401),
        ("operator", _expire, 401),
        ("operator", _deactivate, 401),
        ("applicant", None, 403),  # a role that may not check
        ("operator", _throttle, 429),
    ],
)
def test_a_refused_check_never_uses_the_holder_it_read(polls, settings, monkeypatch, who, prepare, status):
    """The holder's row came with the token's, but a refused caller's answer is the full stack's
    refusal: the fast path never shapes an answer from the row, and the body names nothing of it."""
    from vpnregistry.restrictions.api.views import ExemptionCheckView

    if prepare is not None:
        prepare(polls, settings)
    shaped = []
    monkeypatch.setattr(ExemptionCheckView, "respond_read", lambda self, request, row: shaped.append(row))
    polls.answered.clear()
    refused = (polls.client(getattr(polls, who)) if who != "not-a-token" else _client_with(who)).get(CHECK)
    assert refused.status_code == status
    assert shaped == [] and polls.answered == [False]
    assert _holder_reference(polls).encode() not in refused.content and b"14.1.105" not in refused.content


def _client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client
