"""The fee's payment, recorded by an officer with its reference."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from vpnregistry.accounts.models import Role
from vpnregistry.applications.models import (
    Application,
)
from vpnregistry.applications.services.common import State, require_role, stepping, transition
from vpnregistry.errors import InvalidInput, WrongState

REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.-]{2,63}")


def payment_record(*, actor, application: Application, reference: str) -> Application:
    """An officer records the fee's payment reference (unique); the application goes on to a decision."""
    require_role(actor, Role.OFFICER)
    reference = (reference or "").strip()
    if not REFERENCE.fullmatch(reference):
        raise InvalidInput(
            {
                "reference": [
                    _(
                        "A payment reference is 3 to 64 letters, digits or / _ . - "
                        "(starting with a letter or digit)."
                    )
                ]
            }
        )
    with stepping(application) as (application, now):
        if application.state != State.AWAITING_PAYMENT:
            raise WrongState(_("This application is not awaiting payment."))
        other = Application.objects.filter(payment_reference=reference).exclude(pk=application.pk).first()
        if other is not None:
            raise InvalidInput(
                {"reference": [_("This reference was recorded already for %(other)s.") % {"other": other}]}
            )
        application.payment_reference = reference
        application.paid_at = now
        application.payment_recorded_by = actor
        try:
            with transaction.atomic():
                transition(
                    actor=actor,
                    application=application,
                    to_state=State.AWAITING_DECISION,
                    action="application.payment",
                    at=now,
                    data={"reference": reference, "amount": str(application.fee_amount)},
                )
        except IntegrityError:
            # Another application took the same reference at the same moment.
            raise InvalidInput({"reference": [_("This reference was recorded already.")]}) from None
    return application
