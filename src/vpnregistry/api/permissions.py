"""Role checks for API views."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.permissions import BasePermission

from vpnregistry.accounts.models import Role


def role_permission(*roles: str) -> type[BasePermission]:
    class HasRole(BasePermission):
        @property
        def message(self) -> str:
            """Worded when refused, so in the request's language, naming the roles as people read them."""
            labels = ", ".join(str(Role(role).label) if role in Role.values else role for role in roles)
            return _("Only a user with one of these roles can do this: %(roles)s.") % {"roles": labels}

        def has_permission(self, request, view):
            return bool(request.user and request.user.is_authenticated and request.user.role in roles)

    HasRole.__name__ = "HasRole_" + "_".join(roles)
    return HasRole
