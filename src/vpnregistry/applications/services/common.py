"""The steps' shared parts: the prelude every step takes (`stepping`: one transaction, the
application re-read under its row lock), the transition that records, audits and notifies, and
the refusals and reasons the stages share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.applications import queues
from vpnregistry.applications.models import (
    Application,
    RejectionReason,
    Resource,
    Review,
)
from vpnregistry.applications.notifications import notify_transition
from vpnregistry.applications.reasons import URDU_REASONS
from vpnregistry.audit.services import record
from vpnregistry.db import hold_lock
from vpnregistry.errors import InvalidInput, NotAllowed

State = Application.State

DECISIONS = ("approve", "reject", "return")
APPEAL_DECISIONS = ("uphold", "dismiss")
LIVE = ~Q(state=Resource.State.REMOVED)


def transition(
    *,
    actor,
    application: Application,
    to_state: str,
    action: str,
    reason: str = "",
    at: datetime,
    data: dict | None = None,
) -> None:
    """The application moved to `to_state`: saved, audited, its time in the step it left recorded,
    and the people concerned told once the transaction commits."""
    from_state = application.state
    entered_at = application.state_changed_at
    application.state = to_state
    application.state_changed_at = at
    application.version = F("version") + 1
    application.save()
    application.refresh_from_db(fields=["version"])
    record(
        actor=actor,
        action=action,
        obj=application,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data,
        at=at,
    )
    queues.record_durations(
        application=application, actor=actor, from_state=from_state, entered_at=entered_at, at=at
    )
    transaction.on_commit(
        lambda: notify_transition(
            application=application, from_state=from_state, to_state=to_state, reason=reason
        )
    )


@contextmanager
def stepping(application: Application, *, serialised: bool = False) -> Iterator[tuple[Application, datetime]]:
    """The prelude every step on an application shares, once its caller has checked the actor's role
    and the input: the step's time, one transaction, and the application re-read under its row lock
    (after the approval lock when `serialised`: of two overlapping approvals only the first can win).
    Yields (application, now)."""
    now = timezone.now()
    with transaction.atomic():
        if serialised:
            hold_lock("approval")
        yield locked(application), now


def add_review(actor, application: Application, stage: str, *, decision: str, reason: str, at) -> Review:
    """The reviewer's decision at `stage` (the agency's, the regulator's, the appeal's), with its reason."""
    return Review.objects.create(
        application=application, stage=stage, decision=decision, reason=reason, reviewer=actor, at=at
    )


def locked(application: Application) -> Application:
    """Re-read the application under a row lock, so that two steps on it cannot interleave."""
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("organisation", "category")
        .get(pk=application.pk)
    )


def require_role(actor, role: str) -> None:
    """The first check of every step: the actor holds `role` (403 otherwise)."""
    if getattr(actor, "role", None) != role:
        raise NotAllowed(_("Only a user with the %(role)s role can do this.") % {"role": role})


def require_own(actor, application: Application) -> None:
    if application.organisation_id != actor.organisation_id:
        raise NotAllowed(_("This application belongs to another organisation."))


def clean_decision(decision: str, reason: str, *, allowed=DECISIONS) -> tuple[str, str]:
    reason = (reason or "").strip()
    if decision not in allowed:
        raise InvalidInput(
            {"decision": [_("Must be one of: %(choices)s.") % {"choices": ", ".join(allowed)}]}
        )
    if decision == "reject" and not reason:
        raise InvalidInput({"reason": [_("A rejection needs a reason.")]})
    if decision != "approve" and not reason:
        raise InvalidInput({"reason": [_("This decision needs a reason.")]})
    return decision, reason


# Reasons the code itself gives: they exist even if the seeded list was lost (a flushed database).
SYSTEM_REASONS = {
    "other": "Other: see the reason given",
    "resources-refused": "Every resource was refused by its operator",
}


def system_reason(code: str) -> RejectionReason:
    return RejectionReason.objects.get_or_create(
        code=code, defaults={"text": SYSTEM_REASONS[code], "name_ur": URDU_REASONS[code]}
    )[0]


def rejection_reason(code: str) -> RejectionReason:
    """One of the regulator's active rejection reasons; "other" when none is named."""
    code = (code or "").strip() or "other"
    if code in SYSTEM_REASONS:
        system_reason(code)
    found = RejectionReason.objects.filter(code=code, active=True).first()
    if found is None:
        raise InvalidInput(
            {
                "reason_code": [
                    _("%(code)s is not a rejection reason in use: choose one from the list of reasons.")
                    % {"code": code}
                ]
            }
        )
    return found


def reject(*, actor, application: Application, reason: str, code: RejectionReason, stage: str, at) -> None:
    application.decided_at = at
    application.decision_reason = reason
    application.rejection_reason = code
    application.rejected_at_stage = stage
    transition(
        actor=actor,
        application=application,
        to_state=State.REJECTED,
        action="application.reject",
        reason=reason,
        at=at,
        data={"stage": stage, "reason_code": code.code},
    )


def return_to_applicant(*, actor, application: Application, reason: str, stage: str, at) -> None:
    application.decision_reason = reason
    transition(
        actor=actor,
        application=application,
        to_state=State.RETURNED,
        action="application.return",
        reason=reason,
        at=at,
        data={"stage": stage},
    )


def not_the_rejecter(actor, application: Application, stage: str) -> None:
    """After an upheld appeal, whoever rejected the application does not decide it again."""
    if application.reviews.filter(stage=stage, decision=Review.Decision.REJECT, reviewer=actor).exists():
        raise NotAllowed(_("You rejected this application before; after its appeal another person decides."))
