"""Who may call API views: role checks, and the public lookups (no sign-in; the per-address limit
the portal's pages share)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.views import APIView

from vpnregistry.roles import Role
from vpnregistry.throttling import AnonymousRate, LookupRate


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


class PublicLookup(APIView):
    """A lookup by code or secret anyone may make: no authentication (so no CSRF), counted per address."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonymousRate, LookupRate]
