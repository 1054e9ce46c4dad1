"""An organisation's admins manage its members: invitations by email, removal, the admin role.

An admin invites members by email (a signed link to an Invitation, valid for
settings.INVITATION_LINK_SECONDS, usable once) and removes them (the account is deactivated, never
deleted: the audit log names it). Every step is audited.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.accounts import language as languages
from vpnregistry.accounts.models import ApiToken, Invitation, Organisation, Role, User
from vpnregistry.accounts.onboarding.fields import _clean_account, _clean_email, _language, _link
from vpnregistry.audit.services import record
from vpnregistry.errors import InvalidInput, NotAllowed, WrongState
from vpnregistry.notifications.mail import send_email

INVITATION_SALT = "vpnregistry.accounts.invitation"


def require_org_admin(actor) -> Organisation:
    if (
        getattr(actor, "role", None) != Role.APPLICANT
        or not actor.organisation_id
        or not actor.is_org_admin
        or not actor.is_active
    ):
        raise NotAllowed(_("Only an admin of the organisation can manage its members."))
    return actor.organisation


def members_of(user) -> QuerySet[User]:
    """The members of the user's own organisation (any applicant may see who they are)."""
    if getattr(user, "role", None) != Role.APPLICANT or not user.organisation_id:
        return User.objects.none()
    return User.objects.filter(organisation_id=user.organisation_id).order_by("-id")


def invitations_of(user) -> QuerySet[Invitation]:
    if getattr(user, "role", None) != Role.APPLICANT or not user.organisation_id:
        return Invitation.objects.none()
    return Invitation.objects.filter(organisation_id=user.organisation_id).order_by("-id")


def member_invite(*, actor, email: str) -> Invitation:
    """An admin invites a person by email; the link lets them choose a username and password.

    The invited person has no account, so no language of their own yet: the email is in the language
    the admin invites in (who knows whom they invite), and the person chooses theirs on accepting.
    """
    organisation = require_org_admin(actor)
    errors: dict[str, list[str]] = {}
    email = _clean_email(email, errors)
    if not errors and User.objects.filter(email__iexact=email, is_active=True).exists():
        errors["email"] = [_("An active account already uses this email address.")]
    if errors:
        raise InvalidInput(errors)
    now = timezone.now()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organisation=organisation, email=email, invited_by=actor, created_at=now
        )
        record(
            actor=actor,
            action="member.invite",
            obj=invitation,
            at=now,
            data={"organisation": organisation.pk},
        )
        token = signing.dumps({"i": invitation.pk, "e": email}, salt=INVITATION_SALT)
        link = _link("portal:invitation-accept", token)
        language = languages.current()

        def send_invitation() -> None:
            with languages.speaking(language):
                send_email(
                    _("You are invited to %(org)s on the VPN registry") % {"org": organisation.name},
                    _(
                        "%(who)s invites you to act for %(org)s on the VPN registry.\n\n"
                        "Follow this link within seven days to choose a username and password:\n%(link)s"
                    )
                    % {
                        "who": actor.get_full_name() or actor.username,
                        "org": organisation.name,
                        "link": link,
                    },
                    email,
                )

        transaction.on_commit(send_invitation)
    return invitation


def invitation_from(token: str) -> Invitation:
    """The open invitation a link names, or InvalidInput/WrongState saying why not."""
    try:
        data = signing.loads(token or "", salt=INVITATION_SALT, max_age=settings.INVITATION_LINK_SECONDS)
    except signing.SignatureExpired:
        raise InvalidInput({"token": [_("This invitation has expired. Ask for a new one.")]}) from None
    except signing.BadSignature:
        raise InvalidInput({"token": [_("This invitation link is not valid.")]}) from None
    invitation = (
        Invitation.objects.select_related("organisation")
        .filter(pk=data.get("i"), email=data.get("e"))
        .first()
    )
    if invitation is None:
        raise InvalidInput({"token": [_("This invitation link is not valid.")]})
    if invitation.accepted_at is not None:
        raise WrongState(_("This invitation was used already. Log in."))
    return invitation


def invitation_accept(*, token: str, username: str, password: str, language: str | None = None) -> User:
    """The invited person chooses a username and password and becomes an active member, reading in
    `language`, else in the language they accept the invitation in."""
    invitation = invitation_from(token)
    errors: dict[str, list[str]] = {}
    username, _email = _clean_account(username, "", password, errors)
    errors.pop("email", None)  # the invitation's address, proved by the link
    if User.objects.filter(email__iexact=invitation.email, is_active=True).exists():
        errors["email"] = [_("An active account already uses this email address.")]
    if errors:
        raise InvalidInput(errors)
    now = timezone.now()
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise WrongState(_("This invitation was used already. Log in."))
        user = User(
            username=username,
            email=invitation.email,
            role=Role.APPLICANT,
            organisation_id=invitation.organisation_id,
            email_verified_at=now,
            language=_language(language),
        )
        user.set_password(password)
        user.save()
        invitation.accepted_at = now
        invitation.accepted_user = user
        invitation.save(update_fields=["accepted_at", "accepted_user"])
        record(
            actor=user,
            action="member.join",
            obj=invitation,
            at=now,
            data={"organisation": invitation.organisation_id, "user": user.pk},
        )
    return user


def member_for(actor, pk) -> User:
    """A member of the actor's own organisation, or NotAllowed: other organisations' users are not."""
    try:
        return members_of(actor).get(pk=int(pk))
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotAllowed(_("This person is not a member of your organisation.")) from None


def member_remove(*, actor, member: User) -> User:
    """An admin removes a member: the account is deactivated and its API token revoked."""
    organisation = require_org_admin(actor)
    now = timezone.now()
    with transaction.atomic():
        member = User.objects.select_for_update().filter(pk=member.pk).first()
        if member is None or member.organisation_id != organisation.pk:
            raise NotAllowed(_("This person is not a member of your organisation."))
        if not member.is_active:
            raise WrongState(_("This member was removed already."))
        if member.is_org_admin:
            admins = (
                User.objects.select_for_update()
                .filter(organisation=organisation, is_org_admin=True, is_active=True)
                .exclude(pk=member.pk)
            )
            if not admins.exists():
                raise WrongState(_("This is the organisation's last admin: name another admin first."))
        member.is_active = False
        member.save(update_fields=["is_active"])
        ApiToken.objects.filter(user=member).delete()
        record(
            actor=actor,
            action="member.remove",
            obj=member,
            object_type="user",
            at=now,
            data={"organisation": organisation.pk},
        )
    return member


def member_set_admin(*, actor, member: User, admin: bool) -> User:
    """An admin names another member admin, or takes the role back (never from the last one)."""
    organisation = require_org_admin(actor)
    with transaction.atomic():
        member = User.objects.select_for_update().filter(pk=member.pk).first()
        if member is None or member.organisation_id != organisation.pk:
            raise NotAllowed(_("This person is not a member of your organisation."))
        if not member.is_active:
            raise WrongState(_("This member was removed."))
        if member.is_org_admin == admin:
            raise WrongState(_("Nothing to change."))
        if not admin and not (
            User.objects.filter(organisation=organisation, is_org_admin=True, is_active=True)
            .exclude(pk=member.pk)
            .exists()
        ):
            raise WrongState(_("This is the organisation's last admin: name another admin first."))
        member.is_org_admin = admin
        member.save(update_fields=["is_org_admin"])
        record(
            actor=actor,
            action="member.admin" if admin else "member.unadmin",
            obj=member,
            object_type="user",
            data={"organisation": organisation.pk},
        )
    return member
