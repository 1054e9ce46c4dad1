"""Operators' polls of the allowlist and their single exemption checks, answered without the rest of
the middleware and of DRF.

Hundreds of operators revalidate the signed index and their files every minute, and most answers
are a 304 of a few headers. Through the whole stack (sessions, CSRF, two-factor, messages, axes, DRF's
negotiation and request wrapping) such an answer cost three times the work of the answer itself
(`make loadtest`). This middleware, placed after the checks that hold for every request, answers
exactly those polls it can answer as the API would, with the API's own code: the token is checked
by the API's authentication class, the role by the view's permission class, the rate by the API's
throttles, and the answer comes from the view's own `respond`. Anything else goes on down the full
stack unchanged and gets the API's answer with its reasons: another method, no token or a session,
a bad, expired or revoked token, another role, a refusal by a throttle, an unknown serial or file.
`tests/allowlist/test_fastpath.py` compares both answers, header by header.

A single exemption check (`GET /api/v1/exemptions/check?address=`) is the other call operators make
tens of times a second; at a million registrations the stack around its one index seek was most of
its time, and it takes the same path. Its one read (the address's holder) goes to the database in
the same round trip as the token's (the view's `read_ahead`), and its row is used only once the
token, the role and the rate have allowed the request. The read is sent before the token is
judged, so a request with a bad token costs the database that index seek as well as the token's
reads (the fast path's and the full stack's, which words the 401); the API's rates, which come
after authentication, never counted such requests. Its answer names a registration, so it carries `no-store`
as the full stack's NoStoreMiddleware would add; the allowlist's files set their own Cache-Control.

The views it answers for are imported with the module: Django loads middleware once the apps are
ready, as the token check's models need too.
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware
from django.http import Http404
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.urls import Resolver404, resolve
from rest_framework import exceptions

from vpnregistry.accounts.authentication import ExpiringTokenAuthentication
from vpnregistry.allowlist.api.views import (
    AllowlistFileSignatureView,
    AllowlistFileView,
    AllowlistIndexSignatureView,
    AllowlistIndexView,
)
from vpnregistry.errors import RegistryError
from vpnregistry.restrictions.api.views import ExemptionCheckView

PREFIX = "/api/v1/allowlist/"
EXEMPTION_CHECK = "/api/v1/exemptions/check"


class AllowlistFastPath:
    def __init__(self, get_response):
        self.get_response = get_response
        self.views = {
            AllowlistIndexView,
            AllowlistIndexSignatureView,
            AllowlistFileView,
            AllowlistFileSignatureView,
            ExemptionCheckView,
        }
        # The response headers the skipped middleware and DRF would add, by their own code; the policy
        # is the same for every poll, so it is built once (building it was a seventh of a 304's work).
        self.csp = CSPMiddleware(get_response)
        self.frame_options = XFrameOptionsMiddleware(get_response)
        self.policy: dict[str, str] | None = None

    def __call__(self, request):
        path = request.path_info
        if request.method != "GET" or not (path.startswith(PREFIX) or path == EXEMPTION_CHECK):
            return self.get_response(request)
        response = self.answer(request)
        return response if response is not None else self.get_response(request)

    def answer(self, request):
        """The API's answer to a poll it would serve, or None to leave the request to the full stack."""
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
        view_class = getattr(match.func, "view_class", None)
        if view_class not in self.views:
            return None
        view = view_class(**match.func.view_initkwargs)  # as `as_view()` does for each request
        view.setup(request, *match.args, **match.kwargs)
        # A view that knows the read its answer needs (the single check's holder) has it sent with
        # the token's, in one round trip; its row is used only once the token is accepted.
        ahead = getattr(view, "read_ahead", None)
        authentication = ExpiringTokenAuthentication()
        authentication.alongside = ahead(request) if ahead else None
        try:
            found = authentication.authenticate(request)
        except exceptions.AuthenticationFailed:
            return None
        if found is None:  # no token: a session, or nobody
            return None
        request.user, request.auth = found
        if not all(permission().has_permission(request, view) for permission in view.permission_classes):
            return None
        if not all(throttle().allow_request(request, view) for throttle in view.throttle_classes):
            return None  # refused: the full stack answers 429 with the wait (a refusal is not counted)
        try:
            if authentication.alongside is not None:
                response = view.respond_read(request, authentication.alongside_row)
            else:
                response = view.respond(request, **match.kwargs)
        except (Http404, exceptions.APIException, RegistryError):  # the full stack words the refusal
            response = None
        if response is None:
            # The full stack answers with its reasons, without counting the request a second time.
            request.throttles_passed = {throttle.scope for throttle in view.throttle_classes}
            return None
        for name, value in view.default_response_headers.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Cache-Control", "no-store")  # as NoStoreMiddleware would
        response = self.frame_options.process_response(request, response)
        if self.policy is None:
            before = set(response.headers)
            response = self.csp.process_response(request, response)
            self.policy = {k: v for k, v in response.headers.items() if k not in before}
        else:
            for name, value in self.policy.items():
                response.headers[name] = value
        return response
