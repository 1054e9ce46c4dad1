"""Portal pages for sign-up, an organisation's members and documents, and operators' space changes.

Each view parses the request, calls one service or selector, and renders; refusals by role are 404
(reads) or 403 (steps), mistakes are shown beside their fields.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from vpnregistry.accounts import documents, onboarding
from vpnregistry.accounts.models import AddressSpaceChange, Category, Organisation, Role
from vpnregistry.accounts.responses import document_response
from vpnregistry.applications import documents as document_access
from vpnregistry.errors import InvalidInput, NotAllowed, RegistryError
from vpnregistry.portal.forms import (
    DocumentUploadForm,
    EmailForm,
    InvitationAcceptForm,
    InviteForm,
    MemberAdminForm,
    NoInputForm,
    SignupForm,
    SpaceChangeForm,
    StepDecisionForm,
    cleaned,
)
from vpnregistry.portal.paging import keyset_page
from vpnregistry.portal.steps import Load, step_view, visible
from vpnregistry.registrations import space

SIGNUP_FIELDS = ("name", "category", "ntn", "secp_number", "pseb_number", "cnic", "email", "username")


def _errors(exc: InvalidInput) -> dict:
    return {k: (v if isinstance(v, list) else [v]) for k, v in exc.errors.items()}


# --- sign-up ----------------------------------------------------------------------------------


def signup(request):
    """An organisation registers itself and its first member (its admin)."""
    data, errors = {}, {}
    if request.method == "POST":
        try:
            values = cleaned(SignupForm(request.POST))
            data = {f: values[f] for f in SIGNUP_FIELDS}  # shown again; the password is not
            onboarding.organisation_register(**values)
        except InvalidInput as exc:
            errors = _errors(exc)
        else:
            return render(request, "portal/signup_sent.html", {"email": data["email"]})
    return render(
        request,
        "portal/signup.html",
        {"data": data, "errors": errors, "categories": Category.objects.order_by("name")},
    )


def signup_verify(request, token: str):
    """The emailed link: a page with one button, so that a mail scanner's visit changes nothing."""
    if request.method == "POST":
        try:
            onboarding.email_verify(token=token)
        except RegistryError as exc:
            reasons = (
                [m for ms in _errors(exc).values() for m in ms]
                if isinstance(exc, InvalidInput)
                else [exc.message]
            )
            return render(request, "portal/signup_verify.html", {"reasons": reasons}, status=400)
        messages.success(request, _("Your email address is confirmed. Log in, then file your documents."))
        return redirect("portal:login")
    return render(request, "portal/signup_verify.html", {"reasons": []})


def signup_resend(request):
    if request.method == "POST":
        onboarding.verification_resend(**cleaned(EmailForm(request.POST)))
        messages.success(request, _("If an account is waiting for that address, a new link is on its way."))
        return redirect("portal:login")
    return render(request, "portal/signup_resend.html")


def invitation_accept(request, token: str):
    """The invited person chooses a username and password."""
    try:
        invitation = onboarding.invitation_from(token)
    except RegistryError as exc:
        reasons = (
            [m for ms in _errors(exc).values() for m in ms]
            if isinstance(exc, InvalidInput)
            else [exc.message]
        )
        return render(request, "portal/invitation_accept.html", {"reasons": reasons}, status=400)
    data, errors = {}, {}
    if request.method == "POST":
        try:
            values = cleaned(InvitationAcceptForm(request.POST))
            data = {"username": values["username"]}
            onboarding.invitation_accept(token=token, **values)
        except InvalidInput as exc:
            errors = _errors(exc)
        except RegistryError as exc:
            return render(request, "portal/invitation_accept.html", {"reasons": [exc.message]}, status=409)
        else:
            messages.success(request, _("Welcome. Log in with the username and password you chose."))
            return redirect("portal:login")
    return render(
        request,
        "portal/invitation_accept.html",
        {"invitation": invitation, "data": data, "errors": errors, "reasons": []},
    )


# --- the organisation: members ------------------------------------------------------------------


def _member(request) -> None:
    if request.user.role != Role.APPLICANT:
        raise Http404("this page is for members of an organisation")


@login_required
def organisation_members(request):
    _member(request)
    page = keyset_page(onboarding.members_of(request.user), request.GET.get("before"))
    invitations = onboarding.invitations_of(request.user).filter(accepted_at__isnull=True)[:25]
    return render(
        request,
        "portal/organisation_members.html",
        {
            "organisation": request.user.organisation,
            "page": page,
            "invitations": invitations,
            "is_admin": request.user.is_org_admin,
        },
    )


