"""The application workflow: every transition is one function here, audited and notified."""

from __future__ import annotations

import bisect
import ipaddress
import re
import time
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from vpnregistry.accounts.documents import require_documents
from vpnregistry.accounts.models import District, Operator, Organisation, Role, User
from vpnregistry.accounts.numbering import operator_for_number
from vpnregistry.accounts.selectors import operator_for_network
from vpnregistry.applications import queues
from vpnregistry.applications.fees import fee_for
from vpnregistry.applications.models import (
    Application,
    Attestation,
    RejectionReason,
    Resource,
    Review,
    TrackingCounter,
)
from vpnregistry.applications.msisdn import NotAMobileNumber, looks_like_msisdn, normalise_msisdn
from vpnregistry.applications.notifications import notify_transition
from vpnregistry.applications.reasons import URDU_REASONS
from vpnregistry.applications.status import issue_status_secret
from vpnregistry.audit.services import record
from vpnregistry.csvcells import formula_reason
from vpnregistry.db import Network, hold_lock, network_keys
from vpnregistry.errors import InvalidInput, NotAllowed, TooMany, WrongState
from vpnregistry.messages import address_error
from vpnregistry.netblocks import ParseError, check_prefix
from vpnregistry.notifications.services import notify_users
from vpnregistry.registrations.models import PortingDeclaration, Registration
from vpnregistry.registrations.outbox import request_publication
from vpnregistry.registrations.selectors import conflicting_number, conflicting_registration, suspended_held
from vpnregistry.registrations.services import create_registrations

State = Application.State
DECISIONS = ("approve", "reject", "return")
APPEAL_DECISIONS = ("uphold", "dismiss")
# Before a decision: the applicant may still withdraw.
WITHDRAWABLE = {
    State.DRAFT,
    State.SUBMITTED,
    State.IN_REVIEW,
    State.AWAITING_PAYMENT,
    State.AWAITING_DECISION,
    State.RETURNED,
}
LIVE = ~Q(state=Resource.State.REMOVED)
REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.-]{2,63}")
MAX_RESOURCES = 1000


@dataclass(frozen=True)
class CleanResource:
    net: Network | None
    operator: Operator
    subscriber_id: str
    district: District | None = None
    msisdn: str = ""  # a mobile number in E.164, instead of a network
    # A mobile number declared ported to `operator` from this one, whose numbering holds it.
    ported_from: Operator | None = None

    @property
    def value(self) -> str:
        return self.msisdn or str(self.net)


def _storable(text: str) -> bool:
    """Text a person could type: no control characters (NUL, which PostgreSQL refuses, among them) and
    no lone surrogates (which no database encodes); JSON bodies can carry both."""
    return not any(unicodedata.category(c) in {"Cc", "Cs"} for c in text)


def clean_resources(*, organisation: Organisation, items: Iterable[Mapping]) -> list[CleanResource]:
    """Check every resource asked for; refuse the lot, naming each bad one, or return them all.

    An item has a `value` (an address, a prefix or a mobile number), a `subscriber_id`, optionally a
    `district` code, and an `operator` code: required for a mobile number (the mobile operator that
    attests it), optional for an address (then it must be the operator whose space holds it).
    """
    items = list(items)
    if not items:
        raise InvalidInput({"resources": [_("At least one resource is required.")]})
    if len(items) > MAX_RESOURCES:
        raise InvalidInput(
            {"resources": [_("At most %(n)d resources in one application.") % {"n": MAX_RESOURCES}]}
        )
    category = organisation.category
    mappings = [item for item in items if isinstance(item, Mapping)]
    # Codes no database stores (NUL, lone surrogates) are looked up nowhere: they are unknown.
    codes = {
        code for code in {str(item.get("district") or "").strip() for item in mappings} if _storable(code)
    }
    codes -= {""}
    districts = {d.code: d for d in District.objects.filter(code__in=codes)} if codes else {}
    operator_codes = {str(item.get("operator") or "").strip() for item in mappings} - {""}
    operator_codes = {code for code in operator_codes if _storable(code)}
    operators = (
        {o.code: o for o in Operator.objects.filter(code__in=operator_codes)} if operator_codes else {}
    )
    cleaned: list[CleanResource | None] = []
    taken = _Taken()
    numbers: dict[str, int] = {}
    errors: list[dict] = []
    for item in items:
        error: dict[str, list[str]] = {}
        if not isinstance(item, Mapping):
            errors.append({"value": [_("Each resource must be an object with a value and a subscriber_id.")]})
            cleaned.append(None)
            continue
        value = str(item.get("value") or "").strip()
        subscriber_id = str(item.get("subscriber_id") or "").strip()
        if not subscriber_id:
            error["subscriber_id"] = [
                _("The subscriber ID is required: the customer or account number on the bill.")
            ]
        elif len(subscriber_id) > 64:
            error["subscriber_id"] = [_("The subscriber ID is longer than 64 characters.")]
        elif not _storable(subscriber_id):
            error["subscriber_id"] = [
                _("The subscriber ID holds control characters; type it as on the bill.")
            ]
        elif formula_reason(subscriber_id):
            error["subscriber_id"] = [
                _(
                    "The subscriber ID may not begin with = or @, nor with + or - followed by anything "
                    "but a digit: spreadsheets run such text as a formula. Type it as on the bill."
                )
            ]
        district = None
        if code := str(item.get("district") or "").strip():
            district = districts.get(code)
            if district is None:
                error["district"] = [
                    _(
                        "%(code)s is not a district code: give the code of a district in the list, "
                        "such as pb-lahore."
                    )
                    % {"code": code if _storable(code) else ascii(code)}
                ]
        named = None
        if operator_code := str(item.get("operator") or "").strip():
            named = operators.get(operator_code)
            if named is None:
                error["operator"] = [
                    _(
                        "%(code)s is not an operator code: give the code of an operator in the list "
                        "of operators."
                    )
                    % {"code": operator_code if _storable(operator_code) else ascii(operator_code)}
                ]
        if looks_like_msisdn(value):
            entry = _clean_msisdn(
                value,
                organisation,
                named,
                operator_code,
                numbers,
                len(cleaned),
                error,
                subscriber_id,
                district,
                declared_ported(item.get("ported")),
            )
        else:
            entry = _clean_network(
                value, organisation, category, named, cleaned, error, subscriber_id, district, taken
            )
            if entry is not None and not error:
                taken.add(entry.net, len(cleaned))
        cleaned.append(None if error else entry)
        errors.append(error)
    if any(errors):
        raise InvalidInput({"resources": errors})
    return [c for c in cleaned if c is not None]


