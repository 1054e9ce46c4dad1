"""The complaint form's refusals are worded for a person, and in Urdu for a reader in Urdu."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone, translation

from tests.auth import login
from tests.events import LAHORE, located

URDU = re.compile(r"[\u0600-\u06ff]")


def _refused(client, reg, past_event) -> str:
    response = client.post(
        "/complaints/new/",
        {
            "registration": reg.reference,
            "event": str(past_event.pk),
            "happened_at": timezone.localtime(past_event.starts_at + timedelta(hours=1)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
            "service": "",
            "service_text": "",
            "description": "",
        },
    )
    assert response.status_code == 400
    return response.content.decode()


def test_the_form_says_what_to_choose_without_naming_fields_as_the_api_does(client, world, past_event):
    reg = located(world, "14.1.105.0/24", LAHORE)
    login(client, world.applicant)
    html = _refused(client, reg, past_event)
    assert "Choose the service that failed, or describe it in words." in html
    assert "service_text" not in re.sub(r'(name|id|for)="[^"]*"', "", html)


def test_the_form_errors_are_in_urdu_for_a_reader_in_urdu(client, world, past_event):
    reg = located(world, "14.1.105.0/24", LAHORE)
    login(client, world.applicant)
    client.post("/i18n/setlang/", {"language": "ur", "next": "/complaints/new/"})
    html = _refused(client, reg, past_event)
    with translation.override("ur"):
        service = translation.gettext("Choose the service that failed, or describe it in words.")
        description = translation.gettext("Describe what happened.")
    assert URDU.search(service) and service in html and description in html
    assert "Choose the service" not in html
