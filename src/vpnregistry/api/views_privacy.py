"""The registrant's copy of everything held about its organisation."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from vpnregistry.api.views import ERROR
from vpnregistry.transparency.export import export_organisation


def export_response(user) -> StreamingHttpResponse:
    organisation, stream = export_organisation(actor=user)
    response = StreamingHttpResponse(stream, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="organisation-{organisation.pk}-export.json"'
    response["Cache-Control"] = "no-store"
    return response


class OrganisationExportView(APIView):
    """Everything held about the caller's own organisation, as one JSON document (applicants only)."""

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT, 401: ERROR, 403: ERROR})
    def get(self, request):
        return export_response(request.user)
