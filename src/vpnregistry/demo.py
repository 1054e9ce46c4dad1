"""Demo data: every role, every category and a few applications in flight, for `make run`."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path

from django.apps import apps as django_apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from vpnregistry.accounts import two_factor
from vpnregistry.accounts.authentication import issue_token
from vpnregistry.accounts.documents import document_upload, requirement_status
from vpnregistry.accounts.models import (
    AddressSpace,
    Agency,
    Category,
    NumberBlock,
    Operator,
    Organisation,
    Role,
    User,
)
from vpnregistry.accounts.reference import CATEGORIES, seed
from vpnregistry.accounts.sample_files import minimal_pdf, minimal_png
from vpnregistry.applications import services
from vpnregistry.restrictions.services import event_create

ORGANISATIONS = [
    ("Ravi Software House (Pvt) Ltd", "company", "1234567-8"),
    ("Clifton Contact Centre (Pvt) Ltd", "call_centre", "2345678-9"),
    ("Demo Freelancer", "freelancer", ""),
    ("Margalla Video Meetings (Pvt) Ltd", "video_conferencing", "3456789-0"),
    ("Demo Bank Ltd", "bank", "4567890-1"),
    ("Embassy of Demoland", "foreign_mission", ""),
]
# Made-up identifiers in the real formats (CNIC 12345-1234567-1, NTN 1234567-8); stored encrypted.
IDENTIFIERS = {
    "company": {"cnic": "35202-1234567-1", "secp_number": "0123456", "pseb_number": "Z-10-12345/26"},
    "call_centre": {"cnic": "42101-2345678-3", "secp_number": "0234567", "pseb_number": "CC-2026-0042"},
    "freelancer": {"cnic": "61101-3456789-5"},
    "video_conferencing": {"cnic": "37405-4567890-7", "secp_number": "0345678"},
    "bank": {"cnic": "42201-5678901-9", "secp_number": "0456789"},
    "foreign_mission": {},
}
# code, name, name in Urdu, kind
OPERATORS = [
    ("indus", "Indus Fibre", "انڈس فائبر", "fixed"),
    ("margalla", "Margalla Broadband", "مارگلہ براڈ بینڈ", "fixed"),
    ("sabz", "Sabz Mobile", "سبز موبائل", "mobile"),
]


@dataclass
class DemoAccount:
    role: str
    username: str
    password: str
    token: str
    # Staff log in to the portal with a code from this TOTP secret (base32) as well; none for applicants.
    totp_secret: str | None = None


def _space(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    text = resources.files("vpnregistry.accounts").joinpath("data", name).read_text()
    return [ipaddress.ip_network(line.strip()) for line in text.splitlines() if line.strip()]


def accounts_path() -> Path:
    return Path(settings.VAR_DIR) / "demo-accounts.json"


def is_loaded() -> bool:
    return User.objects.filter(username="demo-officer").exists()


def _user(username: str, role: str, **links) -> tuple[User, str]:
    password = secrets.token_urlsafe(12)
    if role == Role.APPLICANT:
        links.setdefault("is_org_admin", True)
    user = User(username=username, role=role, email=f"{username}@example.org", **links)
    user.set_password(password)
    user.save()
    return user, password


def _free_slash24s(operator: Operator, count: int, skip: int = 0) -> list[str]:
    nets = []
    for row in AddressSpace.objects.filter(operator=operator, family=4).order_by("first"):
        for sub in ipaddress.ip_network(row.prefix).subnets(new_prefix=24):
            nets.append(str(sub))
            if len(nets) >= count + skip:
                return nets[skip:]
    return nets[skip:]


@transaction.atomic
def load() -> list[DemoAccount]:
    """Create the demo world; refuses to run with DEBUG off, and does nothing if it already exists."""
    if not settings.DEBUG:
        raise RuntimeError("demo data is for development only: it refuses to load when DEBUG is off")
    # The categories, their agencies and documents are the reference data a migration seeded (the
    # regulator may have edited them since); the routing is read from them, not set here.
    seed(django_apps)
    agencies = {a.code: a for a in Agency.objects.all()}
    categories = {c.code: c for c in Category.objects.filter(code__in=[code for code, *_ in CATEGORIES])}
    operators = _seed_operators()
    organisations = {
        category: Organisation.objects.create(
            name=name, category=categories[category], ntn=ntn, **IDENTIFIERS[category]
        )
        for name, category, ntn in ORGANISATIONS
    }

    accounts = [
        _user("demo-applicant", Role.APPLICANT, organisation=organisations["company"]),
        _user("demo-agency", Role.AGENCY, agency=agencies["pseb"]),
        _user("demo-operator", Role.OPERATOR, operator=operators["indus"]),
        _user("demo-officer", Role.OFFICER),
        _user("demo-auditor", Role.AUDITOR),
    ]
    applicant, agency_user, operator_user, officer, _auditor = (user for user, _pw in accounts)
    # Staff and members without published passwords, so that every queue has something in it.
    members = _members(organisations, applicant)
    licensing, _ = _user("demo-licensing", Role.AGENCY, agency=agencies["licensing"])
    margalla_staff, _ = _user("demo-margalla", Role.OPERATOR, operator=operators["margalla"])
    _officer2, _ = _user("demo-officer-2", Role.OFFICER)

    _seed_applications(members, agency_user, licensing, operator_user, margalla_staff, officer, operators)

    return [_account(user, password) for user, password in accounts]


def _seed_operators() -> dict[str, Operator]:
    """The operators, by code; the mobile one's numbering, and the country's space shared block by
    block between the two fixed-line ones."""
    operators = {
        code: Operator.objects.create(code=code, name=name, name_ur=name_ur, kind=kind)
        for code, name, name_ur, kind in OPERATORS
    }
    # The mobile operator's numbering (made up): every number beginning 034.
    NumberBlock.objects.create(operator=operators["sabz"], prefix="+9234")
    # The two fixed-line operators share the country's space block by block.
    rows = []
    for family_file in ("pk-ipv4.cidr", "pk-ipv6.cidr"):
        for i, net in enumerate(_space(family_file)):
            row = AddressSpace(operator=operators["indus" if i % 2 == 0 else "margalla"])
            row.set_network(net)
            rows.append(row)
    AddressSpace.objects.bulk_create(rows, batch_size=500)
    return operators


def _members(organisations: dict[str, Organisation], applicant: User) -> dict[str, User]:
    """A member of each organisation, by category, each with its documents on file: the demo applicant
    for the company, and for the others members without published passwords."""
    members = {
        category: _user(f"demo-{category.replace('_', '-')}", Role.APPLICANT, organisation=org)[0]
        for category, org in organisations.items()
        if category != "company"
    }
    members["company"] = applicant
    for member in members.values():
        _file_documents(member)
    return members


def _account(user: User, password: str) -> DemoAccount:
    """A demo account as the accounts file lists it: a new API token, and the TOTP secret of staff."""
    return DemoAccount(
        role=user.role,
        username=user.username,
        password=password,
        token=issue_token(user),
        totp_secret=_totp_secret(user),
    )


def _totp_secret(user: User) -> str | None:
    if not two_factor.must_use_totp(user):
        return None
    return two_factor.base32_secret(two_factor.provision(user=user))


def _file_documents(member: User) -> None:
    """Every document the member's category needs, on file: small generated PDFs (a PNG for the CNIC)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    organisation = member.organisation
    for status in requirement_status(organisation):
        kind = status.types[0]
        if kind.code == "cnic":
            upload = SimpleUploadedFile("cnic-scan.png", minimal_png(64, 40), content_type="image/png")
        else:
            text = f"{kind.name}: {organisation.name} (demo document)"
            upload = SimpleUploadedFile(f"{kind.code}.pdf", minimal_pdf(text), content_type="application/pdf")
        document_upload(
            actor=member,
            document_type=kind,
            upload=upload,
            expires_on=timezone.localdate() + timedelta(days=300) if kind.needs_expiry else None,
        )