class _Taken:
    """The networks accepted so far in one application, per family, sorted: each new one is checked
    against its neighbours in O(log n), not against every other. Accepted networks never overlap,
    so a clash is with the one starting at or before the new one, or with the one right after it."""

    def __init__(self):
        self.starts: dict[int, list[int]] = {4: [], 6: []}
        self.rows: dict[int, list[tuple[int, int]]] = {4: [], 6: []}  # (last address, position)

    def clash(self, net: Network) -> int | None:
        first, last = int(net.network_address), int(net.broadcast_address)
        starts, rows = self.starts[net.version], self.rows[net.version]
        i = bisect.bisect_right(starts, first)
        if i and rows[i - 1][0] >= first:
            return rows[i - 1][1]
        if i < len(starts) and starts[i] <= last:
            return rows[i][1]
        return None

    def add(self, net: Network, position: int) -> None:
        first = int(net.network_address)
        starts, rows = self.starts[net.version], self.rows[net.version]
        i = bisect.bisect_right(starts, first)
        starts.insert(i, first)
        rows.insert(i, (int(net.broadcast_address), position))


def _clean_network(value, organisation, category, named, cleaned, error, subscriber_id, district, taken):
    try:
        net = check_prefix(value, min_len_v4=category.min_len_v4, min_len_v6=category.min_len_v6)
    except ParseError as exc:
        error["value"] = [address_error(exc)]
        return None
    operator = operator_for_network(net)
    clash = taken.clash(net)
    if operator is None:
        error["value"] = [_("%(net)s is in no operator's address space.") % {"net": net}]
    elif named is not None and named.pk != operator.pk:
        error["operator"] = [
            _("%(net)s is in the address space of %(operator)s, not %(named)s.")
            % {"net": net, "operator": operator.code, "named": named.code}
        ]
    elif clash is not None:
        error["value"] = [
            _("%(net)s overlaps resource %(n)d (%(other)s) of this application.")
            % {"net": net, "n": clash + 1, "other": cleaned[clash].net}
        ]
    else:
        # A resource another organisation holds is not refused here: the answer would tell anybody
        # who holds what. Its reviewers see the conflict (`selectors.conflicts_shown`) and reject it.
        return CleanResource(net=net, operator=operator, subscriber_id=subscriber_id, district=district)
    return None


def declared_ported(value) -> bool:
    """An item's `ported` as given by JSON (true), a form (on) or a CSV cell (yes, true, 1, y)."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "y", "on"}


def _clean_msisdn(
    value, organisation, named, operator_code, numbers, position, error, subscriber_id, district, ported
):
    try:
        number = normalise_msisdn(value)
    except NotAMobileNumber as exc:
        error["value"] = [str(exc)]
        return None
    if not operator_code:
        # The operator whose numbering the number was issued from; a ported number names its operator.
        named = operator_for_number(number)
        if named is None:
            error["operator"] = [
                _("No operator's numbering holds %(number)s: name the mobile operator that attests it.")
                % {"number": number}
            ]
    elif named is not None and named.kind != Operator.Kind.MOBILE:
        error["operator"] = [_("%(code)s is not a mobile operator.") % {"code": named.code}]
    owner = operator_for_number(number) if operator_code and named is not None else None
    ported_from = owner if owner is not None and owner.pk != named.pk else None
    if ported_from is not None and not ported and "operator" not in error:
        # Naming an operator other than the numbering's is a claim that the number was ported.
        error["ported"] = [
            _(
                "%(number)s is in the numbering of %(owner)s, not %(named)s: declare that it was "
                "ported to %(named)s, or name %(owner)s."
            )
            % {"number": number, "owner": owner.code, "named": named.code}
        ]
    if number in numbers:
        error["value"] = [
            _("%(number)s is resource %(n)d of this application already.")
            % {"number": number, "n": numbers[number] + 1}
        ]
    numbers.setdefault(number, position)
    if error or named is None:
        return None
    return CleanResource(
        net=None,
        msisdn=number,
        operator=named,
        subscriber_id=subscriber_id,
        district=district,
        ported_from=ported_from,
    )


def resource_items(resources: Iterable[Resource]) -> list[dict]:
    """Stored resources as the items clean_resources takes: to check them again, or to copy them."""
    return [
        {
            "value": r.value,
            "subscriber_id": r.subscriber_id,
            "district": r.district.code if r.district_id else "",
            "operator": r.operator.code,
            "ported": hasattr(r, "porting"),
        }
        for r in resources
    ]


def _transition(
    *,
    actor,
    application: Application,
    to_state: str,
    action: str,
    reason: str = "",
    at: datetime,
    data: dict | None = None,
) -> None:
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


def _locked(application: Application) -> Application:
    """Re-read the application under a row lock, so that two steps on it cannot interleave."""
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("organisation", "category")
        .get(pk=application.pk)
    )


def _require(actor, role: str) -> None:
    if getattr(actor, "role", None) != role:
        raise NotAllowed(_("Only a user with the %(role)s role can do this.") % {"role": role})


def _clean_decision(decision: str, reason: str, *, allowed=DECISIONS) -> tuple[str, str]:
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


def _system_reason(code: str) -> RejectionReason:
    return RejectionReason.objects.get_or_create(
        code=code, defaults={"text": SYSTEM_REASONS[code], "name_ur": URDU_REASONS[code]}
    )[0]


def _rejection_reason(code: str) -> RejectionReason:
    """One of the regulator's active rejection reasons; "other" when none is named."""
    code = (code or "").strip() or "other"
    if code in SYSTEM_REASONS:
        _system_reason(code)
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


