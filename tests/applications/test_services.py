"""The workflow's transitions and refusals, by the service functions."""

from __future__ import annotations

import pytest

from tests.workflow import approved, draft, pay, to_decision
from vpnregistry.applications import services
from vpnregistry.applications.models import Application, Resource
from vpnregistry.audit.models import AuditEvent
from vpnregistry.errors import InvalidInput, NotAllowed, WrongState
from vpnregistry.registrations.models import Registration

State = Application.State


def resource_errors(exc) -> list[dict]:
    return exc.value.errors["resources"]


def test_draft_finds_operator_from_address_space(world):
    application = draft(world, "14.1.105.0/24", "2001:dd8:1c:1::/64", "14.192.130.0/24")
    operators = {r.value: r.operator.code for r in application.resources.all()}
    assert operators == {
        "14.1.105.0/24": "indus",
        "2001:dd8:1c:1::/64": "indus",
        "14.192.130.0/24": "margalla",
    }
    assert application.state == State.DRAFT
    assert application.tracking_number is None


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("10.1.2.0/24", "private-use"),
        ("14.1.105.1/24", "did you mean 14.1.105.0/24"),
        ("014.1.105.0/24", "leading zero"),
        ("14.1.0.0/16", "/24"),
        ("8.8.8.0/24", "no operator's address space"),
        ("0.0.0.0/0", ""),
        ("", ""),
        ("not an address", ""),
    ],
)
def test_bad_resource_is_refused_by_name_and_nothing_is_saved(world, value, fragment):
    before = Application.objects.count(), Resource.objects.count(), AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as exc:
        draft(world, "14.1.105.0/24", value)
    errors = resource_errors(exc)
    assert errors[0] == {}
    assert fragment in errors[1]["value"][0]
    assert (Application.objects.count(), Resource.objects.count(), AuditEvent.objects.count()) == before


def test_freelancer_may_register_one_address_only(world):
    with pytest.raises(InvalidInput) as exc:
        draft(world, "14.1.105.0/30", user=world.freelancer_applicant)
    assert "/32" in resource_errors(exc)[0]["value"][0]
    assert (
        draft(world, "14.1.105.7", user=world.freelancer_applicant).resources.get().value == "14.1.105.7/32"
    )


def test_ipv4_mapped_ipv6_is_normalised(world):
    application = draft(world, "::ffff:14.1.105.0/120")
    assert application.resources.get().value == "14.1.105.0/24"


def test_overlap_within_one_application_is_refused(world):
    with pytest.raises(InvalidInput) as exc:
        draft(world, "14.1.105.0/24", "14.1.105.128/25")
    assert "overlaps resource 1" in resource_errors(exc)[1]["value"][0]


def test_subscriber_id_is_required(world):
    with pytest.raises(InvalidInput) as exc:
        services.application_create(actor=world.applicant, resources=[{"value": "14.1.105.0/24"}])
    assert "subscriber_id" in resource_errors(exc)[0]


def test_only_applicants_create(world):
    with pytest.raises(NotAllowed):
        draft(world, "14.1.105.0/24", user=world.officer)


def test_submit_gives_tracking_number_and_routes_to_agency(world):
    application = draft(world, "14.1.105.0/24")
    services.application_submit(actor=world.applicant, application=application)
    application.refresh_from_db()
    assert application.state == State.SUBMITTED
    assert application.agency == world.pseb
    assert application.tracking_number.startswith("VR-")
    year, number = application.tracking_number.split("-")[1:]
    assert len(year) == 4 and len(number) == 6
    second = services.application_submit(actor=world.applicant, application=draft(world, "14.1.106.0/24"))
    assert int(second.tracking_number[-6:]) == int(number) + 1


def test_another_organisation_cannot_submit(world):
    application = draft(world, "14.1.105.0/24")
    with pytest.raises(NotAllowed):
        services.application_submit(actor=world.other_applicant, application=application)


def test_full_flow_registers_and_publishes(world):
    application = approved(world, "14.1.105.0/24", "2001:dd8:1c:1::/64")
    assert application.state == State.APPROVED
    registrations = Registration.objects.filter(organisation=world.org)
    assert {r.value for r in registrations} == {"14.1.105.0/24", "2001:dd8:1c:1::/64"}
    r = registrations.first()
    assert r.state == Registration.State.ACTIVE
    assert 364 <= (r.valid_until - r.valid_from).days <= 366
    from vpnregistry.allowlist.services import latest_snapshot

    snapshot = latest_snapshot()
    assert "14.1.105.0/24" in snapshot.content and "2001:dd8:1c:1::/64" in snapshot.content


