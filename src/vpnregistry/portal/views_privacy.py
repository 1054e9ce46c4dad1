"""The organisation's own page (identifiers masked) and its data export."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from vpnregistry.accounts.models import Role
from vpnregistry.errors import NotAllowed
from vpnregistry.identifiers import ShownIdentifiers
from vpnregistry.transparency.export import export_response


def _own_organisation(user):
    if user.role != Role.APPLICANT or not user.organisation_id:
        raise PermissionDenied("only an organisation's own members see its page")
    return user.organisation


@require_GET
@login_required
def organisation(request):
    org = _own_organisation(request.user)
    context = {
        "organisation": org,
        "identifiers": ShownIdentifiers.of(org, masked=True),
        # With the organisation's id: the related manager reads it to attach each member to `org`,
        # and left deferred it would cost one query per member.
        "members": org.members.order_by("username").only("username", "email", "organisation")[:200],
    }
    return render(request, "portal/organisation.html", context)


@require_GET
@login_required
def organisation_export(request):
    try:
        return export_response(request.user)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
