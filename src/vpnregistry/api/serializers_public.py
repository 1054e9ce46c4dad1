"""Shapes of the certificate check and the public application status: nothing personal in either."""

from __future__ import annotations

from rest_framework import serializers

from vpnregistry.api.serializers import ApplicationDetailSerializer
from vpnregistry.applications.models import Application
from vpnregistry.registrations.models import Registration


class SubmittedApplicationSerializer(ApplicationDetailSerializer):
    status_secret = serializers.CharField(
        read_only=True,
        required=False,
        help_text="Given once, on the first submission: with the tracking number it opens the public "
        "status (POST /api/v1/status/). Only its hash is kept; it cannot be shown again.",
    )

    class Meta(ApplicationDetailSerializer.Meta):
        fields = [*ApplicationDetailSerializer.Meta.fields, "status_secret"]


class CertificateCheckSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The verification code, in groups of four.")
    reference = serializers.CharField(help_text="The registration's public reference.")
    resource = serializers.CharField(help_text="The address or prefix; a mobile number only partly.")
    kind = serializers.ChoiceField(choices=Registration._meta.get_field("kind").choices)
    category = serializers.CharField(help_text="The category's name (English).")
    category_ur = serializers.CharField(help_text="The category's name in Urdu; empty when none was written.")
    organisation = serializers.CharField(
        allow_null=True, help_text="The holder's name for companies; null where the holder is a person."
    )
    state = serializers.ChoiceField(choices=Registration.State.choices)
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()
    valid_now = serializers.BooleanField(help_text="Whether the registration is active now.")
    checked_at = serializers.DateTimeField()
    at = serializers.DateTimeField(allow_null=True, help_text="The time asked about (`at`), if any.")
    active_at = serializers.BooleanField(allow_null=True, help_text="Whether it was active at `at`.")


class StatusRequestSerializer(serializers.Serializer):
    tracking_number = serializers.CharField(max_length=40)
    secret = serializers.CharField(max_length=80, trim_whitespace=True)


class StatusChangeSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    from_state = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)


class PublicStatusSerializer(serializers.Serializer):
    tracking_number = serializers.CharField()
    category = serializers.CharField(help_text="The category's name (English).")
    category_ur = serializers.CharField(help_text="The category's name in Urdu; empty when none was written.")
    state = serializers.ChoiceField(choices=Application.State.choices)
    submitted_at = serializers.DateTimeField(allow_null=True)
    verified_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    history = StatusChangeSerializer(many=True)
