"""Hypothesis drives the portal's application form: arbitrary text in every field.

Whatever is typed, the page answers with a draft (a redirect, every filled row saved as typed) or
with the form again, each error beside the field it is about and nothing written: never a 500,
never half an application. (NUL, which no field takes, is refused for the whole request first.)
Rows of good values are mixed in so that both outcomes are reached.
"""

from __future__ import annotations

import unicodedata

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.auth import login
from vpnregistry.applications.models import Application, Resource
from vpnregistry.audit.models import AuditEvent
from vpnregistry.csvcells import formula_reason

# In the world's operators' space, broad enough for a company, none overlapping another.
GOOD_VALUES = ["14.1.104.0/24", "14.1.105.0/25", "27.0.185.0/24", "14.192.130.0/24", "2001:dd8:1c::/48"]
GOOD_IDS = ["SUB-1", "ACC 1001/B", "۱۲۳۴۵"]
# Characters that have broken forms elsewhere: NUL, controls, zero-width, right-to-left marks, slashes.
AWKWARD = "\x00\x01\x1b\x7f\u200b\u200f\u2028\t\r\n /:.%#'\"<>&1aZ"
FORM_EXAMPLES = max(10, settings.default.max_examples // 4)


def texts(max_size):
    return st.one_of(st.text(max_size=max_size), st.text(st.sampled_from(AWKWARD), max_size=max_size))


rows = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(GOOD_VALUES), st.sampled_from([f" {v} " for v in GOOD_VALUES]), texts(120)),
        st.one_of(st.sampled_from(GOOD_IDS), texts(80)),
    ),
    max_size=4,
)


def _subscriber_ok(text: str) -> bool:
    """What the service takes: 1 to 64 characters, no control characters, nothing a spreadsheet runs."""
    text = text.strip()
    return (
        0 < len(text) <= 64
        and not any(unicodedata.category(c) in {"Cc", "Cs"} for c in text)
        and formula_reason(text) is None
    )


def _expected(typed):
    """(filled rows' positions, whether the application must be accepted)."""
    filled = [i for i, (v, s) in enumerate(typed) if v.strip() or s.strip()]
    seen = set()
    acceptable = True
    for i in filled:
        value, subscriber = typed[i][0].strip(), typed[i][1]
        good_value = value in GOOD_VALUES and value not in seen
        seen.add(value)
        acceptable &= good_value and _subscriber_ok(subscriber)
    return filled, bool(filled) and acceptable


def _post(client, typed, total=None):
    data = {
        "form-TOTAL_FORMS": str(len(typed)) if total is None else total,
        "form-INITIAL_FORMS": "0",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
    }
    for i, (value, subscriber) in enumerate(typed):
        data[f"form-{i}-value"] = value
        data[f"form-{i}-subscriber_id"] = subscriber
    return client.post("/applications/new/", data)


def _counts():
    return Application.objects.count(), Resource.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def applicant_client(client, world):
    login(client, world.applicant)
    return client


@settings(max_examples=FORM_EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed=rows)
def test_any_text_gives_a_draft_or_errors_beside_their_fields(applicant_client, typed):
    filled, accept = _expected(typed)
    with transaction.atomic():
        before = _counts()
        response = _post(applicant_client, typed)
        if any("\x00" in text for row in typed for text in row):
            # Refused before any view reads it (vpnregistry.middleware): no field takes NUL.
            assert response.status_code == 400
            assert _counts() == before
        elif accept:
            assert response.status_code == 302, response.content[:2000]
            application = Application.objects.latest("id")
            assert response["Location"] == f"/applications/{application.pk}/"
            saved = list(application.resources.order_by("id").values_list("value", "subscriber_id"))
            assert saved == [(typed[i][0].strip(), typed[i][1].strip()) for i in filled]
            assert Application.objects.count() == before[0] + 1
        else:
            assert response.status_code == 200
            assert _counts() == before, "a refused form wrote rows"
            formset = response.context["formset"]
            errors = {i: form.errors for i, form in enumerate(formset.forms) if form.errors}
            assert errors or formset.non_form_errors()
            for i, form_errors in errors.items():
                value, subscriber = typed[i]
                assert set(form_errors) <= {"value", "subscriber_id"}
                if "subscriber_id" in form_errors:
                    assert not _subscriber_ok(subscriber)
                if "value" in form_errors:  # not a good value, or one given twice, or the row half-empty
                    assert (
                        value.strip() not in GOOD_VALUES
                        or not value.strip()
                        or ([t[0].strip() for t in typed[:i]].count(value.strip()) > 0)
                    ), form_errors
            if not filled:
                assert formset.non_form_errors()
        transaction.set_rollback(True)


@settings(max_examples=FORM_EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed=rows, total=st.one_of(st.text(max_size=8), st.integers(-5, 3000).map(str)))
def test_a_tampered_management_form_is_refused_not_a_crash(applicant_client, typed, total):
    with transaction.atomic():
        before = _counts()
        response = _post(applicant_client, typed, total=total)
        assert response.status_code in {200, 302, 400}
        if response.status_code != 302:
            assert _counts() == before
        transaction.set_rollback(True)


# The officer's event form reads its fields one by one and hands them to the service as typed.
event_forms = st.fixed_dictionaries(
    {
        "title": texts(210),
        "legal_reference": texts(40),
        "description": texts(60),
        "starts_at": st.one_of(st.sampled_from(["2026-12-01T09:00", "0001-01-01T00:00"]), texts(25)),
        "ends_at": st.one_of(st.sampled_from(["2026-12-01T10:00", "9999-12-31T23:59-05:00"]), texts(25)),
        "services": st.lists(st.one_of(st.sampled_from(["mobile-data", "whatsapp"]), texts(12)), max_size=3),
        "districts": st.lists(st.one_of(st.sampled_from(["pb-lahore"]), texts(12)), max_size=2),
        "national": st.sampled_from(["on", ""]),
    }
)


@settings(max_examples=FORM_EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=event_forms)
def test_any_event_form_is_recorded_or_refused_whole(client, world, form):
    from vpnregistry.restrictions.models import RestrictionEvent

    login(client, world.officer)
    with transaction.atomic():
        before = RestrictionEvent.objects.count(), AuditEvent.objects.count()
        response = client.post("/events/new/", form)
        assert response.status_code in {302, 400}
        if response.status_code == 400:
            assert (RestrictionEvent.objects.count(), AuditEvent.objects.count()) == before
        else:
            assert RestrictionEvent.objects.count() == before[0] + 1
        transaction.set_rollback(True)
