"""Operators keep their own address space and numbering up to date; each change waits for an officer.

Numbering changes (blocks of mobile numbers such as +92300, see accounts/numbering.py) take the
same path as address space: a change whose prefix begins with "+" is one of numbering.

An operator's staff propose adding a prefix to their space or removing one of their prefixes; an
officer approves (the space changes) or rejects with a reason. A prefix that overlaps another
operator's space is refused, at the proposal and again at the approval; a prefix is not removed
while a standing registration lies inside it. Every step is audited.

The space itself is kept in accounts (AddressSpace, NumberBlock); its changes live here, with the
registrations, because a removal is checked against the registrations standing in it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vpnregistry.accounts import numbering
from vpnregistry.accounts.models import AddressSpace, AddressSpaceChange, NumberBlock, Operator, Role
from vpnregistry.audit.services import record
from vpnregistry.db import Network, hold_lock, overlapping_q
from vpnregistry.errors import InvalidInput, NotAllowed, WrongState
from vpnregistry.messages import address_error
from vpnregistry.netblocks import ParseError, check_prefix
from vpnregistry.registrations.models import Registration

Action = AddressSpaceChange.Action
State = AddressSpaceChange.State
# The broadest prefixes an operator's space is kept in.
MIN_LEN_V4, MIN_LEN_V6 = 8, 16


# What a change is shown with, read in the same query.
CHANGE_RELATED = ("operator", "proposed_by", "decided_by")


def _problems(change_operator_id: int, action: str, net: Network) -> list[str]:
    """Why this change cannot be made now (empty when it can)."""
    if action == Action.ADD:
        overlapping = AddressSpace.objects.filter(overlapping_q(net))
        clash = overlapping.exclude(operator_id=change_operator_id).first()
        if clash is not None:
            return [
                _("%(net)s overlaps %(other)s, in the space of another operator.")
                % {"net": net, "other": clash.prefix}
            ]
        if (own := overlapping.first()) is not None:
            return [
                _("%(net)s overlaps %(other)s, already in your space.") % {"net": net, "other": own.prefix}
            ]
        return []
    row = AddressSpace.objects.filter(operator_id=change_operator_id, prefix=str(net)).first()
    if row is None:
        return [_("%(net)s is not one of the prefixes of your space.") % {"net": net}]
    standing = Registration.objects.filter(
        overlapping_q(net), state__in=["active", "suspended"], operator_id=change_operator_id
    ).first()
    if standing is not None:
        return [
            _("%(net)s holds the standing registration %(ref)s: report it unassigned first.")
            % {"net": net, "ref": standing.reference}
        ]
    return []


def _block_problems(operator_id: int, action: str, block: str) -> list[str]:
    """Why this numbering change cannot be made now (empty when it can)."""
    if Operator.objects.filter(pk=operator_id).values_list("kind", flat=True).first() != Operator.Kind.MOBILE:
        return [_("Only a mobile operator holds numbering.")]
    if action == "add":
        overlapping = numbering.overlapping_blocks(block)
        clash = overlapping.exclude(operator_id=operator_id).first()
        if clash is not None:
            return [
                _("%(block)s overlaps %(other)s, in the numbering of another operator.")
                % {"block": block, "other": clash.prefix}
            ]
        if (own := overlapping.first()) is not None:
            return [
                _("%(block)s overlaps %(other)s, already in your numbering.")
                % {"block": block, "other": own.prefix}
            ]
        return []
    if not NumberBlock.objects.filter(operator_id=operator_id, prefix=block).exists():
        return [_("%(block)s is not one of the blocks of your numbering.") % {"block": block}]
    standing = Registration.objects.filter(
        kind="msisdn", value__startswith=block, state__in=["active", "suspended"], operator_id=operator_id
    ).first()
    if standing is not None:
        return [
            _("%(block)s holds the standing registration %(ref)s: report it unassigned first.")
            % {"block": block, "ref": standing.reference}
        ]
    return []


def require_operator(actor) -> None:
    if getattr(actor, "role", None) != Role.OPERATOR or not actor.operator_id:
        raise NotAllowed(_("Only an operator's staff can change its address space."))


def space_change_propose(*, actor, action: str, prefix: str, note: str = "") -> AddressSpaceChange:
    """An operator's staff propose adding a prefix to, or removing one from, their own space."""
    require_operator(actor)
    errors: dict[str, list[str]] = {}
    if action not in Action.values:
        errors["action"] = [_("Must be one of: %(choices)s.") % {"choices": ", ".join(Action.values)}]
    note = (note or "").strip()
    if len(note) > 2000:
        errors["note"] = [_("At most 2000 characters.")]
    net = block = None
    text = str(prefix or "").strip()
    if numbering.looks_like_block(text):
        try:
            block = numbering.clean_block(text)
        except ValueError as exc:
            errors["prefix"] = [str(exc)]
    else:
        try:
            net = check_prefix(text, min_len_v4=MIN_LEN_V4, min_len_v6=MIN_LEN_V6)
        except ParseError as exc:
            errors["prefix"] = [address_error(exc)]
    if (net is not None or block is not None) and not errors:
        problems = (
            _block_problems(actor.operator_id, action, block)
            if block
            else _problems(actor.operator_id, action, net)
        )
        if problems:
            errors["prefix"] = problems
        elif AddressSpaceChange.objects.filter(
            operator_id=actor.operator_id, state=State.PENDING, prefix=block or str(net)
        ).exists():
            errors["prefix"] = [
                _("A change of %(net)s is waiting for the regulator already.") % {"net": block or net}
            ]
    if errors:
        raise InvalidInput(errors)
    now = timezone.now()
    with transaction.atomic():
        change = AddressSpaceChange(
            operator_id=actor.operator_id, action=action, note=note, proposed_by=actor, proposed_at=now
        )
        if block:
            # Numbering has no address keys: family 0 keeps it out of every address-space seek.
            change.prefix, change.family, change.first, change.last = block, 0, "", ""
        else:
            change.set_network(net)
        change.save()
        record(
            actor=actor,
            action="space.propose",
            obj=change,
            object_type="addressspacechange",
            to_state=State.PENDING,
            at=now,
            data={"operator": actor.operator.code, "action": action, "prefix": change.prefix},
        )
    return change


