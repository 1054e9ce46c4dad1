"""A snapshot is the allowlist at one serial; once written, its bytes never change."""

from __future__ import annotations

from django.db import models


class Snapshot(models.Model):
    session = models.CharField(max_length=36)
    serial = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField()
    # The canonical JSON document; every format is rendered from it.
    content = models.TextField()
    sha256 = models.CharField(max_length=64)
    ipv4_count = models.PositiveIntegerField(default=0)
    ipv6_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-serial"]
        get_latest_by = "serial"

    def __str__(self) -> str:
        return f"serial {self.serial}"
