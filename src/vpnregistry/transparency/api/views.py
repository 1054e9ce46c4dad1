"""An organisation's copy of everything held about it, as an API view."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from vpnregistry.api.schema import ERROR
from vpnregistry.transparency.export import export_response


class OrganisationExportView(APIView):
    """Everything held about the caller's own organisation, as one JSON document (applicants only)."""

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT, 401: ERROR, 403: ERROR})
    def get(self, request):
        return export_response(request.user)
