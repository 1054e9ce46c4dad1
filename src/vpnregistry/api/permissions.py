"""Role checks for API views."""

from __future__ import annotations

from rest_framework.permissions import BasePermission


def role_permission(*roles: str) -> type[BasePermission]:
    class HasRole(BasePermission):
        message = f"This needs one of the roles: {', '.join(roles)}."

        def has_permission(self, request, view):
            return bool(request.user and request.user.is_authenticated and request.user.role in roles)

    HasRole.__name__ = "HasRole_" + "_".join(roles)
    return HasRole
