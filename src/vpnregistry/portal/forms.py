"""Forms of the portal: they only shape input; the services decide what is valid."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


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
    from vpnregistry.accounts.models import Operator

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
