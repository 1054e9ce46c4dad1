"""Staff accounts the deployer makes (`vpnregistry createstaff`): officers, auditors, agencies, operators."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from vpnregistry.accounts import language as languages
from vpnregistry.accounts import two_factor
from vpnregistry.accounts.models import Agency, Operator, Role, User
from vpnregistry.audit.services import record
from vpnregistry.errors import InvalidInput

STAFF_ROLES = (Role.OFFICER, Role.AUDITOR, Role.AGENCY, Role.OPERATOR)


def staff_create(
    *,
    username: str,
    role: str,
    email: str,
    password: str,
    agency: Agency | None = None,
    operator: Operator | None = None,
    provision_totp: bool = True,
    language: str | None = None,
) -> tuple[User, object | None]:
    """Create one staff account and, unless asked not to, its confirmed authenticator (TOTP).

    `language` is the one the person is written to in (emails, notifications) until they choose
    another with the portal's switch; the registry's default when not given.

    Returns the user and the device (None when the person sets one up at their first login).
    Refuses, changing nothing, a username taken in any letter case. Errors are keyed by field.
    """
    errors: dict[str, list[str]] = {}
    if role not in STAFF_ROLES:
        errors["role"] = [f"must be one of {', '.join(STAFF_ROLES)}"]
    if role == Role.AGENCY and agency is None:
        errors["agency"] = ["an agency reviewer needs the agency they review for"]
    if role == Role.OPERATOR and operator is None:
        errors["operator"] = ["an operator's staff member needs their operator"]
    if role != Role.AGENCY and agency is not None:
        errors["agency"] = [f"only agency reviewers belong to an agency, not a {role}"]
    if role != Role.OPERATOR and operator is not None:
        errors["operator"] = [f"only operators' staff belong to an operator, not a {role}"]
    if language is not None and languages.supported(language) != language:
        errors["language"] = [f"must be one of {', '.join(languages.codes())}"]
    user = User(username=username, role=role, email=email, agency=agency, operator=operator)
    user.language = language or languages.default()
    try:
        User.username_validator(username)
    except ValidationError as exc:
        errors["username"] = list(exc.messages)
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["is not an email address"]
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise InvalidInput({"username": [f"{username!r} already exists; nothing was changed"]})
        user.set_password(password)
        user.save()
        record(actor=None, action="account.create", obj=user, object_type="user", data={"role": role})
        device = two_factor.provision(user=user) if provision_totp else None
    return user, device