# The districts the demo's resources are used in, in turn.
DISTRICTS = ["is-islamabad", "pb-lahore", "sd-karachi-south", "kp-peshawar", "ba-quetta", "pb-rawalpindi"]


def _seed_applications(members, agency_user, licensing, operator_user, margalla_staff, officer, operators):
    indus = _free_slash24s(operators["indus"], 12)
    margalla = _free_slash24s(operators["margalla"], 4)

    # Approved and published: the company's office and the bank's branch.
    approved = _make(services, members["company"], [indus[0], indus[1]])
    services.application_submit(actor=members["company"], application=approved)
    services.application_verify(actor=agency_user, application=approved, decision="approve")
    _attest_all(services, approved, operator_user)
    # 512 addresses: the fee applies; the regulator records the payment before deciding.
    services.payment_record(actor=officer, application=approved, reference="DEMO-PAY-0001")
    services.application_decide(
        actor=officer,
        application=approved,
        decision="approve",
        reason="Documents and operator attestation in order.",
    )
    # Awaiting the officer: the bank, verified by the licensing desk, attested by its operator.
    bank = _make(services, members["bank"], [margalla[0]])
    services.application_submit(actor=members["bank"], application=bank)
    services.application_verify(actor=licensing, application=bank, decision="approve")
    _attest_all(services, bank, margalla_staff)
    services.payment_record(actor=officer, application=bank, reference="DEMO-PAY-0002")
    # Waiting for the software export board and the operator: the call centre.
    call_centre = _make(services, members["call_centre"], [indus[2], indus[3]])
    services.application_submit(actor=members["call_centre"], application=call_centre)
    # Verified by the agency, waiting for the operator: the freelancer's one address.
    freelancer_net = ipaddress.ip_network(indus[4])
    freelancer = _make(services, members["freelancer"], [f"{freelancer_net.network_address + 10}/32"])
    services.application_submit(actor=members["freelancer"], application=freelancer)
    services.application_verify(actor=agency_user, application=freelancer, decision="approve")
    _submit_mobile_number(services, members["freelancer"])
    # Rejected with a reason, so that the history shows one.
    refused = _make(services, members["video_conferencing"], [margalla[1]])
    services.application_submit(actor=members["video_conferencing"], application=refused)
    services.application_verify(
        actor=licensing,
        application=refused,
        decision="reject",
        reason="The incorporation letter on file has expired.",
    )
    # The demo applicant's own draft, waiting to be submitted.
    _make(services, members["company"], [indus[5]])
    _seed_events(officer)


