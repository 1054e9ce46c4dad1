from django.db import models


class SigningPublicKey(models.Model):
    """A public key the registry has signed with or announced, kept for good once first seen.

    Servers are given their signing key (VPNREGISTRY_SIGNING_KEY_FILE) and forget it at the next
    deploy; what was signed with it (checkpoints, statements) still verifies on any server from here.
    """

    key_id = models.CharField(max_length=16, unique=True)  # as minisign prints it
    public = models.CharField(max_length=64)  # the base64 line of a minisign public key
    first_seen = models.DateTimeField()

    class Meta:
        db_table = "allowlist_signingpublickey"  # made by the allowlist app before this one existed
        ordering = ["first_seen", "id"]

    def __str__(self) -> str:
        return f"key {self.key_id}"
