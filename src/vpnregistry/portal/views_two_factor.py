"""The login's second step (a TOTP code) and setting up an authenticator: thin over accounts.two_factor."""

from __future__ import annotations

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vpnregistry.accounts import two_factor
from vpnregistry.errors import InvalidInput, NotAllowed


class CodeForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"),
        min_length=6,
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "dir": "ltr",
                "autofocus": True,
            }
        ),
    )


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _enrolment(device) -> dict:
    secret = two_factor.base32_secret(device)
    uri = device.config_url
    return {
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "otpauth_uri": uri,
        # An SVG as a data: URI (the CSP's img-src allows data:); no script, no inline style.
        "qr": segno.make(uri, error="m").svg_data_uri(scale=4, border=2),
    }


def _submit(request, form, step):
    """Run one step with a valid form; a refusal or a mistake lands on the form's field."""
    try:
        refusal = step(request, form.cleaned_data["token"])
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    except InvalidInput as exc:
        for message in exc.errors.get("token", []):
            form.add_error("token", message)
        return False
    if refusal is not None:
        form.add_error("token", refusal.message)
        return False
    return True


@login_required
def login_otp(request):
    """`/login/otp/`: the code of the user's authenticator, or setting one up when a staff member has none."""
    user, target = request.user, _next_url(request)
    if user.is_verified():
        return redirect(target)
    device = two_factor.confirmed_device(user)
    if device is None and not two_factor.must_use_totp(user):
        # An applicant whose authenticator was removed: the second step is theirs to choose again.
        request.session.pop(two_factor.SESSION_REQUIRED_KEY, None)
        return redirect(target)
    form = CodeForm(request.POST or None)
    step = two_factor.verify if device is not None else two_factor.confirm_enrolment
    if request.method == "POST" and form.is_valid() and _submit(request, form, step):
        if device is None:
            messages.success(request, _("Two-factor authentication is set up for your account."))
        return redirect(target)
    context = {"form": form, "next": target, "otp_pending": True, "enrol": device is None}
    if device is None:
        context.update(_enrolment(two_factor.pending_device(user)))
    return render(request, "portal/login_otp.html", context)


@login_required
def account_two_factor(request):
    """`/account/two-factor/`: whether an authenticator guards this account; an applicant may add one."""
    user = request.user
    device = two_factor.confirmed_device(user)
    form = CodeForm(request.POST or None)
    enrolling = device is None and request.method == "POST" and form.is_valid()
    if enrolling and _submit(request, form, two_factor.confirm_enrolment):
        messages.success(request, _("Two-factor authentication is set up for your account."))
        return redirect("portal:account-two-factor")
    context = {"form": form, "device": device, "required": two_factor.must_use_totp(user)}
    if device is None:
        context.update(_enrolment(two_factor.pending_device(user)))
    return render(request, "portal/account_two_factor.html", context)