def _make(services, member: User, values: list[str]):
    """A draft application of `member` for `values`, through `services` (applications.services),
    each resource with a subscriber id and a district of its own."""
    return services.application_create(
        actor=member,
        resources=[
            {
                "value": v,
                "subscriber_id": f"SUB-{i + 1:05d}",
                "district": DISTRICTS[(len(v) + i) % len(DISTRICTS)],
            }
            for i, v in enumerate(values)
        ],
    )


def _attest_all(services, application, staff: User) -> None:
    for resource in application.resources.all():
        services.resource_attest(actor=staff, resource=resource, decision="approve")


def _submit_mobile_number(services, member: User) -> None:
    """A freelancer on mobile data registers the number instead, for its mobile operator to attest."""
    on_mobile = services.application_create(
        actor=member,
        resources=[
            {
                "value": "0345 1234567",
                "subscriber_id": "SUB-M-0001",
                # No operator named: the number goes to the operator whose numbering holds it.
                "district": "pb-lahore",
            }
        ],
    )
    services.application_submit(actor=member, application=on_mobile)


def _seed_events(officer):
    now = timezone.now().replace(second=0, microsecond=0)
    event_create(
        actor=officer,
        title="Security order: mobile data (demo)",
        legal_reference="Demo order 14/2026",
        description="Mobile data suspended in the twin cities.",
        districts=["is-islamabad", "pb-rawalpindi"],
        services=["mobile-data", "openvpn", "wireguard"],
        starts_at=now - timedelta(hours=2),
        ends_at=now + timedelta(days=1),
        publish=True,
    )
    event_create(
        actor=officer,
        title="Polling day (demo)",
        legal_reference="Demo order 15/2026",
        national=True,
        services=["mobile-data", "x", "whatsapp"],
        starts_at=now + timedelta(days=7),
        ends_at=now + timedelta(days=8),
        publish=True,
    )


def write_accounts(accounts: list[DemoAccount]) -> Path:
    path = accounts_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps([a.__dict__ for a in accounts], indent=2) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(data)
    os.chmod(path, 0o600)
    return path


def reset_credentials() -> list[DemoAccount]:
    """New passwords and tokens for the five demo accounts (when the accounts file was lost)."""
    accounts = []
    for username in ["demo-applicant", "demo-agency", "demo-operator", "demo-officer", "demo-auditor"]:
        user = User.objects.get(username=username)
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.save(update_fields=["password"])
        accounts.append(_account(user, password))
    return accounts