def count_entered(organisation: Organisation, count: int) -> None:
    """Count `count` resources entered by the organisation this hour, or refuse past the limit.

    Every resource entered counts, accepted or not (a CSV file's every row): the limit is on asking,
    so that nobody learns much by trying resources. The counter lives in the cache (Redis in
    production, shared by every app server), one per organisation and clock hour; a refused request
    is not counted.
    """
    limit = settings.VPNREGISTRY_RESOURCES_PER_HOUR
    if not limit or not count:
        return
    now = int(time.time())
    key = f"resources-entered:{organisation.pk}:{now // 3600}"
    cache.add(key, 0, timeout=7200)
    try:
        total = cache.incr(key, count)
    except ValueError:  # expired between add and incr
        cache.set(key, count, timeout=7200)
        total = count
    if total > limit:
        cache.decr(key, count)
        minutes = (3600 - now % 3600) // 60 + 1
        raise TooMany(
            _(
                "An organisation may enter at most %(limit)d resources an hour (every row of a CSV "
                "file counts); these %(count)d would pass it."
            )
            % {"limit": limit, "count": count}
            + " "
            + ngettext("Try again in %(minutes)d minute.", "Try again in %(minutes)d minutes.", minutes)
            % {"minutes": minutes},
            retry_after=3600 - now % 3600,
        )


def create_application(*, actor, resources: Iterable[Mapping]) -> Application:
    """A draft for the actor's organisation, with its resources checked and their operators found."""
    _require(actor, Role.APPLICANT)
    organisation = actor.organisation
    resources = list(resources)
    count_entered(organisation, len(resources))
    cleaned = clean_resources(organisation=organisation, items=resources)
    now = timezone.now()
    with transaction.atomic():
        application = Application.objects.create(
            organisation=organisation, category=organisation.category, created_by=actor, state=State.DRAFT
        )
        _add_resources(application, cleaned)
        record(
            actor=actor,
            action="application.create",
            obj=application,
            to_state=State.DRAFT,
            at=now,
            data={"resources": [c.value for c in cleaned]},
        )
    return application


def _resource_row(application: Application, c: CleanResource, renews=None) -> Resource:
    if c.msisdn:
        kind, family, first, last = Resource.Kind.MSISDN, None, "", ""
    else:
        family, first, last = network_keys(c.net)
        kind = f"ipv{family}"
    return Resource(
        application=application,
        kind=kind,
        value=c.value,
        family=family,
        first=first,
        last=last,
        operator=c.operator,
        subscriber_id=c.subscriber_id,
        district=c.district,
        renews=renews,
    )


def _add_resources(application: Application, cleaned: list[CleanResource]) -> None:
    rows = Resource.objects.bulk_create([_resource_row(application, c) for c in cleaned])
    _declare_porting(rows, cleaned)


def _declare_porting(rows: list[Resource], cleaned: list[CleanResource]) -> None:
    """The porting declarations of newly added resources (rows in the order of `cleaned`)."""
    now = timezone.now()
    PortingDeclaration.objects.bulk_create(
        [
            PortingDeclaration(resource=row, numbering_operator=c.ported_from, declared_at=now)
            for row, c in zip(rows, cleaned, strict=True)
            if c.ported_from is not None
        ]
    )


