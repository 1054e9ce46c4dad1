"""Turns the services' refusals into JSON responses with the right status."""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from vpnregistry.errors import RegistryError


def exception_handler(exc, context):
    if isinstance(exc, RegistryError):
        return Response(exc.as_dict(), status=exc.status)
    return drf_exception_handler(exc, context)
