"""API views: parse the request, call one service or selector, return its result."""

from __future__ import annotations

from django.http import Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from vpnregistry import storage
from vpnregistry.accounts.models import Operator, Role
from vpnregistry.allowlist import selectors as allowlist_selectors
from vpnregistry.allowlist.formats import FORMATS
from vpnregistry.allowlist.services import file_name, msisdn_name
from vpnregistry.api import schema
from vpnregistry.api import serializers as s
from vpnregistry.api.files import Stored, stored_file_response
from vpnregistry.api.pagination import IdCursorPagination
from vpnregistry.api.permissions import role_permission
from vpnregistry.db import whole_number
from vpnregistry.errors import InvalidInput, WrongState
from vpnregistry.messages import address_error
from vpnregistry.netblocks import ParseError
from vpnregistry.restrictions import exemptions, jobs
from vpnregistry.restrictions import selectors as restriction_selectors
from vpnregistry.restrictions import services as restriction_services
from vpnregistry.restrictions.models import Service
from vpnregistry.signing import keys
from vpnregistry.timeutil import parse_time

# Re-exported for the views that name them; `api.schema` adds the refusals views leave out.
ERROR = schema.ERROR
VALIDATION_ERROR = schema.VALIDATION_ERROR


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


class ServiceViewSet(viewsets.ReadOnlyModelViewSet):
    """The services an order can restrict."""

    serializer_class = s.ServiceSerializer
    pagination_class = PageNumberPagination
    lookup_field = "code"
    queryset = Service.objects.order_by("kind", "name")


class EventViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Restriction events: public once published; officers record and publish them."""

    serializer_class = s.EventSerializer
    pagination_class = IdCursorPagination

    def get_permissions(self):
        if self.action in {"list", "retrieve"}:
            return [AllowAny()]
        return [role_permission("officer")()]

    def get_queryset(self):
        return restriction_selectors.events_for_user(self.request.user)

    @extend_schema(
        request=s.EventCreateSerializer,
        responses={201: s.EventSerializer, 400: VALIDATION_ERROR, 403: ERROR},
        examples=[
            OpenApiExample(
                "national, mobile data",
                value={
                    "title": "Mobile data suspended",
                    "legal_reference": "Order 12/2026",
                    "national": True,
                    "services": ["mobile-data"],
                    "starts_at": "2026-12-01T09:00",
                    "ends_at": "2026-12-01T18:00",
                },
                request_only=True,
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        body = s.EventCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        event = restriction_services.create_event(actor=request.user, **body.validated_data)
        return Response(s.EventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.EventSerializer, 403: ERROR, 404: ERROR, 409: ERROR})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        event = restriction_services.publish_event(actor=request.user, event=self.get_object())
        return Response(s.EventSerializer(event).data)


EXEMPTION_READERS = role_permission("operator", "officer", "auditor")


def _at(request):
    return _at_from(request.query_params)


def _at_from(params):
    raw = params.get("at")
    if not raw:
        return timezone.now()
    try:
        return parse_time(raw)
    except ValueError as exc:
        raise InvalidInput({"at": [str(exc)]}) from None


def _wants_json(accept: str | None) -> bool:
    """Whether DRF's negotiation would surely pick JSON: no preference, any, or JSON alone."""
    return accept is None or accept.strip() in ("", "*/*", "application/json")


AT_FIELD = s.ExemptionSerializer().fields["at"]


