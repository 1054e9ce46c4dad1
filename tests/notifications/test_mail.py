"""Notification emails go out by a task, through a real SMTP conversation with a local sink; a mail
server that is down delays them, never loses one, and what fails on every try is listed for officers."""

from __future__ import annotations

import socket
import socketserver
import threading
from datetime import timedelta
from email import message_from_bytes

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.auth import login
from tests.factories import UserFactory
from vpnregistry.accounts.models import Role
from vpnregistry.errors import NotAllowed
from vpnregistry.notifications import mail
from vpnregistry.notifications import services as notifications
from vpnregistry.notifications.models import Notification, OutgoingMail
from vpnregistry.worker import tasks


class _Session(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for Django's backend: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 sink ready")
        recipients: list[str] = []
        while line := self.rfile.readline():
            verb = line.decode(errors="replace").strip().split(" ")[0].upper()
            if verb in {"EHLO", "HELO"}:
                self.reply("250 sink")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 ok")
            elif verb == "RCPT":
                recipients.append(line.decode().split(":", 1)[1].strip().strip("<>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.server.received.append((recipients, message_from_bytes(data)))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # RSET, NOOP
                self.reply("250 ok")


class SmtpSink:
    """A local mail server on a fixed port, which the test starts and stops."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.received: list = []
        self.server = None

    def start(self) -> None:
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), _Session)
        self.server.daemon_threads = True
        self.server.received = self.received
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def sink(settings):
    sink = SmtpSink()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_TIMEOUT = 5
    yield sink
    sink.stop()


def run_when_due():
    """The task, as the scheduler would run it once every email's next try is due."""
    OutgoingMail.objects.filter(state="pending").update(next_attempt_at=timezone.now())
    return tasks.send_mail.apply().get()


def test_the_mail_server_down_delays_the_emails_and_loses_none(world, sink):
    users = [UserFactory(role=Role.OFFICER, email=f"officer{i}@example.org") for i in range(3)]
    # Down (nothing listens on its port): the notifications are listed, the emails wait.
    assert notifications.notify_users(users, subject="waits", body="b") == 3
    assert Notification.objects.filter(subject="waits").count() == 3
    waiting = OutgoingMail.objects.filter(state="pending")
    assert waiting.count() == 3 and {m.attempts for m in waiting} == {1}
    assert all("Connection" in m.last_error or "refused" in m.last_error for m in waiting)
    assert all(m.next_attempt_at > timezone.now() for m in waiting)  # a pause before the next try
    assert sink.received == []
    # Still down at the next try: one more try each, still kept.
    run_when_due()
    assert {m.attempts for m in OutgoingMail.objects.all()} == {2}
    # Up again: the next try sends each email once, to its own recipient only.
    sink.start()
    assert run_when_due() == {"sent": 3, "retried": 0, "failed": 0}
    assert sorted(r[0][0] for r in sink.received) == [u.email for u in users]
    assert {r[1]["Subject"] for r in sink.received} == {"[vpnregistry] waits"}
    assert OutgoingMail.objects.filter(state="sent").count() == 3
    assert run_when_due() == {"sent": 0, "retried": 0, "failed": 0}
    assert len(sink.received) == 3


def test_pauses_double_up_to_an_hour():
    pauses = [mail.pause_after(n) for n in range(1, 10)]
    assert pauses[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert pauses[-1] == timedelta(hours=1) and pauses == sorted(pauses)


def test_what_fails_every_try_is_listed_for_officers_who_send_it_again(world, sink, settings):
    settings.MAIL_ATTEMPTS = 2
    notifications.notify_users([world.applicant], subject="lost?", body="b")
    run_when_due()
    (failed,) = mail.failed_mail()
    assert failed.attempts == 2 and failed.to == world.applicant.email
    officer = Client()
    login(officer, world.officer)
    page = officer.get("/mail/failed/").content.decode()
    assert "[vpnregistry] lost?" in page and world.applicant.email in page
    assert run_when_due()["sent"] == 0  # a failed email is not tried again by itself
    with pytest.raises(NotAllowed):
        mail.retry_failed(actor=world.auditor)
    sink.start()
    response = officer.post("/mail/failed/retry/")
    assert response.status_code == 302
    assert [r[0] for r in sink.received] == [[world.applicant.email]]  # sent again, once
    assert not mail.failed_mail().exists()
    assert "No email has failed." in officer.get("/mail/failed/").content.decode()


def test_the_body_is_encrypted_at_rest_and_emptied_once_sent(world, sink):
    notifications.notify_users([world.applicant], subject="s", body="secret-ish body")
    stored = OutgoingMail.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM applications_outgoingmail WHERE id = %s", [stored.pk])
        (raw,) = cursor.fetchone()
    assert "secret-ish" not in raw and stored.body.startswith("secret-ish body")
    sink.start()
    run_when_due()
    sent = OutgoingMail.objects.get()
    assert sent.state == "sent" and sent.body == ""


def test_the_accounts_emails_wait_for_the_mail_server_too(world, sink, django_capture_on_commit_callbacks):
    """The accounts app's own emails (sign-up link, invitation: one helper sends both) go the way of
    every other: written, sent by the task, kept while the mail server is down, never lost."""
    from tests.accounts.test_onboarding import SIGNUP
    from vpnregistry.accounts import onboarding

    with django_capture_on_commit_callbacks(execute=True):
        onboarding.organisation_register(**SIGNUP)
    waiting = OutgoingMail.objects.get()
    assert waiting.state == "pending" and waiting.attempts == 1 and sink.received == []
    sink.start()
    assert run_when_due() == {"sent": 1, "retried": 0, "failed": 0}
    (received,) = sink.received
    assert received[0][0].lower() == SIGNUP["email"].lower() == waiting.to.lower()
    assert "/signup/verify/" in str(received[1].get_payload())
