"""The public status of an application: its tracking number plus the secret given at submission.

The secret is 20 characters of Crockford's base32 (100 random bits), shown once to the applicant
(on the page after submitting, in the API's answer and in the submission email) and stored only as
its SHA-256. A fast hash is enough for a secret this long (a slow one guards guessable passwords,
and here would only hand the public a way to load the server); comparison is in constant time. An
unknown tracking number and a wrong secret get the same answer, so neither can be probed.

What the answer holds is the application's own course: state, dates, and each change of state with
its reason. Never who acted, nor the organisation, its identifiers or its resources.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from vpnregistry.applications.models import Application
from vpnregistry.audit.models import AuditEvent
from vpnregistry.bilingual import localised
from vpnregistry.codes import grouped, new_code, normalised

SECRET_LENGTH = 20
# Compared against when the tracking number is unknown, so that both refusals take the same path.
_NO_APPLICATION = hashlib.sha256(b"no such application").hexdigest()
HISTORY_LIMIT = 200


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_status_secret(application: Application) -> str:
    """A new secret for the application (its hash set on it, for the caller's save), as printed."""
    secret = new_code(SECRET_LENGTH)
    application.status_secret_hash = _hash(secret)
    return grouped(secret, 5)


def state_label(state: str) -> str:
    try:
        return str(Application.State(state).label)
    except ValueError:
        return state


@dataclass(frozen=True)
class Change:
    at: datetime
    from_state: str
    to_state: str
    reason: str

    @property
    def from_label(self) -> str:
        return state_label(self.from_state) if self.from_state else ""

    @property
    def to_label(self) -> str:
        return state_label(self.to_state)


@dataclass(frozen=True)
class PublicStatus:
    tracking_number: str
    category: str  # its English name (the API's `category`)
    category_ur: str  # its Urdu name, blank when none was written (the API's `category_ur`)
    state: str
    state_label: str
    submitted_at: datetime | None
    verified_at: datetime | None
    decided_at: datetime | None
    history: list[Change]

    @property
    def category_name(self) -> str:
        """The category's name in the reader's language (for the page)."""
        return localised(self.category, self.category_ur)


def public_status(tracking_number: str, secret: str) -> PublicStatus | None:
    """The application's public status, or None for a wrong pair (whichever half is wrong)."""
    number = str(tracking_number or "").strip().upper()
    application = (
        Application.objects.select_related("category").filter(tracking_number=number).first()
        if 0 < len(number) <= 20
        else None
    )
    code = normalised(secret, SECRET_LENGTH)
    given = _hash(code or "")
    stored = (application.status_secret_hash if application else "") or _NO_APPLICATION
    if not hmac.compare_digest(stored, given) or application is None or code is None:
        return None
    events = AuditEvent.objects.filter(object_type="application", object_id=str(application.pk)).order_by(
        "seq"
    )
    history = [
        Change(at=e.at, from_state=e.from_state, to_state=e.to_state, reason=e.reason)
        for e in events.only("at", "from_state", "to_state", "reason")[:HISTORY_LIMIT]
        if e.to_state and e.to_state != e.from_state
    ]
    return PublicStatus(
        tracking_number=application.tracking_number,
        category=application.category.name,
        category_ur=application.category.name_ur,
        state=application.state,
        state_label=state_label(application.state),
        submitted_at=application.submitted_at,
        verified_at=application.verified_at,
        decided_at=application.decided_at,
        history=history,
    )
