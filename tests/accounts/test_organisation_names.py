"""Organisation names: stored in NFKC, refused with text-direction controls (naming the field), and
look-alike or duplicate names shown to the agency's reviewers and the officers, never to the applicant."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.auth import login
from tests.factories import put_documents_on_file
from tests.workflow import draft
from vpnregistry.accounts import onboarding
from vpnregistry.accounts.authentication import issue_token
from vpnregistry.accounts.models import Organisation
from vpnregistry.accounts.names import name_skeleton
from vpnregistry.applications import services
from vpnregistry.audit.models import AuditEvent
from vpnregistry.errors import InvalidInput

SIGNUP = {
    "category": "company",
    "email": "admin@names.example",
    "username": "names-admin",
    "password": "a long and unusual passphrase 2026",
}


def test_a_name_is_stored_in_nfkc(world):
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in "Shalimar")
    user = onboarding.organisation_register(name=f"{fullwidth}  Soft\ufb01", **SIGNUP)
    assert user.organisation.name == "Shalimar Softfi"


@pytest.mark.parametrize("control", ["\u202e", "\u2066", "\u200f", "\u061c"])
def test_text_direction_controls_are_refused_naming_the_field(world, control):
    before = Organisation.objects.count()
    with pytest.raises(InvalidInput) as exc:
        onboarding.organisation_register(name=f"Bank{control}knaB", **SIGNUP)
    (message,) = exc.value.errors["name"]
    assert f"U+{ord(control):04X}" in message and "direction" in message
    assert Organisation.objects.count() == before
    # The portal and the API say so beside the field too.
    page = Client().post("/signup/", {**SIGNUP, "name": f"Bank{control}knaB"})
    assert f"U+{ord(control):04X}" in page.content.decode()
    api = world.client(None).post("/api/v1/signup/", {**SIGNUP, "name": f"Bank{control}knaB"}, format="json")
    assert api.status_code == 400 and "name" in api.json()


def test_urdu_names_keep_their_joiners(world):
    name = "\u0631\u0627\u0648\u06cc\u200c\u0633\u0627\u0641\u0679"  # Urdu, with a non-joiner
    user = onboarding.organisation_register(name=name, **SIGNUP)
    assert user.organisation.name == name


def test_skeletons_match_case_spacing_and_look_alike_letters():
    plain = name_skeleton("Ravi Software")
    assert name_skeleton("RAVI  software") == plain
    assert name_skeleton("R\u0430v\u0456 Software") == plain  # Cyrillic a and i
    assert name_skeleton("Rav\u03b9 S\u03bfftware") == plain  # Greek iota and omicron
    assert name_skeleton("Ravi S0ftware") == plain
    assert name_skeleton("Indus Software") != plain


@pytest.mark.parametrize("name", ["ravi software", "R\u0430v\u0456 Software"])
def test_look_alike_and_duplicate_names_are_shown_to_reviewers_only(world, name):
    # The world's organisation is "Ravi Software"; a sign-up passing for it is accepted as any other
    # (sign-up tells nothing), and flagged where the agency and the officer look.
    user = onboarding.organisation_register(name=name, **SIGNUP)
    newcomer = user.organisation
    signup = AuditEvent.objects.get(action="organisation.signup", object_id=str(newcomer.pk))
    assert signup.data["names_alike"] == [world.org.pk]
    user.is_active = True
    user.save()
    put_documents_on_file(newcomer, user=user)
    application = draft(world, "14.1.105.7", user=user)
    services.application_submit(actor=user, application=application)
    for reviewer in (world.agency, world.officer):
        body = world.client(reviewer).get(f"/api/v1/applications/{application.pk}/").json()
        assert body["names_alike"] == [{"id": world.org.pk, "name": "Ravi Software"}]
        page = login(Client(), reviewer).get(f"/applications/{application.pk}/").content.decode()
        assert 'id="names-alike"' in page and "Ravi Software" in page
    own = world.client(None)
    own.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user)}")
    own = own.get(f"/api/v1/applications/{application.pk}/").json()
    assert own["names_alike"] == []
    page = login(Client(), user).get(f"/applications/{application.pk}/").content.decode()
    assert 'id="names-alike"' not in page