def _next_tracking_number(at: datetime) -> str:
    year = timezone.localtime(at).year
    # Locked as read; the year's first submission makes the row (a racing one re-reads it).
    counter, _created = TrackingCounter.objects.select_for_update().get_or_create(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"VR-{year}-{counter.last:06d}"


def submit_application(*, actor, application: Application) -> Application:
    """Send a draft (or a returned application, for a new round) to the agency its category routes to.

    A new round starts afresh with the agency's verification; resources the applicant left unchanged
    keep their operator's attestation, changed ones wait for a new one.
    """
    _require(actor, Role.APPLICANT)
    now = timezone.now()
    with transaction.atomic():
        application = _locked(application)
        if application.organisation_id != actor.organisation_id:
            raise NotAllowed(_("This application belongs to another organisation."))
        if application.state not in {State.DRAFT, State.RETURNED}:
            raise WrongState(_("Only a draft or a returned application can be submitted."))
        require_documents(application.organisation)
        # Conflicts may have appeared since the draft was made: check again.
        clean_resources(
            organisation=application.organisation,
            items=resource_items(
                application.resources.filter(LIVE).select_related("district", "operator", "porting")
            ),
        )
        resubmission = application.state == State.RETURNED
        if not application.tracking_number:
            application.tracking_number = _next_tracking_number(now)
            # For the public status page; only its hash is kept, the secret is shown once (status.py).
            application.status_secret = issue_status_secret(application)
        application.agency = application.category.agency
        application.submitted_at = now
        application.verified_at = None
        application.verified_by = None
        application.decision_reason = ""
        _transition(
            actor=actor,
            application=application,
            to_state=State.SUBMITTED,
            action="application.resubmit" if resubmission else "application.submit",
            at=now,
            data={"agency": application.agency.code},
        )
        _tell_numbering_operators(application, at=now)
    return application


def _tell_numbering_operators(application: Application, *, at: datetime) -> None:
    """Each operator whose numbering holds a number declared ported away is told, once, at submission:
    it may know the number was not ported, and say so to the regulator."""
    declarations = list(
        PortingDeclaration.objects.filter(resource__application=application, notified_at__isnull=True)
        .exclude(resource__state=Resource.State.REMOVED)
        .select_related("resource__operator", "numbering_operator")
    )
    if not declarations:
        return
    PortingDeclaration.objects.filter(pk__in=[d.pk for d in declarations]).update(notified_at=at)
    by_owner: dict[int, list] = {}
    for declaration in declarations:
        by_owner.setdefault(declaration.numbering_operator_id, []).append(declaration)
    number = application.tracking_number

    def subject() -> str:
        return _("%(number)s: numbers declared ported from your numbering") % {"number": number}

    for owner_id, owned in by_owner.items():
        ported = [(d.resource.value, d.resource.operator.code) for d in owned]

        def body(ported=ported) -> str:  # in each staff member's language (notifications.Text)
            line = _("%(value)s: declared ported to %(operator)s")
            lines = "\n".join(line % {"value": value, "operator": code} for value, code in ported)
            return _(
                "Application %(number)s declares numbers of your numbering ported to another "
                "operator:\n%(lines)s\nIf a number was not ported, tell the regulator."
            ) % {"number": number, "lines": lines}

        staff = User.objects.filter(operator_id=owner_id, role=Role.OPERATOR, is_active=True)
        transaction.on_commit(lambda staff=staff, body=body: notify_users(staff, subject=subject, body=body))


def _reject(*, actor, application: Application, reason: str, code: RejectionReason, stage: str, at) -> None:
    application.decided_at = at
    application.decision_reason = reason
    application.rejection_reason = code
    application.rejected_at_stage = stage
    _transition(
        actor=actor,
        application=application,
        to_state=State.REJECTED,
        action="application.reject",
        reason=reason,
        at=at,
        data={"stage": stage, "reason_code": code.code},
    )


def _return(*, actor, application: Application, reason: str, stage: str, at) -> None:
    application.decision_reason = reason
    _transition(
        actor=actor,
        application=application,
        to_state=State.RETURNED,
        action="application.return",
        reason=reason,
        at=at,
        data={"stage": stage},
    )


def _advance(*, actor, application: Application, at: datetime) -> None:
    """Move on once agency verification and every operator attestation are in; the fee comes first."""
    resources = list(application.resources.filter(LIVE).values_list("state", flat=True))
    if resources and all(s == Resource.State.REFUSED for s in resources):
        _reject(
            actor=actor,
            application=application,
            reason=_("Every resource was refused by its operator."),
            code=_system_reason("resources-refused"),
            stage="operators",
            at=at,
        )
        return
    if application.verified_at and Resource.State.PENDING not in resources:
        fee = fee_for(application)
        application.fee_addresses = fee.requested
        application.fee_amount = fee.amount
        # A payment once recorded covers the application's later rounds.
        if fee.due and not application.payment_reference:
            _transition(
                actor=actor,
                application=application,
                to_state=State.AWAITING_PAYMENT,
                action="application.fee",
                at=at,
                data={"addresses": fee.requested, "registered": fee.registered, "amount": str(fee.amount)},
            )
        else:
            _transition(
                actor=actor,
                application=application,
                to_state=State.AWAITING_DECISION,
                action="application.ready",
                at=at,
            )
    elif application.state == State.SUBMITTED:
        _transition(
            actor=actor, application=application, to_state=State.IN_REVIEW, action="application.review", at=at
        )


def _not_the_rejecter(actor, application: Application, stage: str) -> None:
    """After an upheld appeal, whoever rejected the application does not decide it again."""
    if application.reviews.filter(stage=stage, decision=Review.Decision.REJECT, reviewer=actor).exists():
        raise NotAllowed(_("You rejected this application before; after its appeal another person decides."))


def verify_application(
    *, actor, application: Application, decision: str, reason: str = "", reason_code: str = ""
) -> Application:
    """The agency's verification of the applicant: approve lets it go on, reject ends it, return
    sends it back to the applicant to edit and resubmit."""
    _require(actor, Role.AGENCY)
    decision, reason = _clean_decision(decision, reason)
    code = _rejection_reason(reason_code) if decision == "reject" else None
    now = timezone.now()
    with transaction.atomic():
        application = _locked(application)
        if application.agency_id != actor.agency_id:
            raise NotAllowed(_("This application is routed to another agency."))
        if application.state not in {State.SUBMITTED, State.IN_REVIEW} or application.verified_at:
            raise WrongState(_("This application is not waiting for verification."))
        _not_the_rejecter(actor, application, Review.Stage.AGENCY)
        Review.objects.create(
            application=application,
            stage=Review.Stage.AGENCY,
            decision=decision,
            reason=reason,
            reviewer=actor,
            at=now,
        )
        if decision == "reject":
            _reject(actor=actor, application=application, reason=reason, code=code, stage="agency", at=now)
        elif decision == "return":
            _return(actor=actor, application=application, reason=reason, stage="agency", at=now)
        else:
            application.verified_at = now
            application.verified_by = actor
            record(
                actor=actor,
                action="application.verify",
                obj=application,
                reason=reason,
                at=now,
                from_state=application.state,
                to_state=application.state,
            )
            application.save(update_fields=["verified_at", "verified_by"])
            _advance(actor=actor, application=application, at=now)
    return application


def _attest(*, actor, application: Application, resource: Resource, decision: str, reason: str, at) -> None:
    """Record one attestation; the caller holds the locks and checks the role."""
    if resource.operator_id != actor.operator_id:
        raise NotAllowed(_("This resource is not in your address space."))
    if application.state not in {State.SUBMITTED, State.IN_REVIEW}:
        raise WrongState(_("This application is not waiting for attestations."))
    if resource.state != Resource.State.PENDING:
        raise WrongState(_("This resource has been attested already."))
    Attestation.objects.create(
        resource=resource,
        operator_id=actor.operator_id,
        decision=decision,
        reason=reason,
        attested_by=actor,
        at=at,
    )
    from_state = resource.state
    resource.state = Resource.State.CONFIRMED if decision == "approve" else Resource.State.REFUSED
    resource.save(update_fields=["state"])
    record(
        actor=actor,
        action="resource.attest",
        obj=resource,
        from_state=from_state,
        to_state=resource.state,
        reason=reason,
        at=at,
        data={"value": resource.value, "application": application.tracking_number},
    )


def attest_resource(*, actor, resource: Resource, decision: str, reason: str = "") -> Resource:
    """The operator's yes or no on one resource in its space; a no drops that resource alone."""
    _require(actor, Role.OPERATOR)
    decision, reason = _clean_decision(decision, reason, allowed=("approve", "reject"))
    now = timezone.now()
    with transaction.atomic():
        application = _locked(resource.application)
        resource = Resource.objects.select_for_update(of=("self",)).get(pk=resource.pk)
        _attest(
            actor=actor, application=application, resource=resource, decision=decision, reason=reason, at=now
        )
        _advance(actor=actor, application=application, at=now)
    return resource


MAX_BULK_ATTEST = 1000


def attest_resources(*, actor, resource_ids, decision: str, reason: str = "") -> list[Resource]:
    """The same yes or no on many resources at once: all of them are recorded, or none.

    Ids that are not pending resources in the operator's own space are named and refuse the lot.
    """
    _require(actor, Role.OPERATOR)
    decision, reason = _clean_decision(decision, reason, allowed=("approve", "reject"))
    if not isinstance(resource_ids, list | tuple) or not resource_ids:
        raise InvalidInput({"resources": [_("Choose at least one resource.")]})
    if len(resource_ids) > MAX_BULK_ATTEST:
        raise InvalidInput({"resources": [_("At most %(n)d resources at once.") % {"n": MAX_BULK_ATTEST}]})
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in resource_ids):
        raise InvalidInput({"resources": [_("Resource ids are positive whole numbers.")]})
    if len(set(resource_ids)) != len(resource_ids):
        raise InvalidInput({"resources": [_("A resource id is repeated.")]})
    now = timezone.now()
    with transaction.atomic():
        # Applications first, then resources, each in id order: two bulk attestations cannot deadlock.
        app_ids = sorted(
            set(
                Resource.objects.filter(pk__in=resource_ids, operator_id=actor.operator_id)
                .filter(application__submitted_at__isnull=False)
                .values_list("application_id", flat=True)
            )
        )
        applications = {
            a.pk: a
            for a in Application.objects.select_for_update(of=("self",)).filter(pk__in=app_ids).order_by("pk")
        }
        resources = {
            r.pk: r
            for r in Resource.objects.select_for_update(of=("self",))
            .filter(pk__in=resource_ids, operator_id=actor.operator_id, application_id__in=app_ids)
            .order_by("pk")
        }
        unknown = [i for i in resource_ids if i not in resources]
        if unknown:
            raise InvalidInput(
                {
                    "resources": [
                        _("%(id)d is not a resource in your address space or numbering.") % {"id": i}
                        for i in unknown
                    ]
                }
            )
        stale = [
            r.pk
            for r in resources.values()
            if r.state != Resource.State.PENDING
            or applications[r.application_id].state not in {State.SUBMITTED, State.IN_REVIEW}
        ]
        if stale:
            raise WrongState(
                _("These resources are not waiting for an attestation: %(ids)s.")
                % {"ids": ", ".join(str(i) for i in sorted(stale))}
            )
        for pk in resource_ids:
            resource = resources[pk]
            _attest(
                actor=actor,
                application=applications[resource.application_id],
                resource=resource,
                decision=decision,
                reason=reason,
                at=now,
            )
        for application in applications.values():
            _advance(actor=actor, application=application, at=now)
    return [resources[pk] for pk in resource_ids]


