"""A language per person: stored by the switch and at sign-up, restored at login, used for what is
written to them away from their own request, and changed by nobody but themselves."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone, translation
from rest_framework.test import APIClient

from tests.auth import fresh_code, login, totp_secret
from tests.factories import PASSWORD, UserFactory
from tests.workflow import approved, draft
from vpnregistry.accounts import language, onboarding
from vpnregistry.accounts.models import Role, User
from vpnregistry.allowlist.publication import sweep
from vpnregistry.applications import queues, services
from vpnregistry.notifications import services as notifications
from vpnregistry.notifications.models import Notification
from vpnregistry.registrations.models import Registration

COOKIE = settings.LANGUAGE_COOKIE_NAME
# Any letter of the Arabic script: Urdu text holds some, English text none.
URDU = re.compile(r"[\u0600-\u06ff]")


def urdu(text: str) -> bool:
    return bool(URDU.search(text))


def stored(user) -> str:
    return User.objects.values_list("language", flat=True).get(pk=user.pk)


def switch(client, code: str, next_url: str = "/"):
    return client.post("/i18n/setlang/", {"language": code, "next": next_url})


# --- the switch -------------------------------------------------------------------------------


def test_an_account_reads_in_english_until_its_holder_chooses(world):
    assert stored(world.applicant) == "en" == settings.LANGUAGE_CODE
    assert language.of(world.applicant) == "en"


def test_the_switch_stores_the_choice_on_the_signed_in_account(world):
    client = login(Client(), world.applicant)
    response = switch(client, "ur", "/applications/")
    assert response.status_code == 302 and response["Location"] == "/applications/"
    assert response.cookies[COOKIE].value == "ur"
    assert stored(world.applicant) == "ur"
    assert b'<html lang="ur" dir="rtl">' in client.get("/applications/").content
    switch(client, "en")
    assert stored(world.applicant) == "en"


def test_the_switch_works_for_anyone_and_stores_nothing_unknown(world):
    anonymous = Client()
    assert switch(anonymous, "ur").cookies[COOKIE].value == "ur"  # no account: the cookie only
    client = login(Client(), world.applicant)
    switch(client, "fr")
    switch(client, "")
    assert stored(world.applicant) == "en"


def test_a_session_owing_its_second_step_changes_the_account_only_once_the_code_is_given(world):
    client = login(Client(), world.officer, second_factor=False)
    response = switch(client, "ur")
    assert response.status_code == 302 and response.cookies[COOKIE].value == "ur"
    client.get("/login/otp/")
    assert stored(world.officer) == "en"  # not yet proved to be the account's holder
    login(client, world.officer)  # the code given
    client.get("/")
    assert stored(world.officer) == "ur"


def test_a_language_chosen_on_the_login_page_stays_and_becomes_the_accounts(world):
    client = Client()
    switch(client, "ur", "/login/")
    response = client.post("/login/", {"username": "applicant", "password": PASSWORD})
    assert response.status_code == 302 and COOKIE not in response.cookies  # the choice stands
    assert b'<html lang="ur" dir="rtl">' in client.get("/").content
    assert stored(world.applicant) == "ur"
    # And the next login, on a device where nothing was chosen, is in it.
    laptop = Client()
    assert (
        laptop.post("/login/", {"username": "applicant", "password": PASSWORD}).cookies[COOKIE].value == "ur"
    )


def test_a_staff_members_choice_before_logging_in_is_stored_after_the_second_step(world):
    client = Client()
    switch(client, "ur", "/login/")
    assert client.post("/login/", {"username": "officer", "password": PASSWORD}).status_code == 302
    assert b'<html lang="ur" dir="rtl">' in client.get("/login/otp/").content
    assert stored(world.officer) == "en"
    secret = totp_secret(world.officer)
    response = client.post("/login/otp/", {"token": fresh_code(secret), "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert stored(world.officer) == "ur"
    assert b'<html lang="ur" dir="rtl">' in client.get("/").content


def test_switching_changes_nobody_elses_account(world):
    client = login(Client(), world.applicant)
    switch(client, "ur")
    assert stored(world.applicant) == "ur"
    assert stored(world.other_applicant) == "en" and stored(world.officer) == "en"


# --- sign-up and invitations ----------------------------------------------------------------------

SIGNUP = {
    "name": "Shalimar Software (Pvt) Ltd",
    "category": "company",
    "ntn": "1234567-8",
    "email": "admin@shalimar.example",
    "username": "shalimar-admin",
    "password": "a long and unusual passphrase 2026",
}


def test_signing_up_in_the_portal_in_urdu_stores_urdu_and_mails_the_link_in_urdu(
    world, django_capture_on_commit_callbacks
):
    client = Client()
    client.cookies[COOKIE] = "ur"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/signup/", SIGNUP)
    assert response.status_code == 200
    user = User.objects.get(username="shalimar-admin")
    assert user.language == "ur"
    assert [m.to for m in mail.outbox] == [["admin@shalimar.example"]]
    assert urdu(mail.outbox[0].subject) and urdu(mail.outbox[0].body)


def test_signing_up_in_english_stores_english(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/signup/", SIGNUP, HTTP_ACCEPT_LANGUAGE="en")
    assert User.objects.get(username="shalimar-admin").language == "en"


def test_signing_up_through_the_api_stores_the_accept_language(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = APIClient().post("/api/v1/signup/", SIGNUP, format="json", HTTP_ACCEPT_LANGUAGE="ur-PK")
    assert response.status_code == 202
    assert User.objects.get(username="shalimar-admin").language == "ur"


def test_a_new_sign_up_link_is_in_the_accounts_language_whoever_asks(
    world, django_capture_on_commit_callbacks
):
    with translation.override("ur"), django_capture_on_commit_callbacks(execute=True):
        onboarding.organisation_register(**SIGNUP)
    mail.outbox.clear()
    with translation.override("en"):  # asked again from an English page
        onboarding.verification_resend(email=SIGNUP["email"])
    assert urdu(mail.outbox[-1].subject)


def test_a_sign_up_with_a_taken_address_is_told_to_its_holder_in_the_holders_language(
    world, django_capture_on_commit_callbacks
):
    UserFactory(username="holder", email="taken@example.org", language="ur", organisation=world.org)
    mail.outbox.clear()
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        onboarding.organisation_register(**{**SIGNUP, "email": "taken@example.org"})
    assert mail.outbox[-1].to == ["taken@example.org"] and urdu(mail.outbox[-1].body)


def test_accepting_an_invitation_in_urdu_stores_urdu(world, django_capture_on_commit_callbacks):
    User.objects.filter(pk=world.applicant.pk).update(is_org_admin=True)
    world.applicant.refresh_from_db()
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        onboarding.member_invite(actor=world.applicant, email="new.person@example.org")
    assert not urdu(mail.outbox[-1].body)  # in the admin's language: the invited have none yet
    token = re.search(r"/invitations/([^/\s]+)/", mail.outbox[-1].body).group(1)
    client = Client()
    client.cookies[COOKIE] = "ur"
    response = client.post(f"/invitations/{token}/", {"username": "new-person", "password": PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(username="new-person").language == "ur"


# --- login ------------------------------------------------------------------------------------


def test_login_restores_the_stored_language_on_a_new_device(world):
    phone = login(Client(), world.applicant)
    switch(phone, "ur")
    laptop = Client()  # no cookie: English, as the browser asks
    assert b'<html lang="en"' in laptop.get("/login/", HTTP_ACCEPT_LANGUAGE="en").content
    response = laptop.post("/login/", {"username": "applicant", "password": PASSWORD})
    assert response.status_code == 302 and response.cookies[COOKIE].value == "ur"
    assert b'<html lang="ur" dir="rtl">' in laptop.get("/", HTTP_ACCEPT_LANGUAGE="en").content


def test_login_in_a_fresh_browser_restores_english_for_an_english_reader(world):
    client = Client()
    response = client.post(
        "/login/", {"username": "applicant", "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="ur"
    )
    assert response.cookies[COOKIE].value == "en"
    assert b'<html lang="en"' in client.get("/", HTTP_ACCEPT_LANGUAGE="ur").content


def test_a_browser_already_reading_in_a_language_keeps_it_at_login(world):
    """Someone chose it in this browser session (a shared computer): the pages do not change language
    under the next person, whose account is left as it is."""
    User.objects.filter(pk=world.other_applicant.pk).update(language="ur")
    client = Client()
    switch(client, "en", "/login/")
    client.post("/logout/")  # the session ends; the browser's language stays
    response = client.post("/login/", {"username": "other-applicant", "password": PASSWORD})
    assert response.status_code == 302 and COOKIE not in response.cookies
    assert b'<html lang="en"' in client.get("/").content
    assert stored(world.other_applicant) == "ur"


def test_a_failed_login_sets_no_language(world):
    User.objects.filter(pk=world.applicant.pk).update(language="ur")
    response = Client().post("/login/", {"username": "applicant", "password": "wrong"})
    assert COOKIE not in response.cookies


def test_a_test_login_leaves_the_callers_language_alone(world):
    User.objects.filter(pk=world.applicant.pk).update(language="ur")
    world.applicant.refresh_from_db()
    with translation.override("en"):
        login(Client(), world.applicant)
        assert translation.get_language() == "en"


# --- written away from the request ----------------------------------------------------------------


@pytest.fixture
def readers(world):
    """The applicant organisation: one member reading Urdu, one English; and an Urdu-reading reviewer."""
    User.objects.filter(pk=world.applicant.pk).update(language="ur")
    english = UserFactory(username="english-member", role=Role.APPLICANT, organisation=world.org)
    User.objects.filter(pk=world.agency.pk).update(language="ur")
    return {"urdu": world.applicant, "english": english, "reviewer": world.agency}


def emailed(user):
    """The latest email sent to the user (sent at once: no broker in the tests, as a worker would)."""
    return [m for m in mail.outbox if m.to == [user.email]][-1]


def all_emailed(user) -> list:
    return [m for m in mail.outbox if m.to == [user.email]]


def test_a_transition_tells_each_member_in_their_own_language_whoever_acted_in_which(
    world, readers, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    application = draft(world, "14.1.105.0/24", user=readers["english"])
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        services.application_submit(actor=readers["english"], application=application)  # in English
    for_urdu, for_english = emailed(readers["urdu"]), emailed(readers["english"])
    assert urdu(for_urdu.subject) and urdu(for_urdu.body)
    assert not urdu(for_english.subject) and not urdu(for_english.body)
    assert "Application" in for_english.body and "درخواست" in for_urdu.body
    application.refresh_from_db()
    assert (
        application.tracking_number in for_urdu.subject and application.tracking_number in for_english.subject
    )
    assert urdu(emailed(readers["reviewer"]).subject)  # the routed agency's reviewer reads Urdu
    listed = Notification.objects.filter(recipient=readers["urdu"]).latest("id")
    assert urdu(listed.subject) and urdu(listed.body) and listed.subject in for_urdu.subject


def test_an_email_made_outside_a_request_is_in_its_recipients_language(world, readers):
    """As a worker makes it: no request, the registry's default language active."""
    mail.outbox.clear()
    translation.deactivate_all()
    notifications.notify_organisation(
        world.org,
        subject=lambda: translation.gettext("Reason: %(reason)s") % {"reason": "x"},
        body=translation.gettext_lazy("Rejected"),
    )
    # The reason typed is isolated (FSI ... PDI) inside the Urdu sentence, as plain text allows.
    assert emailed(readers["urdu"]).subject == "[vpnregistry] وجہ: \u2068x\u2069"
    assert emailed(readers["urdu"]).body == "مسترد"
    listed = Notification.objects.filter(recipient=readers["urdu"]).latest("id")
    assert (listed.subject, listed.body) == ("وجہ: \u2068x\u2069", "مسترد")
    assert emailed(readers["english"]).subject == "[vpnregistry] Reason: x"
    assert emailed(readers["english"]).body == "Rejected"


