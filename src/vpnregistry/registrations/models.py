"""A registration is an approved resource with a validity window."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vpnregistry.accounts.models import Operator, Organisation
from vpnregistry.applications.models import Resource
from vpnregistry.db import KEY_WIDTH


class Registration(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")
        SURRENDERED = "surrendered", _("Surrendered")

    resource = models.OneToOneField(Resource, on_delete=models.PROTECT, related_name="registration")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="registrations")
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="registrations")
    kind = models.CharField(max_length=10, choices=Resource.Kind.choices)
    value = models.CharField(max_length=43)
    family = models.PositiveSmallIntegerField(null=True, blank=True)
    first = models.CharField(max_length=KEY_WIDTH, blank=True)
    last = models.CharField(max_length=KEY_WIDTH, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.ACTIVE)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-valid_from", "-id"]
        indexes = [
            models.Index(fields=["state", "family", "first"], name="reg_state_family_first"),
            models.Index(fields=["organisation", "state"], name="reg_org_state"),
            models.Index(fields=["state", "valid_until"], name="reg_state_until"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("valid_from")), name="reg_window_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value} ({self.get_state_display()})"