def suspension_notes(registrations) -> list[str]:
    """Each suspended registration named, with when and why it was suspended: for the history,
    the officer's page and the refusal of an approval that does not acknowledge them."""
    return [
        _("%(ref)s (%(value)s) is suspended since %(since)s: %(reason)s")
        % {
            "ref": r.reference,
            "value": r.value,
            "since": f"{timezone.localtime(r.state_changed_at):%Y-%m-%d}" if r.state_changed_at else "?",
            "reason": r.state_reason or _("no reason recorded"),
        }
        for r in registrations
        if r.state == Registration.State.SUSPENDED
    ]


def decide_application(
    *,
    actor,
    application: Application,
    decision: str,
    reason: str = "",
    reason_code: str = "",
    acknowledge_suspension: bool = False,
) -> Application:
    """The regulator's decision. Approval registers every confirmed resource and republishes;
    a rejection names a reason from the regulator's list; a return sends it back to the applicant.

    An application that asks again for what the organisation holds under a suspension (a renewal of
    a suspended registration, or a new application overlapping one) is never approved the ordinary
    way: the officer must acknowledge the suspension (`acknowledge_suspension`) and say why it no
    longer stands (`reason`); the approval's history then names the suspension and its reason."""
    _require(actor, Role.OFFICER)
    decision, reason = _clean_decision(decision, reason)
    code = _rejection_reason(reason_code) if decision == "reject" else None
    now = timezone.now()
    with transaction.atomic():
        # Approvals are serialised: of two overlapping applications only the first can win.
        hold_lock("approval")
        application = _locked(application)
        if application.state != State.AWAITING_DECISION:
            raise WrongState(_("This application is not awaiting a decision."))
        if application.verified_by_id == actor.pk:
            raise NotAllowed(_("You verified this application; another officer must decide it."))
        _not_the_rejecter(actor, application, Review.Stage.DECISION)
        Review.objects.create(
            application=application,
            stage=Review.Stage.DECISION,
            decision=decision,
            reason=reason,
            reviewer=actor,
            at=now,
        )
        if decision == "return":
            _return(actor=actor, application=application, reason=reason, stage="decision", at=now)
        elif decision == "approve":
            suspended = suspension_notes(
                suspended_held(
                    application.organisation_id, application.resources.filter(state=Resource.State.CONFIRMED)
                )
            )
            if suspended and not acknowledge_suspension:
                raise InvalidInput(
                    {
                        "acknowledge_suspension": [
                            *suspended,
                            _(
                                "This asks again for what the organisation holds under a suspension: "
                                "approve it only acknowledging the suspension, with the reason it no "
                                "longer stands."
                            ),
                        ]
                    }
                )
            if suspended and not reason:
                raise InvalidInput(
                    {"reason": [_("Say why the suspension no longer stands: this approval lifts it.")]}
                )
            application.decided_at = now
            application.decided_by = actor
            application.decision_reason = reason
            clashes = [
                message
                for resource in application.resources.filter(state=Resource.State.CONFIRMED)
                if (message := _clash(resource, application.organisation))
            ]
            if clashes:
                raise WrongState("; ".join(clashes))
            try:
                with transaction.atomic():
                    registrations = create_registrations(
                        actor=actor,
                        application=application,
                        resources=application.resources.filter(state=Resource.State.CONFIRMED).order_by("id"),
                        at=now,
                        suspension_acknowledged=bool(suspended),
                    )
            except IntegrityError:
                # PostgreSQL's exclusion constraint caught an overlap the checks above did not see
                # (a row written outside the approval lock): the same refusal, nothing written.
                raise WrongState(
                    _(
                        "A resource of this application overlaps an active registration of another "
                        "organisation; reject it, or ask the applicant to remove it."
                    )
                ) from None
            data = {"registrations": [r.pk for r in registrations]}
            if suspended:
                data["suspensions_acknowledged"] = suspended
            _transition(
                actor=actor,
                application=application,
                to_state=State.APPROVED,
                action="application.approve",
                reason="\n".join([reason, *suspended]) if suspended else reason,
                at=now,
                data=data,
            )
            request_publication(
                reason=f"approval of {application.tracking_number}", application_id=application.pk
            )
        else:
            application.decided_by = actor
            _reject(actor=actor, application=application, reason=reason, code=code, stage="decision", at=now)
    return application