def test_text_a_person_typed_reaches_everyone_as_typed(world, readers):
    notifications.notify_organisation(world.org, subject="as typed", body="کچھ بھی and anything")
    assert emailed(readers["urdu"]).subject == emailed(readers["english"]).subject == "[vpnregistry] as typed"


def test_each_language_is_written_once_per_message(world, readers):
    calls = []

    def body() -> str:
        calls.append(translation.get_language())
        return "b"

    for code in ["en", "ur", "en", "ur"]:
        UserFactory(role=Role.APPLICANT, organisation=world.org, language=code)
    notifications.notify_organisation(world.org, subject="s", body=body)
    assert sorted(calls) == ["en", "ur"]
    assert Notification.objects.filter(subject="s").count() == 6


def test_the_sweeps_expiry_reminder_is_in_each_members_language(world, readers):
    approved(world, "14.1.106.0/24")
    soon = Registration.objects.get(value="14.1.106.0/24")
    Registration.objects.filter(pk=soon.pk).update(valid_until=timezone.now() + timedelta(days=6))
    mail.outbox.clear()
    translation.deactivate_all()
    sweep()
    for_urdu, for_english = all_emailed(readers["urdu"]), all_emailed(readers["english"])
    assert len(for_urdu) == len(for_english) == 2  # the 30- and 7-day reminders
    assert all(urdu(m.subject) and urdu(m.body) and soon.reference in m.subject for m in for_urdu)
    assert all("expires in" in m.subject and not urdu(m.body) for m in for_english)


