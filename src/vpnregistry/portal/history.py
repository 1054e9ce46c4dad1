"""Audit events as sentences a person reads: "Indus Fibre confirmed 27.0.186.9 for this subscriber."

The log stores what happened in machine terms (`resource.attest`, `in_review → awaiting_payment`,
`application:17`); the pages that show history tell it in words, in the reader's language, with the
object linked. Each action has a whole sentence with named places (`%(actor)s`, `%(object)s`), so a
translation can put them in its own order (Urdu puts the verb last). An action without a sentence
of its own is told by the generic one and its code, so a new action shows up, never disappears.

Who did it is told as the party a reader knows: an operator's or an agency's name, "the regulator",
"the registry" for the system's own work; the log's own page keeps the account's name beside it.
Objects are looked up for a whole page at once: one query per kind of object, whatever the page's
length.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_noop

from vpnregistry.accounts.models import Agency, Operator, Organisation, User
from vpnregistry.allowlist.models import Snapshot
from vpnregistry.applications.models import Application, Resource
from vpnregistry.audit.models import AuditEvent
from vpnregistry.registrations.models import Registration
from vpnregistry.restrictions.models import Complaint, RestrictionEvent

# action -> sentence. %(actor)s is who did it, %(object)s the object (linked where it has a page).
SENTENCES: dict[str, str] = {
    "application.create": gettext_noop("%(actor)s started the application %(object)s."),
    "application.edit": gettext_noop("%(actor)s changed the application %(object)s."),
    "application.submit": gettext_noop("%(actor)s submitted the application %(object)s."),
    "application.resubmit": gettext_noop("%(actor)s submitted the application %(object)s again."),
    "application.verify": gettext_noop("%(actor)s recorded the agency's verification of %(object)s."),
    "application.review": gettext_noop("The application %(object)s went to review."),
    "application.fee": gettext_noop(
        "The fee of %(object)s was worked out; the application waits for payment."
    ),
    "application.payment": gettext_noop("%(actor)s recorded the payment of the fee for %(object)s."),
    "application.ready": gettext_noop("The application %(object)s is ready for the regulator's decision."),
    "application.approve": gettext_noop("%(actor)s approved the application %(object)s."),
    "application.reject": gettext_noop("%(actor)s rejected the application %(object)s."),
    "application.return": gettext_noop("%(actor)s returned the application %(object)s to the applicant."),
    "application.withdraw": gettext_noop("%(actor)s withdrew the application %(object)s."),
    "application.appeal": gettext_noop("%(actor)s appealed against the decision on %(object)s."),
    "application.escalate": gettext_noop("The application %(object)s waited too long and was escalated."),
    "application.renew": gettext_noop("%(actor)s applied to renew with %(object)s."),
    "resource.attest:confirmed": gettext_noop("%(actor)s confirmed %(object)s for this subscriber."),
    "resource.attest:refused": gettext_noop("%(actor)s refused %(object)s."),
    "resource.reopen": gettext_noop("%(actor)s reopened %(object)s for the operator's answer."),
    "registration.create": gettext_noop("The registration %(object)s was made."),
    "registration.import": gettext_noop(
        "The registration %(object)s was imported from the earlier register."
    ),
    "registration.suspend": gettext_noop("%(actor)s suspended the registration %(object)s."),
    "registration.reinstate": gettext_noop("%(actor)s reinstated the registration %(object)s."),
    "registration.revoke": gettext_noop("%(actor)s revoked the registration %(object)s."),
    "registration.surrender": gettext_noop("%(actor)s gave up the registration %(object)s."),
    "registration.expire": gettext_noop("The registration %(object)s expired."),
    "registration.remind": gettext_noop("The registry reminded the holder that %(object)s expires soon."),
    "registration.renewed": gettext_noop("The registration %(object)s was renewed."),
    "registration.certificate": gettext_noop("%(actor)s made a certificate of the registration %(object)s."),
    "document.upload": gettext_noop("%(actor)s filed a document for %(object)s."),
    "document.purge": gettext_noop("A document of %(object)s was removed, its keeping time over."),
    "organisation.signup": gettext_noop("%(actor)s registered the organisation %(object)s."),
    "organisation.export": gettext_noop("%(actor)s downloaded the data held about %(object)s."),
    "member.invite": gettext_noop("%(actor)s invited a member to %(object)s."),
    "member.join": gettext_noop("%(actor)s joined %(object)s."),
    "member.remove": gettext_noop("%(actor)s removed a member of %(object)s."),
    "member.admin": gettext_noop("%(actor)s changed who administers %(object)s."),
    "complaint.create": gettext_noop("%(actor)s filed the complaint %(object)s."),
    "complaint.comment": gettext_noop("%(actor)s wrote on the complaint %(object)s."),
    "complaint.answer": gettext_noop("%(actor)s answered the complaint %(object)s."),
    "complaint.reopen": gettext_noop("%(actor)s reopened the complaint %(object)s."),
    "complaint.resolve": gettext_noop("%(actor)s resolved the complaint %(object)s."),
    "complaint.reject": gettext_noop("%(actor)s rejected the complaint %(object)s."),
    "event.create": gettext_noop("%(actor)s recorded the restriction event %(object)s."),
    "event.publish": gettext_noop("%(actor)s published the restriction event %(object)s."),
    "statement.issue": gettext_noop("%(actor)s issued the exemption statement %(object)s."),
    "snapshot.publish": gettext_noop("The allowlist was published as %(object)s."),
    "space.propose": gettext_noop("%(actor)s proposed a change to an operator's address space."),
    "space.approve": gettext_noop("%(actor)s approved a change to an operator's address space."),
    "space.reject": gettext_noop("%(actor)s rejected a change to an operator's address space."),
    "operator.create": gettext_noop("%(actor)s added the operator %(object)s."),
    "account.create": gettext_noop("%(actor)s created the account %(object)s."),
    "account.totp-enrol": gettext_noop("%(actor)s set up the authenticator of %(object)s."),
    "account.totp-reset": gettext_noop("%(actor)s removed the authenticator of %(object)s."),
    "account.password_reset": gettext_noop("%(actor)s chose a new password after a reset by email."),
    "token.issue": gettext_noop("%(actor)s issued an API token."),
    "token.revoke": gettext_noop("%(actor)s revoked an API token."),
    "steptarget.set": gettext_noop("%(actor)s set the target time of a review step."),
    "mail.retry": gettext_noop("%(actor)s sent failed emails again."),
    "field_keys.rotate": gettext_noop("%(actor)s rotated the keys that protect identifiers."),
}
GENERIC = gettext_noop("%(actor)s: %(action)s on %(object)s.")

# Objects with a page of their own, and objects told by name only (looked up a page at a time).
PAGES = {
    "application": (Application, "portal:application-detail"),
    "registration": (Registration, "portal:registration-detail"),
    "complaint": (Complaint, "portal:complaint-detail"),
}
NAMED = {"organisation": Organisation, "operator": Operator, "agency": Agency, "user": User}


@dataclass(frozen=True)
class Told:
    """One event, told: the sentence (safe HTML) and the object's page, where it has one."""

    event: AuditEvent
    sentence: SafeString
    link: str | None


