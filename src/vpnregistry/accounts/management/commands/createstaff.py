"""`vpnregistry createstaff`: the first staff accounts (officer, auditor, agency, operator) and their TOTP."""

from __future__ import annotations

import getpass
import io
import secrets
import sys

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from vpnregistry.accounts import two_factor
from vpnregistry.accounts.models import Agency, Operator, Role
from vpnregistry.accounts.staff import STAFF_ROLES, staff_create
from vpnregistry.audit.services import record
from vpnregistry.errors import InvalidInput

# Which command-line argument each of the service's fields came from, for errors that name it.
ARGUMENT = {"username": "USERNAME", "role": "--role", "email": "--email", "password": "the password",
            "agency": "--agency", "operator": "--operator", "language": "--language"}  # fmt: skip


class Command(BaseCommand):
    help = (
        "Create a staff account (officer, auditor, agency reviewer, operator's staff) with its TOTP "
        "authenticator; prints the otpauth:// link (and a QR code on a terminal) once. The password "
        "is asked for (never echoed), read from --password-file, or made with --generate-password. "
        "Refuses, changing nothing, a username that exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[str(r) for r in STAFF_ROLES])
        parser.add_argument("--email", required=True, help="where the registry's notifications go")
        parser.add_argument("--agency", metavar="CODE", help="an agency reviewer's agency (pseb, mofa, ...)")
        parser.add_argument("--operator", metavar="CODE", help="an operator's staff member's operator")
        parser.add_argument(
            "--operator-name", metavar="NAME", help="with --operator: create that operator first, if missing"
        )
        parser.add_argument(
            "--operator-kind", choices=[str(k) for k in Operator.Kind], default=str(Operator.Kind.FIXED)
        )
        password = parser.add_mutually_exclusive_group()
        password.add_argument(
            "--password-file",
            metavar="FILE",
            help="read the password from the first line of FILE (- for stdin)",
        )
        password.add_argument(
            "--generate-password", action="store_true", help="make a random password and print it once"
        )
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default=settings.LANGUAGE_CODE,
            help="the language the person's emails and notifications are written in, until they "
            "choose another in the portal (default: %(default)s)",
        )
        parser.add_argument("--no-input", action="store_true", help="never ask: for scripts")
        parser.add_argument(
            "--enrol-at-login",
            action="store_true",
            help="no authenticator now: the person sets one up at first login, after the password alone",
        )
        qr = parser.add_mutually_exclusive_group()
        qr.add_argument(
            "--qr", action="store_true", default=None, help="print the QR code (default: on a terminal)"
        )
        qr.add_argument("--no-qr", action="store_false", dest="qr")

    def handle(self, *args, username, role, email, agency, operator, operator_name, operator_kind,
               password_file, generate_password, no_input, enrol_at_login, qr, language,
               **options):  # fmt: skip
        generated = None
        if password_file:
            password = self._read_password(password_file)
        elif generate_password:
            password = generated = secrets.token_urlsafe(15)
        elif no_input or not sys.stdin.isatty():
            raise CommandError(
                "no password: give --password-file FILE or --generate-password (nothing to ask on)"
            )
        else:
            password = self._ask_password()

        with transaction.atomic():
            agency_row = self._agency(agency) if agency else None
            operator_row = self._operator(operator, operator_name, operator_kind) if operator else None
            try:
                user, device = staff_create(
                    username=username,
                    role=role,
                    email=email,
                    password=password,
                    agency=agency_row,
                    operator=operator_row,
                    provision_totp=not enrol_at_login,
                    language=language,
                )
            except InvalidInput as exc:
                raise CommandError(
                    "; ".join(f"{ARGUMENT.get(k, k)}: {' '.join(v)}" for k, v in exc.errors.items())
                ) from None

        body = f" of {user.body.code}" if user.body else ""
        self.stdout.write(f"Created {role} {user.username!r}{body} <{user.email}>.")
        if generated:
            self.stdout.write(f"Password (shown once): {generated}")
        if device is None:
            self.stdout.write(
                "No authenticator yet: the first login asks for the password, then shows the QR code."
            )
            return
        uri = device.config_url
        self.stdout.write(
            "Authenticator (TOTP), shown once: add it to the person's app, or hand this over privately; "
            "with the password it logs in."
        )
        self.stdout.write(uri)
        self.stdout.write(f"Secret to type in: {two_factor.base32_secret(device)}")
        if qr is None:
            qr = self.stdout.isatty()
        if qr:
            picture = io.StringIO()
            segno.make(uri, error="m").terminal(out=picture, compact=True)
            self.stdout.write(picture.getvalue(), ending="")
        if role == Role.OPERATOR:
            self.stdout.write(
                f"Their API token for `vpnregistry sync`: vpnregistry tokens issue {user.username}"
            )

    def _read_password(self, path: str) -> str:
        try:
            if path == "-":
                line = sys.stdin.readline()
            else:
                with open(path, encoding="utf-8") as f:
                    line = f.readline()
        except OSError as exc:
            raise CommandError(f"--password-file: cannot read {path}: {exc.strerror}") from None
        password = line.rstrip("\r\n")
        if not password:
            raise CommandError(f"--password-file: the first line of {path} is empty")
        return password

    def _ask_password(self) -> str:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("the password: the two entries differ; nothing was changed")
        return password

    def _agency(self, code: str) -> Agency:
        try:
            return Agency.objects.get(code=code)
        except Agency.DoesNotExist:
            known = ", ".join(Agency.objects.order_by("code").values_list("code", flat=True)) or "none"
            raise CommandError(f"--agency: no agency {code!r} (there are: {known})") from None

    def _operator(self, code: str, name: str | None, kind: str) -> Operator:
        row = Operator.objects.filter(code=code).first()
        if row is not None:
            return row
        if not name:
            known = ", ".join(Operator.objects.order_by("code").values_list("code", flat=True)) or "none yet"
            raise CommandError(
                f"--operator: no operator {code!r} (there are: {known}); "
                "add --operator-name NAME to create it"
            )
        row = Operator(code=code, name=name, kind=kind)
        try:
            row.full_clean()
        except ValidationError as exc:
            fields = {"code": "--operator", "name": "--operator-name", "kind": "--operator-kind"}
            raise CommandError(
                "; ".join(f"{fields.get(k, k)}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from None
        row.save()
        record(actor=None, action="operator.create", obj=row, object_type="operator", data={"kind": kind})
        return row