def test_an_escalation_digest_is_in_each_recipients_language(world, readers, settings):
    application = draft(world, "14.1.105.0/24")
    services.application_submit(actor=world.applicant, application=application)
    User.objects.filter(pk=world.officer.pk).update(language="ur")
    mail.outbox.clear()
    translation.deactivate_all()
    queues.escalate(now=timezone.now() + timedelta(days=400))
    assert urdu(emailed(world.officer).subject) and urdu(emailed(world.officer).body)
    assert urdu(emailed(readers["reviewer"]).body)
    english = emailed(world.officer2)
    assert "waiting past their target" in english.subject and not urdu(english.body)


# --- the API ----------------------------------------------------------------------------------


def test_the_api_shows_and_changes_ones_own_language(world):
    client = world.client(world.applicant)
    assert client.get("/api/v1/me/").json()["language"] == "en"
    response = client.patch("/api/v1/me/", {"language": "ur"}, format="json")
    assert response.status_code == 200 and response.json()["language"] == "ur"
    assert stored(world.applicant) == "ur" and stored(world.other_applicant) == "en"
    assert client.get("/api/v1/me/").json()["language"] == "ur"


def test_the_api_refuses_an_unknown_language_naming_the_field(world):
    client = world.client(world.applicant)
    response = client.patch("/api/v1/me/", {"language": "fr"}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and response.json() == {"language": ["The language is en or ur."]}
    assert client.patch("/api/v1/me/", {}, format="json").status_code == 400
    assert stored(world.applicant) == "en"


def test_nobody_changes_anothers_language_through_the_api(world):
    officer = world.client(world.officer)
    admin = world.client(world.applicant)
    User.objects.filter(pk=world.applicant.pk).update(is_org_admin=True)
    member = UserFactory(username="member", role=Role.APPLICANT, organisation=world.org)
    # The URL names nobody: whatever the body says, only the caller's own account changes.
    officer.patch(
        "/api/v1/me/", {"language": "ur", "username": "applicant", "id": world.applicant.pk}, format="json"
    )
    assert stored(world.officer) == "ur" and stored(world.applicant) == "en"
    # A member's page is not a way to it either, for their organisation's admin.
    response = admin.patch(f"/api/v1/organisation/members/{member.pk}/", {"language": "ur"}, format="json")
    assert response.status_code in {403, 404, 405}
    assert stored(member) == "en"
    assert APIClient().patch("/api/v1/me/", {"language": "ur"}, format="json").status_code == 401


def test_an_api_answer_is_in_the_requests_language_not_the_stored_one(world):
    User.objects.filter(pk=world.applicant.pk).update(language="ur")
    client = world.client(world.applicant)
    refused = client.patch("/api/v1/me/", {"language": "fr"}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.json() == {"language": ["The language is en or ur."]}
    in_urdu = client.patch("/api/v1/me/", {"language": "fr"}, format="json", HTTP_ACCEPT_LANGUAGE="ur")
    assert urdu(in_urdu.json()["language"][0])


# --- the helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ur", "ur"),
        ("UR", "ur"),
        ("ur-PK", "ur"),
        ("en_GB", "en"),
        ("fr", None),
        ("", None),
        (None, None),
        (3, None),
    ],
)
def test_supported_reads_a_language_as_one_of_ours_or_none(given, expected):
    assert language.supported(given) == expected
