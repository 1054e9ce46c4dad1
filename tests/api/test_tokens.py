"""API tokens are kept only as a digest and shown once; they expire and can be revoked; their owner
sees when they expire and were last used."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import api_key
from tests.migrating import migrate_to, migrate_to_latest
from vpnregistry.accounts.authentication import token_digest
from vpnregistry.accounts.models import ApiToken


def test_an_expired_token_is_refused_with_a_reason(world, settings):
    settings.API_TOKEN_DAYS = 30
    assert world.client(world.operator).get("/api/v1/me/").status_code == 200
    ApiToken.objects.filter(user=world.operator).update(created=timezone.now() - timedelta(days=31))
    response = world.client(world.operator).get("/api/v1/me/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_a_caller_revokes_its_own_token(world):
    client = world.client(world.operator)
    assert client.delete("/api/v1/me/token/").status_code == 204
    assert client.get("/api/v1/me/").status_code == 401
    assert world.client(world.officer).get("/api/v1/me/").status_code == 200  # others unaffected


def test_tokens_are_issued_once_and_revoked_by_command(world):
    out = io.StringIO()
    call_command("tokens", "issue", "indus-staff", stdout=out)
    key = out.getvalue().strip()
    stored = ApiToken.objects.get(user=world.operator)  # the old one is replaced
    assert stored.digest == hashlib.sha256(key.encode()).hexdigest() and key.startswith("vr_" + stored.prefix)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me/").status_code == 200
    assert world.client(world.operator).get("/api/v1/me/").status_code == 401  # the old one
    listing = io.StringIO()
    call_command("tokens", "list", stdout=listing)
    assert f"vr_{stored.prefix}" in listing.getvalue() and key not in listing.getvalue()
    call_command("tokens", "revoke", "indus-staff", stdout=io.StringIO())
    assert not ApiToken.objects.filter(user=world.operator).exists()
    listing = io.StringIO()
    call_command("tokens", "list", stdout=listing)
    assert "officer" in listing.getvalue() and "indus-staff" not in listing.getvalue()


def test_the_database_holds_no_token(world):
    key = api_key(world.operator)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        rows = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)
    assert rows and not any(key in str(row) or key[3:] in str(row) for row in rows)


def test_its_owner_sees_its_prefix_expiry_and_last_use_written_at_most_once_a_minute(world, settings):
    settings.API_TOKEN_DAYS = 30
    settings.API_TOKEN_LAST_USED_SECONDS = 60
    ApiToken.objects.filter(user=world.operator).update(last_used_at=None)  # never used
    client = world.client(world.operator)
    body = client.get("/api/v1/me/token/").json()
    token = ApiToken.objects.get(user=world.operator)
    assert body["prefix"] == token.prefix == api_key(world.operator)[3:11]
    assert body["expires"].startswith(f"{timezone.localtime(token.created + timedelta(days=30)):%Y-%m-%d}")
    assert body["last_used_at"] is not None  # this very request
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    client.get("/api/v1/me/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first  # not written again within the minute
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/v1/me/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first - timedelta(minutes=2)
    assert "digest" not in body and api_key(world.operator) not in str(body)
    # A session user without a token: 404.
    ApiToken.objects.filter(pk=token.pk).delete()
    session = APIClient()
    session.force_authenticate(world.operator)
    assert session.get("/api/v1/me/token/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_migration_hashes_the_tokens_in_clear_and_they_keep_working():
    old = migrate_to([("accounts", "0006_number_blocks"), ("authtoken", "0004_alter_tokenproxy_options")])
    try:
        User = old.get_model("accounts", "User")
        Token = old.get_model("authtoken", "Token")
        user = User.objects.create(username="machine", role="officer")
        Token.objects.create(user=user, key="0123456789abcdef0123456789abcdef01234567")
        migrate_to([("accounts", "0007_api_tokens")])
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM authtoken_token")
            assert cursor.fetchone() == (0,)
        stored = ApiToken.objects.get(user_id=user.pk)
        assert stored.digest == token_digest("0123456789abcdef0123456789abcdef01234567")
        assert stored.prefix == "01234567"
        # The code of today reads today's tables (a user has a language since accounts 0010).
        migrate_to_latest()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
        assert client.get("/api/v1/me/").status_code == 200
    finally:
        migrate_to_latest()
