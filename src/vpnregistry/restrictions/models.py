"""Restriction events: published orders restricting services, and the registrations exempt under them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vpnregistry.accounts.models import District, Operator, Organisation, Province
from vpnregistry.bilingual import BilingualName, urdu_name_field
from vpnregistry.registrations.models import Registration
from vpnregistry.roles import Role


class Service(BilingualName, models.Model):
    """A service an order can restrict: a network, a named application or a VPN protocol (kept as data)."""

    class Kind(models.TextChoices):
        NETWORK = "network", _("Network")
        APPLICATION = "application", _("Application")
        VPN_PROTOCOL = "vpn-protocol", _("VPN protocol")

    code = models.SlugField(unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=100)
    name_ur = urdu_name_field(100)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.local_name


class RestrictionEvent(models.Model):
    """A published order restricting services for a time, nationally or in some provinces and districts."""

    title = models.CharField(max_length=200)
    legal_reference = models.CharField(
        max_length=200, help_text=_("The order's number and issuing authority")
    )
    description = models.TextField(blank=True)
    national = models.BooleanField(default=False)
    provinces = models.ManyToManyField(Province, blank=True, related_name="+")
    districts = models.ManyToManyField(District, blank=True, related_name="+")
    services = models.ManyToManyField(Service, related_name="events")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["starts_at", "ends_at"], name="event_window")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="event_order")
        ]

    def __str__(self) -> str:
        return self.title

    def covers(
        self, *, district_id: int | None, province_id: int | None, districts: set[int], provinces: set[int]
    ) -> bool:
        """Whether a resource located there is in this event's scope (known-location rules in docs)."""
        if self.national or district_id is None:
            return True
        return district_id in districts or province_id in provinces


class ExemptionStatementQuerySet(models.QuerySet):
    def visible_to(self, user) -> ExemptionStatementQuerySet:
        """The statements the user's organisation holds (an applicant's); none for anyone else."""
        if getattr(user, "role", None) != Role.APPLICANT:
            return self.none()
        return self.filter(organisation_id=user.organisation_id)


class ExemptionStatement(models.Model):
    """A signed statement the registry issued to an organisation about one event: kept so anyone can
    check by its id that the registry issued it. The document itself stays with the organisation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(RestrictionEvent, on_delete=models.PROTECT, related_name="statements")
    sha256 = models.CharField(max_length=64)
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The exact bytes signed, so that the JSON and its signature can be downloaded again by id.
    content = models.TextField()

    objects = ExemptionStatementQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["organisation", "event", "issued_at"], name="statement_org_event")]

    def __str__(self) -> str:
        return str(self.id)


class ComplaintQuerySet(models.QuerySet):
    def visible_to(self, user) -> ComplaintQuerySet:
        """The complaints the user may see: its organisation's, its operator's, or all for officers
        and auditors; none for anyone else, or anyone not signed in."""
        role = getattr(user, "role", None)
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if role == Role.APPLICANT:
            return self.filter(organisation_id=user.organisation_id)
        if role == Role.OPERATOR:
            return self.filter(operator_id=user.operator_id)
        if role in {Role.OFFICER, Role.AUDITOR}:
            return self
        return self.none()


class Complaint(models.Model):
    """An organisation's report that a registered resource was blocked during an event."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered by the operator")
        RESOLVED = "resolved", _("Resolved")
        REJECTED = "rejected", _("Rejected")

    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="complaints")
    # Copied from the registration, so that each side's list is an index seek.
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="complaints")
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="complaints")
    event = models.ForeignKey(RestrictionEvent, on_delete=models.PROTECT, related_name="complaints")
    happened_at = models.DateTimeField()
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    service_text = models.CharField(max_length=200, blank=True)
    description = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    # Resolved or rejected; kept as a column so that "oldest open first" is an index seek.
    closed = models.BooleanField(default=False)
    reopened = models.BooleanField(default=False)
    decision_reason = models.TextField(blank=True)
    evidence_file = models.CharField(max_length=100, blank=True)
    evidence_name = models.CharField(max_length=200, blank=True)
    evidence_type = models.CharField(max_length=40, blank=True)
    evidence_size = models.PositiveIntegerField(null=True, blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["closed", "id"], name="complaint_closed_id"),
            models.Index(fields=["operator", "closed", "id"], name="complaint_operator"),
            models.Index(fields=["organisation", "id"], name="complaint_organisation"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(service__isnull=False) | ~Q(service_text=""), name="complaint_names_a_service"
            ),
            models.CheckConstraint(
                condition=Q(closed=True, state__in=["resolved", "rejected"])
                | Q(closed=False, state__in=["open", "answered"]),
                name="complaint_closed_state",
            ),
        ]

    def __str__(self) -> str:
        return f"Complaint {self.pk}"

    @property
    def what_failed(self) -> str:
        return self.service.local_name if self.service_id else self.service_text


class ComplaintMessage(models.Model):
    """One step on a complaint's timeline: who, when, what they said, and any change of state."""

    class Kind(models.TextChoices):
        REPORT = "report", _("Report")
        ANSWER = "answer", _("Answer")
        COMMENT = "comment", _("Comment")
        RESOLVE = "resolve", _("Resolved")
        REJECT = "reject", _("Rejected")
        REOPEN = "reopen", _("Reopened")

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_role = models.CharField(max_length=20)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.TextField()
    from_state = models.CharField(max_length=10, blank=True)
    to_state = models.CharField(max_length=10, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["complaint", "at", "id"], name="complaint_message_order")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.complaint_id}"


class ExemptionJobQuerySet(models.QuerySet):
    def visible_to(self, user) -> ExemptionJobQuerySet:
        """The user's own jobs, not expired; nobody else's, whatever their role."""
        return self.filter(owner_id=getattr(user, "pk", None), expires_at__gt=timezone.now())


class ExemptionJob(models.Model):
    """A bulk exemption check answered later: the body kept in a file, answered by a task.

    Asked for with `Prefer: respond-async`, or made so when the body is larger than
    `EXEMPTIONS_SYNC_MAX_BYTES`. Only its owner sees it; its files are deleted once it expires.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(help_text=_("The time the addresses are checked at."))
    column = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    size = models.PositiveBigIntegerField(default=0)
    result_size = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # The job and its files are removed after this (EXEMPTION_JOB_SECONDS after it was made).
    expires_at = models.DateTimeField(db_index=True)

    objects = ExemptionJobQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"exemption job {self.pk} ({self.state})"