def _clash(resource: Resource, organisation) -> str:
    """The officer's refusal to approve a resource another organisation holds (invariant 3)."""
    if resource.kind == Resource.Kind.MSISDN:
        other = conflicting_number(number=resource.value, organisation=organisation)
    else:
        other = conflicting_registration(net=resource_network(resource), organisation=organisation)
    if other is None:
        return ""
    return _(
        "%(value)s overlaps %(other)s (%(ref)s), registered to another organisation: it cannot be "
        "approved; reject the application with the reason that the resources are registered to "
        "another organisation."
    ) % {"value": resource.value, "other": other.value, "ref": other.reference}


def resource_network(resource: Resource) -> Network:
    return ipaddress.ip_network(resource.value)


def _own(actor, application: Application) -> None:
    if application.organisation_id != actor.organisation_id:
        raise NotAllowed(_("This application belongs to another organisation."))


def withdraw_application(*, actor, application: Application, reason: str = "") -> Application:
    """The applicant takes its application back, at any time before a decision."""
    _require(actor, Role.APPLICANT)
    reason = (reason or "").strip()[:2000]
    now = timezone.now()
    with transaction.atomic():
        application = _locked(application)
        _own(actor, application)
        if application.state not in WITHDRAWABLE:
            raise WrongState(_("Only an application not yet decided can be withdrawn."))
        _transition(
            actor=actor,
            application=application,
            to_state=State.WITHDRAWN,
            action="application.withdraw",
            reason=reason,
            at=now,
        )
    return application


