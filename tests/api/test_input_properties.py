"""Hypothesis drives the API's input parsing: arbitrary JSON where resources and event codes go.

An application's resources reach the service as the client sent them (so that every item's errors
come back in its place); whatever they hold, the answer is a draft or a 400 that names each item's
fields, never a 500 and never half an application. District codes are checked one by one.
"""

from __future__ import annotations

import json
import unicodedata

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vpnregistry.accounts.models import District, Province
from vpnregistry.applications.models import Application, Resource
from vpnregistry.audit.models import AuditEvent
from vpnregistry.restrictions.models import RestrictionEvent, Service

GOOD_VALUES = ["14.1.104.0/24", "27.0.185.0/24", "14.192.130.0/24", "2001:dd8:1c::/48"]
API_EXAMPLES = max(10, settings.default.max_examples // 4)
SETTINGS = settings(max_examples=API_EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text as JSON can carry it: NUL, other controls and lone surrogates included.
awkward = st.text(st.sampled_from("\x00\x07\ud800\udfff\u200b /.:-_1aZ"), max_size=12)
texts = st.one_of(st.text(max_size=30), awkward)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def district_codes():
    return st.sampled_from(["pb-lahore", "sd-karachi-south", "ict-islamabad", "PB-LAHORE", " pb-lahore "])


items = st.one_of(
    st.fixed_dictionaries(
        {
            "value": st.one_of(st.sampled_from(GOOD_VALUES), texts),
            "subscriber_id": st.one_of(st.just("SUB-1"), texts),
        },
        optional={"district": st.one_of(district_codes(), texts)},
    ),
    st.dictionaries(
        st.sampled_from(["value", "subscriber_id", "district", "other"]), json_values, max_size=4
    ),
    json_values,
)
bodies = st.one_of(
    st.fixed_dictionaries({"resources": st.lists(items, max_size=4)}),
    st.fixed_dictionaries({"resources": json_values}),
    json_values,
)


def _counts():
    return Application.objects.count(), Resource.objects.count(), AuditEvent.objects.count()


def _storable(text: str) -> bool:
    return not any(unicodedata.category(c) in {"Cc", "Cs"} for c in text)


@SETTINGS
@given(body=bodies)
def test_any_json_gives_a_draft_or_errors_in_place(world, body):
    client = world.client(world.applicant)
    known = set(District.objects.values_list("code", flat=True))
    with transaction.atomic():
        before = _counts()
        response = client.post(
            "/api/v1/applications/", data=json.dumps(body), content_type="application/json"
        )
        assert response.status_code in {201, 400}, response.content[:2000]
        answer = response.json()
        if response.status_code == 201:
            assert Application.objects.count() == before[0] + 1
            assert len(answer["resources"]) == len(body["resources"])
        else:
            assert _counts() == before, "a refused application wrote rows"
            assert isinstance(answer, dict) and answer
            reasons = answer.get("resources")
            if isinstance(reasons, list) and reasons and isinstance(reasons[0], dict):
                sent = body["resources"]
                assert len(reasons) == len(sent)
                for item, reason in zip(sent, reasons, strict=True):
                    assert set(reason) <= {"value", "subscriber_id", "district", "ported"}
                    if not isinstance(item, dict):
                        assert reason
                        continue
                    code = str(item.get("district") or "").strip()
                    # The district is judged on its own: named exactly when it is not a known code.
                    assert ("district" in reason) == bool(code and code not in known), (code, reason)
        transaction.set_rollback(True)


LIMITS = {"services": 50, "provinces": 10, "districts": 60}  # the serializer's max_length for each


def _readable(code: str, limit: int) -> bool:
    """What a DRF CharField takes: no NUL, no surrogates, not blank, not too long once trimmed."""
    surrogate = any(unicodedata.category(c) == "Cs" for c in code)
    return "\x00" not in code and not surrogate and 0 < len(code.strip()) <= limit


event_codes = st.lists(
    st.one_of(st.sampled_from(["pb", "sd", "pb-lahore", "mobile-data", "whatsapp"]), texts)
)


@SETTINGS
@given(services=event_codes, provinces=event_codes, districts=event_codes)
def test_event_codes_are_found_or_named(world, services, provinces, districts):
    client = world.client(world.officer)
    body = {
        "title": "Order",
        "legal_reference": "Ref 1",
        "services": services,
        "provinces": provinces,
        "districts": districts,
        "starts_at": "2026-12-01T09:00",
        "ends_at": "2026-12-01T10:00",
    }
    known = {
        "services": set(Service.objects.values_list("code", flat=True)),
        "provinces": set(Province.objects.values_list("code", flat=True)),
        "districts": set(District.objects.values_list("code", flat=True)),
    }
    with transaction.atomic():
        before = RestrictionEvent.objects.count()
        response = client.post("/api/v1/events/", data=json.dumps(body), content_type="application/json")
        assert response.status_code in {201, 400}, response.content[:2000]
        if response.status_code == 400:
            assert RestrictionEvent.objects.count() == before
            errors = response.json()
            # When every code is a text the serializer takes, the service judges them all: each
            # field with a code it does not know is named.
            if all(_readable(c, LIMITS[field]) for field in LIMITS for c in body[field]):
                for field in LIMITS:
                    if {c.strip() for c in body[field]} - known[field]:
                        assert field in errors, (field, errors)
        else:
            event = response.json()
            for field in ("services", "provinces", "districts"):
                assert set(event[field]) == {str(c).strip() for c in body[field]} - {""}
        transaction.set_rollback(True)


# --- nesting: counted before anything recurses ------------------------------------------------------

bracket_texts = st.text(st.sampled_from('[]{}"\\ a'), max_size=8)


def _depth_of(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth_of, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth_of, value.values()), default=0)
    return 0


@settings(max_examples=API_EXAMPLES * 4)
@given(
    core=st.recursive(
        st.none() | st.integers() | bracket_texts,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(bracket_texts, inner, max_size=3),
        max_leaves=8,
    ),
    wraps=st.integers(0, 130).flatmap(
        lambda n: st.lists(st.tuples(st.booleans(), bracket_texts), min_size=n, max_size=n)
    ),
)
def test_nesting_is_counted_as_the_decoder_would_see_it(core, wraps):
    # Brackets and escaped quotes inside strings (keys included) are text, not nesting.
    from vpnregistry.api.parsers import MAX_DEPTH, nested_too_deep

    value = core
    for as_list, key in wraps:
        value = [value, key] if as_list else {key: value}
    assert nested_too_deep(json.dumps(value)) == (_depth_of(value) > MAX_DEPTH)
    assert nested_too_deep(json.dumps(value, indent=1)) == (_depth_of(value) > MAX_DEPTH)


# --- formulas in a subscriber ID; text-direction controls in an organisation's name -----------------

FORMULA_STARTS = ["=", "@", "+A", "-A", "+ ", "-("]


@SETTINGS
@given(start=st.sampled_from(FORMULA_STARTS), rest=st.text(st.sampled_from("1+AB()!:"), max_size=8))
def test_a_subscriber_id_a_spreadsheet_would_run_is_refused_in_its_place(world, start, rest):
    client = world.client(world.applicant)
    with transaction.atomic():
        before = _counts()
        response = client.post(
            "/api/v1/applications/",
            {
                "resources": [
                    {"value": "14.1.105.0/24", "subscriber_id": "SUB-1"},
                    {"value": "14.1.106.0/24", "subscriber_id": start + rest},
                ]
            },
            format="json",
        )
        assert response.status_code == 400, response.content
        first, second = response.json()["resources"]
        assert first == {} and "formula" in second["subscriber_id"][0]
        assert _counts() == before
        transaction.set_rollback(True)


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


@SETTINGS
@given(
    before=st.text(st.characters(categories=["L", "N", "Zs"]), max_size=20),
    control=st.sampled_from(BIDI),
    after=st.text(st.characters(categories=["L", "N", "Zs"]), max_size=20),
)
def test_a_name_with_a_text_direction_control_is_refused_naming_it(world, before, control, after):
    from vpnregistry.accounts.models import Organisation

    client = world.client(None)
    with transaction.atomic():
        count = Organisation.objects.count()
        response = client.post(
            "/api/v1/signup/",
            {
                "name": f"{before}{control}{after}",
                "category": "company",
                "email": "someone@example.org",
                "username": "someone",
                "password": "a long and unusual passphrase 2026",
            },
            format="json",
        )
        assert response.status_code == 400, response.content
        assert f"U+{ord(control):04X}" in " ".join(response.json()["name"])
        assert Organisation.objects.count() == count
        transaction.set_rollback(True)
