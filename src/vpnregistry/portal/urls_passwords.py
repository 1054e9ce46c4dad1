"""Routes of a forgotten password: Django's own reset views, with the registry's forms and pages.

See `accounts/passwords.py` for what the registry adds (its mail, the per-address limit, no lockout
lifted and nobody logged in by a reset).
"""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from vpnregistry.accounts.passwords import NewPasswordForm, ResetRequestForm
from vpnregistry.portal.views_public import _too_many
from vpnregistry.siteurl import site_url
from vpnregistry.throttling import lookup_allowed


class ResetRequest(auth_views.PasswordResetView):
    form_class = ResetRequestForm
    template_name = "portal/password_reset.html"
    subject_template_name = "portal/email/password_reset_subject.txt"
    email_template_name = "portal/email/password_reset.txt"
    success_url = reverse_lazy("portal:password-reset-sent")

    def post(self, request, *args, **kwargs):
        allowed, wait = lookup_allowed(request)
        if not allowed:
            return _too_many(request, wait)
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        # The link in the email starts with the registry's own address, never the request's Host.
        self.extra_email_context = {"site_url": site_url()}
        return super().get_form_kwargs()


@method_decorator(sensitive_post_parameters("new_password1", "new_password2"), name="dispatch")
class NewPassword(auth_views.PasswordResetConfirmView):
    form_class = NewPasswordForm
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password-reset-done")
    post_reset_login = False  # staff give their authenticator's code at the next login, as always


urlpatterns = [
    path("password-reset/", ResetRequest.as_view(), name="password-reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="portal/password_reset_sent.html"),
        name="password-reset-sent",
    ),
    path("password-reset/<uidb64>/<token>/", NewPassword.as_view(), name="password-reset-confirm"),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="portal/password_reset_done.html"),
        name="password-reset-done",
    ),
]
