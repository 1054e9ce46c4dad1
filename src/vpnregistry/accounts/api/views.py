"""API views of accounts: the caller's own account and token, sign-up, an organisation's members
and invitations, operators and districts.

Parse the request, call one service or selector, respond; refusals come from the services.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from vpnregistry.accounts import language, onboarding
from vpnregistry.accounts.api import serializers as s
from vpnregistry.accounts.authentication import revoke_token, token_expires
from vpnregistry.accounts.models import (
    ApiToken,
    District,
    Invitation,
    Role,
    User,
)
from vpnregistry.accounts.selectors import operators_with_space
from vpnregistry.api.pagination import AscendingIdPagination, IdCursorPagination
from vpnregistry.api.permissions import role_permission
from vpnregistry.api.schema import ERROR, VALIDATION_ERROR
from vpnregistry.audit.services import record

STEP_RESPONSES = {400: VALIDATION_ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}
PUBLIC_RESPONSES = {400: VALIDATION_ERROR, 409: ERROR}


def _body(serializer_class, request):
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


# --- the caller's own account; operators and districts -----------------------------------------


class MeView(APIView):
    """The caller's own account; a PATCH changes its language (no one else's: the URL names nobody)."""

    @extend_schema(responses=s.MeSerializer)
    def get(self, request):
        return Response(self._me(request.user))

    @extend_schema(request=s.MeUpdateSerializer, responses=s.MeSerializer)
    def patch(self, request):
        body = s.MeUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        language.remember(request.user, body.validated_data["language"])
        return Response(self._me(request.user))

    @staticmethod
    def _me(user) -> dict:
        data = {
            "username": user.username,
            "role": user.role,
            "organisation": user.organisation.name if user.organisation_id else None,
            "agency": user.agency.code if user.agency_id else None,
            "operator": user.operator.code if user.operator_id else None,
            "language": language.of(user),
        }
        return s.MeSerializer(data).data


class MyTokenView(APIView):
    """The caller's own API token: when it was made, expires and was last used; or revoke it (a machine
    that is retired, a token that leaked). The token itself is shown once, when made, and not kept."""

    @extend_schema(responses={200: s.TokenSerializer, 401: ERROR, 404: ERROR})
    def get(self, request):
        token = ApiToken.objects.filter(user=request.user).first()
        if token is None:
            raise Http404("no token")
        data = {
            "prefix": token.prefix,
            "created": token.created,
            "expires": token_expires(token),
            "last_used_at": token.last_used_at,
        }
        return Response(s.TokenSerializer(data).data)

    @extend_schema(request=None, responses={204: None, 401: ERROR})
    def delete(self, request):
        if revoke_token(request.user):
            record(actor=request.user, action="token.revoke", obj=request.user, object_type="user")
        return Response(status=status.HTTP_204_NO_CONTENT)


class OperatorViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.OperatorSerializer
    pagination_class = AscendingIdPagination

    def get_queryset(self):
        return operators_with_space()


class DistrictViewSet(viewsets.ReadOnlyModelViewSet):
    """The country's districts with their provinces: the codes resources and events use."""

    serializer_class = s.DistrictSerializer
    pagination_class = PageNumberPagination
    lookup_field = "code"
    queryset = District.objects.select_related("province").order_by("province__name", "name")


# --- sign-up (public) -------------------------------------------------------------------------


class SignupView(APIView):
    """Register an organisation and its admin; the admin confirms the email address before logging in.

    The answer (202) is the same whether or not the username, the email address or the NTN is taken
    already: the email says what happened, to the address's owner. A 400 is only for what was typed.
    """

    permission_classes = [AllowAny]

    @extend_schema(request=s.SignupSerializer, responses={202: s.SignupDoneSerializer, **PUBLIC_RESPONSES})
    def post(self, request):
        data = _body(s.SignupSerializer, request)
        onboarding.organisation_register(**data)
        return Response(
            {
                "organisation": data["name"].strip(),
                "username": data["username"].strip(),
                "detail": onboarding.signup_answer(),
            },
            status=status.HTTP_202_ACCEPTED,
        )


class SignupVerifyView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(request=s.LinkTokenSerializer, responses={200: s.NoticeSerializer, **PUBLIC_RESPONSES})
    def post(self, request):
        onboarding.email_verify(token=_body(s.LinkTokenSerializer, request)["token"])
        return Response({"detail": _("The email address is confirmed; the account is active.")})


class SignupResendView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        request=s.EmailAddressSerializer, responses={202: s.NoticeSerializer, 400: VALIDATION_ERROR}
    )
    def post(self, request):
        onboarding.verification_resend(email=_body(s.EmailAddressSerializer, request)["email"])
        return Response(
            {"detail": _("If an account is waiting for that address, a new link is on its way.")},
            status=status.HTTP_202_ACCEPTED,
        )


class InvitationAcceptView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        request=s.AcceptInvitationSerializer, responses={201: s.MemberSerializer, **PUBLIC_RESPONSES}
    )
    def post(self, request):
        user = onboarding.invitation_accept(**_body(s.AcceptInvitationSerializer, request))
        return Response(s.MemberSerializer(user).data, status=status.HTTP_201_CREATED)


# --- members ----------------------------------------------------------------------------------


class MemberViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The members of the caller's organisation; its admins remove them or name other admins."""

    permission_classes = [role_permission(Role.APPLICANT)]
    serializer_class = s.MemberSerializer
    pagination_class = IdCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return User.objects.none()
        return onboarding.members_of(self.request.user)

    def get_object(self):
        return onboarding.member_for(self.request.user, self.kwargs.get("pk"))

    @extend_schema(request=None, responses={200: s.MemberSerializer, **STEP_RESPONSES})
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        member = onboarding.member_remove(actor=request.user, member=self.get_object())
        return Response(s.MemberSerializer(member).data)

    @extend_schema(request=s.MemberAdminSerializer, responses={200: s.MemberSerializer, **STEP_RESPONSES})
    @action(detail=True, methods=["post"])
    def admin(self, request, pk=None):
        member = self.get_object()
        onboarding.require_org_admin(request.user)
        admin = _body(s.MemberAdminSerializer, request)["admin"]
        member = onboarding.member_set_admin(actor=request.user, member=member, admin=admin)
        return Response(s.MemberSerializer(member).data)


class InvitationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Invitations to join the caller's organisation; an admin sends them by email."""

    permission_classes = [role_permission(Role.APPLICANT)]
    serializer_class = s.InvitationSerializer
    pagination_class = IdCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return onboarding.invitations_of(self.request.user).select_related("invited_by")

    @extend_schema(
        request=s.EmailAddressSerializer, responses={201: s.InvitationSerializer, **STEP_RESPONSES}
    )
    def create(self, request):
        invitation = onboarding.member_invite(
            actor=request.user, email=_body(s.EmailAddressSerializer, request)["email"]
        )
        return Response(s.InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)
