"""Shapes of accounts in the API (the caller's own, sign-up, members and invitations, operators and
districts): no business logic."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from vpnregistry.accounts.models import District, Invitation, Operator, User


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.CharField()
    organisation = serializers.CharField(allow_null=True)
    agency = serializers.CharField(allow_null=True)
    operator = serializers.CharField(allow_null=True)
    language = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES],
        help_text="the language the registry writes to this user in: emails, notifications, and the "
        "portal after each login (an API answer is in the request's `Accept-Language`)",
    )


class MeUpdateSerializer(serializers.Serializer):
    """What a user may change of their own account here: the language they are written to in."""

    language = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES],
        error_messages={"invalid_choice": _("The language is en or ur.")},
    )


class TokenSerializer(serializers.Serializer):
    """The caller's own API token as its owner sees it: never the token itself (only its digest is kept)."""

    prefix = serializers.CharField(help_text="the token's first characters after `vr_`: not secret")
    created = serializers.DateTimeField()
    expires = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(
        allow_null=True, help_text="when it was last used, to the minute; null if never"
    )


class OperatorSerializer(serializers.ModelSerializer):
    address_space = serializers.SlugRelatedField(many=True, read_only=True, slug_field="prefix")

    class Meta:
        model = Operator
        fields = ["id", "code", "name", "name_ur", "kind", "address_space"]


class DistrictSerializer(serializers.ModelSerializer):
    province = serializers.CharField(source="province.name")
    province_ur = serializers.CharField(
        source="province.name_ur", help_text="the province's name in Urdu; empty when none was written"
    )
    province_code = serializers.CharField(source="province.code")

    class Meta:
        model = District
        fields = ["code", "name", "name_ur", "province", "province_ur", "province_code"]


class TextField(serializers.CharField):
    """A text field that takes only a JSON string: DRF's CharField turns a number into text, so
    `{"email": 0}` was taken as the address "0"; here it is refused naming the field."""

    default_error_messages = {"invalid": _("Give this field as text, in quotes.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class SignupSerializer(serializers.Serializer):
    name = TextField(help_text="The organisation's name.")
    category = TextField(help_text="A category code, e.g. company, freelancer, bank.")
    ntn = TextField(required=False, allow_blank=True, default="")
    secp_number = TextField(required=False, allow_blank=True, default="")
    pseb_number = TextField(required=False, allow_blank=True, default="")
    cnic = TextField(required=False, allow_blank=True, default="")
    email = TextField(help_text="The admin's email address; the confirmation link goes there.")
    username = TextField()
    password = TextField(write_only=True, style={"input_type": "password"})


class SignupDoneSerializer(serializers.Serializer):
    organisation = serializers.CharField()
    username = serializers.CharField()
    detail = serializers.CharField()


class LinkTokenSerializer(serializers.Serializer):
    token = TextField(help_text="The token from the emailed link.")


class EmailAddressSerializer(serializers.Serializer):
    email = TextField()


class AcceptInvitationSerializer(serializers.Serializer):
    token = TextField(help_text="The token from the invitation link.")
    username = TextField()
    password = TextField(write_only=True, style={"input_type": "password"})


class NoticeSerializer(serializers.Serializer):
    detail = serializers.CharField()


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "is_active", "is_org_admin", "email_verified_at", "date_joined"]


class MemberAdminSerializer(serializers.Serializer):
    admin = serializers.BooleanField(help_text="true: make the member an admin; false: take the role back.")


class InvitationSerializer(serializers.ModelSerializer):
    invited_by = serializers.CharField(source="invited_by.username", read_only=True)
    accepted = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["id", "email", "invited_by", "created_at", "accepted"]
        read_only_fields = ["id", "created_at"]

    def get_accepted(self, obj) -> bool:
        return obj.accepted_at is not None
