"""API views of the allowlist: the signed index, each serial's published files and their signatures,
the registry's public key, and which operators run behind the latest serial.

Parse the request, call one selector, respond; `allowlist/api/fastpath.py` answers operators' polls
with these views' own `respond`.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse, HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import APIView

from vpnregistry import storage
from vpnregistry.accounts.models import Operator, Role
from vpnregistry.allowlist import selectors as allowlist_selectors
from vpnregistry.allowlist.api import serializers as s
from vpnregistry.allowlist.formats import FORMATS
from vpnregistry.allowlist.services import file_name, msisdn_name
from vpnregistry.api.permissions import role_permission
from vpnregistry.api.schema import ERROR
from vpnregistry.signing import keys
from vpnregistry.storage import Stored, stored_file_response

MEDIA_TYPES = {name: fmt.media_type for name, fmt in FORMATS.items()} | {"delta.json": "application/json"}
ALLOWLIST_READERS = role_permission("operator", "officer", "auditor")
# The media types of the published files (without parameters: text/plain, application/json, text/csv).
FILE_MEDIA_TYPES = sorted({media_type.split(";")[0] for media_type in MEDIA_TYPES.values()})


class FilesAsTheyAre(BaseContentNegotiation):
    """Published files have one media type whatever the client's Accept says: no 406 for `text/plain`.

    Refusals (404, 401) still come as JSON, by the first renderer.
    """

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _conditional(request, *, etag: str, body_or_path, content_type: str, immutable: bool) -> HttpResponse:
    """A response with an ETag, answered with 304 when the client already holds it.

    A stored file in an object store may instead be handed over by a short-lived signed URL (302,
    `VPNREGISTRY_S3_REDIRECT_SECONDS`): never kept by a cache, as the URL expires.
    """
    quoted = f'"{etag}"'
    if quoted in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    elif isinstance(body_or_path, Stored):
        url = storage.signed_url(body_or_path.files, body_or_path.name, content_type=content_type)
        if url is not None:
            response = HttpResponseRedirect(url)
            response["Cache-Control"] = "private, no-store"
            return response
        response = stored_file_response(body_or_path, content_type=content_type)
    else:
        response = HttpResponse(body_or_path, content_type=content_type)
    response["ETag"] = quoted
    response["Cache-Control"] = "private, max-age=31536000, immutable" if immutable else "private, no-cache"
    return response


def _note(request, serial, name):
    if request.user.role == Role.OPERATOR:
        allowlist_selectors.note_download(operator_id=request.user.operator_id, serial=serial, name=name)


class AllowlistIndexView(APIView):
    """The signed index: session, latest serial, the snapshot's files and recent deltas, the keys."""

    content_negotiation_class = FilesAsTheyAre
    permission_classes = [ALLOWLIST_READERS]
    signature = ""  # ".minisig" on the signature's route

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT, 304: None, 404: ERROR})
    def get(self, request):
        return self.respond(request)

    def respond(self, request):
        signature = self.signature
        index = allowlist_selectors.signed_index()
        if index is None:
            raise Http404("nothing has been published yet")
        _note(request, index.serial, "index.json" + signature)
        if signature:
            return _conditional(
                request,
                etag=f"{index.sha256}.minisig",
                body_or_path=index.signature,
                content_type="text/plain; charset=utf-8",
                immutable=False,
            )
        return _conditional(
            request,
            etag=index.sha256,
            body_or_path=index.content,
            content_type="application/json",
            immutable=False,
        )


class AllowlistIndexSignatureView(AllowlistIndexView):
    """The index's detached minisign signature."""

    signature = ".minisig"

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR, 304: None, 404: ERROR})
    def get(self, request):
        return self.respond(request)


class AllowlistKeyView(APIView):
    """The registry's current public key, in minisign's format."""

    content_negotiation_class = FilesAsTheyAre
    permission_classes = [ALLOWLIST_READERS]

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request):
        return HttpResponse(keys.current_key().public.to_file(), content_type="text/plain; charset=utf-8")


class AllowlistFileView(APIView):
    """One published file of one serial; `latest` names the newest serial."""

    content_negotiation_class = FilesAsTheyAre
    permission_classes = [ALLOWLIST_READERS]
    signature = ""  # ".minisig" on the signature's route

    @extend_schema(
        responses={
            **{
                (200, media_type): OpenApiTypes.OBJECT if media_type.endswith("json") else OpenApiTypes.STR
                for media_type in FILE_MEDIA_TYPES
            },
            302: OpenApiResponse(
                description="with VPNREGISTRY_S3_REDIRECT_SECONDS: a short-lived signed URL on the "
                "object store, in Location, that fetches the same bytes"
            ),
            304: None,
            404: ERROR,
        }
    )
    def get(self, request, which: str, name: str):
        return self.respond(request, which, name)

    def respond(self, request, which: str, name: str):
        signature = self.signature
        snapshot = allowlist_selectors.snapshot_at(which)
        if snapshot is None:
            raise Http404("no such serial")
        name = self._resolve(request, name)
        meta = snapshot.files.get(name)
        if meta is None:
            raise Http404("no such file for this serial")
        files = storage.get(storage.ALLOWLIST)
        stored = file_name(snapshot, name + signature)
        if not files.exists(stored):
            raise Http404("this file is no longer kept")
        _note(request, snapshot.serial, name + signature)
        content_type = (
            "text/plain; charset=utf-8" if signature else MEDIA_TYPES.get(name, "text/plain; charset=utf-8")
        )
        return _conditional(
            request,
            etag=meta["sha256"] + signature,
            body_or_path=Stored(files, stored),
            content_type=content_type,
            immutable=which != "latest",
        )

    @staticmethod
    def _resolve(request, name: str) -> str:
        """Mobile numbers: each mobile operator gets only its own list; officers and auditors name one."""
        user = request.user
        if name == "msisdn.csv":
            if user.role != Role.OPERATOR:
                raise Http404("name the mobile operator: msisdn.<operator>.csv")
            return msisdn_name(user.operator.code)
        if (
            name.startswith("msisdn.")
            and user.role == Role.OPERATOR
            and name != msisdn_name(user.operator.code)
        ):
            raise Http404("no such file")
        return name


class AllowlistFileSignatureView(AllowlistFileView):
    """The detached minisign signature of one published file."""

    signature = ".minisig"

    @extend_schema(
        responses={
            (200, "text/plain"): OpenApiTypes.STR,
            302: OpenApiResponse(description="as for the file: a signed URL on the object store"),
            304: None,
            404: ERROR,
        }
    )
    def get(self, request, which: str, name: str):
        return self.respond(request, which, name)


class OperatorSyncView(generics.ListAPIView):
    """Which operators run behind the latest serial: for the regulator and auditors."""

    permission_classes = [role_permission("officer", "auditor")]
    serializer_class = s.OperatorSyncSerializer
    pagination_class = PageNumberPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no database at hand
            return Operator.objects.none()
        return allowlist_selectors.operator_sync_status()
