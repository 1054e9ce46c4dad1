"""Hold a session that still owes its second factor at the login's second step, for every view."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from vpnregistry.accounts.two_factor import SESSION_REQUIRED_KEY, must_use_totp

# What a session may reach before its second step: the step itself, leaving, the language switch.
OPEN_BEFORE_SECOND_STEP = frozenset(
    {"portal:login", "portal:login-otp", "portal:logout", "set_language", "healthz", "readyz", "metrics"}
)


class TwoFactorMiddleware:
    """After django-otp's OTPMiddleware: a staff session (or an enrolled applicant's) not yet verified
    is sent to `/login/otp/` from every portal page, and counts as anonymous in the API, where a
    machine's token still works as before. New views are covered without doing anything.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not user.is_verified() and self._owes_second_step(request, user):
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            if match is None or match.view_name not in OPEN_BEFORE_SECOND_STEP:
                if request.path_info.startswith(settings.STATIC_URL):
                    return self.get_response(request)
                if match is not None and "api" in match.namespaces:
                    request.user = AnonymousUser()
                    return self.get_response(request)
                query = {"next": request.get_full_path()} if request.method == "GET" else {}
                target = redirect("portal:login-otp").url
                return redirect(f"{target}?{urlencode(query)}" if query else target)
        return self.get_response(request)

    @staticmethod
    def _owes_second_step(request, user) -> bool:
        return owes_second_step(request, user)


def owes_second_step(request, user) -> bool:
    return must_use_totp(user) or bool(request.session.get(SESSION_REQUIRED_KEY))


def fully_signed_in(request) -> bool:
    """A signed-in user who has given every step their login asks for (the password, and the TOTP
    code when one is owed): what may change the account's own settings."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    verified = getattr(user, "is_verified", None)
    return bool(verified and verified()) or not owes_second_step(request, user)
