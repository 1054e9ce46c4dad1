"""Queues, step targets, escalation and turnaround (applications/queues.py)."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.core import mail
from django.db import connection
from django.utils import timezone

from tests.auth import login
from tests.factories import UserFactory, put_documents_on_file
from tests.workflow import draft, to_decision
from vpnregistry.accounts.models import District, Role
from vpnregistry.applications import queues, services
from vpnregistry.applications.models import (
    Application,
    Escalation,
    StepDuration,
    StepTarget,
)
from vpnregistry.audit.models import AuditEvent
from vpnregistry.errors import InvalidInput, NotAllowed
from vpnregistry.notifications.models import Notification

State = Application.State


def submitted(world, *values, user=None, district=None, days_ago=None):
    application = draft(world, *values, user=user)
    if district:
        application.resources.update(district=District.objects.get(code=district))
    services.application_submit(actor=user or world.applicant, application=application)
    if days_ago is not None:
        back(application, days=days_ago)
    application.refresh_from_db()
    return application


def back(application, *, days, field="submitted_at"):
    """Move the moment the application entered its step into the past."""
    Application.objects.filter(pk=application.pk).update(**{field: timezone.now() - timedelta(days=days)})


def refs(user, filters=None, **kwargs):
    return [i.application.tracking_number for i in queues.queue_page(user, filters, **kwargs).items]


# --- the table ---------------------------------------------------------------------------------


def test_each_role_waits_from_one_column_and_every_step_has_a_unique_code():
    assert len(queues.BY_CODE) == len(queues.STEPS)
    for role in queues.QUEUE_ROLES:
        assert queues.steps._since(role) in {"submitted_at", "state_changed_at"}
    assert {s.code for s in queues.steps_for(Role.OFFICER)} >= {"decision", "payment", "appeal"}


def test_targets_are_seeded_for_every_step(db):
    assert set(StepTarget.objects.values_list("step", flat=True)) == set(queues.BY_CODE)


# --- who sees what -----------------------------------------------------------------------------


def test_agency_queue_is_its_own_agency_oldest_first_and_empties_on_verification(world):
    world.other_org.category = world.bank  # routed to the licensing desk
    world.other_org.save()
    put_documents_on_file(world.other_org)  # a bank's documents differ from a company's
    newer = submitted(world, "14.1.105.0/24", days_ago=1)
    older = submitted(world, "14.1.106.0/24", days_ago=2)
    bank = submitted(world, "14.192.130.0/24", user=world.other_applicant, days_ago=3)
    assert refs(world.agency) == [older.tracking_number, newer.tracking_number]
    assert refs(world.licensing_reviewer) == [bank.tracking_number]
    # The agency filter cannot widen the scope: another agency's work stays out of reach.
    assert refs(world.agency, queues.Filters(agency=world.licensing)) == []
    services.application_verify(actor=world.agency, application=older, decision="approve")
    assert refs(world.agency) == [newer.tracking_number]


def test_operator_queue_holds_only_its_own_pending_resources(world):
    both = submitted(world, "14.1.105.0/24", "14.192.130.0/24", days_ago=2)
    indus_only = submitted(world, "14.1.106.0/24", "14.1.107.0/24", days_ago=1)
    page = queues.queue_page(world.operator)
    assert [(i.application.pk, i.pending) for i in page.items] == [(both.pk, 1), (indus_only.pk, 2)]
    assert refs(world.other_operator) == [both.tracking_number]
    margalla = both.resources.get(operator=world.margalla)
    services.resource_attest(actor=world.other_operator, resource=margalla, decision="approve")
    assert refs(world.other_operator) == []
    assert refs(world.operator) == [both.tracking_number, indus_only.tracking_number]
    # Filtering by another operator narrows to nothing; it never shows the other operator's work.
    assert refs(world.operator, queues.Filters(operator=world.margalla)) == []


def test_officer_queue_spans_the_regulator_steps_and_filters_by_step(world):
    decision = to_decision(world, "14.1.105.0/24")
    payment = to_decision(world, "14.1.106.0/24")
    appeal = to_decision(world, "14.1.107.0/24")
    # The states other parts of the workflow move applications into: each is one entry in STEPS.
    Application.objects.filter(pk=payment.pk).update(state=State.AWAITING_PAYMENT)
    Application.objects.filter(pk=appeal.pk).update(state=State.APPEALED)
    back(appeal, days=3, field="state_changed_at")
    back(payment, days=2, field="state_changed_at")
    back(decision, days=1, field="state_changed_at")
    page = queues.queue_page(world.officer)
    assert [(i.application.pk, i.step.code) for i in page.items] == [
        (appeal.pk, "appeal"),
        (payment.pk, "payment"),
        (decision.pk, "decision"),
    ]
    assert refs(world.officer, queues.Filters(step="payment")) == [payment.tracking_number]
    with pytest.raises(InvalidInput) as exc:
        queues.parse_filters({"step": "agency"}, Role.OFFICER)
    assert "step" in exc.value.errors


@pytest.mark.parametrize("role", ["applicant", "auditor"])
def test_roles_without_a_queue_are_refused(world, role):
    user = world.applicant if role == "applicant" else world.auditor
    with pytest.raises(NotAllowed):
        queues.queue_for(user)


def test_filters_category_district_province_operator_overdue(world):
    lahore = submitted(world, "14.1.105.0/24", district="pb-lahore", days_ago=9)
    karachi = submitted(world, "14.1.106.0/24", district="sd-karachi-east", days_ago=1)
    freelancer = submitted(world, "14.1.107.1/32", user=world.freelancer_applicant, days_ago=2)
    everything = [lahore.tracking_number, freelancer.tracking_number, karachi.tracking_number]
    assert refs(world.agency) == everything
    f = queues.parse_filters
    assert refs(world.agency, f({"district": "pb-lahore"}, "agency")) == [lahore.tracking_number]
    assert refs(world.agency, f({"province": "SD"}, "agency")) == [karachi.tracking_number]
    assert refs(world.agency, f({"category": "freelancer"}, "agency")) == [freelancer.tracking_number]
    assert refs(world.agency, f({"operator": "indus"}, "agency")) == everything
    assert refs(world.agency, f({"operator": "margalla"}, "agency")) == []
    StepTarget.objects.filter(step="agency").update(days=5)
    assert refs(world.agency, f({"overdue": "1"}, "agency")) == [lahore.tracking_number]
    page = queues.queue_page(world.agency)
    assert [i.overdue for i in page.items] == [True, False, False]
    assert all(i.target_days == 5 for i in page.items)
    # The operator's own queue takes the same resource filters, on its own pending resources.
    assert refs(world.operator, f({"province": "PB"}, "operator")) == [lahore.tracking_number]


def test_unknown_codes_are_refused_by_name(db):
    with pytest.raises(InvalidInput) as exc:
        queues.parse_filters({"district": "nowhere", "category": "x", "overdue": "maybe"}, Role.AGENCY)
    assert set(exc.value.errors) == {"district", "category", "overdue"}


def test_keyset_pages_walk_every_item_once_in_order_even_on_equal_times(world):
    apps_ = [submitted(world, f"14.1.{104 + i}.0/24") for i in range(4)]
    same = timezone.now() - timedelta(days=1)
    Application.objects.filter(pk__in=[a.pk for a in apps_[1:]]).update(submitted_at=same)
    seen, after = [], ""
    while True:
        page = queues.queue_page(world.agency, after=after, size=2)
        seen += [i.application.pk for i in page.items]
        if not page.next_cursor:
            break
        after = page.next_cursor
    assert seen == [a.pk for a in [*apps_[1:], apps_[0]]]
    with pytest.raises(InvalidInput):
        queues.queue_page(world.agency, after="12:ab")


# --- entered-at and durations --------------------------------------------------------------------


def test_every_transition_sets_state_changed_at(world):
    application = draft(world, "14.1.105.0/24")
    before = application.state_changed_at
    services.application_submit(actor=world.applicant, application=application)
    application.refresh_from_db()
    assert application.state_changed_at == application.submitted_at
    assert application.state_changed_at >= before
    event = AuditEvent.objects.filter(object_id=str(application.pk), action="application.submit").get()
    assert event.at == application.state_changed_at


def test_completed_steps_store_their_durations(world, django_capture_on_commit_callbacks):
    application = to_decision(world, "14.1.105.0/24", "14.192.130.0/24")
    rows = {(d.step, d.party) for d in StepDuration.objects.filter(application=application)}
    # Two /24s take the organisation past the fee threshold: the officer recorded the payment too.
    assert rows == {
        ("agency", "agency:pseb"),
        ("operator", "operator:indus"),
        ("operator", "operator:margalla"),
        ("payment", "regulator"),
    }
    agency = StepDuration.objects.get(application=application, step="agency")
    assert agency.ended_at == application.verified_at and agency.entered_at == application.submitted_at
    services.application_decide(actor=world.officer, application=application, decision="approve", reason="ok")
    decision = StepDuration.objects.get(application=application, step="decision")
    assert decision.entered_at == application.state_changed_at  # as it was before the decision


def test_steps_not_completed_by_their_party_store_nothing(world):
    # Every resource refused: the operator completed its step, the agency never acted.
    application = submitted(world, "14.1.105.0/24")
    resource = application.resources.get()
    services.resource_attest(actor=world.operator, resource=resource, decision="reject", reason="not ours")
    application.refresh_from_db()
    assert application.state == State.REJECTED
    assert list(StepDuration.objects.filter(application=application).values_list("step", flat=True)) == [
        "operator"
    ]
    # An agency rejection completes the agency's step; the operator's pending one stores nothing.
    other = submitted(world, "14.1.106.0/24")
    services.application_verify(actor=world.agency, application=other, decision="reject", reason="no")
    assert list(StepDuration.objects.filter(application=other).values_list("step", "party")) == [
        ("agency", "agency:pseb")
    ]


def test_turnaround_median_and_90th_percentile_by_nearest_rank(world):
    application = draft(world, "14.1.105.0/24")
    now = timezone.now()
    for days in range(1, 11):  # 1..10 days, ended within the period
        StepDuration.objects.create(
            step="decision",
            application=application,
            party="regulator",
            entered_at=now - timedelta(days=days),
            ended_at=now - timedelta(hours=1),
            seconds=days * 86400,
        )
    StepDuration.objects.create(  # ended before the period: not counted
        step="decision",
        application=application,
        party="regulator",
        entered_at=now - timedelta(days=100),
        ended_at=now - timedelta(days=40),
        seconds=60 * 86400,
    )
    StepTarget.objects.filter(step="decision").update(days=7)
    rows = {r.step.code: r for r in queues.turnaround(now - timedelta(days=30), now)}
    decision = rows["decision"]
    assert decision.count == 10
    assert decision.median == timedelta(days=5)
    assert decision.p90 == timedelta(days=9)
    assert decision.over_target == 3
    assert rows["agency"].count == 0 and rows["agency"].median is None


def test_turnaround_counts_waiting_and_overdue_work(world):
    submitted(world, "14.1.105.0/24", days_ago=10)
    submitted(world, "14.1.106.0/24", days_ago=1)
    StepTarget.objects.filter(step="agency").update(days=5)
    now = timezone.now()
    rows = {r.step.code: r for r in queues.turnaround(now - timedelta(days=1), now)}
    assert (rows["agency"].waiting, rows["agency"].overdue) == (2, 1)
    assert rows["operator"].waiting == 2


def test_only_officers_set_targets_and_each_change_is_audited(world):
    target = queues.set_step_target(actor=world.officer, step="decision", days="4")
    assert target.days == 4 and target.updated_by == world.officer
    event = AuditEvent.objects.filter(action="steptarget.set").get()
    assert event.data["days"] == 4
    with pytest.raises(NotAllowed):
        queues.set_step_target(actor=world.agency, step="decision", days=9)
    for step, days, field in [("nope", 3, "step"), ("decision", "x", "days"), ("decision", 0, "days")]:
        with pytest.raises(InvalidInput) as exc:
            queues.set_step_target(actor=world.officer, step=step, days=days)
        assert field in exc.value.errors
    assert StepTarget.objects.get(step="decision").days == 4


# --- escalation --------------------------------------------------------------------------------


def test_escalation_once_per_step_entry_with_audit_and_one_message_per_recipient(world):
    StepTarget.objects.filter(step="agency").update(days=2)
    StepTarget.objects.filter(step="operator").delete()  # no target: never escalated
    late = submitted(world, "14.1.105.0/24", days_ago=3)
    late2 = submitted(world, "14.1.106.0/24", days_ago=4)
    submitted(world, "14.1.107.0/24", days_ago=1)
    mail.outbox.clear()
    Notification.objects.all().delete()
    report = queues.escalate()
    assert report.escalated["agency"] == 2 and "operator" not in report.escalated
    assert set(Escalation.objects.values_list("application_id", "step", "party")) == {
        (late.pk, "agency", "agency:pseb"),
        (late2.pk, "agency", "agency:pseb"),
    }
    events = AuditEvent.objects.filter(action="application.escalate")
    assert {e.object_id for e in events} == {str(late.pk), str(late2.pk)}
    # The agency's reviewers and the officers each get one message listing both; nobody else.
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert recipients == {"reviewer", "officer", "officer2"}
    message = Notification.objects.get(recipient=world.agency)
    assert late.tracking_number in message.body and late2.tracking_number in message.body
    assert {m.to[0] for m in mail.outbox} == {f"{u}@example.org" for u in ("reviewer", "officer", "officer2")}
    # Idempotent: a second run escalates nothing and tells nobody.
    assert queues.escalate().escalated["agency"] == 0
    assert Escalation.objects.count() == 2 and Notification.objects.count() == 3
    # A new entry into the step (resubmission sets a new submitted_at) is escalated again.
    back(late, days=5)
    assert queues.escalate().escalated["agency"] == 1


def test_operator_escalation_is_per_operator_and_reaches_its_staff(world):
    StepTarget.objects.filter(step="agency").delete()
    StepTarget.objects.filter(step="operator").update(days=1)
    application = submitted(world, "14.1.105.0/24", "14.192.130.0/24", days_ago=2)
    margalla = application.resources.get(operator=world.margalla)
    services.resource_attest(actor=world.other_operator, resource=margalla, decision="approve")
    Notification.objects.all().delete()
    assert queues.escalate().escalated["operator"] == 1
    assert Escalation.objects.get().party == "operator:indus"
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {
        "indus-staff",
        "officer",
        "officer2",
    }


def test_decision_escalation_goes_to_officers(world):
    StepTarget.objects.exclude(step="decision").delete()
    StepTarget.objects.filter(step="decision").update(days=1)
    application = to_decision(world, "14.1.105.0/24")
    back(application, days=2, field="state_changed_at")
    application.refresh_from_db()
    Notification.objects.all().delete()
    assert queues.escalate().escalated == {"decision": 1}
    assert Escalation.objects.get().entered_at == application.state_changed_at
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"officer", "officer2"}


def test_escalate_command(world, capsys):
    from django.core.management import call_command

    StepTarget.objects.filter(step="agency").update(days=1)
    submitted(world, "14.1.105.0/24", days_ago=2)
    call_command("escalate")
    assert "agency 1" in capsys.readouterr().out


# --- the data migration and the query plans ------------------------------------------------------


def test_migration_fills_state_changed_at_from_the_audit_log(world):
    waiting = to_decision(world, "14.1.105.0/24")
    drafted = draft(world, "14.1.106.0/24")
    ready = (
        AuditEvent.objects.filter(
            object_type="application", object_id=str(waiting.pk), to_state=waiting.state
        )
        .exclude(from_state=waiting.state)
        .latest("seq")
    )
    Application.objects.update(state_changed_at=timezone.now() + timedelta(days=365))
    migration = importlib.import_module("vpnregistry.applications.migrations.0006_queue_data")
    migration.fill(apps, connection.schema_editor())
    waiting.refresh_from_db()
    drafted.refresh_from_db()
    assert waiting.state_changed_at == ready.at
    assert drafted.state_changed_at == AuditEvent.objects.get(object_id=str(drafted.pk)).at


def _plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        # A test's tables hold a handful of rows, where any plan is as cheap as another; ask
        # PostgreSQL for the plan it takes at scale: an ordered index walk, no scan, no sort.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_queue_queries_walk_the_queue_indexes(world):
    """Each queue query seeks an index that holds only waiting work; none scans the applications."""
    submitted(world, "14.1.105.0/24")
    StepTarget.objects.update(days=1)
    if connection.vendor == "postgresql":
        # On a handful of rows every plan costs about the same and PostgreSQL picks among them by
        # chance (once, a scan of another index); with most applications long decided, as at
        # scale, and statistics to show it, the planner's choice is the one a national registry gets.
        Application.objects.bulk_create(
            Application(
                organisation=world.applicant.organisation, category=world.company, created_by=world.applicant,
                state="approved", state_changed_at=timezone.now(),
            )
            for _ in range(5000)
        )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE applications_application")
    waiting_indexes = {"app_agency_waiting", "app_review_waiting", "app_state_since"}
    cases = [
        (queues.queue_for(world.agency), {"app_agency_waiting"}),
        (queues.queue_for(world.agency, queues.Filters(overdue=True)), waiting_indexes),
        (queues.queue_for(world.operator), waiting_indexes - {"app_agency_waiting"}),
        (queues.queue_for(world.officer), {"app_state_since"}),
        (queues.queue_for(world.officer, queues.Filters(step="decision")), {"app_state_since"}),
    ]
    for qs, expected in cases:
        plan = _plan(qs[:26])
        assert any(name in plan for name in expected), plan
        full_scan = r"^(SCAN applications_application|.*Seq Scan on applications_application.*)$"
        assert not re.search(full_scan, plan, re.M), plan


def test_new_staff_see_the_queue_of_their_body(world):
    colleague = UserFactory(username="reviewer2", role=Role.AGENCY, agency=world.pseb)
    application = submitted(world, "14.1.105.0/24")
    assert refs(colleague) == [application.tracking_number]


def test_turnaround_and_notification_reads_seek_their_indexes(world):
    from vpnregistry.notifications.models import Notification

    now = timezone.now()
    durations = StepDuration.objects.filter(
        step="decision", ended_at__gte=now - timedelta(days=30), ended_at__lt=now
    )
    assert "stepduration_step_ended" in _plan(durations.order_by("seconds").values("seconds")[4:5])
    listing = Notification.objects.filter(recipient=world.applicant).order_by("-id")[:26]
    assert "notification_recipient" in _plan(listing)
    unread = Notification.objects.filter(recipient=world.applicant, read_at__isnull=True).values("id")[:100]
    assert re.search(r"notification_(unread|recipient)", _plan(unread))  # a seek by recipient either way


def test_turnaround_of_a_single_completed_step(world):
    application = draft(world, "14.1.105.0/24")
    now = timezone.now()
    StepDuration.objects.create(
        step="agency",
        application=application,
        party="agency:pseb",
        entered_at=now - timedelta(hours=30),
        ended_at=now - timedelta(hours=1),
        seconds=29 * 3600,
    )
    row = next(r for r in queues.turnaround(now - timedelta(days=1), now) if r.step.code == "agency")
    assert (row.count, row.median, row.p90) == (1, timedelta(hours=29), timedelta(hours=29))


def test_the_home_page_shows_each_roles_queue_from_the_step_table(world, client):
    """The home page's queue is the queues module's: each state and step of STEPS reaches both."""
    draft(world, "14.1.104.0/24")  # the applicant's own work
    submitted(world, "14.192.130.0/24")  # the agency's and the operator's
    decision = to_decision(world, "14.1.105.0/24")
    payment = to_decision(world, "14.1.106.0/24")
    appeal = to_decision(world, "14.1.107.0/24")
    Application.objects.filter(pk=payment.pk).update(state=State.AWAITING_PAYMENT)
    Application.objects.filter(pk=appeal.pk).update(state=State.APPEALED)
    for user in (world.agency, world.operator, world.other_operator, world.officer):
        login(client, user)
        shown = {a.pk for a in client.get("/").context["queue"]}
        assert shown == set(queues.queue_for(user).values_list("pk", flat=True)), user.role
        assert shown == set(Application.objects.filter(queues.waiting_for(user)).values_list("pk", flat=True))
    assert {a.pk for a in queues.queue_for(world.officer)} == {decision.pk, payment.pk, appeal.pk}
    login(client, world.applicant)
    shown = {a.pk for a in client.get("/").context["queue"]}
    assert shown and shown == set(
        Application.objects.filter(
            queues.waiting_for(world.applicant), organisation=world.applicant.organisation
        ).values_list("pk", flat=True)
    )
    login(client, world.auditor)
    assert list(client.get("/").context["queue"]) == []
