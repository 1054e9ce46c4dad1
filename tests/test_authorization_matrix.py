"""Every URL of the portal and the API, requested as every role, against a declared table.

Each route name must have an entry below: a new URL without one fails `test_every_url_is_declared`.
An allowed caller must reach the view (anything but 401, 403, 404 or a redirect to the login page;
a 400 or 409 for a step that does not apply is still "reached"); every other caller must be
refused with one of those. Writes run inside a savepoint that is rolled back, so each request sees
the same world.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import TestCase
from django.urls import URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from tests.auth import login
from tests.factories import PASSWORD, UserFactory, api_key
from tests.workflow import approved, draft, to_decision
from vpnregistry.accounts import onboarding
from vpnregistry.accounts.documents import document_upload
from vpnregistry.accounts.sample_files import minimal_pdf
from vpnregistry.applications import services
from vpnregistry.applications.models import Application
from vpnregistry.notifications.models import Notification
from vpnregistry.notifications.services import notify_users
from vpnregistry.registrations.certificates import issue_certificate
from vpnregistry.registrations.models import Registration
from vpnregistry.registrations.space import space_change_propose
from vpnregistry.restrictions.complaints import complaint_file
from vpnregistry.restrictions.jobs import job_create, job_run
from vpnregistry.restrictions.services import event_create
from vpnregistry.restrictions.statements import statement_issue

IDENTITIES = [
    "anonymous",
    "applicant",
    "other_applicant",
    "agency",
    "operator",
    "other_operator",
    "officer",
    "auditor",
]
EVERYONE = set(IDENTITIES)
SIGNED_IN = EVERYONE - {"anonymous"}
ALLOWLIST = {"operator", "other_operator", "officer", "auditor"}
QUEUES = {"agency", "operator", "other_operator", "officer"}


@dataclass
class Rule:
    method: str
    url: Callable[[dict], str]
    allowed: set[str]
    body: dict | Callable[[dict], dict] = field(default_factory=dict)
    json: bool = True
    # For a view that redirects everyone (logging out): the status that means it was reached.
    reached_status: int | None = None

    def data(self, ctx: dict) -> dict:
        """The request body; a callable body is given the context (a secret made by the fixture)."""
        return self.body(ctx) if callable(self.body) else self.body


def _walk(patterns, ns=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, f"{ns}{p.namespace}:" if p.namespace else ns)
        elif p.name:
            yield ns + p.name


def C(path):  # a fixed path
    return lambda ctx: path


RULES: dict[str, list[Rule]] = {
    # Public
    "healthz": [Rule("GET", C("/healthz"), EVERYONE)],
    "readyz": [Rule("GET", C("/readyz"), EVERYONE)],
    # By network or token, not by role: the test client's loopback is the default monitoring network
    # (tests/portal/test_monitoring.py refuses other networks).
    "metrics": [Rule("GET", C("/metrics"), EVERYONE)],
    "set_language": [Rule("POST", C("/i18n/setlang/"), EVERYONE, {"language": "ur"}, json=False)],
    "api:schema": [Rule("GET", C("/api/v1/schema/"), EVERYONE)],
    "api:docs": [Rule("GET", C("/api/v1/docs/"), EVERYONE)],
    "api:event-list": [
        Rule("GET", C("/api/v1/events/"), EVERYONE),
        Rule("POST", C("/api/v1/events/"), {"officer"}, {"title": "t"}),
    ],
    "api:event-detail": [Rule("GET", lambda c: f"/api/v1/events/{c['event'].pk}/", EVERYONE)],
    "api:event-publish": [
        Rule("POST", lambda c: f"/api/v1/events/{c['draft_event'].pk}/publish/", {"officer"})
    ],
    "portal:login": [Rule("GET", C("/login/"), EVERYONE)],
    # A forgotten password: public pages; the link's token (not a role) opens the last step.
    "portal:password-reset": [Rule("GET", C("/password-reset/"), EVERYONE)],
    "portal:password-reset-sent": [Rule("GET", C("/password-reset/sent/"), EVERYONE)],
    "portal:password-reset-confirm": [Rule("GET", C("/password-reset/MQ/not-a-token/"), EVERYONE)],
    "portal:password-reset-done": [Rule("GET", C("/password-reset/done/"), EVERYONE)],
    # The login's second step and the authenticator page: signed-in users (anonymous goes to /login/).
    "portal:login-otp": [Rule("GET", C("/login/otp/"), SIGNED_IN)],
    "portal:account-two-factor": [Rule("GET", C("/account/two-factor/"), SIGNED_IN)],
    "portal:logout": [Rule("POST", C("/logout/"), EVERYONE, json=False, reached_status=302)],
    "portal:events": [Rule("GET", C("/events/"), EVERYONE)],
    "portal:events-json": [Rule("GET", C("/events.json"), EVERYONE)],
    "portal:events-ics": [Rule("GET", C("/events.ics"), EVERYONE)],
    "portal:statistics": [Rule("GET", C("/statistics/"), EVERYONE)],
    "portal:statistics-json": [Rule("GET", C("/statistics.json"), EVERYONE)],
    "portal:statistics-csv": [Rule("GET", C("/statistics.csv"), EVERYONE)],
    "portal:checkpoint-list": [Rule("GET", C("/transparency/checkpoints/"), EVERYONE)],
    "portal:transparency-key": [Rule("GET", C("/transparency/key.pub"), EVERYONE)],
    "portal:checkpoint-file": [Rule("GET", C("/transparency/checkpoints/latest.json"), EVERYONE)],
    "portal:checkpoint-signature": [
        Rule("GET", C("/transparency/checkpoints/latest.json.minisig"), EVERYONE)
    ],
    # Any signed-in user
    "api:api-root": [Rule("GET", C("/api/v1/"), SIGNED_IN)],
    "api:me": [
        Rule("GET", C("/api/v1/me/"), SIGNED_IN),
        Rule("PATCH", C("/api/v1/me/"), SIGNED_IN, {"language": "ur"}),
    ],
    "api:my-token": [
        Rule("GET", C("/api/v1/me/token/"), SIGNED_IN),
        Rule("DELETE", C("/api/v1/me/token/"), SIGNED_IN),
    ],
    # An organisation's own members, each for its own organisation only (the URL names none).
    "api:organisation-export": [
        Rule("GET", C("/api/v1/organisation/export/"), {"applicant", "other_applicant"})
    ],
    "portal:organisation": [Rule("GET", C("/organisation/"), {"applicant", "other_applicant"})],
    "portal:organisation-export": [Rule("GET", C("/organisation/export/"), {"applicant", "other_applicant"})],
    "api:operator-list": [Rule("GET", C("/api/v1/operators/"), SIGNED_IN)],
    "api:operator-detail": [Rule("GET", lambda c: f"/api/v1/operators/{c['world'].indus.pk}/", SIGNED_IN)],
    "api:district-list": [Rule("GET", C("/api/v1/districts/"), SIGNED_IN)],
    "api:district-detail": [Rule("GET", C("/api/v1/districts/pb-lahore/"), SIGNED_IN)],
    "api:service-list": [Rule("GET", C("/api/v1/services/"), SIGNED_IN)],
    "api:service-detail": [Rule("GET", C("/api/v1/services/whatsapp/"), SIGNED_IN)],
    "api:registration-list": [Rule("GET", C("/api/v1/registrations/"), SIGNED_IN)],
    "portal:home": [Rule("GET", C("/"), SIGNED_IN)],
    "portal:application-list": [Rule("GET", C("/applications/"), SIGNED_IN)],
    # Applications
    "api:application-list": [
        Rule("GET", C("/api/v1/applications/"), SIGNED_IN),
        Rule("POST", C("/api/v1/applications/"), {"applicant", "other_applicant"}, {"resources": []}),
    ],
    "api:application-detail": [
        Rule(
            "GET",
            lambda c: f"/api/v1/applications/{c['submitted'].pk}/",
            {"applicant", "agency", "operator", "officer", "auditor"},
        ),
        Rule("GET", lambda c: f"/api/v1/applications/{c['draft'].pk}/", {"applicant"}),
        # Withdrawn before it was ever submitted: still its organisation's alone.
        Rule("GET", lambda c: f"/api/v1/applications/{c['withdrawn_draft'].pk}/", {"applicant"}),
        Rule(
            "GET",
            lambda c: f"/api/v1/applications/{c['shared'].pk}/",
            {"applicant", "agency", "operator", "other_operator", "officer", "auditor"},
        ),
    ],
    "api:application-submit": [
        Rule("POST", lambda c: f"/api/v1/applications/{c['draft'].pk}/submit/", {"applicant"})
    ],
    "api:application-verify": [
        Rule(
            "POST",
            lambda c: f"/api/v1/applications/{c['submitted'].pk}/verify/",
            {"agency"},
            {"decision": "approve"},
        )
    ],
    "api:application-decide": [
        Rule(
            "POST",
            lambda c: f"/api/v1/applications/{c['awaiting'].pk}/decide/",
            {"officer"},
            {"decision": "approve"},
        )
    ],
    "api:resource-list": [Rule("GET", C("/api/v1/resources/"), {"operator", "other_operator"})],
    "api:resource-attest": [
        Rule(
            "POST",
            lambda c: f"/api/v1/resources/{c['pending_resource'].pk}/attest/",
            {"operator"},
            {"decision": "approve"},
        ),
        Rule(
            "POST",
            lambda c: f"/api/v1/resources/{c['withdrawn_draft'].resources.get().pk}/attest/",
            set(),
            {"decision": "approve"},
        ),
    ],
    "portal:application-new": [Rule("GET", C("/applications/new/"), {"applicant", "other_applicant"})],
    "portal:application-detail": [
        Rule(
            "GET",
            lambda c: f"/applications/{c['submitted'].pk}/",
            {"applicant", "agency", "operator", "officer", "auditor"},
        ),
        Rule("GET", lambda c: f"/applications/{c['withdrawn_draft'].pk}/", {"applicant"}),
        Rule(
            "GET",
            lambda c: f"/applications/{c['shared'].pk}/",
            {"applicant", "agency", "operator", "other_operator", "officer", "auditor"},
        ),
    ],
    "portal:application-submit": [
        Rule("POST", lambda c: f"/applications/{c['draft'].pk}/submit/", {"applicant"}, json=False)
    ],
    # The confirmation is seen by whoever may see the application (the secret only by its submitter).
    "portal:application-submitted": [
        Rule(
            "GET",
            lambda c: f"/applications/{c['submitted'].pk}/submitted/",
            {"applicant", "agency", "operator", "officer", "auditor"},
        )
    ],
    "portal:application-verify": [
        Rule(
            "POST",
            lambda c: f"/applications/{c['submitted'].pk}/verify/",
            {"agency"},
            {"decision": "approve"},
            json=False,
        )
    ],
    "portal:application-decide": [
        Rule(
            "POST",
            lambda c: f"/applications/{c['awaiting'].pk}/decide/",
            {"officer"},
            {"decision": "approve"},
            json=False,
        )
    ],
    "portal:resource-attest": [
        Rule(
            "POST",
            lambda c: f"/resources/{c['pending_resource'].pk}/attest/",
            {"operator"},
            {"decision": "approve"},
            json=False,
        ),
        Rule(
            "POST",
            lambda c: f"/resources/{c['withdrawn_draft'].resources.get().pk}/attest/",
            set(),
            {"decision": "approve"},
            json=False,
        ),
    ],
    # Registrations
    "portal:registration-list": [
        Rule(
            "GET",
            C("/registrations/"),
            {"applicant", "other_applicant", "operator", "other_operator", "officer", "auditor"},
        )
    ],
    "portal:registration-detail": [
        Rule(
            "GET",
            lambda c: f"/registrations/{c['registration'].pk}/",
            {"applicant", "operator", "officer", "auditor"},
        )
    ],
    "portal:registration-step": [
        Rule(
            "POST",
            lambda c, step=step: f"/registrations/{c['registration'].pk}/{step}/",
            allowed,
            {"reason": "matrix"},
            json=False,
        )
        for step, allowed in [
            ("suspend", {"officer"}),
            ("reinstate", {"officer"}),
            ("revoke", {"officer"}),
            ("surrender", {"applicant"}),
            ("report-unassigned", {"operator"}),
        ]
    ],
    "api:registration-detail": [
        Rule(
            "GET",
            lambda c: f"/api/v1/registrations/{c['registration'].pk}/",
            {"applicant", "operator", "officer", "auditor"},
        )
    ],
    **{
        f"api:registration-{step}": [
            Rule(
                "POST",
                lambda c, step=step: f"/api/v1/registrations/{c['registration'].pk}/{step}/",
                allowed,
                {"reason": "matrix"},
            )
        ]
        for step, allowed in [
            ("suspend", {"officer"}),
            ("reinstate", {"officer"}),
            ("revoke", {"officer"}),
            ("surrender", {"applicant"}),
            ("report-unassigned", {"operator"}),
        ]
    },
    # Publication and exemptions
    "api:allowlist-index": [Rule("GET", C("/api/v1/allowlist/index.json"), ALLOWLIST)],
    "api:allowlist-index-signature": [Rule("GET", C("/api/v1/allowlist/index.json.minisig"), ALLOWLIST)],
    "api:allowlist-key": [Rule("GET", C("/api/v1/allowlist/key.pub"), ALLOWLIST)],
    "api:allowlist-file": [Rule("GET", C("/api/v1/allowlist/latest.txt"), ALLOWLIST)],
    "api:allowlist-file-signature": [Rule("GET", C("/api/v1/allowlist/1.nft.minisig"), ALLOWLIST)],
    "api:allowlist-operators": [Rule("GET", C("/api/v1/allowlist/operators/"), {"officer", "auditor"})],
    "api:exemption-check": [
        Rule("GET", C("/api/v1/exemptions/check?address=14.1.105.1"), ALLOWLIST),
        Rule("POST", C("/api/v1/exemptions/check"), ALLOWLIST),
    ],
    # A bulk check answered later: only the operator who sent it sees it.
    "api:exemption-job": [
        Rule("GET", lambda c: f"/api/v1/exemptions/jobs/{c['exemption_job'].pk}/", {"operator"})
    ],
    "api:exemption-job-result": [
        Rule("GET", lambda c: f"/api/v1/exemptions/jobs/{c['exemption_job'].pk}/result", {"operator"})
    ],
    "portal:allowlist": [Rule("GET", C("/allowlist/"), ALLOWLIST)],
    # Statements: the holder's organisation; the check page is public and names nobody.
    "api:event-statement": [
        Rule(
            "GET",
            lambda c: f"/api/v1/events/{c['event_now'].pk}/statement.json",
            {"applicant", "other_applicant"},
        )
    ],
    "api:event-statement-signature": [
        Rule(
            "GET",
            lambda c: f"/api/v1/events/{c['event_now'].pk}/statement.json.minisig",
            {"applicant", "other_applicant"},
        )
    ],
    "portal:statement-list": [Rule("GET", C("/statements/"), {"applicant", "other_applicant"})],
    "portal:statement-issue": [
        Rule("GET", lambda c: f"/statements/events/{c['event_now'].pk}/", {"applicant", "other_applicant"})
    ],
    "portal:statement-check": [Rule("GET", lambda c: f"/statements/{c['statement'].pk}/", EVERYONE)],
    "portal:statement-print": [
        Rule("GET", lambda c: f"/statements/{c['statement'].pk}/print/", {"applicant"})
    ],
    "portal:statement-pdf": [
        Rule("GET", lambda c: f"/statements/{c['statement'].pk}/statement.pdf", {"applicant"})
    ],
    "portal:statement-json": [
        Rule("GET", lambda c: f"/statements/{c['statement'].pk}/statement.json", {"applicant"})
    ],
    "portal:statement-signature": [
        Rule(
            "GET",
            lambda c: f"/statements/{c['statement'].pk}/statement.json.minisig",
            {"applicant"},
        )
    ],
    # Complaints: the complainant's organisation, the operator concerned, officers; auditors read.
    "api:complaint-list": [
        # Every signed-in caller gets a list, scoped to what it may see (empty for an agency).
        Rule("GET", C("/api/v1/complaints/"), SIGNED_IN),
        Rule("POST", C("/api/v1/complaints/"), {"applicant", "other_applicant"}, {"description": ""}),
    ],
    "api:complaint-detail": [
        Rule(
            "GET",
            lambda c: f"/api/v1/complaints/{c['complaint'].pk}/",
            {"applicant", "operator", "officer", "auditor"},
        )
    ],
    "api:complaint-evidence": [
        Rule(
            "GET",
            lambda c: f"/api/v1/complaints/{c['complaint'].pk}/evidence/",
            {"applicant", "operator", "officer", "auditor"},
        )
    ],
    "api:complaint-messages": [
        Rule(
            "POST",
            lambda c: f"/api/v1/complaints/{c['complaint'].pk}/messages/",
            {"applicant", "operator", "officer"},
            {"text": "matrix"},
        )
    ],
    "api:complaint-resolve": [
        Rule(
            "POST",
            lambda c: f"/api/v1/complaints/{c['complaint'].pk}/resolve/",
            {"officer"},
            {"decision": "resolved", "reason": "matrix"},
        )
    ],
    "api:complaint-reopen": [
        Rule(
            "POST",
            lambda c: f"/api/v1/complaints/{c['complaint'].pk}/reopen/",
            {"applicant"},
            {"reason": "matrix"},
        )
    ],
    "portal:complaint-list": [Rule("GET", C("/complaints/"), SIGNED_IN - {"agency"})],
    "portal:complaint-new": [Rule("GET", C("/complaints/new/"), {"applicant", "other_applicant"})],
    "portal:complaint-detail": [
        Rule(
            "GET",
            lambda c: f"/complaints/{c['complaint'].pk}/",
            {"applicant", "operator", "officer", "auditor"},
        )
    ],
    "portal:complaint-message": [
        Rule(
            "POST",
            lambda c: f"/complaints/{c['complaint'].pk}/messages/",
            {"applicant", "operator", "officer"},
            {"text": "matrix"},
            json=False,
        )
    ],
    "portal:complaint-resolve": [
        Rule(
            "POST",
            lambda c: f"/complaints/{c['complaint'].pk}/resolve/",
            {"officer"},
            {"decision": "resolved", "reason": "matrix"},
            json=False,
        )
    ],
    "portal:complaint-reopen": [
        Rule(
            "POST",
            lambda c: f"/complaints/{c['complaint'].pk}/reopen/",
            {"applicant"},
            {"reason": "matrix"},
            json=False,
        )
    ],
    "portal:complaint-evidence": [
        Rule(
            "GET",
            lambda c: f"/complaints/{c['complaint'].pk}/evidence/",
            {"applicant", "operator", "officer", "auditor"},
        )
    ],
    # Certificates: the holder downloads; anyone checks a code. Public status: anyone with the secret.
    "portal:certificate-pdf": [
        Rule("GET", lambda c: f"/registrations/{c['registration'].pk}/certificate.pdf", {"applicant"})
    ],
    "api:registration-certificate": [
        Rule("GET", lambda c: f"/api/v1/registrations/{c['registration'].pk}/certificate.pdf", {"applicant"})
    ],
    "portal:certificate-verify": [Rule("GET", C("/verify/"), EVERYONE)],
    "portal:certificate-check": [Rule("GET", lambda c: f"/verify/{c['certificate'].code}/", EVERYONE)],
    "api:certificate-check": [
        Rule("GET", lambda c: f"/api/v1/certificates/{c['certificate'].code}/", EVERYONE)
    ],
    "portal:status": [
        Rule("GET", C("/status/"), EVERYONE),
        Rule("POST", C("/status/"), EVERYONE, lambda c: c["status"], json=False),
    ],
    "api:public-status": [Rule("POST", C("/api/v1/status/"), EVERYONE, lambda c: c["status"])],
    # The workflow beyond the five steps (issue 4): bulk resources, fee, return, withdraw, appeal, renewal.
    "api:application-withdraw": [
        Rule("POST", lambda c: f"/api/v1/applications/{c['submitted'].pk}/withdraw/", {"applicant"})
    ],
    "api:application-payment": [
        Rule(
            "POST",
            lambda c: f"/api/v1/applications/{c['awaiting'].pk}/payment/",
            {"officer"},
            {"reference": "MATRIX-1"},
        )
    ],
    "api:application-appeal": [
        Rule(
            "POST",
            lambda c: f"/api/v1/applications/{c['submitted'].pk}/appeal/",
            {"applicant"},
            {"grounds": "matrix"},
        )
    ],
    "api:application-appeal-decision": [
        Rule(
            "POST",
            lambda c: f"/api/v1/applications/{c['submitted'].pk}/appeal-decision/",
            {"officer"},
            {"decision": "uphold", "reason": "matrix"},
        )
    ],
    "api:application-resources": [
        Rule(
            "PUT",
            lambda c: f"/api/v1/applications/{c['draft'].pk}/resources/",
            {"applicant"},
            {"resources": [{"value": "27.0.185.0/24", "subscriber_id": "S"}]},
        )
    ],
    "api:application-csv": [
        Rule("POST", C("/api/v1/applications/csv/"), {"applicant", "other_applicant"}, {"file": ""})
    ],
    # Every operator may send a list; ids outside its own space are refused item by item (tested).
    "api:resource-attest-many": [
        Rule(
            "POST",
            C("/api/v1/resources/attest/"),
            {"operator", "other_operator"},
            {"resources": [1], "decision": "approve"},
        )
    ],
    "api:registration-renew": [
        Rule("POST", lambda c: f"/api/v1/registrations/{c['registration'].pk}/renew/", {"applicant"})
    ],
    "api:rejection-reason-list": [Rule("GET", C("/api/v1/rejection-reasons/"), SIGNED_IN)],
    "api:rejection-reason-detail": [Rule("GET", C("/api/v1/rejection-reasons/other/"), SIGNED_IN)],
    "portal:application-csv": [Rule("GET", C("/applications/new/csv/"), {"applicant", "other_applicant"})],
    "portal:application-resources": [
        Rule("GET", lambda c: f"/applications/{c['draft'].pk}/resources/", {"applicant"})
    ],
    "portal:application-withdraw": [
        Rule("POST", lambda c: f"/applications/{c['submitted'].pk}/withdraw/", {"applicant"}, json=False)
    ],
    "portal:application-payment": [
        Rule(
            "POST",
            lambda c: f"/applications/{c['awaiting'].pk}/payment/",
            {"officer"},
            {"reference": "MATRIX-2"},
            json=False,
        )
    ],
    "portal:application-voucher": [
        Rule(
            "GET", lambda c: f"/applications/{c['awaiting'].pk}/voucher/", {"applicant", "officer", "auditor"}
        )
    ],
    "portal:application-appeal": [
        Rule(
            "POST",
            lambda c: f"/applications/{c['submitted'].pk}/appeal/",
            {"applicant"},
            {"grounds": "matrix"},
            json=False,
        )
    ],
    "portal:application-appeal-decision": [
        Rule(
            "POST",
            lambda c: f"/applications/{c['submitted'].pk}/appeal-decision/",
            {"officer"},
            {"decision": "uphold", "reason": "matrix"},
            json=False,
        )
    ],
    "portal:registration-renew": [
        Rule("POST", lambda c: f"/registrations/{c['registration'].pk}/renew/", {"applicant"}, json=False)
    ],
    "portal:attestation-queue": [
        Rule("GET", C("/attestations/"), {"operator", "other_operator"}),
        Rule(
            "POST", C("/attestations/"), {"operator", "other_operator"}, {"decision": "approve"}, json=False
        ),
    ],
    # The rejection reasons are in the same admin: officers edit them, never delete them (retired instead).
    **{
        f"admin:applications_rejectionreason_{view}": [
            Rule("GET", lambda c, view=view: _reason_url(view), set() if view == "delete" else {"officer"})
        ]
        for view in ["changelist", "add", "change", "delete", "history"]
    },
    "portal:event-new": [Rule("GET", C("/events/new/"), {"officer"})],
    "portal:audit-log": [Rule("GET", C("/audit/"), {"officer", "auditor"})],
    # Queues and turnaround: each worker role its own queue; the report for officers and auditors.
    "portal:queue": [Rule("GET", C("/queue/"), QUEUES)],
    "api:queue": [Rule("GET", C("/api/v1/queue/"), QUEUES)],
    "portal:turnaround": [Rule("GET", C("/turnaround/"), {"officer", "auditor"})],
    "portal:step-target": [
        Rule("POST", C("/turnaround/targets/"), {"officer"}, {"step": "decision", "days": "4"}, json=False)
    ],
    # Emails given up on after every try: officers see them and send them again.
    "portal:failed-mail": [Rule("GET", C("/mail/failed/"), {"officer"})],
    "portal:failed-mail-retry": [Rule("POST", C("/mail/failed/retry/"), {"officer"}, json=False)],
    # Notifications: everyone their own, nobody another's.
    "portal:notifications": [Rule("GET", C("/notifications/"), SIGNED_IN)],
    "portal:notifications-read-all": [Rule("POST", C("/notifications/read/"), SIGNED_IN, json=False)],
    "portal:notification-read": [
        Rule("POST", lambda c: f"/notifications/{c['notification'].pk}/read/", {"applicant"}, json=False)
    ],
    "api:notification-list": [Rule("GET", C("/api/v1/notifications/"), SIGNED_IN)],
    "api:notification-detail": [
        Rule("GET", lambda c: f"/api/v1/notifications/{c['notification'].pk}/", {"applicant"})
    ],
    "api:notification-read": [
        Rule("POST", lambda c: f"/api/v1/notifications/{c['notification'].pk}/read/", {"applicant"})
    ],
    "api:notification-read-all": [Rule("POST", C("/api/v1/notifications/read/"), SIGNED_IN)],
    # Sign-up and invitations: public; the links carry signed tokens.
    "portal:signup": [Rule("GET", C("/signup/"), EVERYONE)],
    "portal:signup-verify": [Rule("GET", lambda c: f"/signup/verify/{c['signup_token']}/", EVERYONE)],
    "portal:signup-resend": [Rule("GET", C("/signup/resend/"), EVERYONE)],
    "portal:invitation-accept": [Rule("GET", lambda c: f"/invitations/{c['invitation_token']}/", EVERYONE)],
    "api:signup": [Rule("POST", C("/api/v1/signup/"), EVERYONE, {"name": ""})],
    "api:signup-verify": [Rule("POST", C("/api/v1/signup/verify/"), EVERYONE, {"token": "x"})],
    "api:signup-resend": [Rule("POST", C("/api/v1/signup/resend/"), EVERYONE, {"email": "x@example.org"})],
    "api:invitation-accept": [Rule("POST", C("/api/v1/invitations/accept/"), EVERYONE, {"token": "x"})],
    # An organisation's members: its members see them; its admins (the applicant) manage them.
    "portal:organisation-members": [
        Rule("GET", C("/organisation/members/"), {"applicant", "other_applicant"})
    ],
    "portal:organisation-invite": [
        Rule(
            "POST",
            C("/organisation/members/invite/"),
            {"applicant"},
            {"email": "new@example.org"},
            json=False,
        )
    ],
    "portal:member-remove": [
        Rule("POST", lambda c: f"/organisation/members/{c['member'].pk}/remove/", {"applicant"}, json=False)
    ],
    "portal:member-admin": [
        Rule(
            "POST",
            lambda c: f"/organisation/members/{c['member'].pk}/admin/",
            {"applicant"},
            {"admin": "1"},
            json=False,
        )
    ],
    "api:member-list": [Rule("GET", C("/api/v1/organisation/members/"), {"applicant", "other_applicant"})],
    "api:member-remove": [
        Rule("POST", lambda c: f"/api/v1/organisation/members/{c['member'].pk}/remove/", {"applicant"})
    ],
    "api:member-admin": [
        Rule(
            "POST",
            lambda c: f"/api/v1/organisation/members/{c['member'].pk}/admin/",
            {"applicant"},
            {"admin": True},
        )
    ],
    "api:invitation-list": [
        Rule("GET", C("/api/v1/organisation/invitations/"), {"applicant", "other_applicant"}),
        Rule("POST", C("/api/v1/organisation/invitations/"), {"applicant"}, {"email": "new@example.org"}),
    ],
    # Documents: the organisation's members, the agency its application went to, officers.
    "portal:documents": [Rule("GET", C("/documents/"), {"applicant", "other_applicant"})],
    "portal:document-download": [
        Rule("GET", lambda c: f"/documents/{c['document'].pk}/", {"applicant", "agency", "officer"})
    ],
    "portal:organisation-documents": [
        Rule(
            "GET",
            lambda c: f"/organisations/{c['world'].org.pk}/documents/",
            {"applicant", "agency", "officer"},
        )
    ],
    "api:document-list": [
        Rule(
            "GET",
            lambda c: f"/api/v1/documents/?organisation={c['world'].org.pk}",
            {"applicant", "agency", "officer"},
        ),
        Rule("POST", C("/api/v1/documents/"), {"applicant", "other_applicant"}, {"document_type": "cnic"}),
    ],
    "api:document-detail": [
        Rule("GET", lambda c: f"/api/v1/documents/{c['document'].pk}/", {"applicant", "agency", "officer"})
    ],
    "api:document-file": [
        Rule(
            "GET", lambda c: f"/api/v1/documents/{c['document'].pk}/file/", {"applicant", "agency", "officer"}
        )
    ],
    "api:document-requirements": [
        Rule(
            "GET",
            lambda c: f"/api/v1/documents/requirements/?organisation={c['world'].org.pk}",
            {"applicant", "agency", "officer"},
        )
    ],
    # Operators' address space: operators propose, officers decide, auditors read.
    "portal:space-changes": [
        Rule("GET", C("/space/"), {"operator", "other_operator", "officer", "auditor"}),
        Rule("POST", C("/space/"), {"operator", "other_operator"}, {"action": "add"}, json=False),
    ],
    "portal:space-change-decide": [
        Rule(
            "POST",
            lambda c: f"/space/{c['space_change'].pk}/decide/",
            {"officer"},
            {"decision": "approve"},
            json=False,
        )
    ],
    "api:space-change-list": [
        Rule("GET", C("/api/v1/space-changes/"), {"operator", "other_operator", "officer", "auditor"}),
        Rule("POST", C("/api/v1/space-changes/"), {"operator", "other_operator"}, {"action": "add"}),
    ],
    "api:space-change-detail": [
        Rule(
            "GET",
            lambda c: f"/api/v1/space-changes/{c['space_change'].pk}/",
            {"operator", "officer", "auditor"},
        )
    ],
    "api:space-change-approve": [
        Rule("POST", lambda c: f"/api/v1/space-changes/{c['space_change'].pk}/approve/", {"officer"})
    ],
    "api:space-change-reject": [
        Rule(
            "POST",
            lambda c: f"/api/v1/space-changes/{c['space_change'].pk}/reject/",
            {"officer"},
            {"reason": "matrix"},
        )
    ],
    # The admin: officers edit the reference data; everyone else is sent to its login page.
    # The admin's login sends everyone to the portal's (lockout, and any second factor, apply there).
    "admin:login": [Rule("GET", C("/admin/login/"), EVERYONE, json=False, reached_status=302)],
    "admin:logout": [Rule("POST", C("/admin/logout/"), EVERYONE, json=False, reached_status=302)],
    "admin:index": [Rule("GET", C("/admin/"), {"officer"})],
    "admin:app_list": [Rule("GET", C("/admin/accounts/"), {"officer"})],
    "admin:password_change": [Rule("GET", C("/admin/password_change/"), {"officer"})],
    "admin:password_change_done": [Rule("GET", C("/admin/password_change/done/"), {"officer"})],
    "admin:jsi18n": [Rule("GET", C("/admin/jsi18n/"), {"officer"})],
    "admin:autocomplete": [
        Rule(
            "GET",
            C("/admin/autocomplete/?app_label=accounts&model_name=category&field_name=agency&term=s"),
            {"officer"},
        )
    ],
    **{
        f"admin:accounts_{model}_{view}": [
            Rule("GET", lambda c, model=model, view=view: _admin_url(c, model, view), {"officer"})
        ]
        for model in ["agency", "category", "documenttype"]
        for view in ["changelist", "add", "change", "delete", "history"]
    },
    # Provinces, districts and services (rows others refer to): officers edit and add them, nobody
    # deletes them; operators: officers edit their names only (createstaff sets them up).
    **{
        f"admin:{app}_{model}_{view}": [
            Rule(
                "GET",
                lambda c, app=app, model=model, view=view: _kept_admin_url(app, model, view),
                set() if view == "delete" or (model == "operator" and view == "add") else {"officer"},
            )
        ]
        for app, model in [
            ("accounts", "province"),
            ("accounts", "district"),
            ("accounts", "operator"),
            ("restrictions", "service"),
        ]
        for view in ["changelist", "add", "change", "delete", "history"]
    },
}


def _kept_admin_url(app: str, model: str, view: str) -> str:
    from vpnregistry.accounts.models import District, Operator, Province
    from vpnregistry.restrictions.models import Service

    if view in {"changelist", "add"}:
        return f"/admin/{app}/{model}/{'add/' if view == 'add' else ''}"
    province = Province.objects.first() or Province.objects.create(code="MX", name="Matrix")
    found = {
        "province": lambda: province,
        "district": lambda: (
            District.objects.first()
            or District.objects.create(code="mx-matrix", name="Matrix", province=province)
        ),
        "operator": lambda: Operator.objects.first(),
        "service": lambda: (
            Service.objects.first()
            or Service.objects.create(code="matrix", kind="application", name="Matrix")
        ),
    }[model]()
    return f"/admin/{app}/{model}/{found.pk}/{view}/"


def _reason_url(view: str) -> str:
    from vpnregistry.applications.models import RejectionReason

    if view in {"changelist", "add"}:
        return f"/admin/applications/rejectionreason/{'add/' if view == 'add' else ''}"
    reason = RejectionReason.objects.first() or RejectionReason.objects.create(code="matrix", text="Matrix")
    return f"/admin/applications/rejectionreason/{reason.pk}/{view}/"


def _admin_url(ctx, model: str, view: str) -> str:
    from vpnregistry.accounts.models import Agency, Category, DocumentType

    if view == "changelist":
        return f"/admin/accounts/{model}/"
    if view == "add":
        return f"/admin/accounts/{model}/add/"
    pk = {"agency": Agency, "category": Category, "documenttype": DocumentType}[model].objects.first().pk
    return f"/admin/accounts/{model}/{pk}/{view}/"


def test_every_url_is_declared():
    names = set(_walk(get_resolver().url_patterns))
    missing = sorted(names - set(RULES))
    assert not missing, f"URLs without an entry in the authorization table: {missing}"
    stale = sorted(set(RULES) - names)
    assert not stale, f"entries for URLs that no longer exist: {stale}"


@pytest.fixture
def ctx(world):
    with TestCase.captureOnCommitCallbacks(execute=True):
        approved_app = approved(world, "14.1.105.0/24")
    submitted = draft(world, "14.1.106.0/24")
    status_secret = services.application_submit(actor=world.applicant, application=submitted).status_secret
    awaiting = to_decision(world, "14.1.107.0/24")
    start = timezone.now() + timedelta(days=1)
    common = {
        "title": "Event",
        "legal_reference": "Order",
        "starts_at": start,
        "ends_at": start + timedelta(hours=1),
        "services": ["mobile-data"],
        "national": True,
    }
    call_command("checkpoint", stdout=io.StringIO())
    registration = Registration.objects.get(resource__application=approved_app)
    now_common = {
        **common,
        "starts_at": timezone.now() - timedelta(minutes=5),
        "ends_at": timezone.now() + timedelta(hours=1),
    }
    event_now = event_create(actor=world.officer, publish=True, **now_common)
    evidence = SimpleUploadedFile("note.txt", b"the tunnel dropped at 09:05", content_type="text/plain")
    complaint = complaint_file(
        actor=world.applicant,
        registration=registration,
        event=event_now,
        happened_at=timezone.now(),
        description="blocked",
        service="mobile-data",
        evidence=evidence,
    )
    # The applicant is its organisation's admin; another member is there to be removed.
    world.applicant.is_org_admin = True
    world.applicant.save(update_fields=["is_org_admin"])
    member = UserFactory(username="member", organisation=world.org)
    pending = onboarding.organisation_register(
        name="Pending Ltd",
        category="company",
        email="pending@example.org",
        username="pending",
        password=PASSWORD,
    )
    invitation = onboarding.member_invite(actor=world.applicant, email="invited@example.org")
    pdf = SimpleUploadedFile("cnic.pdf", minimal_pdf("CNIC"), content_type="application/pdf")
    document = document_upload(
        actor=world.applicant,
        document_type="cnic",
        upload=pdf,
        expires_on=timezone.localdate() + timedelta(1),
    )
    space_change = space_change_propose(actor=world.operator, action="add", prefix="103.4.0.0/22")
    # Two operators' resources in one application, each attested by its own operator with a reason.
    shared = draft(world, "27.0.186.0/24", "14.192.128.0/24")
    services.application_submit(actor=world.applicant, application=shared)
    for resource in shared.resources.all():
        if resource.operator_id == world.indus.pk:
            services.resource_attest(
                actor=world.operator, resource=resource, decision="approve", reason="bill checked by indus"
            )
        else:
            services.resource_attest(
                actor=world.other_operator,
                resource=resource,
                decision="reject",
                reason="subscriber in arrears",
            )
    withdrawn_draft = draft(world, "27.0.185.0/24", subscriber_id="SUB-WITHDRAWN-DRAFT")
    services.application_withdraw(actor=world.applicant, application=withdrawn_draft, reason="changed mind")
    return {
        "world": world,
        "member": member,
        "signup_token": onboarding.signup_token(pending),
        "invitation_token": signing.dumps(
            {"i": invitation.pk, "e": invitation.email}, salt=onboarding.INVITATION_SALT
        ),
        "document": document,
        "space_change": space_change,
        "draft": draft(world, "27.0.184.0/24"),
        "withdrawn_draft": withdrawn_draft,
        "shared": shared,
        "submitted": submitted,
        "awaiting": awaiting,
        "pending_resource": submitted.resources.get(),
        "registration": registration,
        "certificate": issue_certificate(actor=world.applicant, registration=registration),
        "status": {
            "tracking_number": Application.objects.get(pk=submitted.pk).tracking_number,
            "secret": status_secret,
        },
        "event_now": event_now,
        "statement": statement_issue(actor=world.applicant, event=event_now),
        "complaint": complaint,
        "notification": notify_one(world.applicant),
        "exemption_job": exemption_job(world.operator),
        "event": event_create(actor=world.officer, publish=True, **common),
        "draft_event": event_create(actor=world.officer, **common),
    }


def exemption_job(user):
    job = job_create(
        owner=user, source=io.BytesIO(b"14.1.105.1\n"), at=timezone.now(), column=None, start=False
    )
    job_run(job.pk)
    return job


def notify_one(user) -> Notification:
    notify_users([user], subject="matrix", body="a notification of the applicant's own")
    return Notification.objects.filter(recipient=user).latest("id")


def _client(world, identity):
    client = APIClient()
    if identity == "anonymous":
        return client
    user = getattr(world, identity)
    login(client, user)  # the portal's session
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")  # the API's token
    return client


def _refused(response) -> bool:
    if response.status_code in {401, 403, 404}:
        return True
    return response.status_code == 302 and "/login/" in response.get("Location", "")


@pytest.mark.parametrize("identity", IDENTITIES)
def test_authorization_matrix(ctx, identity):
    wrong = []
    for name, rules in RULES.items():
        for rule in rules:
            # A client of its own for each request: logging out must not sign the next one out.
            client = _client(ctx["world"], identity)
            url = rule.url(ctx)
            body = rule.data(ctx)
            with transaction.atomic():
                if rule.method == "GET":
                    response = client.get(url)
                elif rule.method == "DELETE":
                    response = client.delete(url)
                elif rule.method == "PUT":
                    response = client.put(url, rule.body, format="json")
                elif rule.method == "PATCH":
                    response = client.patch(url, body, format="json")
                elif rule.json:
                    response = client.post(url, body, format="json")
                else:
                    response = client.post(url, body)
                transaction.set_rollback(True)
            allowed = identity in rule.allowed
            if rule.reached_status is not None:
                if response.status_code != rule.reached_status:
                    wrong.append(f"{rule.method} {url} ({name}) as {identity}: {response.status_code}")
            elif allowed == _refused(response):
                wrong.append(
                    f"{rule.method} {url} ({name}) as {identity}: {response.status_code}, "
                    f"expected {'reached' if allowed else 'refused'}"
                )
    assert not wrong, "\n".join(wrong)


# Lists say what a detail page refuses: every list of applications or resources, API and portal, as
# every identity, leaves out what the identity may not see.
LISTS = ["/api/v1/applications/", "/api/v1/resources/", "/applications/", "/", "/attestations/"]


@pytest.mark.parametrize("identity", IDENTITIES)
def test_a_draft_withdrawn_before_submission_is_listed_for_its_organisation_only(ctx, identity):
    withdrawn = ctx["withdrawn_draft"]
    client = _client(ctx["world"], identity)
    shown = []
    for url in LISTS:
        response = client.get(url)
        if _refused(response) or response.status_code != 200:
            continue
        text = response.content.decode()
        marks = ["SUB-WITHDRAWN-DRAFT", "27.0.185.0/24", f"/applications/{withdrawn.pk}/"]
        if any(mark in text for mark in marks):
            shown.append(url)
        if url == "/api/v1/applications/" and withdrawn.pk in [a["id"] for a in response.json()["results"]]:
            shown.append(url)
    if identity == "applicant":
        assert "/api/v1/applications/" in shown and "/applications/" in shown
    else:
        assert shown == [], f"{identity} is shown the withdrawn draft in {shown}"


# Each operator reads the events of its own resources only; everyone else who sees the application
# reads all of them.
OWN_ATTESTATION = {
    "operator": ("bill checked by indus", "subscriber in arrears"),
    "other_operator": ("subscriber in arrears", "bill checked by indus"),
}


@pytest.mark.parametrize(
    "identity", ["applicant", "agency", "operator", "other_operator", "officer", "auditor"]
)
def test_an_operator_never_reads_another_operators_attestation(ctx, identity):
    shared = ctx["shared"]
    client = _client(ctx["world"], identity)
    api = client.get(f"/api/v1/applications/{shared.pk}/")
    page = client.get(f"/applications/{shared.pk}/")
    assert api.status_code == page.status_code == 200
    history = api.json()["history"]
    reasons = {e["reason"] for e in history}
    attesters = {e["actor"] for e in history if e["action"] == "resource.attest"}
    html = page.content.decode()
    if identity in OWN_ATTESTATION:
        own, other = OWN_ATTESTATION[identity]
        rival = "margalla-staff" if identity == "operator" else "indus-staff"
        assert own in reasons and own in html
        assert other not in reasons and other not in html, f"{identity} reads {other!r}"
        assert rival not in attesters and rival not in html
    else:
        assert {"bill checked by indus", "subscriber in arrears"} <= reasons
        assert attesters == {"indus-staff", "margalla-staff"}


# Every JSON write of the table, as every identity, with a body nested far deeper than the parser
# takes: never a 500; never a success for whoever may not call it (refused as the table says, or a
# 400 where a step reads its body before the service judges the role, on an object the caller sees).
DEEP = "[" * 200 + "1" + "]" * 200


@pytest.mark.parametrize("identity", IDENTITIES)
def test_a_deeply_nested_body_is_refused_everywhere_never_a_500(ctx, identity):
    wrong = []
    for name, rules in RULES.items():
        for rule in rules:
            if rule.method not in {"POST", "PUT"} or not rule.json:
                continue
            client = _client(ctx["world"], identity)
            url = rule.url(ctx)
            body = '{"deep": ' + DEEP + "}"
            with transaction.atomic():
                if rule.method == "PUT":
                    response = client.put(url, body, content_type="application/json")
                else:
                    response = client.post(url, body, content_type="application/json")
                transaction.set_rollback(True)
            allowed = identity in rule.allowed
            if response.status_code >= 500 or (
                not allowed and not (_refused(response) or response.status_code == 400)
            ):
                wrong.append(f"{rule.method} {url} ({name}) as {identity}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
