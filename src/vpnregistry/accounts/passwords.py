"""A forgotten password, reset by email: Django's own tokens and views, mailed as the registry mails.

Django's `PasswordResetView` and `PasswordResetConfirmView` do the work: the link's token is signed
with the account's password hash and last login, so it works once and stops working after
`PASSWORD_RESET_TIMEOUT`, and the answer to a request is the same whether or not the address is
known (it names nobody). What the registry adds:

- The email is written as an outgoing mail and sent by the mail task, as every other email (retried
  while the mail server is down, listed for officers if every try fails), in the language the person
  reads the portal in when they asked.
- Requests count against the per-address limit of the public lookups, so addresses cannot be tried
  in bulk and nobody's inbox can be flooded from one place.
- A reset changes the password only. It does not lift a lockout (django-axes counts failed logins
  per username and address, and a locked-out person waits as before), it does not log anyone in, and
  staff still give the code of their authenticator at the next login.
- Setting a new password is recorded in the audit log.
"""

from __future__ import annotations

from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.db import transaction
from django.template import loader
from django.utils.translation import gettext_lazy as _

from vpnregistry.audit.services import record
from vpnregistry.notifications.mail import send_email


class ResetRequestForm(PasswordResetForm):
    """Django's reset request, mailed through the registry's outgoing mail."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["email"]
        field.label = _("Email address")
        field.error_messages.update(
            required=_("Enter the email address of your account."),
            invalid=_("Enter an email address in the form name@example.com."),
        )

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        send_email(subject, body, to_email)


class NewPasswordForm(SetPasswordForm):
    """Django's new-password form (the password validators apply), recorded in the audit log."""

    def save(self, commit: bool = True):
        with transaction.atomic():
            user = super().save(commit=commit)
            if commit:
                record(actor=user, action="account.password_reset", obj=user)
        return user
