"""The API contract of the walking skeleton, role by role, and who may see what."""

from __future__ import annotations

import re

import pytest

from tests.http import as_json, text
from tests.workflow import approved, draft


def create(world, *values, user=None):
    return world.client(user or world.applicant).post(
        "/api/v1/applications/",
        {"resources": [{"value": v, "subscriber_id": "SUB-9"} for v in values]},
        format="json",
    )


def test_me_names_role_and_body(world):
    assert world.client(world.applicant).get("/api/v1/me/").json() == {
        "username": "applicant",
        "role": "applicant",
        "organisation": "Ravi Software",
        "agency": None,
        "operator": None,
        "language": "en",
    }
    assert world.client(world.operator).get("/api/v1/me/").json()["operator"] == "indus"
    assert world.client(None).get("/api/v1/me/").status_code == 401


def test_operators_list_their_space(world):
    body = world.client(world.applicant).get("/api/v1/operators/").json()
    spaces = {o["code"]: o["address_space"] for o in body["results"]}
    assert spaces["indus"] == ["14.1.104.0/22", "27.0.184.0/22", "2001:dd8:1c::/48"]


def test_whole_flow_over_the_api(world, django_capture_on_commit_callbacks):
    response = create(world, "14.1.105.0/24", "2001:dd8:1c:1::/64")
    assert response.status_code == 201, response.json()
    app = response.json()
    assert app["state"] == "draft" and app["tracking_number"] is None
    app_id = app["id"]

    app = world.client(world.applicant).post(f"/api/v1/applications/{app_id}/submit/").json()
    assert (
        app["state"] == "submitted" and app["tracking_number"].startswith("VR-") and app["agency"] == "pseb"
    )

    r = world.client(world.agency).post(
        f"/api/v1/applications/{app_id}/verify/", {"decision": "approve"}, format="json"
    )
    assert r.status_code == 200, r.json()
    for resource in app["resources"]:
        r = world.client(world.operator).post(
            f"/api/v1/resources/{resource['id']}/attest/", {"decision": "approve"}, format="json"
        )
        assert r.status_code == 200, r.json()
    detail = world.client(world.officer).get(f"/api/v1/applications/{app_id}/").json()
    # 256 addresses and one IPv6 prefix: the fee applies (1000 PKR an address by default).
    assert detail["state"] == "awaiting_payment"
    assert detail["fee_addresses"] == 257 and detail["fee_amount"] == "257000.00"
    r = world.client(world.officer2).post(
        f"/api/v1/applications/{app_id}/payment/", {"reference": "HBL-2026-0001"}, format="json"
    )
    assert r.status_code == 200 and r.json()["state"] == "awaiting_decision", r.json()

    with django_capture_on_commit_callbacks(execute=True):
        r = world.client(world.officer).post(
            f"/api/v1/applications/{app_id}/decide/",
            {"decision": "approve", "reason": "in order"},
            format="json",
        )
    assert r.status_code == 200 and r.json()["state"] == "approved"
    history = r.json()["history"]
    assert [h["to_state"] for h in history if h["from_state"] != h["to_state"]][-1] == "approved"

    txt = world.client(world.operator).get("/api/v1/allowlist/latest.txt")
    assert txt.status_code == 200
    served = text(txt)
    lines = served.splitlines()
    assert lines[0].startswith("#") and any(line.startswith("# serial: 1") for line in lines)
    assert [line for line in lines if not line.startswith("#")] == ["14.1.105.0/24", "2001:dd8:1c:1::/64"]
    js = as_json(world.client(world.auditor).get("/api/v1/allowlist/latest.json"))
    assert js["serial"] == 1 and js["ipv4"] == ["14.1.105.0/24"] and js["ipv6"] == ["2001:dd8:1c:1::/64"]
    again = world.client(world.operator).get("/api/v1/allowlist/latest.txt", HTTP_IF_NONE_MATCH=txt["ETag"])
    assert again.status_code == 304
    assert text(world.client(world.operator).get("/api/v1/allowlist/1.txt")) == served


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("192.168.1.0/24", "private-use"),
        ("14.1.105.9/24", "did you mean 14.1.105.0/24"),
        ("8.8.8.0/24", "no operator"),
        ("14.1.0.0/16", "/24"),
        ("1.2.3.04", "leading zero"),
    ],
)
def test_bad_resource_gives_400_naming_it(world, value, fragment):
    response = create(world, "14.1.106.0/24", value)
    assert response.status_code == 400
    errors = response.json()["resources"]
    assert errors[0] == {} and fragment in errors[1]["value"][0]