def test_every_transition_is_recorded(world):
    application = approved(world, "14.1.105.0/24")
    events = AuditEvent.objects.filter(object_type="application", object_id=str(application.pk))
    pairs = [(e.from_state, e.to_state) for e in events if e.to_state != e.from_state]
    assert pairs == [
        ("", "draft"),
        ("draft", "submitted"),
        ("submitted", "in_review"),
        # A /24 is 256 addresses: the fee applies.
        ("in_review", "awaiting_payment"),
        ("awaiting_payment", "awaiting_decision"),
        ("awaiting_decision", "approved"),
    ]
    assert all(e.actor_label for e in events)


def test_agency_rejection_rejects_application_and_needs_reason(world):
    application = draft(world, "14.1.105.0/24")
    services.application_submit(actor=world.applicant, application=application)
    with pytest.raises(InvalidInput) as exc:
        services.application_verify(
            actor=world.agency, application=application, decision="reject", reason=" "
        )
    assert "reason" in exc.value.errors
    services.application_verify(
        actor=world.agency, application=application, decision="reject", reason="No CNIC"
    )
    application.refresh_from_db()
    assert application.state == State.REJECTED and application.decision_reason == "No CNIC"


def test_wrong_agency_cannot_verify(world):
    application = draft(world, "14.1.105.0/24")
    services.application_submit(actor=world.applicant, application=application)
    with pytest.raises(NotAllowed):
        services.application_verify(
            actor=world.licensing_reviewer, application=application, decision="approve"
        )


def test_operator_no_drops_that_resource_alone(world):
    application = draft(world, "14.1.105.0/24", "14.192.130.0/24")
    services.application_submit(actor=world.applicant, application=application)
    services.application_verify(actor=world.agency, application=application, decision="approve")
    indus_res = application.resources.get(operator=world.indus)
    margalla_res = application.resources.get(operator=world.margalla)
    services.resource_attest(actor=world.operator, resource=indus_res, decision="reject", reason="not theirs")
    services.resource_attest(actor=world.other_operator, resource=margalla_res, decision="approve")
    application.refresh_from_db()
    # The fee counts only the confirmed resource: 256 addresses.
    assert application.state == State.AWAITING_PAYMENT and application.fee_addresses == 256
    pay(world, application)
    services.application_decide(actor=world.officer, application=application, decision="approve")
    assert [r.value for r in Registration.objects.all()] == ["14.192.130.0/24"]


def test_all_resources_refused_rejects_application(world):
    application = draft(world, "14.1.105.0/24")
    services.application_submit(actor=world.applicant, application=application)
    services.resource_attest(
        actor=world.operator, resource=application.resources.get(), decision="reject", reason="not assigned"
    )
    application.refresh_from_db()
    assert application.state == State.REJECTED


def test_operator_cannot_attest_outside_its_space(world):
    application = draft(world, "14.1.105.0/24")
    services.application_submit(actor=world.applicant, application=application)
    with pytest.raises(NotAllowed):
        services.resource_attest(
            actor=world.other_operator, resource=application.resources.get(), decision="approve"
        )


def test_attestation_is_once(world):
    application = draft(world, "14.1.105.0/24")
    services.application_submit(actor=world.applicant, application=application)
    resource = application.resources.get()
    services.resource_attest(actor=world.operator, resource=resource, decision="approve")
    with pytest.raises(WrongState):
        services.resource_attest(actor=world.operator, resource=resource, decision="reject", reason="x")


def test_decision_only_when_awaiting_it(world):
    application = draft(world, "14.1.105.0/24")
    with pytest.raises(WrongState):
        services.application_decide(actor=world.officer, application=application, decision="approve")
    with pytest.raises(NotAllowed):
        services.application_decide(actor=world.agency, application=application, decision="approve")


def test_officer_rejection_needs_reason(world):
    application = to_decision(world, "14.1.105.0/24")
    with pytest.raises(InvalidInput):
        services.application_decide(actor=world.officer, application=application, decision="reject")
    services.application_decide(actor=world.officer, application=application, decision="reject", reason="Fee")
    application.refresh_from_db()
    assert application.state == State.REJECTED
    assert not Registration.objects.exists()


def test_unknown_decision_is_refused(world):
    application = to_decision(world, "14.1.105.0/24")
    with pytest.raises(InvalidInput) as exc:
        services.application_decide(actor=world.officer, application=application, decision="maybe")
    assert "decision" in exc.value.errors
