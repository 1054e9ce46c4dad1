"""API tokens for machines: kept only as a digest, shown once when made; they expire and can be revoked."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from vpnregistry.accounts.models import ApiToken, User
from vpnregistry.db import fetch_prepared_together, reader

TOKEN_MARK = "vr_"
PREFIX_LENGTH = 8


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def token_prefix(key: str) -> str:
    """The short, non-secret part that names a token: the first characters after the mark."""
    return key.removeprefix(TOKEN_MARK)[:PREFIX_LENGTH]


def issue_token(user: User, *, key: str | None = None, at: datetime | None = None) -> str:
    """A new token for `user`, replacing any old one; the token is returned, and only its digest kept.

    `key` is for the demo world only (a token written in its accounts file, kept usable).
    """
    key = key or TOKEN_MARK + secrets.token_urlsafe(30)
    ApiToken.objects.filter(user=user).delete()
    ApiToken.objects.create(
        user=user, prefix=token_prefix(key), digest=token_digest(key), created=at or timezone.now()
    )
    return key


def revoke_token(user: User) -> bool:
    """Remove the user's token; whether there was one."""
    removed, _count = ApiToken.objects.filter(user=user).delete()
    return bool(removed)


def token_expires(token: ApiToken) -> datetime:
    return token.created + timedelta(days=settings.API_TOKEN_DAYS)


@functools.cache
def _token_sql() -> str:
    quote = connection.ops.quote_name
    # Names from the models' metadata, quoted; the digest goes as a parameter.
    return (
        f"SELECT {reader(ApiToken).select_list('t')}, {reader(User).select_list('u')} "  # noqa: S608
        f"FROM {quote(ApiToken._meta.db_table)} t JOIN {quote(User._meta.db_table)} u "
        f"ON u.{quote('id')} = t.{quote('user_id')} WHERE t.{quote('digest')} = %s"
    )


def _token_with_user(key: str, alongside: tuple[str, Sequence] | None = None) -> tuple[ApiToken | None, Any]:
    """The token and its user, in one query of plain SQL, found by the key's digest; and the first
    row of the `alongside` read, sent in the same round trip (None when there is none)."""
    reads = [(_token_sql(), [token_digest(key)])]
    if alongside is not None:
        reads.append(alongside)
    row, *others = fetch_prepared_together(reads)
    if row is None:
        return None, None
    tokens = reader(ApiToken)
    token = tokens.instance(row)
    token.user = reader(User).instance(row, start=tokens.width)
    return token, (others[0] if others else None)


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, refused once older than API_TOKEN_DAYS (a new one is issued, not
    renewed). Only the key's SHA-256 is stored; a leaked database holds no usable token.

    Every request of every operator's poll starts here, so the token and its user come in one query
    of plain SQL instead of a compiled `select_related` (a third of the cost of a 304 before). A
    revoked token is gone from the table, so revocation still takes effect at the next request. The
    time of last use is written at most once a minute, not on every request.
    """

    # A read the caller needs next, to go to the database with the token's (the fast path's single
    # check sends its holder's); its row is kept in `alongside_row` once the token is accepted, and
    # dropped otherwise.
    alongside: tuple[str, Sequence] | None = None
    alongside_row: tuple | None = None

    def authenticate_credentials(self, key):
        token, row = _token_with_user(key, self.alongside)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        now = timezone.now()
        if token_expires(token) <= now:
            raise exceptions.AuthenticationFailed(_("This token has expired; ask for a new one."))
        precision = timedelta(seconds=settings.API_TOKEN_LAST_USED_SECONDS)
        if token.last_used_at is None or token.last_used_at <= now - precision:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        self.alongside_row = row
        return token.user, token
