"""The portal's step views (steps.step_view): what the service is given, where the person is sent back,
and forms that only shape the input."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import reverse
from django.utils.translation import gettext_lazy

from vpnregistry.errors import NotAllowed, WrongState
from vpnregistry.portal.forms import DecideForm, MemberAdminForm, NoInputForm, ReasonForm
from vpnregistry.portal.steps import FAILED_FORM, Load, step_view


def _request(user, data=None, method="post"):
    request = getattr(RequestFactory(), method)("/", data or {})
    SessionMiddleware(lambda r: None).process_request(request)
    request._messages = FallbackStorage(request)
    request.user = user
    return request


def _said(request) -> list[str]:
    return [str(m) for m in get_messages(request)]


def _cleaned(form_class, data: dict) -> dict:
    form = form_class(data)
    assert form.is_valid()
    return form.cleaned_data


def test_a_box_is_ticked_only_by_the_value_its_page_sends():
    for sent, ticked in [("on", True), ("", False), ("yes", False), ("true", False), ("1", False)]:
        assert _cleaned(DecideForm, {"acknowledge_suspension": sent})["acknowledge_suspension"] is ticked
    assert _cleaned(DecideForm, {})["acknowledge_suspension"] is False
    for sent, ticked in [("1", True), ("on", False), ("true", False), ("0", False)]:
        assert _cleaned(MemberAdminForm, {"admin": sent})["admin"] is ticked


def test_text_goes_to_the_service_as_sent_and_nothing_is_refused():
    # The service strips and checks; a form that refused would answer before its check of the role.
    assert _cleaned(ReasonForm, {"reason": "  as typed \n"}) == {"reason": "  as typed \n"}
    assert _cleaned(ReasonForm, {}) == {"reason": ""}
    assert _cleaned(ReasonForm, {"reason": "x" * 100_000})["reason"] == "x" * 100_000
    decided = _cleaned(DecideForm, {"decision": " approve", "reason_code": "nonsense"})
    assert decided == {
        "decision": " approve",
        "reason": "",
        "reason_code": "nonsense",
        "acknowledge_suspension": False,
    }
    assert _cleaned(NoInputForm, {"anything": "ignored"}) == {}


def test_the_service_is_given_the_actor_the_object_the_urls_parts_and_the_fields(world):
    user, seen = world.officer, {}
    view = step_view(
        ReasonForm,
        lambda **kwargs: seen.update(kwargs),
        load=Load("thing", lambda user, pk, step: f"thing {pk} for {user.username}"),
        then="portal:registration-detail",
        then_pk=lambda thing: 7,
        success=gettext_lazy("Saved."),
    )
    request = _request(user, {"reason": "because", "other": "not read"})
    response = view(request, pk=3, step="suspend")
    assert seen == {
        "actor": user,
        "thing": f"thing 3 for {user.username}",
        "step": "suspend",
        "reason": "because",
    }
    assert response.status_code == 302 and response.url == reverse(
        "portal:registration-detail", kwargs={"pk": 7}
    )
    assert _said(request) == ["Saved."]


def test_a_step_without_an_object_says_done_or_what_the_service_refused(world):
    user = world.officer
    done = step_view(NoInputForm, lambda *, actor: None, then="portal:failed-mail")
    request = _request(user)
    assert done(request).url == reverse("portal:failed-mail") and _said(request) == ["Done."]

    def refuse(*, actor):
        raise WrongState("Not now.")

    request = _request(user)
    assert step_view(NoInputForm, refuse, then="portal:failed-mail")(request).url == reverse(
        "portal:failed-mail"
    )
    assert _said(request) == ["Not now."]


def test_a_form_that_refuses_is_a_mistake_shown_in_its_form_and_the_service_is_not_called(world):
    class Days(forms.Form):
        days = forms.IntegerField()

    calls = []
    view = step_view(
        Days, lambda **kwargs: calls.append(kwargs), then="portal:turnaround", error_form="target"
    )
    request = _request(world.officer, {"days": "many"})
    response = view(request)
    assert response.url == reverse("portal:turnaround") + "#target-form" and calls == []
    assert request.session[FAILED_FORM]["form"] == "target"
    assert list(request.session[FAILED_FORM]["errors"]) == ["days"]


def test_refusals_before_the_service_login_post_only_and_the_loader(world):
    calls = []

    def refuse(user, pk):
        raise NotAllowed("Not yours.")

    view = step_view(
        NoInputForm, lambda **kwargs: calls.append(kwargs), load=Load("x", refuse), then="portal:home"
    )
    with pytest.raises(PermissionDenied):
        view(_request(world.officer), pk=1)
    anonymous = view(_request(AnonymousUser()), pk=1)
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("portal:login"))
    assert view(_request(world.officer, method="get"), pk=1).status_code == 405
    assert calls == []