def replace_resources(*, actor, application: Application, resources: Iterable[Mapping]) -> Application:
    """The applicant's new list of resources for a draft or a returned application.

    Every item is checked as at creation. A resource asked for again unchanged (same value, operator,
    subscriber ID and district) keeps its operator's attestation; any other is new and waits for one.
    Resources left out are marked removed, so that the history of every round stays readable (a
    draft's, never seen by anybody else, are deleted).
    """
    _require(actor, Role.APPLICANT)
    now = timezone.now()
    with transaction.atomic():
        application = _locked(application)
        _own(actor, application)
        if application.state not in {State.DRAFT, State.RETURNED}:
            raise WrongState(_("Only a draft or a returned application can be edited."))
        resources = list(resources)
        count_entered(application.organisation, len(resources))
        cleaned = clean_resources(organisation=application.organisation, items=resources)
        current = {
            (r.value, r.operator_id, r.subscriber_id, r.district_id): r
            for r in application.resources.filter(LIVE).select_for_update(of=("self",))
        }
        wanted = {
            (c.value, c.operator.pk, c.subscriber_id, c.district.pk if c.district else None): c
            for c in cleaned
        }
        kept = [current[key] for key in wanted if key in current]
        gone = [r for key, r in current.items() if key not in wanted]
        renews = {r.value: r.renews_id for r in current.values() if r.renews_id}
        new = [c for key, c in wanted.items() if key not in current]
        added = [_resource_row(application, c, renews=None) for c in new]
        for row in added:
            row.renews_id = renews.get(row.value)
        if application.state == State.DRAFT:
            Resource.objects.filter(pk__in=[r.pk for r in gone]).delete()
        else:
            Resource.objects.filter(pk__in=[r.pk for r in gone]).update(state=Resource.State.REMOVED)
        added = Resource.objects.bulk_create(added)
        _declare_porting(added, new)
        # A kept number now declared ported (it was asked for with the numbering's operator's name
        # changed back and forth): declared once.
        undeclared = [(current[key], c) for key, c in wanted.items() if key in current and c.ported_from]
        undeclared = [(r, c) for r, c in undeclared if not hasattr(r, "porting")]
        _declare_porting([r for r, _c in undeclared], [c for _r, c in undeclared])
        application.version = F("version") + 1
        application.save(update_fields=["version"])
        application.refresh_from_db(fields=["version"])
        record(
            actor=actor,
            action="application.edit",
            obj=application,
            from_state=application.state,
            to_state=application.state,
            at=now,
            data={
                "added": [r.value for r in added],
                "removed": [r.value for r in gone],
                "kept": [r.value for r in kept],
            },
        )
    return application


def record_payment(*, actor, application: Application, reference: str) -> Application:
    """An officer records the fee's payment reference (unique); the application goes on to a decision."""
    _require(actor, Role.OFFICER)
    reference = (reference or "").strip()
    if not REFERENCE.fullmatch(reference):
        raise InvalidInput(
            {
                "reference": [
                    _(
                        "A payment reference is 3 to 64 letters, digits or / _ . - "
                        "(starting with a letter or digit)."
                    )
                ]
            }
        )
    now = timezone.now()
    with transaction.atomic():
        application = _locked(application)
        if application.state != State.AWAITING_PAYMENT:
            raise WrongState(_("This application is not awaiting payment."))
        other = Application.objects.filter(payment_reference=reference).exclude(pk=application.pk).first()
        if other is not None:
            raise InvalidInput(
                {"reference": [_("This reference was recorded already for %(other)s.") % {"other": other}]}
            )
        application.payment_reference = reference
        application.paid_at = now
        application.payment_recorded_by = actor
        try:
            with transaction.atomic():
                _transition(
                    actor=actor,
                    application=application,
                    to_state=State.AWAITING_DECISION,
                    action="application.payment",
                    at=now,
                    data={"reference": reference, "amount": str(application.fee_amount)},
                )
        except IntegrityError:
            # Another application took the same reference at the same moment.
            raise InvalidInput({"reference": [_("This reference was recorded already.")]}) from None
    return application


def appeal_application(*, actor, application: Application, grounds: str) -> Application:
    """The applicant appeals a rejection, once, within the appeal window, giving its grounds."""
    _require(actor, Role.APPLICANT)
    grounds = (grounds or "").strip()
    if not grounds:
        raise InvalidInput({"grounds": [_("An appeal needs its grounds.")]})
    if len(grounds) > 5000:
        raise InvalidInput({"grounds": [_("The grounds are longer than 5000 characters.")]})
    now = timezone.now()
    with transaction.atomic():
        application = _locked(application)
        _own(actor, application)
        if application.state != State.REJECTED:
            raise WrongState(_("Only a rejected application can be appealed."))
        if application.appealed_at:
            raise WrongState(_("This application was appealed already; the appeal's decision is final."))
        deadline = application.decided_at + timedelta(days=settings.VPNREGISTRY_APPEAL_DAYS)
        if now > deadline:
            raise WrongState(
                _("The time to appeal ended on %(date)s.") % {"date": timezone.localtime(deadline).date()}
            )
        application.appeal_grounds = grounds
        application.appealed_at = now
        _transition(
            actor=actor,
            application=application,
            to_state=State.APPEALED,
            action="application.appeal",
            reason=grounds,
            at=now,
        )
    return application


