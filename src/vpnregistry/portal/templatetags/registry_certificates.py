"""`{% certificate_links application %}`: the holder's certificate downloads on an application's page."""

from __future__ import annotations

from django import template

from vpnregistry.accounts.models import Role
from vpnregistry.registrations.models import Registration

register = template.Library()


@register.inclusion_tag("portal/_certificate_links.html", takes_context=True)
def certificate_links(context, application):
    """One link per registration the application led to, for applicant members of its organisation."""
    user = context["request"].user
    if getattr(user, "role", None) != Role.APPLICANT or application.organisation_id != user.organisation_id:
        return {"registrations": []}
    registrations = Registration.objects.filter(resource__application=application).order_by("family", "first")
    return {"registrations": list(registrations.only("id", "value", "reference", "state"))}
