"""An application asks for resources; agencies review it, operators attest its resources."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from vpnregistry.accounts.models import Agency, Category, District, Operator, Organisation
from vpnregistry.bilingual import BilingualName, urdu_name_field
from vpnregistry.db import KEY_WIDTH
from vpnregistry.registrations.models import ResourceKind
from vpnregistry.roles import Role

# Ever submitted: what anybody but the applicant's own organisation may see. A draft, and a draft
# withdrawn (or left) before it was ever submitted, stay with their organisation, whatever their state.
SUBMITTED = Q(submitted_at__isnull=False)


class ApplicationQuerySet(models.QuerySet):
    def visible_to(self, user) -> ApplicationQuerySet:
        """The applications the user may see: its organisation's own (drafts too); those ever
        submitted to its agency, or with a resource in its operator's space; every submitted one
        for officers and auditors; none for anyone else, or anyone not signed in."""
        role = getattr(user, "role", None)
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if role == Role.APPLICANT:
            return self.filter(organisation_id=user.organisation_id)
        if role == Role.AGENCY:
            return self.filter(SUBMITTED, agency_id=user.agency_id)
        if role == Role.OPERATOR:
            ids = Resource.objects.filter(operator_id=user.operator_id).values("application_id")
            return self.filter(SUBMITTED, id__in=ids)
        if role in {Role.OFFICER, Role.AUDITOR}:
            return self.filter(SUBMITTED)
        return self.none()


class Application(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        IN_REVIEW = "in_review", _("In review")
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        AWAITING_DECISION = "awaiting_decision", _("Awaiting decision")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        APPEALED = "appealed", _("Appealed")
        RETURNED = "returned", _("Returned")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="applications")
    # The category and agency as they were when the application was made and submitted.
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    tracking_number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    # SHA-256 of the secret that, with the tracking number, opens the public status page (the secret
    # itself is shown once, at submission, and never stored).
    status_secret_hash = models.CharField(max_length=64, blank=True, editable=False)
    # Why it was rejected, from the regulator's list (the free text is decision_reason), and at
    # which step: "agency", "operators" (every resource refused) or "decision".
    rejection_reason = models.ForeignKey(
        "RejectionReason", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejected_at_stage = models.CharField(max_length=10, blank=True)
    # The fee (see applications/fees.py): worked out when the application became ready for a
    # decision; the officer records the payment reference.
    fee_addresses = models.PositiveIntegerField(null=True, blank=True)
    fee_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    payment_reference = models.CharField(max_length=64, unique=True, null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # One appeal per rejection, within the appeal window.
    appeal_grounds = models.TextField(blank=True)
    appealed_at = models.DateTimeField(null=True, blank=True)
    appeal_decided_at = models.DateTimeField(null=True, blank=True)
    appeal_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The allowlist serial that first carried the registrations of its approval: set by the publisher;
    # empty while the approval waits to be published (docs/publication.md).
    published_serial = models.PositiveBigIntegerField(null=True, blank=True)
    # When the application entered its current state (set by every transition): the queues wait from it.
    state_changed_at = models.DateTimeField(default=timezone.now)
    # Bumped on every change so that a stale form cannot overwrite a newer state.
    version = models.PositiveIntegerField(default=1)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "-created_at"], name="app_org_created"),
            models.Index(fields=["agency", "state", "submitted_at"], name="app_agency_queue"),
            models.Index(fields=["state", "submitted_at"], name="app_state_queue"),
            # The queues (applications/queues.py): each is a walk of an index holding only waiting work,
            # in waiting order, so a page costs the same at a million applications as at a hundred.
            models.Index(
                fields=["agency", "submitted_at", "id"],
                name="app_agency_waiting",
                condition=Q(state__in=["submitted", "in_review"], verified_at__isnull=True),
            ),
            models.Index(
                fields=["submitted_at", "id"],
                name="app_review_waiting",
                condition=Q(state__in=["submitted", "in_review"]),
            ),
            models.Index(fields=["state", "state_changed_at", "id"], name="app_state_since"),
        ]

    def __str__(self) -> str:
        # A draft has no tracking number yet: named in the reader's language (page titles show it).
        return self.tracking_number or gettext("draft #%(id)s") % {"id": self.pk}

    @property
    def is_open(self) -> bool:
        return self.state in {self.State.SUBMITTED, self.State.IN_REVIEW}


class Resource(models.Model):
    """One address, prefix or mobile number asked for, with the operator that assigned it."""

    Kind = ResourceKind

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting operator")
        CONFIRMED = "confirmed", _("Confirmed by operator")
        REFUSED = "refused", _("Refused by operator")
        # Taken out by the applicant when editing a returned application; kept for the history.
        REMOVED = "removed", _("Removed by the applicant")

    # No index of their own for `application` and `operator`: resource_app_operator and
    # resource_operator_state lead with them (each index costs every resource written).
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="resources", db_index=False
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=43)
    family = models.PositiveSmallIntegerField(null=True, blank=True)
    first = models.CharField(max_length=KEY_WIDTH, blank=True)
    last = models.CharField(max_length=KEY_WIDTH, blank=True)
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="resources", db_index=False)
    subscriber_id = models.CharField(max_length=64)
    # Where the resource is used; restriction events are scoped by it.
    district = models.ForeignKey(District, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    # The registration this resource renews (a renewal application copies the registration).
    renews = models.ForeignKey(
        "registrations.Registration", null=True, blank=True, on_delete=models.PROTECT, related_name="renewals"
    )

    class Meta:
        ordering = ["application_id", "family", "first", "id"]
        indexes = [
            models.Index(fields=["operator", "state"], name="resource_operator_state"),
            # The operator's queue probes each waiting application for its own pending resources.
            models.Index(fields=["application", "operator", "state"], name="resource_app_operator"),
        ]

    def __str__(self) -> str:
        return self.value


class Review(models.Model):
    """An agency's or the regulator's decision on an application, always with a reason."""

    class Stage(models.TextChoices):
        AGENCY = "agency", _("Agency verification")
        DECISION = "decision", _("Regulator decision")
        APPEAL = "appeal", _("Appeal")

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REJECT = "reject", _("Reject")
        RETURN = "return", _("Return to the applicant")
        UPHOLD = "uphold", _("Appeal upheld")
        DISMISS = "dismiss", _("Appeal dismissed")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reviews")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.TextField(blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(decision="reject") | ~Q(reason=""), name="review_reject_needs_reason"
            ),
            models.CheckConstraint(
                condition=~Q(decision__in=["return", "uphold", "dismiss"]) | ~Q(reason=""),
                name="review_return_appeal_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.decision} on {self.application_id}"


class RejectionReason(BilingualName, models.Model):
    """The regulator's list of reasons for a rejection; the decision adds free text to one of them.

    Its English wording is `text`; `name_ur` is its Urdu wording, as on the other reference data.
    """

    ENGLISH_FIELD = "text"

    code = models.SlugField(max_length=40, unique=True)
    text = models.CharField(max_length=300)
    name_ur = urdu_name_field(300)
    active = models.BooleanField(default=True, help_text=_("Only active reasons can be chosen."))

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code}: {self.local_name}"


class Attestation(models.Model):
    """An operator's yes or no on one resource."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Assigned to this subscriber")
        REJECT = "reject", _("Not assigned to this subscriber")

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="attestations")
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="attestations")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.TextField(blank=True)
    attested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(decision="reject") | ~Q(reason=""), name="attestation_reject_needs_reason"
            )
        ]

    def __str__(self) -> str:
        return f"{self.decision} on {self.resource_id}"


