"""Mobile operators' numbering: blocks proposed and decided like address space, and numbers routed by them."""

from __future__ import annotations

import pytest
from django.test import Client, TestCase

from tests.auth import login
from tests.factories import OperatorFactory, UserFactory, put_documents_on_file
from vpnregistry.accounts import numbering
from vpnregistry.accounts.models import NumberBlock, Operator, Role
from vpnregistry.applications import bulk, services
from vpnregistry.applications.models import Application
from vpnregistry.errors import InvalidInput, WrongState
from vpnregistry.notifications.models import Notification
from vpnregistry.registrations import space


@pytest.fixture
def mobiles(world):
    jazz = OperatorFactory(code="jazz", kind=Operator.Kind.MOBILE)
    sabz = OperatorFactory(code="sabz", kind=Operator.Kind.MOBILE)
    return (
        jazz,
        UserFactory(username="jazz-staff", role=Role.OPERATOR, operator=jazz),
        sabz,
        UserFactory(username="sabz-staff", role=Role.OPERATOR, operator=sabz),
    )


def held(world, block, staff):
    change = space.space_change_propose(actor=staff, action="add", prefix=block)
    space.space_change_approve(actor=world.officer, change=change)
    return change


@pytest.mark.parametrize(
    ("text", "stored"),
    [("+92300", "+92300"), ("0300", "+92300"), ("0092 301", "+92301"), ("+92-3001", "+923001")],
)
def test_blocks_are_read_in_the_forms_people_write(text, stored):
    assert numbering.looks_like_block(text)
    assert numbering.clean_block(text) == stored


@pytest.mark.parametrize("text", ["+923", "+92500", "+4420", "+92300123456789", "0300x"])
def test_what_is_not_a_mobile_block_is_refused_by_name(world, mobiles, text):
    _jazz, staff, _sabz, _ = mobiles
    with pytest.raises(InvalidInput) as exc:
        space.space_change_propose(actor=staff, action="add", prefix=text)
    assert "prefix" in exc.value.errors
    assert not NumberBlock.objects.exists()


def test_a_block_joins_the_numbering_once_an_officer_approves(world, mobiles):
    jazz, staff, _sabz, _ = mobiles
    change = space.space_change_propose(actor=staff, action="add", prefix="0300", note="issued 2026")
    assert change.prefix == "+92300" and change.is_numbering and change.state == "pending"
    assert numbering.operator_for_number("+923001234567") is None  # not before the approval
    space.space_change_approve(actor=world.officer, change=change)
    assert numbering.operator_for_number("+923001234567") == jazz
    assert numbering.operator_for_number("+923011234567") is None
    with pytest.raises(WrongState):
        space.space_change_approve(actor=world.officer, change=change)


def test_overlapping_another_operators_block_is_refused_either_way(world, mobiles):
    _jazz, jazz_staff, _sabz, sabz_staff = mobiles
    held(world, "+92300", jazz_staff)
    for block in ["+923001", "+92300"]:
        with pytest.raises(InvalidInput) as exc:
            space.space_change_propose(actor=sabz_staff, action="add", prefix=block)
        assert "another operator" in exc.value.errors["prefix"][0]
    held(world, "+92310", sabz_staff)
    with pytest.raises(InvalidInput):  # a broader block over someone else's is refused too
        space.space_change_propose(actor=jazz_staff, action="add", prefix="+9231")


def test_only_a_mobile_operator_holds_numbering(world):
    with pytest.raises(InvalidInput) as exc:
        space.space_change_propose(actor=world.operator, action="add", prefix="+92345")
    assert "mobile operator" in exc.value.errors["prefix"][0]


def test_the_longest_block_wins_and_a_ported_number_names_its_operator(world, mobiles):
    jazz, jazz_staff, sabz, sabz_staff = mobiles
    held(world, "+92300", jazz_staff)
    held(world, "+92333", sabz_staff)
    application = services.application_create(
        actor=world.freelancer_applicant,
        resources=[
            {"value": "0300 1234567", "subscriber_id": "S-1"},  # routed by numbering
            # Ported to sabz, and declared so.
            {"value": "0300 7654321", "subscriber_id": "S-2", "operator": "sabz", "ported": True},
        ],
    )
    by_value = {r.value: r.operator for r in application.resources.all()}
    assert by_value == {"+923001234567": jazz, "+923007654321": sabz}


