"""Sign-up of an organisation, its email verification, and its admins' management of members.

An organisation registers itself: its name, category and identifiers, and its first member, who is
its admin and stays inactive until the link mailed to them (signed, valid for
settings.SIGNUP_LINK_SECONDS) is followed. An admin invites members by email (a signed link to an
Invitation, valid for settings.INVITATION_LINK_SECONDS, usable once) and removes them (the account
is deactivated, never deleted: the audit log names it). Every step is audited.

- `signup`: the organisation's sign-up and its admin's email verification;
- `members`: invitations, removal and the admin role;
- `fields`: what both check of an account, and the links they mail.
"""

from vpnregistry.accounts.onboarding.members import (
    INVITATION_SALT,
    invitation_accept,
    invitation_from,
    invitations_of,
    member_for,
    member_invite,
    member_remove,
    member_set_admin,
    members_of,
    require_org_admin,
)
from vpnregistry.accounts.onboarding.signup import (
    SIGNUP_SALT,
    email_verify,
    organisation_register,
    signup_answer,
    signup_token,
    verification_resend,
    verification_send,
)

__all__ = [
    "INVITATION_SALT",
    "SIGNUP_SALT",
    "email_verify",
    "invitation_accept",
    "invitation_from",
    "invitations_of",
    "member_for",
    "member_invite",
    "member_remove",
    "member_set_admin",
    "members_of",
    "organisation_register",
    "require_org_admin",
    "signup_answer",
    "signup_token",
    "verification_resend",
    "verification_send",
]
