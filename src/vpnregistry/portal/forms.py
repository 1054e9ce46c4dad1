"""Forms of the portal: they only shape input; the services decide what is valid."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vpnregistry.accounts.models import Operator


class ResourceForm(forms.Form):
    value = forms.CharField(
        label=_("Address, prefix or mobile number"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "203.0.113.0/24", "autocomplete": "off", "dir": "ltr"}),
    )
    subscriber_id = forms.CharField(
        label=_("Subscriber ID"),
        max_length=64,
        required=False,
        help_text=_("The customer or account number on the operator's bill."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "dir": "ltr"}),
    )


def _mobile_operators():
    # Each operator by its name in the reader's language.
    return [("", _("— (an address)"))] + [
        (operator.code, operator.local_name)
        for operator in Operator.objects.filter(kind=Operator.Kind.MOBILE)
    ]


class MobileResourceForm(ResourceForm):
    operator = forms.ChoiceField(label=_("Mobile operator"), required=False, choices=_mobile_operators)
    ported = forms.BooleanField(
        label=_("Ported to this operator"),
        required=False,
        help_text=_(
            "Tick when the number was ported to the operator named from the one that issued it; "
            "that operator is told."
        ),
    )


# One resource to start with; "Add another resource" adds one more (the CSV upload takes many at once).
ResourceFormSet = forms.formset_factory(MobileResourceForm, extra=1, max_num=1000, validate_max=True)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- the workflow's steps (portal/steps.py's step_view) -------------------------------------------
# Each form names the fields its step reads and gives them their shape: one text (the last one sent,
# unstripped, "" when absent) or whether a box was ticked. None of them refuses anything: the service
# decides what is valid, after its own check of the caller's role, so that a person who may not take
# the step at all is refused as such (403), never told to correct a field first.


def _text() -> forms.CharField:
    return forms.CharField(required=False, strip=False)


class TickedInput(forms.CheckboxInput):
    """A checkbox read as ticked only when its own value was sent ("on", what a browser sends for a
    box without a value attribute, unless told otherwise)."""

    def __init__(self, value: str = "on"):
        super().__init__()
        self.ticked_value = value

    def value_from_datadict(self, data, files, name):
        return data.get(name) == self.ticked_value


def _ticked(value: str = "on") -> forms.BooleanField:
    return forms.BooleanField(required=False, widget=TickedInput(value))


class NoInputForm(forms.Form):
    """A step that is only its button."""


class ReasonForm(forms.Form):
    reason = _text()


class PaymentForm(forms.Form):
    reference = _text()


class AppealForm(forms.Form):
    grounds = _text()


class StepDecisionForm(forms.Form):
    """A decision and its reason: an operator's attestation, an appeal's or a space change's decision."""

    decision = _text()
    reason = _text()


class VerifyForm(StepDecisionForm):
    reason_code = _text()


class DecideForm(VerifyForm):
    acknowledge_suspension = _ticked()


class StepTargetForm(forms.Form):
    step = _text()
    days = _text()


class InviteForm(forms.Form):
    email = _text()


class MemberAdminForm(forms.Form):
    admin = _ticked("1")