def require_officer(actor) -> None:
    if getattr(actor, "role", None) != Role.OFFICER:
        raise NotAllowed(_("Only a regulator officer can decide changes to an operator's space."))


def _decide(actor, change: AddressSpaceChange) -> AddressSpaceChange:
    require_officer(actor)
    change = AddressSpaceChange.objects.select_for_update().select_related("operator").get(pk=change.pk)
    if change.state != State.PENDING:
        raise WrongState(_("This change was decided already."))
    return change


def space_change_approve(*, actor, change: AddressSpaceChange, reason: str = "") -> AddressSpaceChange:
    """An officer approves: the prefix joins or leaves the operator's space, if it still can."""
    now = timezone.now()
    with transaction.atomic():
        # Serialised with approvals of applications, which read the space to find operators.
        hold_lock("approval")
        change = _decide(actor, change)
        if change.is_numbering:
            _approve_numbering(change)
        elif problems := _problems(change.operator_id, change.action, change.network):
            raise WrongState("; ".join(problems))
        elif change.action == Action.ADD:
            net = change.network
            row = AddressSpace(operator_id=change.operator_id)
            row.set_network(net)
            row.save()
        else:
            AddressSpace.objects.filter(operator_id=change.operator_id, prefix=change.prefix).delete()
        change.state = State.APPROVED
        change.decided_by = actor
        change.decided_at = now
        change.reason = (reason or "").strip()
        change.save(update_fields=["state", "decided_by", "decided_at", "reason"])
        record(
            actor=actor,
            action="space.approve",
            obj=change,
            object_type="addressspacechange",
            from_state=State.PENDING,
            to_state=State.APPROVED,
            reason=change.reason,
            at=now,
            data={"operator": change.operator.code, "action": change.action, "prefix": change.prefix},
        )
    return change


def _approve_numbering(change: AddressSpaceChange) -> None:
    if problems := _block_problems(change.operator_id, change.action, change.prefix):
        raise WrongState("; ".join(problems))
    if change.action == Action.ADD:
        NumberBlock.objects.create(operator_id=change.operator_id, prefix=change.prefix)
    else:
        NumberBlock.objects.filter(operator_id=change.operator_id, prefix=change.prefix).delete()


def space_change_reject(*, actor, change: AddressSpaceChange, reason: str) -> AddressSpaceChange:
    """An officer rejects the change, with a reason."""
    require_officer(actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput({"reason": [_("A rejection needs a reason.")]})
    now = timezone.now()
    with transaction.atomic():
        change = _decide(actor, change)
        change.state = State.REJECTED
        change.decided_by = actor
        change.decided_at = now
        change.reason = reason
        change.save(update_fields=["state", "decided_by", "decided_at", "reason"])
        record(
            actor=actor,
            action="space.reject",
            obj=change,
            object_type="addressspacechange",
            from_state=State.PENDING,
            to_state=State.REJECTED,
            reason=reason,
            at=now,
            data={"operator": change.operator.code, "action": change.action, "prefix": change.prefix},
        )
    return change
