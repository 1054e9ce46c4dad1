"""The sentences people read for refusals, in English and in Urdu: the netblocks codes worded by the
Django side, API and form refusals, durations and notifications in the reader's language."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client, TestCase
from django.utils import timezone, translation
from django.utils.timesince import timesince
from rest_framework.exceptions import Throttled

from tests.auth import login
from tests.netblocks.test_netblocks_codes import CASES
from tests.workflow import approved, draft
from vpnregistry import messages, netblocks
from vpnregistry.accounts.models import User
from vpnregistry.api.errors import exception_handler
from vpnregistry.netblocks import LineError, ParseError, parse_text
from vpnregistry.notifications.models import Notification
from vpnregistry.registrations import services as registrations
from vpnregistry.registrations.models import Registration
from vpnregistry.timeutil import parse_time

URDU = re.compile(r"[\u0600-\u06ff]")  # Arabic script, in which Urdu is written


def _refusal(parse, text) -> ParseError:
    with pytest.raises(ParseError) as exc:
        parse(text)
    return exc.value


def test_every_netblocks_code_has_a_sentence():
    assert messages.CODES == netblocks.CODES


@pytest.mark.parametrize(("parse", "text", "code", "params", "english"), CASES)
def test_each_refusal_reads_in_english_and_in_urdu(parse, text, code, params, english):
    err = _refusal(parse, text)
    with translation.override("en"):
        in_english = messages.address_error(err)
    with translation.override("ur"):
        in_urdu = messages.address_error(err)
    # Worded here, not the library's text passed through; every placeholder filled in both.
    assert in_english != str(err) and "%(" not in in_english and "%(" not in in_urdu
    # The values quoted may hold any script (an Urdu digit typed by mistake): the words around them.
    words = [(in_english, in_urdu)]
    for value in err.params.values():
        if isinstance(value, str) and value:
            words = [(en.replace(value, ""), ur.replace(value, "")) for en, ur in words]
    assert URDU.search(words[0][1]) and not URDU.search(words[0][0])
    if isinstance(err.params.get("value"), str):
        assert err.params["value"] in in_english and err.params["value"] in in_urdu


def test_the_special_purpose_sentence_says_why_and_what_to_register_instead():
    err = _refusal(netblocks.check_prefix, "64:ff9b::c000:200/120")
    with translation.override("en"):
        assert messages.address_error(err) == (
            "64:ff9b::c000:200/120 is in 64:ff9b::/96, a special-purpose block (ipv4-ipv6-translation). "
            "It is a NAT64 prefix: its addresses stand for IPv4 addresses. This one stands for "
            "192.0.2.0/24: register that IPv4 address itself."
        )


def test_a_bad_line_is_named_by_its_number_in_either_language():
    [error] = parse_text(b"192.0.2.0/24\n1.2.3.256\n").errors
    with translation.override("en"):
        assert messages.line_error(error) == (
            "line 2: 1.2.3.256 is not an IPv4 address: 256 is larger than 255, the largest of its four "
            "numbers."
        )
    with translation.override("ur"):
        urdu = messages.line_error(error)
    assert urdu.startswith("سطر 2: ") and "1.2.3.256" in urdu and "255" in urdu


def test_an_unknown_code_falls_back_to_the_english_text_not_to_nothing():
    assert messages.address_error(ParseError("something new", "brand_new_code", {})) == "something new"
    assert messages.address_error(LineError(1, "x", "the reason", "ipv4_not_decimal", {})) == "the reason"


def test_the_api_words_an_address_refusal_in_the_request_language(world):
    def refusal(language):
        response = world.client(world.applicant).post(
            "/api/v1/applications/",
            {"resources": [{"value": "10.1.2.0/24", "subscriber_id": "SUB-9"}]},
            format="json",
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert response.status_code == 400
        return response.json()["resources"][0]["value"][0]

    err = _refusal(netblocks.check_prefix, "10.1.2.0/24")
    with translation.override("ur"):
        expected = messages.address_error(err)
    assert refusal("ur") == expected and URDU.search(expected)
    assert refusal("en").startswith("10.1.2.0/24 is in 10.0.0.0/8, a special-purpose block (private-use).")


def test_api_refusals_follow_the_request_language(world):
    client = world.client(world.applicant)
    missing = client.get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE="ur")
    assert missing.status_code == 404 and missing.json() == {"detail": "نہیں ملا۔"}  # noqa: RUF001
    bad_time = world.client(world.operator).get(
        "/api/v1/exemptions/check", {"address": "14.1.105.1", "at": "soon"}, HTTP_ACCEPT_LANGUAGE="ur"
    )
    assert bad_time.status_code == 400
    [message] = bad_time.json()["at"]
    assert message.startswith("soon ") and URDU.search(message) and "2026-11-28T09:00" in message
    anonymous = world.client(None).get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="ur")
    assert anonymous.status_code == 401 and URDU.search(anonymous.json()["detail"])


def test_a_throttled_answer_counts_its_seconds_in_the_language_of_the_moment():
    with translation.override("en"):
        assert exception_handler(Throttled(wait=1), {}).data == {
            "detail": "Too many requests: try again in 1 second."
        }
        assert (
            exception_handler(Throttled(wait=42), {}).data["detail"]
            == "Too many requests: try again in 42 seconds."
        )
    with translation.override("ur"):
        response = exception_handler(Throttled(wait=42), {})
    assert URDU.search(response.data["detail"]) and "42" in response.data["detail"]
    assert response.data["detail"].code == "throttled" and response["Retry-After"] == "42"


def test_times_are_refused_with_an_example_in_either_language():
    with translation.override("en"), pytest.raises(ValueError) as exc:
        parse_time("tomorrow")
    assert str(exc.value) == (
        "tomorrow is not a time: write the date, the letter T and the time, for example 2026-11-28T09:00 "
        "(Pakistan time)."
    )
    with translation.override("ur"), pytest.raises(ValueError) as exc:
        parse_time("")
    assert URDU.search(str(exc.value)) and "2026-11-28T09:00" in str(exc.value)


def test_durations_are_counted_in_urdu_with_their_plurals():
    now = timezone.now()
    with translation.override("en"):
        assert timesince(now, now) == "0\xa0minutes"
    with translation.override("ur"):
        assert timesince(now, now) == "0\xa0منٹ"
        assert timesince(now - timedelta(hours=3, minutes=1), now) == "3\xa0گھنٹے، 1\xa0منٹ"  # noqa: RUF001


@pytest.mark.django_db
def test_the_login_error_is_in_urdu():
    client = Client(HTTP_ACCEPT_LANGUAGE="ur")
    page = client.post("/login/", {"username": "nobody", "password": "wrong"}).content.decode()
    with translation.override("ur"):
        expected = translation.gettext(
            "Please enter a correct %(username)s and password. Note that both fields may be case-sensitive."
        ) % {"username": "صارف نام"}
    assert URDU.search(expected) and expected in page
    assert "Please enter a correct" not in page


def test_a_notification_is_in_its_reader_language_with_its_state_and_counts(world):
    with TestCase.captureOnCommitCallbacks(execute=True):
        application = approved(world, "14.1.105.0/24")
    registration = Registration.objects.get(resource__application=application)
    User.objects.filter(pk=world.applicant.pk).update(language="ur")
    with TestCase.captureOnCommitCallbacks(execute=True):
        registrations.registration_change_state(
            actor=world.officer, registration=registration, step="suspend", reason="عدالتی حکم"
        )
    notice = Notification.objects.filter(recipient=world.applicant).latest("pk")
    assert notice.subject == f"{registration.reference}: معطل"
    assert notice.body.startswith(f"رجسٹریشن {registration.reference} (14.1.105.0/24) ")
    assert URDU.search(notice.body.split("\n")[0].replace("معطل", "")) and "معطل" in notice.body
    isolated = "\u2068" + "عدالتی حکم" + "\u2069"  # the typed reason isolated (FSI ... PDI)
    assert notice.body.endswith("وجہ: " + isolated)
    # A reminder counts its days with the plural of its language, and names the zone of its time.
    User.objects.filter(pk=world.applicant.pk).update(language="en")
    Registration.objects.filter(pk=registration.pk).update(state="active")
    registrations._notify_expiry(Registration.objects.get(pk=registration.pk), 1)
    reminder = Notification.objects.filter(recipient=world.applicant).latest("pk")
    assert reminder.subject == f"{registration.reference} expires in 1 day"
    assert re.search(r"expires on \d{4}-\d\d-\d\d \d\d:\d\d PKT\.", reminder.body)


def test_refused_and_missing_pages_say_so_in_the_reader_language(world):
    client = login(Client(), world.auditor)
    client.post("/i18n/setlang/", {"language": "ur", "next": "/"})
    missing = client.get("/no-such-page/")
    refused = client.get("/queue/")  # auditors read; they have no queue
    assert (missing.status_code, refused.status_code) == (404, 403)
    with translation.override("ur"):
        not_found, not_open = (
            translation.gettext("Page not found"),
            translation.gettext("Not open to your account"),
        )
    assert URDU.search(not_found) and not_found in missing.content.decode()
    assert URDU.search(not_open) and not_open in refused.content.decode()
    assert 'dir="rtl"' in missing.content.decode() and "Forbidden" not in refused.content.decode()


def test_a_draft_is_named_in_the_reader_language(world):
    application = draft(world, "14.1.105.0/24")
    with translation.override("en"):
        assert str(application) == f"draft #{application.pk}"
    with translation.override("ur"):
        assert str(application) == f"مسودہ #{application.pk}"