def test_overlap_with_another_organisation_is_not_told_at_entry(world):
    """The applicant's answer is the same whether or not another organisation holds the resource."""
    approved(world, "14.1.105.0/24")
    held = create(world, "14.1.105.128/25", user=world.other_applicant)
    free = create(world, "14.1.106.128/25", user=world.other_applicant)
    assert held.status_code == free.status_code == 201
    strip = {"id", "resources", "history", "created_at", "version"}
    assert {k: v for k, v in held.json().items() if k not in strip} == {
        k: v for k, v in free.json().items() if k not in strip
    }
    assert held.json()["conflicts"] == []


def test_malformed_bodies_are_400(world):
    client = world.client(world.applicant)
    assert client.post("/api/v1/applications/", {}, format="json").status_code == 400
    assert client.post("/api/v1/applications/", {"resources": "x"}, format="json").status_code == 400
    assert client.post("/api/v1/applications/", {"resources": []}, format="json").status_code == 400
    assert client.post("/api/v1/applications/", {"resources": ["1.2.3.4"]}, format="json").status_code == 400


def test_rejection_without_reason_is_400(world):
    application = draft(world, "14.1.105.0/24")
    world.client(world.applicant).post(f"/api/v1/applications/{application.pk}/submit/")
    r = world.client(world.agency).post(
        f"/api/v1/applications/{application.pk}/verify/", {"decision": "reject"}, format="json"
    )
    assert r.status_code == 400 and "reason" in r.json()


def test_another_organisations_application_is_404(world):
    application = draft(world, "14.1.105.0/24")
    outsider = world.client(world.other_applicant)
    assert outsider.get(f"/api/v1/applications/{application.pk}/").status_code == 404
    assert outsider.post(f"/api/v1/applications/{application.pk}/submit/").status_code == 404
    assert application.pk not in [a["id"] for a in outsider.get("/api/v1/applications/").json()["results"]]
    assert world.client(world.applicant).get(f"/api/v1/applications/{application.pk}/").status_code == 200


def test_drafts_are_hidden_from_staff(world):
    application = draft(world, "14.1.105.0/24")
    for user in (world.agency, world.operator, world.officer, world.auditor):
        assert world.client(user).get(f"/api/v1/applications/{application.pk}/").status_code == 404


def test_reviewers_see_only_their_own(world):
    application = draft(world, "14.1.105.0/24", "14.192.130.0/24")
    world.client(world.applicant).post(f"/api/v1/applications/{application.pk}/submit/")
    # The licensing desk is not this category's agency.
    assert (
        world.client(world.licensing_reviewer).get(f"/api/v1/applications/{application.pk}/").status_code
        == 404
    )
    # Each operator sees only the resources in its own space.
    seen = world.client(world.operator).get(f"/api/v1/applications/{application.pk}/").json()["resources"]
    assert [r["value"] for r in seen] == ["14.1.105.0/24"]
    margalla_id = application.resources.get(operator=world.margalla).pk
    r = world.client(world.operator).post(
        f"/api/v1/resources/{margalla_id}/attest/", {"decision": "approve"}, format="json"
    )
    assert r.status_code == 404


def test_wrong_roles_are_refused(world):
    application = draft(world, "14.1.105.0/24")
    world.client(world.applicant).post(f"/api/v1/applications/{application.pk}/submit/")
    body = {"decision": "approve"}
    assert (
        world.client(world.officer)
        .post(f"/api/v1/applications/{application.pk}/verify/", body, format="json")
        .status_code
        == 403
    )
    assert (
        world.client(world.agency)
        .post(f"/api/v1/applications/{application.pk}/decide/", body, format="json")
        .status_code
        == 403
    )
    assert (
        world.client(world.auditor)
        .post(f"/api/v1/applications/{application.pk}/decide/", body, format="json")
        .status_code
        == 403
    )
    assert world.client(world.officer).post(
        "/api/v1/applications/", {"resources": []}, format="json"
    ).status_code in {400, 403}
    assert (
        world.client(world.officer)
        .post(f"/api/v1/applications/{application.pk}/decide/", body, format="json")
        .status_code
        == 409
    )


@pytest.mark.parametrize("who", ["applicant", "agency"])
def test_allowlist_refused_to_applicants_and_agencies(world, who):
    assert world.client(getattr(world, who)).get("/api/v1/allowlist/latest.txt").status_code == 403


def test_allowlist_needs_a_token(world):
    assert world.client(None).get("/api/v1/allowlist/latest.txt").status_code == 401


def test_allowlist_before_first_snapshot_is_404(world):
    assert world.client(world.operator).get("/api/v1/allowlist/latest.txt").status_code == 404
    assert world.client(world.operator).get("/api/v1/allowlist/latest.exe").status_code == 404


def test_schema_and_docs_are_served_locally(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"openapi" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert not re.search(r'(src|href)="(https?:)?//', html), "the docs page loads nothing from outside"
    assert "/static/drf_spectacular_sidecar/" in html


def test_healthz(client, db):
    body = client.get("/healthz").json()
    assert body["database"] in {"sqlite", "postgresql"} and body["allowlist_serial"] is None