def _actor(event: AuditEvent, people: dict[int, User], bodies: dict[tuple[str, int], str]) -> str:
    """The party a reader knows: an operator's or agency's name, the regulator, the registry."""
    user = people.get(event.actor_id)
    if user is None:  # the registry's own work (the scheduler, a command): its label is in the log
        return gettext("The registry")
    if event.actor_label and event.actor_label != user.username:
        return event.actor_label  # already told as a party (another operator: "an operator")
    if user.operator_id:
        return bodies[("operator", user.operator_id)]
    if user.agency_id:
        return bodies[("agency", user.agency_id)]
    if user.role in {"officer", "auditor"}:
        return gettext("The regulator")
    return user.username


def _people(events: list[AuditEvent]) -> tuple[dict[int, User], dict[tuple[str, int], str]]:
    """Who acted, and the names of their operators and agencies: a query each for the whole page."""
    ids = {e.actor_id for e in events if e.actor_id}
    people = {u.pk: u for u in User.objects.filter(pk__in=ids).only("username", "role", "operator", "agency")}
    operators = {u.operator_id for u in people.values() if u.operator_id}
    agencies = {u.agency_id for u in people.values() if u.agency_id}
    bodies = {("operator", o.pk): str(o) for o in Operator.objects.filter(pk__in=operators)}
    bodies |= {("agency", a.pk): str(a) for a in Agency.objects.filter(pk__in=agencies)}
    return people, bodies


def _labels(events: list[AuditEvent]) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(type, id) -> (label, url) for every object of the page: one query per type."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for e in events:
        if e.object_id.isdigit():
            wanted[e.object_type].add(int(e.object_id))
    found: dict[tuple[str, str], tuple[str, str | None]] = {}
    for kind, ids in wanted.items():
        if kind == "resource":
            rows = Resource.objects.filter(pk__in=ids).values_list("pk", "value", "application")
            for pk, value, app in rows:
                found[(kind, str(pk))] = (value, reverse("portal:application-detail", args=[app]))
        elif kind in PAGES:
            model, page = PAGES[kind]
            for obj in model.objects.filter(pk__in=ids):
                found[(kind, str(obj.pk))] = (_label(kind, obj), reverse(page, args=[obj.pk]))
        elif kind == "restrictionevent":
            for pk, title in RestrictionEvent.objects.filter(pk__in=ids).values_list("pk", "title"):
                found[(kind, str(pk))] = (title, reverse("portal:events"))
        elif kind == "snapshot":
            for pk, serial in Snapshot.objects.filter(pk__in=ids).values_list("pk", "serial"):
                found[(kind, str(pk))] = (gettext("serial %(serial)s") % {"serial": serial}, None)
        elif kind in NAMED:
            for obj in NAMED[kind].objects.filter(pk__in=ids):
                found[(kind, str(obj.pk))] = (str(obj), None)
    return found


def _label(kind: str, obj) -> str:
    if kind == "application":
        return obj.tracking_number or gettext("draft #%(id)s") % {"id": obj.pk}
    if kind == "registration":
        return f"{obj.reference} ({obj.value})"
    return str(obj)


def tell(events: Iterable[AuditEvent]) -> list[Told]:
    """Each event as a sentence in the active language, its object linked where it has a page."""
    events = list(events)
    labels = _labels(events)
    people, bodies = _people(events)
    told = []
    for e in events:
        key = e.action
        if e.action == "resource.attest":
            key = f"resource.attest:{e.to_state}"
        label, url = labels.get((e.object_type, e.object_id), (f"{e.object_type} {e.object_id}", None))
        if url:
            shown = format_html('<a href="{}"><bdi>{}</bdi></a>', url, label)
        else:
            shown = format_html("<bdi>{}</bdi>", label)
        places = {
            "actor": format_html("<bdi>{}</bdi>", _actor(e, people, bodies)),
            "object": shown,
            "action": format_html('<code dir="ltr">{}</code>', e.action),
        }
        template = SENTENCES.get(key) or GENERIC
        # The sentence is translated, then escaped; its places are escaped or already safe HTML.
        safe_places = {name: conditional_escape(value) for name, value in places.items()}
        sentence = mark_safe(escape(gettext(template)) % safe_places)  # noqa: S308
        told.append(Told(event=e, sentence=sentence, link=url))
    return told
