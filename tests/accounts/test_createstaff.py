"""`vpnregistry createstaff`: the first staff accounts with their authenticators, for a new deployment."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.auth import code
from vpnregistry.accounts.models import Agency, Operator, Role, User
from vpnregistry.accounts.reference import seed as seed_reference
from vpnregistry.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _reference():
    seed_reference(django_apps)  # the agencies, as the migration seeds them


def createstaff(*args: str) -> str:
    out = io.StringIO()
    call_command("createstaff", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / "password"
    path.write_text(PASSWORD + "\n")
    return str(path)


def secret_of(output: str) -> str:
    return re.search(r"^Secret to type in: ([A-Z2-7]+)$", output, re.M).group(1)


def test_the_first_officer_logs_in_with_the_printed_password_and_authenticator():
    out = createstaff(
        "chief", "--role", "officer", "--email", "chief@regulator.example", "--generate-password"
    )
    password = re.search(r"^Password \(shown once\): (\S+)$", out, re.M).group(1)
    uri = re.search(r"^otpauth://\S+$", out, re.M).group(0)
    query = parse_qs(urlparse(uri).query)
    assert urlparse(uri).netloc == "totp" and query["issuer"] == ["vpnregistry"]
    assert query["secret"] == [secret_of(out)]
    user = User.objects.get(username="chief")
    assert (user.role, user.email, user.is_active) == (Role.OFFICER, "chief@regulator.example", True)
    assert TOTPDevice.objects.get(user=user).confirmed
    actions = list(AuditEvent.objects.filter(object_id=str(user.pk)).values_list("action", flat=True))
    assert actions == ["account.create", "account.totp-enrol"]

    client = Client()
    assert client.post("/login/", {"username": "chief", "password": password}).status_code == 302
    assert client.get("/")["Location"].startswith("/login/otp/")
    assert client.post("/login/otp/", {"token": code(secret_of(out)), "next": "/"})["Location"] == "/"
    assert client.get("/").status_code == 200


def test_agency_reviewer_with_a_password_file(password_file):
    out = createstaff(
        "reviewer", "--role", "agency", "--agency", "pseb", "--email", "r@pseb.example",
        "--password-file", password_file, "--no-qr",
    )  # fmt: skip
    assert out.startswith("Created agency 'reviewer' of pseb <r@pseb.example>.\n")
    assert PASSWORD not in out and "Password" not in out
    user = User.objects.get(username="reviewer")
    assert user.agency == Agency.objects.get(code="pseb") and user.check_password(PASSWORD)
    assert user.language == "en"  # the registry's default when not told


def test_a_staff_account_made_for_an_urdu_reader_is_written_to_in_urdu(password_file):
    createstaff(
        "urdu-reviewer", "--role", "agency", "--agency", "pseb", "--email", "u@pseb.example",
        "--password-file", password_file, "--no-qr", "--language", "ur",
    )  # fmt: skip
    assert User.objects.get(username="urdu-reviewer").language == "ur"
    with pytest.raises(CommandError):
        createstaff(
            "french", "--role", "officer", "--email", "f@regulator.example",
            "--password-file", password_file, "--no-qr", "--language", "fr",
        )  # fmt: skip
    assert not User.objects.filter(username="french").exists()


def test_an_operator_is_created_with_its_first_staff_member_when_named(password_file):
    args = ["noc", "--role", "operator", "--operator", "indus", "--email", "noc@indus.example",
            "--password-file", password_file]  # fmt: skip
    with pytest.raises(CommandError, match=r"^--operator: no operator 'indus' \(there are: none yet\); add "):
        createstaff(*args)
    assert not Operator.objects.exists() and not User.objects.exists()
    out = createstaff(*args, "--operator-name", "Indus Broadband", "--operator-kind", "fixed")
    assert "vpnregistry tokens issue noc" in out
    operator = Operator.objects.get(code="indus")
    assert operator.name == "Indus Broadband" and User.objects.get(username="noc").operator == operator
    assert AuditEvent.objects.filter(action="operator.create", object_id=str(operator.pk)).exists()


def test_an_auditor_can_set_up_the_authenticator_at_first_login(password_file):
    out = createstaff(
        "reader", "--role", "auditor", "--email", "a@x.example", "--password-file", password_file,
        "--enrol-at-login",
    )  # fmt: skip
    assert "otpauth://" not in out and "first login" in out
    assert not TOTPDevice.objects.filter(user__username="reader").exists()


def test_an_existing_username_is_refused_and_nothing_changes(password_file):
    createstaff("chief", "--role", "officer", "--email", "c@x.example", "--password-file", password_file)
    user = User.objects.get(username="chief")
    device = TOTPDevice.objects.get(user=user)
    events = AuditEvent.objects.count()
    for name in ("chief", "CHIEF"):
        with pytest.raises(CommandError, match=f"^USERNAME: '{name}' already exists; nothing was changed$"):
            createstaff(name, "--role", "auditor", "--email", "other@x.example", "--generate-password")
    user.refresh_from_db()
    assert (user.role, user.email) == (Role.OFFICER, "c@x.example") and user.check_password(PASSWORD)
    assert list(TOTPDevice.objects.all()) == [device] and AuditEvent.objects.count() == events
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "agency"], r"^--agency: an agency reviewer needs the agency they review for$"),
        (["--role", "agency", "--agency", "nope"],
         r"^--agency: no agency 'nope' \(there are: licensing, mofa, pseb\)"),
        (["--role", "officer", "--agency", "pseb"], r"^--agency: only agency reviewers belong to an agency"),
        (["--role", "operator"], r"^--operator: an operator's staff member needs their operator$"),
        (["--role", "operator", "--operator", "Not A Slug", "--operator-name", "X"], r"^--operator: "),
        (["--role", "officer", "--email", "not-an-address"], r"^--email: is not an email address$"),
    ],
)  # fmt: skip
def test_errors_name_the_argument(args, message, password_file):
    base = ["new", "--email", "n@x.example", "--password-file", password_file]
    with pytest.raises(CommandError, match=message):
        createstaff(*base, *args)
    assert not User.objects.exists() and not Operator.objects.exists()


def test_password_errors(tmp_path, monkeypatch):
    weak = tmp_path / "weak"
    weak.write_text("short\n")
    base = ["new", "--role", "officer", "--email", "n@x.example"]
    with pytest.raises(CommandError, match=r"^the password: This password is too short"):
        createstaff(*base, "--password-file", str(weak))
    with pytest.raises(CommandError, match=r"^--password-file: cannot read .*/missing: No such file"):
        createstaff(*base, "--password-file", str(tmp_path / "missing"))
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(CommandError, match=r"^--password-file: the first line of .* is empty$"):
        createstaff(*base, "--password-file", str(tmp_path / "empty"))
    # A script gives none: the command says how to give one instead of waiting on a prompt.
    with pytest.raises(CommandError, match=r"^no password: give --password-file FILE or --generate-password"):
        createstaff(*base, "--no-input")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    createstaff(*base, "--password-file", "-")
    assert User.objects.get(username="new").check_password(PASSWORD)


def test_the_prompt_asks_twice_without_echo(monkeypatch):
    answers = iter([PASSWORD, PASSWORD + "!", PASSWORD, PASSWORD])
    prompts = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or next(answers))
    base = ["new", "--role", "officer", "--email", "n@x.example"]
    with pytest.raises(CommandError, match=r"^the password: the two entries differ; nothing was changed$"):
        createstaff(*base)
    assert not User.objects.exists()
    out = createstaff(*base, "--qr")
    assert prompts == ["Password: ", "Password (again): "] * 2
    assert PASSWORD not in out and User.objects.get(username="new").check_password(PASSWORD)
    assert "\u2580" in out or "\u2584" in out or "\u2588" in out  # the QR code, in half blocks