# An admin's steps on the organisation's members; another organisation's member is refused (403).
organisation_invite = step_view(InviteForm, onboarding.member_invite, then="portal:organisation-members")
MEMBER = Load("member", onboarding.member_for)
member_remove = step_view(
    NoInputForm, onboarding.member_remove, load=MEMBER, then="portal:organisation-members"
)
member_admin = step_view(
    MemberAdminForm, onboarding.member_set_admin, load=MEMBER, then="portal:organisation-members"
)


# --- documents --------------------------------------------------------------------------------


@login_required
def document_list(request):
    """The organisation's documents: what its category needs, what is on file, and an upload form."""
    _member(request)
    organisation = request.user.organisation
    errors, data = {}, {}
    if request.method == "POST":
        try:
            values = cleaned(DocumentUploadForm(request.POST, request.FILES))
            data = {"document_type": values["document_type"], "expires_on": values["expires_on"] or ""}
            documents.document_upload(
                actor=request.user,
                document_type=values["document_type"],
                upload=values["file"],
                expires_on=values["expires_on"],
            )
        except InvalidInput as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("The document is on file."))
            return redirect("portal:documents")
    return render(
        request,
        "portal/documents.html",
        {
            "organisation": organisation,
            "status": documents.requirement_status(organisation),
            "documents": documents.documents_of(organisation)[:100],
            "types": documents.document_types_for(organisation).order_by("name"),
            "errors": errors,
            "data": data,
            "own": True,
        },
        status=400 if errors else 200,
    )


@login_required
def organisation_documents(request, pk: int):
    """A reviewer's view of an applicant organisation's documents."""
    if not document_access.may_read_organisation_documents(request.user, int(pk)):
        raise Http404("no such organisation")
    organisation = get_object_or_404(Organisation.objects.select_related("category"), pk=pk)
    return render(
        request,
        "portal/documents.html",
        {
            "organisation": organisation,
            "status": documents.requirement_status(organisation),
            "documents": documents.documents_of(organisation)[:100],
            "own": False,
        },
    )


@login_required
def document_download(request, pk: int):
    return document_response(document_access.document_for(request.user, pk))


# --- operators' address space -------------------------------------------------------------------


@login_required
def space_changes(request):
    """Operators: their proposals and a form for a new one. Officers: the changes waiting, then the rest."""
    user = request.user
    if user.role not in {Role.OPERATOR, Role.OFFICER, Role.AUDITOR}:
        raise Http404("this page is for operators and the regulator")
    errors, data = {}, {}
    if request.method == "POST":
        try:
            data = cleaned(SpaceChangeForm(request.POST))
            space.space_change_propose(actor=user, **data)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from None
        except InvalidInput as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("Proposed. The regulator will approve or reject it."))
            return redirect("portal:space-changes")
    state = request.GET.get("state") or ("pending" if user.role == Role.OFFICER else "")
    qs = AddressSpaceChange.objects.visible_to(user).select_related(*space.CHANGE_RELATED).order_by("-id")
    if state in AddressSpaceChange.State.values:
        qs = qs.filter(state=state)
    page = keyset_page(qs, request.GET.get("before"))
    return render(
        request,
        "portal/space_changes.html",
        {
            "page": page,
            "state": state,
            "states": AddressSpaceChange.State.choices,
            "actions": AddressSpaceChange.Action.choices,
            "errors": errors,
            "data": data,
            "space": user.operator.address_space.order_by("family", "first")[:200]
            if user.operator_id
            else [],
            "blocks": user.operator.number_blocks.all()[:200] if user.operator_id else [],
        },
        status=400 if errors else 200,
    )


def _decide_change(*, actor, change: AddressSpaceChange, decision: str, reason: str):
    """The regulator's decision on a space change, by the service of each decision."""
    if decision == "approve":
        return space.space_change_approve(actor=actor, change=change, reason=reason)
    if decision == "reject":
        return space.space_change_reject(actor=actor, change=change, reason=reason)
    if actor.role != Role.OFFICER:
        raise NotAllowed(_("Only a regulator officer can decide changes to an operator's space."))
    raise InvalidInput({"decision": [_("Must be one of: approve, reject.")]})


space_change_decide = step_view(
    StepDecisionForm,
    _decide_change,
    load=Load("change", visible(AddressSpaceChange, *space.CHANGE_RELATED)),
    then="portal:space-changes",
)
