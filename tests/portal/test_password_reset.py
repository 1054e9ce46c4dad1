"""A forgotten password, reset by email: the link works once, names nobody, and lifts no lockout."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client

from tests.factories import PASSWORD
from vpnregistry.audit.models import AuditEvent
from vpnregistry.notifications.models import OutgoingMail

NEW = "a-new-long-passphrase-47"


def ask(client: Client, email: str, **extra):
    return client.post("/password-reset/", {"email": email}, **extra)


def link_in(mail) -> str:
    """The path of the reset link in a sent email (the outgoing mail keeps no body once sent)."""
    found = re.search(r"https?://[^/\s]+(/password-reset/\S+/\S+/)", mail.body)
    assert found, mail.body
    return found.group(1)


def test_the_link_in_the_email_sets_a_new_password_once(world, mailoutbox):
    client = Client()
    answer = ask(client, world.applicant.email)
    assert answer.status_code == 302 and answer["Location"] == "/password-reset/sent/"
    mail = mailoutbox[-1]
    assert mail.to == [world.applicant.email]
    assert "Reset your password" in mail.subject and world.applicant.username in mail.body
    link = link_in(mail)
    form = client.get(link, follow=True)  # Django moves the token into the session, then shows the form
    assert form.status_code == 200 and 'name="new_password1"' in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and done["Location"] == "/password-reset/done/"
    world.applicant.refresh_from_db()
    assert world.applicant.check_password(NEW)
    assert AuditEvent.objects.filter(action="account.password_reset", actor=world.applicant).count() == 1
    # Nobody is logged in by a reset, and the link does not work twice.
    assert "_auth_user_id" not in client.session
    again = Client().get(link, follow=True)
    assert "This link does not work" in again.content.decode()
    assert Client().post("/login/", {"username": "applicant", "password": NEW}).status_code == 302


def test_an_unknown_address_gets_the_same_answer_and_no_email(world):
    answer = ask(Client(), "nobody@example.org")
    assert answer.status_code == 302 and answer["Location"] == "/password-reset/sent/"
    assert not OutgoingMail.objects.exists()


def test_a_bad_address_is_named_beside_its_field_with_what_was_typed_kept(world):
    page = ask(Client(), "not-an-address").content.decode()
    assert 'class="error-summary"' in page and 'href="#id_email"' in page
    assert 'id="id_email_error"' in page and 'value="not-an-address"' in page
    assert not OutgoingMail.objects.exists()


def test_the_new_password_must_pass_the_password_rules(world, mailoutbox):
    client = Client()
    ask(client, world.applicant.email)
    form = client.get(link_in(mailoutbox[-1]), follow=True)
    refused = client.post(form.redirect_chain[-1][0], {"new_password1": "12345", "new_password2": "12345"})
    assert refused.status_code == 200 and 'id="id_new_password2_error"' in refused.content.decode()
    world.applicant.refresh_from_db()
    assert world.applicant.check_password(PASSWORD)


def test_the_link_starts_with_the_registry_address_not_the_request_host(world, settings, mailoutbox):
    settings.SITE_URL = "https://registry.example.gov.pk"
    settings.ALLOWED_HOSTS = ["*"]
    ask(Client(), world.applicant.email, HTTP_HOST="attacker.example")
    assert "https://registry.example.gov.pk/password-reset/" in mailoutbox[-1].body


def test_the_email_is_in_the_language_the_person_reads(world, mailoutbox):
    client = Client()
    client.cookies["django_language"] = "ur"
    ask(client, world.applicant.email)
    mail = mailoutbox[-1]
    assert "Reset your password" not in mail.subject and re.search("[\u0600-\u06ff]", mail.body)


@pytest.fixture
def lookup_limit(settings):
    cache.clear()
    settings.THROTTLE_RATES = {"anon": None, "user": None, "lookup": "2/min"}
    yield
    cache.clear()


def test_requests_count_against_the_per_address_limit(world, lookup_limit):
    client = Client()
    assert ask(client, world.applicant.email).status_code == 302
    assert ask(client, world.applicant.email).status_code == 302
    refused = ask(client, world.applicant.email)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert OutgoingMail.objects.count() == 2
    assert ask(Client(), world.applicant.email, REMOTE_ADDR="192.0.2.77").status_code == 302


def test_a_reset_lifts_no_lockout_and_staff_still_give_their_code(world, mailoutbox):
    # The applicant locks the login at one address; a reset changes the password, not the lock.
    for _ in range(5):
        Client().post("/login/", {"username": "applicant", "password": "wrong"}, REMOTE_ADDR="192.0.2.10")
    client = Client()
    ask(client, world.applicant.email)
    form = client.get(link_in(mailoutbox[-1]), follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    locked = Client().post("/login/", {"username": "applicant", "password": NEW}, REMOTE_ADDR="192.0.2.10")
    assert locked.status_code == 429
    # An officer who resets the password is still asked for the authenticator's code.
    client = Client()
    ask(client, world.officer.email)
    form = client.get(link_in(mailoutbox[-1]), follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    officer = Client()
    assert officer.post("/login/", {"username": "officer", "password": NEW}).status_code == 302
    assert officer.get("/")["Location"].startswith("/login/otp/")


def test_a_failed_login_keeps_the_username(world):
    page = Client().post("/login/", {"username": "applicant", "password": "wrong"}).content.decode()
    assert 'value="applicant"' in page and 'href="/password-reset/"' in page
