"""Public lookups by code or secret: no sign-in, and the per-address lookup limit the portal's pages share."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from vpnregistry.api.schema import ERROR
from vpnregistry.throttling import AnonymousRate, LookupRate

THROTTLED = OpenApiResponse(ERROR, description="Too many lookups from this address; see Retry-After")


class PublicLookup(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonymousRate, LookupRate]
