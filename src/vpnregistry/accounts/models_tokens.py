"""API tokens, kept as a SHA-256 digest: the token itself is shown once, when made, and never stored.

Imported by `accounts.models`, so this is a model of the accounts app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A user's API token (one at most, as before): its digest, a short prefix to tell it by, its times.

    A token is 40 random URL-safe characters after `vr_` (240 bits): a digest of so much entropy
    needs no salt nor a slow hash, and is found by its unique index. The prefix (the first 8
    characters after `vr_`) is not secret: it names the token on its owner's pages and in lists.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token")
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField()
    # When it was last used, to the minute or so: written at most once a minute, not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.prefix}… of {self.user_id}"
