"""API tokens for machines: they expire, and they can be revoked."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token, refused once older than VPNREGISTRY_TOKEN_DAYS (a new one is issued, not renewed)."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token.created + timedelta(days=settings.API_TOKEN_DAYS) <= timezone.now():
            raise exceptions.AuthenticationFailed("This token has expired; ask for a new one.")
        return user, token
