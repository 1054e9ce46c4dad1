"""Resources in bulk, mobile numbers, the fee, return and withdrawal, reasons and appeals, renewal:
every transition and every refusal, by the service functions."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client, TestCase
from django.utils import timezone

from tests.factories import OperatorFactory, UserFactory
from tests.workflow import approved, attested, draft, pay, to_decision
from vpnregistry.accounts.models import Operator, Role
from vpnregistry.applications import bulk, services
from vpnregistry.applications.fees import addresses_of, fee_for
from vpnregistry.applications.models import Application, Attestation, RejectionReason, Resource, Review
from vpnregistry.applications.msisdn import NotAMobileNumber, normalise_msisdn
from vpnregistry.audit.models import AuditEvent
from vpnregistry.db import network_keys
from vpnregistry.errors import InvalidInput, NotAllowed, WrongState
from vpnregistry.registrations.models import ActivePeriod, Registration

State = Application.State


@pytest.fixture
def mobile(world):
    jazz = OperatorFactory(code="jazz", kind=Operator.Kind.MOBILE)
    staff = UserFactory(username="jazz-staff", role=Role.OPERATOR, operator=jazz)
    return jazz, staff


def snapshot(application):
    """What a refused step must leave unchanged."""
    application.refresh_from_db()
    return (
        application.state,
        application.version,
        sorted(application.resources.values_list("value", "state")),
        AuditEvent.objects.count(),
        Review.objects.count(),
        Attestation.objects.count(),
    )


# --- resources in bulk ------------------------------------------------------------------------


def csv_of(rows, header="value,subscriber_id,district"):
    return (header + "\n" + "\n".join(rows) + "\n").encode()


def test_csv_of_hundreds_of_resources_is_accepted(world):
    rows = [f"14.1.{104 + i // 256}.{i % 256}/32,SUB-{i},pb-lahore" for i in range(300)]
    application = bulk.application_create_from_csv(actor=world.applicant, data=csv_of(rows))
    assert application.resources.count() == 300
    assert set(application.resources.values_list("district__code", flat=True)) == {"pb-lahore"}
    assert application.resources.get(value="14.1.105.43/32").subscriber_id == "SUB-299"


def test_csv_refused_whole_naming_every_bad_line_and_field(world):
    rows = [
        "14.1.105.0/24,SUB-1,pb-lahore",  # line 2: good
        "10.0.0.0/24,SUB-2,",  # line 3: private
        "14.1.106.0/24,,pb-lahore",  # line 4: no subscriber
        "",  # line 5: blank, skipped
        "14.1.107.0/24,SUB-4,atlantis",  # line 6: no such district
        "14.1.105.0/25,SUB-5,",  # line 7: overlaps line 2
    ]
    with pytest.raises(InvalidInput) as exc:
        bulk.application_create_from_csv(actor=world.applicant, data=csv_of(rows))
    messages = exc.value.errors["csv"]
    assert [m.split(": ")[0] for m in messages] == [
        "line 3, column value",
        "line 4, column subscriber_id",
        "line 6, column district",
        "line 7, column value",
    ]
    assert "private-use" in messages[0] and "resource 1" in messages[3]
    assert not Application.objects.exists() and not Resource.objects.exists()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "header is missing"),
        (b"address,subscriber_id\n1.2.3.4,S\n", "unknown columns address"),
        (b"value\n14.1.105.0/24\n", "missing columns subscriber_id"),
        (b"value,subscriber_id\n", "no rows"),
        (b"value,subscriber_id\n14.1.105.0/24,S,extra\n", "line 2: 3 fields"),
        (b"value,subscriber_id\n\xff\xfe,S\n", "not UTF-8"),
        (b"value,subscriber_id\n" + b"x" * (bulk.MAX_BYTES + 1), "larger than"),
    ],
)
def test_csv_shape_errors_are_named(world, data, fragment):
    with pytest.raises(InvalidInput) as exc:
        bulk.application_create_from_csv(actor=world.applicant, data=data)
    assert fragment in " ".join(exc.value.errors["csv"])
    assert not Application.objects.exists()


def test_csv_with_bom_and_quoted_fields(world):
    data = '\ufeffvalue,"subscriber_id"\n"14.1.105.0/24","ACC, 1"\n'.encode()
    application = bulk.application_create_from_csv(actor=world.applicant, data=data)
    assert application.resources.get().subscriber_id == "ACC, 1"


def test_csv_upload_needs_the_applicant_role(world):
    with pytest.raises(NotAllowed):
        bulk.application_create_from_csv(actor=world.agency, data=csv_of(["14.1.105.0/24,S,"]))


def two_submitted(world):
    apps = []
    for value in ("14.1.105.0/24", "14.1.106.0/24"):
        application = draft(world, value)
        services.application_submit(actor=world.applicant, application=application)
        apps.append(application)
    return apps


def test_bulk_attestation_records_all_and_moves_applications_on(world):
    apps = two_submitted(world)
    ids = [a.resources.get().pk for a in apps]
    done = services.resources_attest(actor=world.operator, resource_ids=ids, decision="approve")
    assert [r.state for r in done] == ["confirmed", "confirmed"]
    for application in apps:
        application.refresh_from_db()
        assert application.state == State.IN_REVIEW
    assert AuditEvent.objects.filter(action="resource.attest").count() == 2


def test_bulk_attestation_is_all_or_nothing(world):
    apps = two_submitted(world)
    other = draft(world, "14.192.130.0/24")
    services.application_submit(actor=world.applicant, application=other)
    ids = [a.resources.get().pk for a in apps]
    before = [snapshot(a) for a in apps]
    # One resource in another operator's space refuses the lot, named.
    with pytest.raises(InvalidInput) as exc:
        services.resources_attest(
            actor=world.operator, resource_ids=[*ids, other.resources.get().pk], decision="approve"
        )
    assert str(other.resources.get().pk) in exc.value.errors["resources"][0]
    # One attested already refuses the lot too.
    services.resource_attest(actor=world.operator, resource=apps[0].resources.get(), decision="approve")
    before = [snapshot(a) for a in apps]
    with pytest.raises(WrongState):
        services.resources_attest(actor=world.operator, resource_ids=ids, decision="approve")
    assert [snapshot(a) for a in apps] == before
    # Bad input, wrong role.
    for kwargs, error in [
        ({"resource_ids": [], "decision": "approve"}, InvalidInput),
        ({"resource_ids": [ids[1], ids[1]], "decision": "approve"}, InvalidInput),
        ({"resource_ids": ["x"], "decision": "approve"}, InvalidInput),
        ({"resource_ids": [ids[1]], "decision": "reject"}, InvalidInput),  # no reason
        ({"resource_ids": [ids[1]], "decision": "return", "reason": "x"}, InvalidInput),
    ]:
        with pytest.raises(error):
            services.resources_attest(actor=world.operator, **kwargs)
    with pytest.raises(NotAllowed):
        services.resources_attest(actor=world.agency, resource_ids=[ids[1]], decision="approve")
    assert [snapshot(a) for a in apps] == before


# --- mobile numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["+923001234567", "03001234567", "0300 1234567", "+92 300 123 4567", "0300-1234567"]
)
def test_mobile_numbers_normalise_to_e164(text):
    assert normalise_msisdn(text) == "+923001234567"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("+92 51 2345 6789", "not a mobile number"),  # an Islamabad landline
        ("+14155550100", "not a Pakistani number"),
        ("0300123", "not a valid phone number"),
        ("call me", "not a phone number"),
    ],
)
def test_other_numbers_are_refused(text, why):
    with pytest.raises(NotAMobileNumber) as exc:
        normalise_msisdn(text)
    assert why in str(exc.value)


def mobile_draft(world, jazz, number="0300 1234567", user=None):
    return services.application_create(
        actor=user or world.freelancer_applicant,
        resources=[{"value": number, "subscriber_id": "MSISDN-1", "operator": jazz.code}],
    )


def test_mobile_number_is_registered_and_published_for_its_operator(world, mobile):
    from vpnregistry.allowlist.formats import Allowlist
    from vpnregistry.allowlist.services import build_allowlist

    jazz, staff = mobile
    application = mobile_draft(world, jazz)
    resource = application.resources.get()
    assert (resource.kind, resource.value, resource.family, resource.operator) == (
        "msisdn",
        "+923001234567",
        None,
        jazz,
    )
    services.application_submit(actor=world.freelancer_applicant, application=application)
    services.application_verify(actor=world.agency, application=application, decision="approve")
    services.resource_attest(actor=staff, resource=resource, decision="approve")
    application.refresh_from_db()
    # Mobile numbers do not count for the fee.
    assert application.state == State.AWAITING_DECISION and application.fee_amount == 0
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.application_decide(actor=world.officer, application=application, decision="approve")
    registration = Registration.objects.get()
    assert (registration.kind, registration.value, registration.operator) == ("msisdn", "+923001234567", jazz)
    # The published per-operator file carries it, as its mobile operator loads it.
    from vpnregistry.allowlist.models import Snapshot
    from vpnregistry.allowlist.services import file_path

    latest = Snapshot.objects.order_by("-serial").first()
    published = file_path(latest, "msisdn.jazz.csv").read_text().splitlines()
    assert published == ["msisdn,operator", "+923001234567,jazz"]
    allowlist = build_allowlist(session=str(uuid.uuid4()), serial=1, at=timezone.now())
    assert allowlist.msisdn == {"jazz": ("+923001234567",)}
    # The published document passes the allowlist's own checks of E.164 numbers.
    assert Allowlist.from_json(allowlist.to_json()).msisdn == allowlist.msisdn


@pytest.mark.usefixtures("mobile")
def test_mobile_number_refusals(world):
    cases = [
        ({"value": "03001234567", "subscriber_id": "S"}, "operator", "name the mobile operator"),
        (
            {"value": "03001234567", "subscriber_id": "S", "operator": "indus"},
            "operator",
            "not a mobile operator",
        ),
        (
            {"value": "03001234567", "subscriber_id": "S", "operator": "nope"},
            "operator",
            "not an operator code",
        ),
        (
            {"value": "+442071234567", "subscriber_id": "S", "operator": "jazz"},
            "value",
            "not a Pakistani number",
        ),
        (
            {"value": "14.1.105.9", "subscriber_id": "S", "operator": "margalla"},
            "operator",
            "not margalla",
        ),
    ]
    for item, field, fragment in cases:
        with pytest.raises(InvalidInput) as exc:
            services.application_create(actor=world.freelancer_applicant, resources=[item])
        assert fragment in " ".join(exc.value.errors["resources"][0][field]), item
    with pytest.raises(InvalidInput) as exc:
        services.application_create(
            actor=world.freelancer_applicant,
            resources=[
                {"value": "03001234567", "subscriber_id": "S", "operator": "jazz"},
                {"value": "+923001234567", "subscriber_id": "T", "operator": "jazz"},
            ],
        )
    assert "resource 1" in exc.value.errors["resources"][1]["value"][0]
    assert not Application.objects.exists()


def test_a_number_registered_to_another_organisation_overlaps(world, mobile):
    jazz, staff = mobile
    application = mobile_draft(world, jazz)
    services.application_submit(actor=world.freelancer_applicant, application=application)
    services.application_verify(actor=world.agency, application=application, decision="approve")
    services.resource_attest(actor=staff, resource=application.resources.get(), decision="approve")
    services.application_decide(actor=world.officer, application=application, decision="approve")
    # Not refused at entry (that would tell who holds it): the officer cannot approve it.
    held = mobile_draft(world, jazz, "+92 300 1234567", user=world.applicant)
    services.application_submit(actor=world.applicant, application=held)
    services.application_verify(actor=world.agency, application=held, decision="approve")
    services.resource_attest(actor=staff, resource=held.resources.get(), decision="approve")
    with pytest.raises(WrongState, match="registered to another organisation"):
        services.application_decide(actor=world.officer, application=held, decision="approve")
    # The same organisation may ask for it again (a renewal, say).
    mobile_draft(world, jazz)


def test_mobile_numbers_in_a_csv(world, mobile):
    data = csv_of(
        ["03001234567,S-1,,jazz", "03011234567,S-2,,"], header="value,subscriber_id,district,operator"
    )
    with pytest.raises(InvalidInput) as exc:
        bulk.application_create_from_csv(actor=world.freelancer_applicant, data=data)
    assert exc.value.errors["csv"] == [
        "line 3, column operator: No operator's numbering holds +923011234567: name the mobile operator that "
        "attests it."
    ]


# --- the fee ----------------------------------------------------------------------------------


def keys(value):
    import ipaddress

    family, first, last = network_keys(ipaddress.ip_network(value))
    return {"family": family, "first": first, "last": last}


def test_addresses_are_counted_one_by_one():
    assert addresses_of(**keys("14.1.105.8/29")) == 8
    assert addresses_of(**keys("14.1.105.9/32")) == 1
    assert addresses_of(**keys("14.1.105.0/24")) == 256
    assert addresses_of(**keys("2001:dd8:1c:1::/64")) == 1
    assert addresses_of(family=None, first="", last="") == 0


def test_fee_from_the_application_that_reaches_five_addresses_and_every_later_one(world, settings):
    settings.FEE_PER_ADDRESS = "750"
    first = to_decision(world, "14.1.105.0/30")  # 4 addresses: under the threshold
    assert first.state == State.AWAITING_DECISION and first.fee_amount == 0 and first.fee_addresses == 4
    services.application_decide(actor=world.officer, application=first, decision="approve")
    second = attested(world, "14.1.105.4/32")  # 4 + 1 = 5: the fee applies, for its own address
    assert second.state == State.AWAITING_PAYMENT
    assert (second.fee_addresses, second.fee_amount) == (1, Decimal("750"))
    pay(world, second)
    services.application_decide(actor=world.officer, application=second, decision="approve")
    third = attested(world, "2001:dd8:1c:1::/64")  # every later one pays; an IPv6 prefix counts 1
    assert third.state == State.AWAITING_PAYMENT and third.fee_amount == Decimal("750")
    # Another organisation starts from nothing.
    other = attested(world, "14.1.106.0/30", user=world.other_applicant)
    assert other.state == State.AWAITING_DECISION


def test_payment_is_recorded_once_with_a_unique_reference(world):
    application = attested(world, "14.1.105.0/24")
    assert application.state == State.AWAITING_PAYMENT and application.fee_amount == Decimal("256000")
    before = snapshot(application)
    for actor, reference, error in [
        (world.agency, "REF-1", NotAllowed),
        (world.applicant, "REF-1", NotAllowed),
        (world.officer, "", InvalidInput),
        (world.officer, "x", InvalidInput),
        (world.officer, "has space", InvalidInput),
        (world.officer, "R" * 65, InvalidInput),
    ]:
        with pytest.raises(error):
            services.payment_record(actor=actor, application=application, reference=reference)
    assert snapshot(application) == before
    services.payment_record(actor=world.officer, application=application, reference=" HBL/2026-01 ")
    application.refresh_from_db()
    assert application.state == State.AWAITING_DECISION
    assert (application.payment_reference, application.payment_recorded_by) == ("HBL/2026-01", world.officer)
    event = AuditEvent.objects.get(action="application.payment")
    assert event.data["reference"] == "HBL/2026-01" and event.actor == world.officer
    with pytest.raises(WrongState):
        services.payment_record(actor=world.officer, application=application, reference="HBL/2026-02")
    another = attested(world, "14.1.106.0/24")
    with pytest.raises(InvalidInput) as exc:
        services.payment_record(actor=world.officer, application=another, reference="HBL/2026-01")
    assert application.tracking_number in exc.value.errors["reference"][0]


def test_an_unpaid_application_cannot_be_decided(world):
    application = attested(world, "14.1.105.0/24")
    with pytest.raises(WrongState):
        services.application_decide(actor=world.officer, application=application, decision="approve")


# --- return and withdrawal --------------------------------------------------------------------


def test_agency_returns_applicant_edits_and_resubmits_every_round_kept(world):
    application = draft(world, "14.1.105.0/24", "14.1.106.0/24", "14.192.130.0/24")
    services.application_submit(actor=world.applicant, application=application)
    kept, changed, dropped = (
        application.resources.get(value=v) for v in ("14.1.105.0/24", "14.1.106.0/24", "14.192.130.0/24")
    )
    services.resource_attest(actor=world.operator, resource=kept, decision="approve")
    services.resource_attest(actor=world.operator, resource=changed, decision="approve")
    with pytest.raises(InvalidInput):
        services.application_verify(actor=world.agency, application=application, decision="return")
    services.application_verify(
        actor=world.agency, application=application, decision="return", reason="Name the second office's line"
    )
    application.refresh_from_db()
    assert (
        application.state == State.RETURNED and application.decision_reason == "Name the second office's line"
    )
    services.resources_replace(
        actor=world.applicant,
        application=application,
        resources=[
            {"value": "14.1.105.0/24", "subscriber_id": "SUB-1", "operator": "indus"},  # unchanged
            {"value": "14.1.106.0/24", "subscriber_id": "SUB-2"},  # new subscriber ID: a new resource
            {"value": "27.0.184.0/24", "subscriber_id": "SUB-3"},  # new
        ],
    )
    states = dict(application.resources.values_list("id", "state"))
    assert states[kept.pk] == "confirmed"  # its attestation stands
    assert states[changed.pk] == "removed" and states[dropped.pk] == "removed"
    live = application.resources.exclude(state="removed")
    assert sorted(live.values_list("value", "state")) == [
        ("14.1.105.0/24", "confirmed"),
        ("14.1.106.0/24", "pending"),
        ("27.0.184.0/24", "pending"),
    ]
    services.application_submit(actor=world.applicant, application=application)
    application.refresh_from_db()
    assert application.state == State.SUBMITTED and application.verified_at is None
    services.application_verify(actor=world.agency, application=application, decision="approve")
    for resource in live.filter(state="pending"):
        services.resource_attest(actor=world.operator, resource=resource, decision="approve")
    application.refresh_from_db()
    assert application.state == State.AWAITING_PAYMENT
    assert application.fee_addresses == 768  # the removed resources do not count
    pay(world, application)
    services.application_decide(actor=world.officer, application=application, decision="approve")
    assert sorted(Registration.objects.values_list("value", flat=True)) == [
        "14.1.105.0/24",
        "14.1.106.0/24",
        "27.0.184.0/24",
    ]
    # Both rounds stay in the history.
    assert list(application.reviews.values_list("stage", "decision")) == [
        ("agency", "return"),
        ("agency", "approve"),
        ("decision", "approve"),
    ]
    actions = list(
        AuditEvent.objects.filter(object_type="application", object_id=str(application.pk)).values_list(
            "action", flat=True
        )
    )
    assert actions.count("application.return") == 1 and "application.edit" in actions
    assert "application.resubmit" in actions


def test_officer_returns_from_the_decision(world):
    application = to_decision(world, "14.1.105.0/24")
    services.application_decide(
        actor=world.officer,
        application=application,
        decision="return",
        reason="Subscriber ID is a phone number",
    )
    application.refresh_from_db()
    assert application.state == State.RETURNED
    assert Review.objects.get(stage="decision").decision == "return"
    # Submitted again unchanged: verification again, the attestation stands, the payment covers it.
    services.application_submit(actor=world.applicant, application=application)
    services.application_verify(actor=world.agency, application=application, decision="approve")
    application.refresh_from_db()
    assert application.state == State.AWAITING_DECISION


def test_editing_refusals_change_nothing(world):
    application = draft(world, "14.1.105.0/24")
    services.application_submit(actor=world.applicant, application=application)
    items = [{"value": "14.1.106.0/24", "subscriber_id": "S"}]
    before = snapshot(application)
    with pytest.raises(WrongState):
        services.resources_replace(actor=world.applicant, application=application, resources=items)
    with pytest.raises(NotAllowed):
        services.resources_replace(actor=world.other_applicant, application=application, resources=items)
    with pytest.raises(NotAllowed):
        services.resources_replace(actor=world.agency, application=application, resources=items)
    services.application_verify(actor=world.agency, application=application, decision="return", reason="fix")
    before = snapshot(application)
    with pytest.raises(InvalidInput):
        services.resources_replace(
            actor=world.applicant,
            application=application,
            resources=[{"value": "10.0.0.0/8", "subscriber_id": "S"}],
        )
    with pytest.raises(InvalidInput):
        services.resources_replace(actor=world.applicant, application=application, resources=[])
    assert snapshot(application) == before


def test_a_drafts_resources_are_replaced_outright(world):
    application = draft(world, "14.1.105.0/24")
    bulk.resources_replace_from_csv(
        actor=world.applicant, application=application, data=csv_of(["14.1.106.0/24,S,"])
    )
    assert list(application.resources.values_list("value", flat=True)) == ["14.1.106.0/24"]


def test_withdrawal_before_a_decision_only(world):
    application = draft(world, "14.1.105.0/24")
    services.application_submit(actor=world.applicant, application=application)
    before = snapshot(application)
    with pytest.raises(NotAllowed):
        services.application_withdraw(actor=world.other_applicant, application=application)
    with pytest.raises(NotAllowed):
        services.application_withdraw(actor=world.officer, application=application)
    assert snapshot(application) == before
    services.application_withdraw(actor=world.applicant, application=application, reason="Moved office")
    application.refresh_from_db()
    assert application.state == State.WITHDRAWN
    assert AuditEvent.objects.get(action="application.withdraw").reason == "Moved office"
    with pytest.raises(WrongState):
        services.application_withdraw(actor=world.applicant, application=application)
    with TestCase.captureOnCommitCallbacks(execute=True):
        done = approved(world, "14.1.106.0/24")
    with pytest.raises(WrongState):
        services.application_withdraw(actor=world.applicant, application=done)
    # A withdrawn application is final: no resubmission.
    with pytest.raises(WrongState):
        services.application_submit(actor=world.applicant, application=application)


def test_withdrawal_at_each_open_step(world):
    paying = attested(world, "14.1.105.0/24")
    deciding = to_decision(world, "14.1.106.0/24")
    for application in (draft(world, "14.1.107.0/24"), paying, deciding):
        services.application_withdraw(actor=world.applicant, application=application)
        application.refresh_from_db()
        assert application.state == State.WITHDRAWN


# --- reasons and appeals ----------------------------------------------------------------------


def test_reasons_are_seeded_and_a_rejection_names_one(world):
    assert (
        RejectionReason.objects.filter(code__in=["other", "documents-missing", "resources-refused"]).count()
        == 3
    )
    application = to_decision(world, "14.1.105.0/24")
    before = snapshot(application)
    with pytest.raises(InvalidInput) as exc:
        services.application_decide(
            actor=world.officer, application=application, decision="reject", reason="x", reason_code="nope"
        )
    assert "reason_code" in exc.value.errors
    RejectionReason.objects.filter(code="purpose").update(active=False)
    with pytest.raises(InvalidInput):
        services.application_decide(
            actor=world.officer, application=application, decision="reject", reason="x", reason_code="purpose"
        )
    assert snapshot(application) == before
    services.application_decide(
        actor=world.officer,
        application=application,
        decision="reject",
        reason="The letter is from 2019",
        reason_code="documents-invalid",
    )
    application.refresh_from_db()
    assert application.rejection_reason.code == "documents-invalid"
    assert (application.rejected_at_stage, application.decided_by) == ("decision", world.officer)
    assert (
        AuditEvent.objects.filter(action="application.reject").last().data["reason_code"]
        == "documents-invalid"
    )


def rejected(world, value="14.1.105.0/24"):
    application = to_decision(world, value)
    services.application_decide(actor=world.officer, application=application, decision="reject", reason="No")
    application.refresh_from_db()
    return application


def test_appeal_upheld_goes_to_a_fresh_decision_by_another_officer(world):
    application = rejected(world)
    assert application.rejection_reason.code == "other"  # none named
    before = snapshot(application)
    with pytest.raises(InvalidInput):
        services.application_appeal(actor=world.applicant, application=application, grounds="  ")
    with pytest.raises(NotAllowed):
        services.application_appeal(actor=world.other_applicant, application=application, grounds="g")
    with pytest.raises(NotAllowed):
        services.application_appeal(actor=world.officer, application=application, grounds="g")
    assert snapshot(application) == before
    services.application_appeal(
        actor=world.applicant, application=application, grounds="The letter is current"
    )
    application.refresh_from_db()
    assert application.state == State.APPEALED and application.appeal_grounds == "The letter is current"
    before = snapshot(application)
    with pytest.raises(NotAllowed):
        services.appeal_decide(actor=world.officer, application=application, decision="uphold", reason="r")
    with pytest.raises(NotAllowed):
        services.appeal_decide(actor=world.agency, application=application, decision="uphold", reason="r")
    with pytest.raises(InvalidInput):
        services.appeal_decide(actor=world.officer2, application=application, decision="uphold")
    with pytest.raises(InvalidInput):
        services.appeal_decide(actor=world.officer2, application=application, decision="approve", reason="r")
    assert snapshot(application) == before
    services.appeal_decide(
        actor=world.officer2, application=application, decision="uphold", reason="Letter checked"
    )
    application.refresh_from_db()
    assert application.state == State.AWAITING_DECISION and application.appeal_decided_by == world.officer2
    # The officer who rejected does not decide again.
    with pytest.raises(NotAllowed):
        services.application_decide(actor=world.officer, application=application, decision="approve")
    services.application_decide(actor=world.officer2, application=application, decision="approve")
    application.refresh_from_db()
    assert application.state == State.APPROVED
    assert list(application.reviews.values_list("stage", "decision")) == [
        ("agency", "approve"),
        ("decision", "reject"),
        ("appeal", "uphold"),
        ("decision", "approve"),
    ]


def test_appeal_dismissed_is_final(world):
    application = rejected(world)
    services.application_appeal(actor=world.applicant, application=application, grounds="g")
    services.appeal_decide(
        actor=world.officer2, application=application, decision="dismiss", reason="No new facts"
    )
    application.refresh_from_db()
    assert application.state == State.REJECTED
    with pytest.raises(WrongState):
        services.application_appeal(actor=world.applicant, application=application, grounds="again")
    with pytest.raises(WrongState):
        services.appeal_decide(actor=world.officer2, application=application, decision="uphold", reason="r")


def test_appeal_window_is_thirty_days(world, settings):
    application = rejected(world)
    Application.objects.filter(pk=application.pk).update(decided_at=timezone.now() - timedelta(days=31))
    with pytest.raises(WrongState) as exc:
        services.application_appeal(actor=world.applicant, application=application, grounds="g")
    assert "time to appeal ended" in exc.value.message
    settings.APPEAL_DAYS = 60
    services.application_appeal(actor=world.applicant, application=application, grounds="g")


def test_only_a_rejection_can_be_appealed(world):
    application = to_decision(world, "14.1.105.0/24")
    with pytest.raises(WrongState):
        services.application_appeal(actor=world.applicant, application=application, grounds="g")
    with pytest.raises(WrongState):
        services.appeal_decide(actor=world.officer, application=application, decision="uphold", reason="r")


def test_agency_rejection_upheld_goes_back_to_another_reviewer(world):
    second_reviewer = UserFactory(username="reviewer2", role=Role.AGENCY, agency=world.pseb)
    application = draft(world, "14.1.105.0/24")
    services.application_submit(actor=world.applicant, application=application)
    services.application_verify(
        actor=world.agency,
        application=application,
        decision="reject",
        reason="No CNIC",
        reason_code="documents-missing",
    )
    services.application_appeal(actor=world.applicant, application=application, grounds="CNIC on file")
    services.appeal_decide(actor=world.officer, application=application, decision="uphold", reason="It is")
    application.refresh_from_db()
    assert application.state == State.IN_REVIEW and application.verified_at is None
    with pytest.raises(NotAllowed):
        services.application_verify(actor=world.agency, application=application, decision="approve")
    services.application_verify(actor=second_reviewer, application=application, decision="approve")


def test_rejection_by_refused_resources_upheld_asks_the_operators_again(world):
    application = draft(world, "14.1.105.0/24")
    services.application_submit(actor=world.applicant, application=application)
    resource = application.resources.get()
    services.resource_attest(actor=world.operator, resource=resource, decision="reject", reason="not ours")
    application.refresh_from_db()
    assert application.state == State.REJECTED and application.rejection_reason.code == "resources-refused"
    services.application_appeal(actor=world.applicant, application=application, grounds="Our bill attached")
    services.appeal_decide(
        actor=world.officer, application=application, decision="uphold", reason="Ask again"
    )
    resource.refresh_from_db()
    application.refresh_from_db()
    assert application.state == State.IN_REVIEW and resource.state == "pending"
    services.resource_attest(actor=world.operator, resource=resource, decision="approve")
    assert resource.attestations.count() == 2


# --- renewal ----------------------------------------------------------------------------------


def test_renewal_replaces_the_registration_without_a_gap(world, settings):
    with TestCase.captureOnCommitCallbacks(execute=True):
        first = approved(world, "14.1.105.0/24")
    old = Registration.objects.get(resource__application=first)
    renewal = services.registrations_renew(actor=world.applicant, registrations=[old])
    resource = renewal.resources.get()
    assert (renewal.state, resource.value, resource.subscriber_id, resource.renews) == (
        State.DRAFT,
        old.value,
        "SUB-1",
        old,
    )
    with pytest.raises(WrongState):
        services.registrations_renew(actor=world.applicant, registrations=[old])
    services.application_submit(actor=world.applicant, application=renewal)
    services.application_verify(actor=world.agency, application=renewal, decision="approve")
    services.resource_attest(actor=world.operator, resource=resource, decision="approve")
    renewal.refresh_from_db()
    # Renewals pay too; the renewed registration is not counted twice.
    assert renewal.state == State.AWAITING_PAYMENT and renewal.fee_addresses == 256
    assert fee_for(renewal).registered == 0
    pay(world, renewal)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.application_decide(actor=world.officer, application=renewal, decision="approve")
    old.refresh_from_db()
    new = Registration.objects.get(resource=resource)
    assert old.state == Registration.State.EXPIRED and new.reference in old.state_reason
    assert new.valid_until == old.valid_until + timedelta(days=settings.REGISTRATION_VALIDITY_DAYS)
    old_period = ActivePeriod.objects.get(registration=old)
    new_period = ActivePeriod.objects.get(registration=new)
    assert old_period.end == new_period.start == new.valid_from
    # Published throughout: the latest snapshot carries it.
    from vpnregistry.allowlist.models import Snapshot

    assert "14.1.105.0/24" in json.loads(Snapshot.objects.order_by("-serial").first().content)["ipv4"]


def test_renewal_refusals(world):
    with TestCase.captureOnCommitCallbacks(execute=True):
        first = approved(world, "14.1.105.0/24")
    registration = Registration.objects.get(resource__application=first)
    count = Application.objects.count()
    with pytest.raises(NotAllowed):
        services.registrations_renew(actor=world.other_applicant, registrations=[registration])
    with pytest.raises(NotAllowed):
        services.registrations_renew(actor=world.officer, registrations=[registration])
    with pytest.raises(InvalidInput):
        services.registrations_renew(actor=world.applicant, registrations=[])
    from vpnregistry.registrations.services import registration_change_state

    registration_change_state(actor=world.officer, registration=registration, step="revoke", reason="fraud")
    registration.refresh_from_db()
    with pytest.raises(WrongState):
        services.registrations_renew(actor=world.applicant, registrations=[registration])
    assert Application.objects.count() == count


def test_a_renewal_of_a_registration_suspended_meanwhile_needs_the_suspension_acknowledged(world):
    from vpnregistry.registrations.services import registration_change_state

    with TestCase.captureOnCommitCallbacks(execute=True):
        first = approved(world, "14.1.105.0/24")
    registration = Registration.objects.get(resource__application=first)
    renewal = services.registrations_renew(actor=world.applicant, registrations=[registration])
    services.application_submit(actor=world.applicant, application=renewal)
    services.application_verify(actor=world.agency, application=renewal, decision="approve")
    services.resource_attest(actor=world.operator, resource=renewal.resources.get(), decision="approve")
    renewal.refresh_from_db()
    pay(world, renewal)
    registration_change_state(actor=world.officer, registration=registration, step="suspend", reason="check")
    before = snapshot(renewal)
    with pytest.raises(InvalidInput) as exc:
        services.application_decide(actor=world.officer, application=renewal, decision="approve")
    assert "check" in exc.value.errors["acknowledge_suspension"][0]
    assert snapshot(renewal) == before
    assert renewal.state == State.AWAITING_DECISION and Registration.objects.count() == 1


def test_a_suspension_is_not_undone_by_waiting_for_expiry_and_renewing(world, settings):
    """The holder of a suspended registration waits past its end date and renews it: the sweep leaves
    it suspended, the renewal carries the suspension and its reason to everyone who reviews it, and
    no ordinary approval decides it; only an officer acknowledging the suspension, with a reason."""
    from tests.auth import login
    from vpnregistry.allowlist.publication import sweep
    from vpnregistry.registrations.services import registration_change_state

    with TestCase.captureOnCommitCallbacks(execute=True):
        first = approved(world, "14.1.105.0/24")
    registration = Registration.objects.get(resource__application=first)
    with TestCase.captureOnCommitCallbacks(execute=True):
        registration_change_state(
            actor=world.officer, registration=registration, step="suspend", reason="subscriber in arrears"
        )
    # Its end date passes.
    now = timezone.now()
    Registration.objects.filter(pk=registration.pk).update(
        valid_from=now - timedelta(days=400), valid_until=now - timedelta(hours=1)
    )
    report = sweep()
    registration.refresh_from_db()
    assert report.expired == [] and registration.state == Registration.State.SUSPENDED

    renewal = services.registrations_renew(actor=world.applicant, registrations=[registration])
    renew_event = AuditEvent.objects.get(action="application.renew", object_id=str(renewal.pk))
    assert "subscriber in arrears" in renew_event.reason and registration.reference in renew_event.reason
    services.application_submit(actor=world.applicant, application=renewal)
    services.application_verify(actor=world.agency, application=renewal, decision="approve")
    services.resource_attest(actor=world.operator, resource=renewal.resources.get(), decision="approve")
    renewal.refresh_from_db()
    if renewal.state == State.AWAITING_PAYMENT:
        pay(world, renewal)

    # The officer sees it, on the API and on the portal page.
    detail = world.client(world.officer).get(f"/api/v1/applications/{renewal.pk}/").json()
    assert detail["suspensions"] == [
        {
            "registration": registration.reference,
            "value": "14.1.105.0/24",
            "suspended_at": detail["suspensions"][0]["suspended_at"],
            "reason": "subscriber in arrears",
        }
    ]
    assert any("subscriber in arrears" in (e["reason"] or "") for e in detail["history"])
    page = login(Client(), world.officer).get(f"/applications/{renewal.pk}/").content.decode()
    assert "Asks for what is held under a suspension" in page and "subscriber in arrears" in page
    assert 'name="acknowledge_suspension"' in page

    # The ordinary approval refuses, over the API and the portal alike, and changes nothing.
    before = snapshot(renewal)
    r = world.client(world.officer).post(
        f"/api/v1/applications/{renewal.pk}/decide/", {"decision": "approve", "reason": "ok"}, format="json"
    )
    assert r.status_code == 400 and "subscriber in arrears" in r.json()["acknowledge_suspension"][0]
    login(Client(), world.officer).post(
        f"/applications/{renewal.pk}/decide/", {"decision": "approve", "reason": "ok"}
    )
    with pytest.raises(InvalidInput) as exc:
        services.application_decide(
            actor=world.officer, application=renewal, decision="approve", acknowledge_suspension=True
        )
    assert "reason" in exc.value.errors
    assert snapshot(renewal) == before

    # Acknowledged, with the reason it no longer stands: approved, and the history says so.
    r = world.client(world.officer).post(
        f"/api/v1/applications/{renewal.pk}/decide/",
        {"decision": "approve", "reason": "arrears paid", "acknowledge_suspension": True},
        format="json",
    )
    assert r.status_code == 200 and r.json()["state"] == "approved"
    approve = AuditEvent.objects.get(action="application.approve", object_id=str(renewal.pk))
    assert "arrears paid" in approve.reason and "subscriber in arrears" in approve.reason
    assert approve.data["suspensions_acknowledged"]
    registration.refresh_from_db()
    assert registration.state == Registration.State.EXPIRED and "suspension" in registration.state_reason
    new = Registration.objects.get(resource__application=renewal)
    assert new.state == Registration.State.ACTIVE


def test_a_new_application_for_suspended_space_needs_the_suspension_acknowledged(world):
    """Applying afresh for what a suspended registration holds lifts the suspension as a renewal
    would: the same acknowledgement is needed."""
    from vpnregistry.registrations.services import registration_change_state

    with TestCase.captureOnCommitCallbacks(execute=True):
        first = approved(world, "14.1.105.0/24")
    registration = Registration.objects.get(resource__application=first)
    registration_change_state(
        actor=world.officer, registration=registration, step="suspend", reason="court order"
    )
    again = to_decision(world, "14.1.105.128/25")
    detail = world.client(world.officer).get(f"/api/v1/applications/{again.pk}/").json()
    assert [s["registration"] for s in detail["suspensions"]] == [registration.reference]
    before = snapshot(again)
    with pytest.raises(InvalidInput) as exc:
        services.application_decide(actor=world.officer, application=again, decision="approve", reason="ok")
    assert "court order" in exc.value.errors["acknowledge_suspension"][0]
    assert snapshot(again) == before
    # Unrelated space of the same organisation needs nothing of the kind.
    elsewhere = to_decision(world, "14.1.106.0/24")
    assert (
        world.client(world.officer).get(f"/api/v1/applications/{elsewhere.pk}/").json()["suspensions"] == []
    )
    services.application_decide(actor=world.officer, application=elsewhere, decision="approve")
    services.application_decide(
        actor=world.officer,
        application=again,
        decision="approve",
        reason="order lifted",
        acknowledge_suspension=True,
    )
    again.refresh_from_db()
    registration.refresh_from_db()
    assert again.state == State.APPROVED and registration.state == Registration.State.SUSPENDED


def test_a_suspended_registration_past_its_end_counts_no_more_towards_the_fee(world):
    from vpnregistry.registrations.services import registration_change_state

    with TestCase.captureOnCommitCallbacks(execute=True):
        first = approved(world, "14.1.105.0/24")
    registration = Registration.objects.get(resource__application=first)
    registration_change_state(actor=world.officer, registration=registration, step="suspend", reason="check")
    single = attested(world, "14.1.106.1/32")
    assert fee_for(single).registered == 256
    now = timezone.now()
    Registration.objects.filter(pk=registration.pk).update(
        valid_from=now - timedelta(days=400), valid_until=now - timedelta(hours=1)
    )
    assert fee_for(single).registered == 0


def test_revoked_registrations_stay_revoked_past_their_end_and_are_not_renewed(world):
    from vpnregistry.allowlist.publication import sweep
    from vpnregistry.registrations.services import registration_change_state

    with TestCase.captureOnCommitCallbacks(execute=True):
        first = approved(world, "14.1.105.0/24")
    registration = Registration.objects.get(resource__application=first)
    with TestCase.captureOnCommitCallbacks(execute=True):
        registration_change_state(
            actor=world.officer, registration=registration, step="revoke", reason="fraud"
        )
    sweep(now=registration.valid_until + timedelta(days=1))
    registration.refresh_from_db()
    assert registration.state == Registration.State.REVOKED
    with pytest.raises(WrongState):
        services.registrations_renew(actor=world.applicant, registrations=[registration])


@pytest.mark.parametrize(
    ("values", "clash"),
    [
        (["14.1.105.0/24", "14.1.105.128/25"], (2, 1)),  # inside an earlier one
        (["14.1.105.128/25", "14.1.105.0/24"], (2, 1)),  # around an earlier one
        (["14.1.106.0/24", "14.1.105.7/32", "14.1.105.0/24"], (3, 2)),  # around a later-starting one
        (["14.1.105.0/25", "14.1.105.128/25", "14.1.106.0/24"], None),  # adjacent, no overlap
        (["2001:dd8:1c:1::/64", "2001:dd8:1c::/56"], (2, 1)),
    ],
)
def test_overlaps_within_one_application_are_found_either_way(world, values, clash):
    items = [{"value": v, "subscriber_id": "S"} for v in values]
    if clash is None:
        assert len(services.clean_resources(organisation=world.org, items=items)) == len(values)
        return
    with pytest.raises(InvalidInput) as exc:
        services.clean_resources(organisation=world.org, items=items)
    row, other = clash
    assert f"overlaps resource {other} " in exc.value.errors["resources"][row - 1]["value"][0]
