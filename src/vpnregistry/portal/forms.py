"""Forms of the portal: they only shape input; the services decide what is valid."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vpnregistry.accounts.models import Operator
from vpnregistry.applications import bulk
from vpnregistry.errors import InvalidInput


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


def cleaned(form: forms.Form) -> dict:
    """The form's values, or its refusals as the services word theirs (InvalidInput, keyed by field)."""
    if not form.is_valid():
        raise InvalidInput({field: [str(m) for m in errors] for field, errors in form.errors.items()})
    return form.cleaned_data


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


class ComplaintMessageForm(forms.Form):
    text = _text()


# --- pages that read a form and call a service themselves -------------------------------------------
# As the steps' forms: each text is the last one sent, unstripped, "" when absent, and nothing is
# refused here; the service says what is wrong, beside the field it names.


class SignupForm(forms.Form):
    name = _text()
    category = _text()
    ntn = _text()
    secp_number = _text()
    pseb_number = _text()
    cnic = _text()
    email = _text()
    username = _text()
    password = _text()


class EmailForm(forms.Form):
    email = _text()


class InvitationAcceptForm(forms.Form):
    username = _text()
    password = _text()


class DocumentUploadForm(forms.Form):
    """A document for the organisation: its type, its file (None when none was sent; an empty file is
    the service's to refuse) and its expiry date (None when left blank; its format is the service's)."""

    document_type = _text()
    expires_on = _text()
    file = forms.FileField(required=False, allow_empty_file=True, widget=forms.FileInput)

    def clean_expires_on(self) -> str | None:
        return self.cleaned_data["expires_on"] or None


class SpaceChangeForm(forms.Form):
    action = _text()
    prefix = _text()
    note = _text()


class StatusForm(forms.Form):
    """The public status lookup: the tracking number stripped and cut to 40 characters (shown again on
    the page), the secret as typed."""

    tracking_number = forms.CharField(required=False)
    secret = _text()

    def clean_tracking_number(self) -> str:
        return self.cleaned_data["tracking_number"][:40]


class CsvForm(forms.Form):
    """Resources as CSV: an uploaded file (read up to one byte past the service's limit, which the
    service refuses) or else the pasted text. `data` is the bytes to read, `text` the text as pasted."""

    text = _text()
    file = forms.FileField(required=False, allow_empty_file=True, widget=forms.FileInput)

    def clean(self) -> dict:
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            data["data"] = upload.read(bulk.MAX_BYTES + 1)
        else:
            data["data"] = data.get("text", "").encode()
        return data


class IdListField(forms.Field):
    """Every value sent under the name, as whole numbers; a list with anything else in it is read as
    no choice at all, which the service refuses ("Choose at least one resource."), as it always has."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        try:
            return [int(i) for i in value or []]
        except (TypeError, ValueError):
            return []


class BulkAttestForm(forms.Form):
    resource = IdListField(required=False)
    decision = _text()
    reason = _text()


class TextList(forms.Field):
    """Every text sent under the name, in order ([] when none)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[str]:
        return list(value or [])


class ComplaintForm(forms.Form):
    registration = _text()
    event = _text()
    happened_at = _text()
    service = _text()
    service_text = _text()
    description = _text()
    evidence = forms.FileField(required=False, allow_empty_file=True, widget=forms.FileInput)


class EventForm(forms.Form):
    title = _text()
    legal_reference = _text()
    description = _text()
    national = _ticked()
    provinces = TextList(required=False)
    districts = TextList(required=False)
    services = TextList(required=False)
    starts_at = _text()
    ends_at = _text()
    publish = _ticked()
