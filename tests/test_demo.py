"""`make run`'s demo data: every role can walk the flow, loading twice changes nothing."""

from __future__ import annotations

import ipaddress
import json
import stat

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tests.auth import code
from tests.http import text
from vpnregistry.accounts.models import User
from vpnregistry.applications.models import Application
from vpnregistry.audit.services import verify_chain


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.DEBUG = True  # pytest-django turns it off; the demo refuses to load without it
    return tmp_path


def test_demo_loads_once_with_an_account_per_role(db, var_dir, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    path = var_dir / "demo-accounts.json"
    accounts = json.loads(path.read_text())
    assert sorted(a["role"] for a in accounts) == ["agency", "applicant", "auditor", "officer", "operator"]
    assert all(set(a) == {"role", "username", "password", "token", "totp_secret"} for a in accounts)
    # Staff log in with a code of their secret as well; the applicant has none.
    assert all((a["totp_secret"] is None) == (a["role"] == "applicant") for a in accounts)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    counts = (User.objects.count(), Application.objects.count())
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (User.objects.count(), Application.objects.count()) == counts
    assert json.loads(path.read_text()) == accounts

    states = set(Application.objects.values_list("state", flat=True))
    assert {"approved", "awaiting_decision", "submitted", "in_review", "rejected", "draft"} <= states
    assert verify_chain().ok


def test_demo_accounts_walk_the_whole_flow(db, var_dir, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    tokens = {a["role"]: a["token"] for a in json.loads((var_dir / "demo-accounts.json").read_text())}

    def api(role):
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Token {tokens[role]}")
        return c

    operators = api("applicant").get("/api/v1/operators/").json()["results"]
    mine = api("operator").get("/api/v1/me/").json()["operator"]
    space = next(o for o in operators if o["code"] == mine)["address_space"]
    v4 = [p for p in space if ":" not in p][-1]
    # A /24 of the operator's space that the demo does not use yet.
    taken = {r.value for a in Application.objects.all() for r in a.resources.all()}
    candidate = next(str(n) for n in ipaddress.ip_network(v4).subnets(new_prefix=24) if str(n) not in taken)
    app = api("applicant").post(
        "/api/v1/applications/", {"resources": [{"value": candidate, "subscriber_id": "X-1"}]}, format="json"
    )
    assert app.status_code == 201, app.json()
    app_id = app.json()["id"]
    assert api("applicant").post(f"/api/v1/applications/{app_id}/submit/").status_code == 200
    assert (
        api("agency")
        .post(f"/api/v1/applications/{app_id}/verify/", {"decision": "approve"}, format="json")
        .status_code
        == 200
    )
    rid = app.json()["resources"][0]["id"]
    assert (
        api("operator")
        .post(f"/api/v1/resources/{rid}/attest/", {"decision": "approve"}, format="json")
        .status_code
        == 200
    )
    # The demo organisation holds registered addresses already: the fee applies, the officer records it.
    assert api("applicant").get(f"/api/v1/applications/{app_id}/").json()["state"] == "awaiting_payment"
    paid = api("officer").post(f"/api/v1/applications/{app_id}/payment/", {"reference": "T-1"}, format="json")
    assert paid.status_code == 200 and paid.json()["state"] == "awaiting_decision"
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            api("officer")
            .post(f"/api/v1/applications/{app_id}/decide/", {"decision": "approve"}, format="json")
            .status_code
            == 200
        )
    assert candidate in text(api("operator").get("/api/v1/allowlist/latest.txt")).splitlines()


def test_demo_refuses_without_debug(db, var_dir, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("load_demo")
    assert not User.objects.exists()


def test_demo_accounts_log_in_to_the_portal_with_their_secrets(
    db, var_dir, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    for account in json.loads((var_dir / "demo-accounts.json").read_text()):
        client = Client()
        login = client.post("/login/", {"username": account["username"], "password": account["password"]})
        assert login.status_code == 302, account["username"]
        if account["totp_secret"]:
            assert client.get("/")["Location"].startswith("/login/otp/")
            step = client.post("/login/otp/", {"token": code(account["totp_secret"]), "next": "/"})
            assert step["Location"] == "/", account["username"]
        assert client.get("/").status_code == 200, account["username"]
    # Lost accounts file: new passwords, tokens and secrets; the old secret no longer works.
    old = {a["username"]: a["totp_secret"] for a in json.loads((var_dir / "demo-accounts.json").read_text())}
    (var_dir / "demo-accounts.json").unlink()
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    new = {a["username"]: a["totp_secret"] for a in json.loads((var_dir / "demo-accounts.json").read_text())}
    assert all(new[name] != secret for name, secret in old.items() if secret)
    assert TOTPDevice.objects.filter(user__username="demo-officer").count() == 1
