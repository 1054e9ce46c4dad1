"""API views of restrictions: restriction events and the services they name, exemption checks (one
address, a file of them, a job answered later) and exemption statements.

Parse the request, call one service or selector, respond.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from vpnregistry import storage
from vpnregistry.accounts.models import Role
from vpnregistry.api.pagination import IdCursorPagination
from vpnregistry.api.permissions import role_permission
from vpnregistry.api.schema import ERROR, VALIDATION_ERROR
from vpnregistry.db import visible_or_404, whole_number
from vpnregistry.errors import InvalidInput, WrongState
from vpnregistry.messages import address_error
from vpnregistry.netblocks import ParseError
from vpnregistry.restrictions import exemptions, jobs, statements
from vpnregistry.restrictions import selectors as restriction_selectors
from vpnregistry.restrictions import services as restriction_services
from vpnregistry.restrictions.api import serializers as s
from vpnregistry.restrictions.models import ExemptionJob, ExemptionStatement, Service
from vpnregistry.storage import Stored, stored_file_response
from vpnregistry.timeutil import parse_time


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
        event = restriction_services.event_create(actor=request.user, **body.validated_data)
        return Response(s.EventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.EventSerializer, 403: ERROR, 404: ERROR, 409: ERROR})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        event = restriction_services.event_publish(actor=request.user, event=self.get_object())
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
        check = self._single(params)
        return self._shape(check, check.run())

    @staticmethod
    def _single(params) -> exemptions.SingleCheck:
        at = _at_from(params)
        address = params.get("address", "")
        try:
            return exemptions.single_check(address, at)
        except ParseError as exc:
            raise InvalidInput({"address": [address_error(exc)]}) from None

    @staticmethod
    def _shape(check: exemptions.SingleCheck, answer: exemptions.Answer) -> dict:
        # The shape of ExemptionSerializer (the schema's), built directly: operators ask this tens of
        # times a second, and building the serializer's fields for each answer cost a fifth of it.
        return {
            "address": answer.address,
            "at": AT_FIELD.to_representation(check.at),
            "exempt": answer.exempt,
            "registration": answer.registration,
            "events": [{"id": e.pk, "title": e.title} for e in answer.events],
        }

    @staticmethod
    def _plain_json(request) -> bool:
        return not request.GET.get("format") and _wants_json(request.headers.get("Accept"))

    def _json(self, answer: dict) -> HttpResponse:
        return HttpResponse(self.renderer_classes[0]().render(answer), content_type="application/json")

    def respond(self, request):
        """The answer to a plain JSON GET, for the fast path (allowlist/api/fastpath.py): the bytes the
        API's renderer writes; anything asking for another rendering is left to the full stack."""
        if not self._plain_json(request):
            return None
        return self._json(self.answer(request.GET))

    def read_ahead(self, request) -> tuple[str, list] | None:
        """For the fast path: the read a plain JSON GET's answer needs, which it sends to the database
        with the caller's token (one round trip, not two); None to leave the request to `respond`
        or the full stack (a bad address is worded there)."""
        if not self._plain_json(request):
            return None
        try:
            self._check = self._single(request.GET)
        except InvalidInput:
            return None
        return self._check.sql, self._check.params

    def respond_read(self, request, row: tuple | None):
        """`respond`, from the row of `read_ahead`'s read (made once the token was accepted)."""
        return self._json(self._shape(self._check, self._check.answer(row)))

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
            job = jobs.job_create(owner=request.user, source=request._request, at=at, column=column)
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
        return Response(_job_document(visible_or_404(ExemptionJob.objects.visible_to(request.user), pk)))


class ExemptionJobResultView(APIView):
    """The answer of a job that is done: the same CSV as the synchronous form gives."""

    permission_classes = [EXEMPTION_READERS]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR, 409: ERROR})
    def get(self, request, pk: int):
        job = visible_or_404(ExemptionJob.objects.visible_to(request.user), pk)
        if job.state != "done":
            raise WrongState(_("This job is %(state)s; its answer is not ready.") % {"state": job.state})
        response = stored_file_response(
            Stored(storage.get(storage.JOBS), jobs.result_name(job)), content_type="text/csv; charset=utf-8"
        )
        response["X-Exemptions-At"] = job.at.isoformat()
        return response


# --- exemption statements --------------------------------------------------------------------


TEXT = "text/plain; charset=utf-8"


class EventStatementView(APIView):
    """A signed statement that the caller's organisation's registrations were active, and so exempt,
    during a published event. Each request for the JSON issues (and records) a new statement; the
    `.minisig` route signs the statement named by `?statement=`, or the organisation's latest."""

    signature = ""  # ".minisig" on the signature's route

    @extend_schema(
        operation_id="events_statement",
        responses={(200, "application/json"): OpenApiTypes.OBJECT, 401: ERROR, 404: ERROR, 409: ERROR},
    )
    def get(self, request, pk: int):
        return self.respond(request, pk)

    def respond(self, request, pk: int):
        user = request.user
        if user.role != Role.APPLICANT:
            raise Http404("no such statement")
        event = statements.event_for_statement(pk)
        if self.signature:
            wanted = request.query_params.get("statement")
            if wanted:
                statement = visible_or_404(
                    ExemptionStatement.objects.visible_to(user).select_related("event"), wanted
                )
                if statement.event_id != event.pk:
                    raise Http404("no such statement for this event")
            else:
                statement = statements.latest_statement(user=user, event=event) or statements.statement_issue(
                    actor=user, event=event
                )
            response = HttpResponse(statements.signature(statement), content_type=TEXT)
        else:
            statement = statements.statement_issue(actor=user, event=event)
            response = HttpResponse(statement.content.encode(), content_type="application/json")
            response["Link"] = f'<{request.path}.minisig?statement={statement.id}>; rel="signature"'
        response["X-Statement-Id"] = str(statement.id)
        response["X-Statement-SHA256"] = statement.sha256
        name = f"statement-{statement.id}.json{self.signature}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class EventStatementSignatureView(EventStatementView):
    """The detached minisign signature of a statement; its trusted comment names the statement's id
    and SHA-256."""

    signature = ".minisig"

    @extend_schema(
        operation_id="events_statement_signature",
        parameters=[
            OpenApiParameter(
                "statement", OpenApiTypes.UUID, description="which statement (the latest when absent)"
            )
        ],
        responses={(200, "text/plain"): OpenApiTypes.STR, 401: ERROR, 404: ERROR, 409: ERROR},
    )
    def get(self, request, pk: int):
        return self.respond(request, pk)