class ExemptionCheckView(APIView):
    """Is an address exempt at a time? GET for one address; POST a file of addresses for many.

    POST takes the addresses as the raw request body (text/plain one a line, or text/csv with
    `column`), streamed in and answered as a stream of CSV lines, so ten million addresses go
    through without a body limit refusing them. A bad line is answered as an error in its place;
    a body with lines but no address in any (`true`, the wrong column) is a 400 naming `body`.
    """

    permission_classes = [EXEMPTION_READERS]

    @extend_schema(
        parameters=[
            OpenApiParameter("address", str, required=True, description="an IPv4 or IPv6 address"),
            OpenApiParameter(
                "at",
                str,
                description="ISO 8601; without an offset, the registry's time zone; now when absent",
            ),
        ],
        responses={200: s.ExemptionSerializer, 400: VALIDATION_ERROR, 401: ERROR, 403: ERROR},
    )
    def get(self, request):
        return Response(self.answer(request.query_params))

    def answer(self, params) -> dict:
        at = _at_from(params)
        address = params.get("address", "")
        try:
            answer = exemptions.check_one(address, at)
        except ParseError as exc:
            raise InvalidInput({"address": [address_error(exc)]}) from None
        # The shape of ExemptionSerializer (the schema's), built directly: operators ask this tens of
        # times a second, and building the serializer's fields for each answer cost a fifth of it.
        return {
            "address": answer.address,
            "at": AT_FIELD.to_representation(at),
            "exempt": answer.exempt,
            "registration": answer.registration,
            "events": [{"id": e.pk, "title": e.title} for e in answer.events],
        }

    def respond(self, request):
        """The answer to a plain JSON GET, for the fast path (allowlist/fastpath.py): the bytes the
        API's renderer writes; anything asking for another rendering is left to the full stack."""
        if request.GET.get("format") or not _wants_json(request.headers.get("Accept")):
            return None
        body = self.renderer_classes[0]().render(self.answer(request.GET))
        return HttpResponse(body, content_type="application/json")

    @extend_schema(
        parameters=[
            OpenApiParameter("at", str, description="ISO 8601; the registry's time zone without an offset"),
            OpenApiParameter("column", int, description="the CSV column holding the address (1 = first)"),
        ],
        request={"text/plain": OpenApiTypes.STR, "text/csv": OpenApiTypes.STR},
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            202: s.ExemptionJobSerializer,
            400: VALIDATION_ERROR,
            401: ERROR,
            403: ERROR,
        },
    )
    def post(self, request):
        """Bodies up to 50 MB are answered at once; larger ones, or any sent with
        `Prefer: respond-async`, become a job: `202` with its URL, to poll and download from."""
        at = _at(request)
        # Empty is as if absent, like every optional query parameter of the API.
        raw_column = request.query_params.get("column") or None
        column = whole_number(raw_column)
        if raw_column is not None and (column is None or column < 1):
            raise InvalidInput(
                {"column": [_("Give the column as a whole number from 1 (the first column).")]}
            )
        if jobs.wants_async(request, whole_number(request.headers.get("Content-Length"))):
            job = jobs.create_job(owner=request.user, source=request._request, at=at, column=column)
            job.refresh_from_db()
            response = Response(_job_document(job), status=status.HTTP_202_ACCEPTED)
            response["Location"] = _job_url(job)
            response["Preference-Applied"] = "respond-async"
            return response
        # Read the raw body ourselves, in blocks, into a spool file: Django's in-memory body limit
        # applies only to request.body and form parsing, which this never touches.
        body = exemptions.spool(request._request)
        if exemptions.holds_no_address(body, column=column):
            body.close()
            if column is None:
                message = _("No line of the list holds an IPv4 or IPv6 address: send one address a line.")
            else:
                message = _("No line of the list holds an IPv4 or IPv6 address in column %(column)d.") % {
                    "column": column
                }
            raise InvalidInput({"body": [message]})

        def answers():
            with body:
                yield from exemptions.answer_stream(exemptions.read_stream(body), at, column=column)

        response = StreamingHttpResponse(answers(), content_type="text/csv; charset=utf-8")
        response["X-Exemptions-At"] = at.isoformat()
        return response


def _job_url(job) -> str:
    return reverse("api:exemption-job", args=[job.pk])


def _job_document(job) -> dict:
    done = job.state == "done"
    return s.ExemptionJobSerializer(
        {
            "id": job.pk,
            "state": job.state,
            "at": job.at,
            "size": job.size,
            "created_at": job.created_at,
            "finished_at": job.finished_at,
            "expires_at": job.expires_at,
            "url": _job_url(job),
            "result_url": reverse("api:exemption-job-result", args=[job.pk]) if done else None,
            "result_size": job.result_size,
            "error": job.error,
        }
    ).data


class ExemptionJobView(APIView):
    """A bulk exemption check answered later: its state, and where its answer is once done."""

    permission_classes = [EXEMPTION_READERS]

    @extend_schema(responses={200: s.ExemptionJobSerializer})
    def get(self, request, pk: int):
        return Response(_job_document(jobs.job_for(request.user, pk)))


class ExemptionJobResultView(APIView):
    """The answer of a job that is done: the same CSV as the synchronous form gives."""

    permission_classes = [EXEMPTION_READERS]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR, 409: ERROR})
    def get(self, request, pk: int):
        job = jobs.job_for(request.user, pk)
        if job.state != "done":
            raise WrongState(_("This job is %(state)s; its answer is not ready.") % {"state": job.state})
        response = stored_file_response(
            Stored(storage.get(storage.JOBS), jobs.result_name(job)), content_type="text/csv; charset=utf-8"
        )
        response["X-Exemptions-At"] = job.at.isoformat()
        return response