class TrackingCounter(models.Model):
    """The last tracking number handed out in a year; a row lock makes numbers unique and gap-free."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class StepTarget(models.Model):
    """How many days the regulator allows for one step of the workflow; work waiting longer is overdue."""

    step = models.CharField(max_length=20, unique=True)
    days = models.PositiveSmallIntegerField()
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["step"]
        constraints = [models.CheckConstraint(condition=Q(days__gte=1), name="step_target_days_positive")]

    def __str__(self) -> str:
        return f"{self.step}: {self.days} days"


class StepDuration(models.Model):
    """How long one completed step took: written when the step ends, so turnaround is an index walk."""

    step = models.CharField(max_length=20)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    # Whose step it was: "agency:<code>", "operator:<code>" or "regulator".
    party = models.CharField(max_length=80)
    entered_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    seconds = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["ended_at", "id"]
        indexes = [models.Index(fields=["step", "ended_at", "seconds"], name="stepduration_step_ended")]

    def __str__(self) -> str:
        return f"{self.step} of {self.application_id}: {self.seconds} s"


class Escalation(models.Model):
    """Work that waited past its target, escalated once per entry into the step."""

    step = models.CharField(max_length=20)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    party = models.CharField(max_length=80)
    entered_at = models.DateTimeField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "step", "party", "entered_at"], name="escalation_once_per_entry"
            )
        ]

    def __str__(self) -> str:
        return f"{self.step} of {self.application_id} escalated"
