"""One append-only record per change; each carries the hash of the one before it."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError(f"{self.model._meta.verbose_name_plural} are append-only")

    def delete(self):
        raise PermissionError(f"{self.model._meta.verbose_name_plural} are append-only")


class AppendOnly(models.Model):
    """A row that is written once: saving it again or deleting it is refused."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError(f"{self._meta.verbose_name_plural} are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{self._meta.verbose_name_plural} are append-only")


class AuditEvent(AppendOnly):
    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    # Not unique in the database: `seq` is, and each hash covers its seq, so two records cannot share
    # one; nothing seeks a record by its hash. The index a unique hash needs took a random page
    # write for every record (170 MB at a million records), the most costly of a bulk import's.
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "audit events"
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_seq"),
            # The auditors' filters page backwards by seq; these keep each page an index walk.
            models.Index(fields=["action", "seq"], name="audit_action_seq"),
            models.Index(fields=["actor_label", "seq"], name="audit_actor_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class Checkpoint(AppendOnly):
    """A signed statement of the log's length and latest hash, published so that truncation shows."""

    count = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    day = models.DateField(db_index=True)  # the UTC day it was made for: one a day unless forced
    key_id = models.CharField(max_length=16)
    body = models.TextField()  # the exact JSON that was signed, served byte for byte
    signature = models.TextField()  # the `.minisig` text

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "checkpoints"

    def __str__(self) -> str:
        return f"checkpoint {self.day} of {self.count} records"


class VerifyRun(AppendOnly):
    """The outcome of one `verify-log` run, shown to auditors so that page views need no scan."""

    at = models.DateTimeField()
    ok = models.BooleanField()
    checked = models.PositiveBigIntegerField()
    first_bad_seq = models.PositiveBigIntegerField(null=True, blank=True)
    problem = models.TextField(blank=True)
    checkpoints = models.PositiveIntegerField(default=0)  # how many checkpoints were compared

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "verify runs"

    def __str__(self) -> str:
        return f"verify run {self.at:%Y-%m-%d %H:%M}: {'ok' if self.ok else 'broken'}"