def decide_appeal(*, actor, application: Application, decision: str, reason: str = "") -> Application:
    """An officer other than the one who rejected (or verified) decides the appeal.

    Upheld, the application resumes at the step that rejected it, for a fresh look by someone else:
    a regulator's rejection goes back to awaiting_decision; an agency's back to verification; a
    rejection because every resource was refused sends those resources back to their operators.
    Dismissed, it stays rejected, finally.
    """
    _require(actor, Role.OFFICER)
    decision, reason = _clean_decision(decision, reason, allowed=APPEAL_DECISIONS)
    now = timezone.now()
    with transaction.atomic():
        application = _locked(application)
        if application.state != State.APPEALED:
            raise WrongState(_("This application has no appeal waiting."))
        if actor.pk in {application.decided_by_id, application.verified_by_id}:
            raise NotAllowed(
                _("You rejected or verified this application; another officer decides its appeal.")
            )
        Review.objects.create(
            application=application,
            stage=Review.Stage.APPEAL,
            decision=decision,
            reason=reason,
            reviewer=actor,
            at=now,
        )
        application.appeal_decided_at = now
        application.appeal_decided_by = actor
        if decision == "dismiss":
            _transition(
                actor=actor,
                application=application,
                to_state=State.REJECTED,
                action="application.appeal-dismiss",
                reason=reason,
                at=now,
            )
            return application
        stage = application.rejected_at_stage
        application.decided_at = None
        application.decision_reason = ""
        application.rejection_reason = None
        if stage == "decision":
            to_state = State.AWAITING_DECISION
        else:
            to_state = State.IN_REVIEW
            if stage == "agency":
                application.verified_at = None
                application.verified_by = None
            else:
                for resource in application.resources.filter(state=Resource.State.REFUSED).select_for_update(
                    of=("self",)
                ):
                    resource.state = Resource.State.PENDING
                    resource.save(update_fields=["state"])
                    record(
                        actor=actor,
                        action="resource.reopen",
                        obj=resource,
                        from_state=Resource.State.REFUSED,
                        to_state=Resource.State.PENDING,
                        reason=reason,
                        at=now,
                        data={"value": resource.value, "application": application.tracking_number},
                    )
        _transition(
            actor=actor,
            application=application,
            to_state=to_state,
            action="application.appeal-uphold",
            reason=reason,
            at=now,
            data={"stage": stage},
        )
    return application


def renew_registrations(*, actor, registrations) -> Application:
    """A draft application copied from the organisation's registrations, to renew them.

    Approved, it replaces each of them without a gap (see registrations/services.py). A registration
    can have one renewal under way at a time; an active, expired or suspended one can be renewed. A
    suspended one's renewal carries the suspension and its reason in its history, and only an officer
    acknowledging the suspension approves it (decide_application).
    """
    _require(actor, Role.APPLICANT)
    registrations = list(registrations)
    if not registrations:
        raise InvalidInput({"registrations": [_("Name at least one registration to renew.")]})
    for registration in registrations:
        if registration.organisation_id != actor.organisation_id:
            raise NotAllowed(_("This registration belongs to another organisation."))
        renewable = {Registration.State.ACTIVE, Registration.State.EXPIRED, Registration.State.SUSPENDED}
        if registration.state not in renewable:
            raise WrongState(
                _("%(ref)s is %(state)s; only an active, expired or suspended registration can be renewed.")
                % {"ref": registration.reference, "state": registration.get_state_display()}
            )
    now = timezone.now()
    with transaction.atomic():
        ids = [r.pk for r in registrations]
        locked = list(Registration.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))
        under_way = (
            Resource.objects.filter(renews_id__in=ids)
            .filter(LIVE)
            .exclude(application__state__in=[State.APPROVED, State.REJECTED, State.WITHDRAWN])
            .select_related("renews", "application")
            .first()
        )
        if under_way is not None:
            raise WrongState(
                _("%(ref)s has a renewal under way already: %(app)s.")
                % {"ref": under_way.renews.reference, "app": under_way.application}
            )
        by_id = {r.pk: r for r in locked}
        originals = [
            Resource.objects.select_related("operator", "district", "porting").get(pk=by_id[pk].resource_id)
            for pk in ids
        ]
        cleaned = clean_resources(organisation=actor.organisation, items=resource_items(originals))
        application = Application.objects.create(
            organisation=actor.organisation,
            category=actor.organisation.category,
            created_by=actor,
            state=State.DRAFT,
        )
        rows = Resource.objects.bulk_create(
            [_resource_row(application, c, renews=by_id[pk]) for c, pk in zip(cleaned, ids, strict=True)]
        )
        _declare_porting(rows, cleaned)
        suspended = suspension_notes(locked)
        data = {"renews": [by_id[pk].reference for pk in ids], "resources": [c.value for c in cleaned]}
        if suspended:
            data["suspended"] = suspended
        record(
            actor=actor,
            action="application.renew",
            obj=application,
            to_state=State.DRAFT,
            reason="\n".join(suspended),
            at=now,
            data=data,
        )
    return application


# For views and the bulk module, which check the role before they parse a body.
require_role = _require
require_own = _own
