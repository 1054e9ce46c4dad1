"""Restriction events: published orders restricting services, and the registrations exempt under them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vpnregistry.accounts.models import District, Province


class Service(models.Model):
    """A service an order can restrict: a network, a named application or a VPN protocol (kept as data)."""

    class Kind(models.TextChoices):
        NETWORK = "network", _("Network")
        APPLICATION = "application", _("Application")
        VPN_PROTOCOL = "vpn-protocol", _("VPN protocol")

    code = models.SlugField(unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class RestrictionEvent(models.Model):
    """A published order restricting services for a time, nationally or in some provinces and districts."""

    title = models.CharField(max_length=200)
    legal_reference = models.CharField(
        max_length=200, help_text=_("The order's number and issuing authority")
    )
    description = models.TextField(blank=True)
    national = models.BooleanField(default=False)
    provinces = models.ManyToManyField(Province, blank=True, related_name="+")
    districts = models.ManyToManyField(District, blank=True, related_name="+")
    services = models.ManyToManyField(Service, related_name="events")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["starts_at", "ends_at"], name="event_window")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="event_order")
        ]

    def __str__(self) -> str:
        return self.title

    def covers(
        self, *, district_id: int | None, province_id: int | None, districts: set[int], provinces: set[int]
    ) -> bool:
        """Whether a resource located there is in this event's scope (known-location rules in docs)."""
        if self.national or district_id is None:
            return True
        return district_id in districts or province_id in provinces
