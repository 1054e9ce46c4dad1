"""Snapshots of the allowlist and who has fetched them; once written, a snapshot never changes."""

from __future__ import annotations

from django.db import models

from vpnregistry.accounts.models import Operator


class Snapshot(models.Model):
    session = models.CharField(max_length=36)
    serial = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField()
    # The canonical JSON document (with every mobile operator's numbers); every file is rendered from it.
    content = models.TextField()
    sha256 = models.CharField(max_length=64)
    ipv4_count = models.PositiveIntegerField(default=0)
    ipv6_count = models.PositiveIntegerField(default=0)
    msisdn_count = models.PositiveIntegerField(default=0)
    # name -> {"sha256", "size"} of every file published for this serial (formats, delta, per-operator lists)
    files = models.JSONField(default=dict)

    class Meta:
        ordering = ["-serial"]
        get_latest_by = "serial"

    def __str__(self) -> str:
        return f"serial {self.serial}"


class OperatorSync(models.Model):
    """The latest download of each operator, so that the regulator sees who runs behind."""

    operator = models.OneToOneField(Operator, on_delete=models.CASCADE, related_name="sync")
    last_serial = models.PositiveBigIntegerField(null=True, blank=True)
    last_file = models.CharField(max_length=80, blank=True)
    last_seen = models.DateTimeField()
    downloads = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["operator__name"]

    def __str__(self) -> str:
        return f"{self.operator}: serial {self.last_serial}"


class SignedIndex(models.Model):
    """The one current index document and its signature, replaced together in one transaction."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    session = models.CharField(max_length=36)
    serial = models.PositiveBigIntegerField()
    content = models.TextField()
    signature = models.TextField()
    sha256 = models.CharField(max_length=64)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="signed_index_singleton")]

    def __str__(self) -> str:
        return f"index at serial {self.serial}"