def test_naming_another_operator_than_the_numberings_needs_a_porting_declaration(world, mobiles):
    jazz, jazz_staff, _sabz, _sabz_staff = mobiles
    held(world, "+92300", jazz_staff)
    item = {"value": "0300 7654321", "subscriber_id": "S-2", "operator": "sabz"}
    with pytest.raises(InvalidInput) as exc:
        services.application_create(actor=world.freelancer_applicant, resources=[item])
    (message,) = exc.value.errors["resources"][0]["ported"]
    assert "numbering of jazz" in message and "ported to sabz" in message
    # Naming the numbering's own operator needs none; "ported" in a CSV cell is read as people write it.
    services.application_create(actor=world.freelancer_applicant, resources=[{**item, "operator": "jazz"}])
    csv = "value,subscriber_id,operator,ported\n0300 7654321,S-2,sabz,yes\n"
    application = bulk.application_create_from_csv(actor=world.freelancer_applicant, data=csv)
    resource = application.resources.get()
    assert resource.porting.numbering_operator == jazz
    assert "sabz,yes" in bulk.resources_as_csv(application.resources.select_related("operator", "district"))


def test_the_numberings_operator_is_told_at_submission_once(
    world, mobiles, django_capture_on_commit_callbacks
):
    _jazz, jazz_staff, _sabz, sabz_staff = mobiles
    held(world, "+92300", jazz_staff)
    response = world.client(world.freelancer_applicant).post(
        "/api/v1/applications/",
        {
            "resources": [
                {"value": "0300 7654321", "subscriber_id": "S-2", "operator": "sabz", "ported": True}
            ]
        },
        format="json",
    )
    assert response.status_code == 201 and response.json()["resources"][0]["ported"] is True
    application = Application.objects.get(pk=response.json()["id"])
    put_documents_on_file(world.freelancer_org)
    assert not Notification.objects.filter(recipient=jazz_staff).exists()  # a draft is private
    with django_capture_on_commit_callbacks(execute=True):
        services.application_submit(actor=world.freelancer_applicant, application=application)
    (told,) = Notification.objects.filter(recipient=jazz_staff)
    assert "+923007654321" in told.body and "sabz" in told.body
    assert not Notification.objects.filter(recipient=sabz_staff, subject__contains="ported").exists()
    assert application.resources.get().porting.notified_at is not None


def test_the_form_carries_the_declaration(world, mobiles):
    _jazz, jazz_staff, _sabz, _sabz_staff = mobiles
    held(world, "+92300", jazz_staff)
    client = login(Client(), world.freelancer_applicant)
    form = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "0",
        "form-0-value": "0300 7654321",
        "form-0-subscriber_id": "S-2",
        "form-0-operator": "sabz",
    }
    page = client.post("/applications/new/", form)
    assert page.status_code == 200 and "numbering of jazz" in page.content.decode()
    assert client.post("/applications/new/", {**form, "form-0-ported": "on"}).status_code == 302


def test_a_block_with_a_standing_registration_is_not_removed(world, mobiles):
    _jazz, staff, _sabz, _ = mobiles
    held(world, "+92300", staff)
    application = services.application_create(
        actor=world.freelancer_applicant, resources=[{"value": "03001234567", "subscriber_id": "S"}]
    )
    services.application_submit(actor=world.freelancer_applicant, application=application)
    services.application_verify(actor=world.agency, application=application, decision="approve")
    services.resource_attest(actor=staff, resource=application.resources.get(), decision="approve")
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.application_decide(actor=world.officer, application=application, decision="approve")
    with pytest.raises(InvalidInput) as exc:
        space.space_change_propose(actor=staff, action="remove", prefix="+92300")
    assert "standing registration" in exc.value.errors["prefix"][0]
    assert NumberBlock.objects.filter(prefix="+92300").exists()
