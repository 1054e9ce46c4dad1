"""API tokens expire and can be revoked; a revoked or expired token is refused with a reason."""

from __future__ import annotations

import io
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token


def test_an_expired_token_is_refused_with_a_reason(world, settings):
    settings.API_TOKEN_DAYS = 30
    assert world.client(world.operator).get("/api/v1/me/").status_code == 200
    Token.objects.filter(user=world.operator).update(created=timezone.now() - timedelta(days=31))
    response = world.client(world.operator).get("/api/v1/me/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_a_caller_revokes_its_own_token(world):
    client = world.client(world.operator)
    assert client.delete("/api/v1/me/token/").status_code == 204
    assert client.get("/api/v1/me/").status_code == 401
    assert world.client(world.officer).get("/api/v1/me/").status_code == 200  # others unaffected


def test_tokens_are_issued_and_revoked_by_command(world):
    out = io.StringIO()
    call_command("tokens", "issue", "indus-staff", stdout=out)
    key = out.getvalue().strip()
    assert Token.objects.get(user=world.operator).key == key  # the old one is replaced
    call_command("tokens", "revoke", "indus-staff", stdout=io.StringIO())
    assert not Token.objects.filter(user=world.operator).exists()
    listing = io.StringIO()
    call_command("tokens", "list", stdout=listing)
    assert "officer" in listing.getvalue() and "indus-staff" not in listing.getvalue()
