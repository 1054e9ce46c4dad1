"""A registration is an approved resource with a validity window."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vpnregistry.accounts.models import District, Operator, Organisation
from vpnregistry.codes import new_code
from vpnregistry.db import KEY_WIDTH
from vpnregistry.roles import Role


def new_reference() -> str:
    """A public reference that names a registration without naming its holder, and cannot be guessed."""
    return "R-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))


# Crockford's base32: no I, L, O or U, so a reference read aloud or copied by hand stays unambiguous.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class ResourceKind(models.TextChoices):
    """What a resource is, for the resources asked for (applications.Resource.Kind is this) and the
    registrations made of them."""

    IPV4 = "ipv4", "IPv4"
    IPV6 = "ipv6", "IPv6"
    MSISDN = "msisdn", _("Mobile number")


class RegistrationQuerySet(models.QuerySet):
    def visible_to(self, user) -> RegistrationQuerySet:
        """The registrations the user may see: its organisation's; those in its operator's space;
        every one for officers and auditors; none for anyone else."""
        role = getattr(user, "role", None)
        if role == Role.APPLICANT:
            return self.filter(organisation_id=user.organisation_id)
        if role == Role.OPERATOR:
            return self.filter(operator_id=user.operator_id)
        if role in {Role.OFFICER, Role.AUDITOR}:
            return self
        return self.none()


class Registration(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")
        SURRENDERED = "surrendered", _("Surrendered")

    reference = models.CharField(max_length=12, unique=True, default=new_reference, editable=False)
    # The resource approved (applications sits above this app, hence the name in a string).
    resource = models.OneToOneField(
        "applications.Resource", on_delete=models.PROTECT, related_name="registration"
    )
    # No index of their own: reg_org_id, reg_org_state and reg_operator_id lead with them (each
    # index costs every registration written, a million of them in a legacy import).
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="registrations", db_index=False
    )
    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="registrations", db_index=False
    )
    kind = models.CharField(max_length=10, choices=ResourceKind.choices)
    value = models.CharField(max_length=43)
    family = models.PositiveSmallIntegerField(null=True, blank=True)
    first = models.CharField(max_length=KEY_WIDTH, blank=True)
    last = models.CharField(max_length=KEY_WIDTH, blank=True)
    district = models.ForeignKey(District, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=12, choices=State.choices, default=State.ACTIVE)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    state_reason = models.TextField(blank=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    # Expiry reminders already sent (days before expiry), so that the sweep sends each only once.
    reminders_sent = models.JSONField(default=list, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        ordering = ["-valid_from", "-id"]
        indexes = [
            models.Index(fields=["state", "family", "first"], name="reg_state_family_first"),
            # Whatever the state: the exemption answers (active then, not now) seek the covering
            # prefixes of an address by family and first key, and check the last.
            models.Index(fields=["family", "first", "last"], name="reg_family_first"),
            # A holder's and an operator's pages, newest first: an ordered walk of their own rows.
            models.Index(fields=["organisation", "-id"], name="reg_org_id"),
            models.Index(fields=["operator", "-id"], name="reg_operator_id"),
            models.Index(fields=["organisation", "state"], name="reg_org_state"),
            models.Index(fields=["state", "valid_until"], name="reg_state_until"),
            # Mobile numbers have no address keys: their overlap is the same number.
            models.Index(fields=["kind", "value", "state"], name="reg_kind_value_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("valid_from")), name="reg_window_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value} ({self.get_state_display()})"


class PortingDeclaration(models.Model):
    """The applicant's declaration that a mobile number was ported from the operator whose numbering
    holds it to the mobile operator it names (which attests it). Without it, naming another operator
    than the numbering's is refused; with it, the numbering's operator is told at submission.

    Kept beside the resource rather than as a column of it, so that the applications app's tables
    stay as they are; it goes with its resource (a draft's resources are deleted when edited).
    """

    resource = models.OneToOneField("applications.Resource", on_delete=models.CASCADE, related_name="porting")
    numbering_operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    declared_at = models.DateTimeField()
    # When the numbering's operator was told (at the application's submission); null before.
    notified_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.resource_id} ported from {self.numbering_operator_id}"


class ActivePeriod(models.Model):
    """A stretch of time during which a registration was active: the exact history behind exemptions.

    A registration has one period per stretch of activity: approval opens one that ends at the end
    of validity; a suspension or revocation ends it early; a reinstatement opens another. Rows are
    only ever added, or shortened once when a stretch ends early, so the answer for a past time
    never changes.
    """

    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="periods")
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["start"], name="period_start"),
            models.Index(fields=["end"], name="period_end"),
        ]
        constraints = [models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="period_order")]

    def __str__(self) -> str:
        return f"{self.registration_id}: {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M}"


CERTIFICATE_CODE_LENGTH = 20  # 100 bits: no amount of guessing at any rate finds one


def new_certificate_code() -> str:
    return new_code(CERTIFICATE_CODE_LENGTH)


class Certificate(models.Model):
    """The verification code printed on a registration's certificate (and in its QR code).

    One per registration, made when the holder first downloads the certificate and the same on every
    later copy, so that a printed certificate keeps checking. The code is random, not derived from
    the registration: it reveals nothing, needs no key kept for ever, and is found by its unique
    index.
    """

    registration = models.OneToOneField(Registration, on_delete=models.PROTECT, related_name="certificate")
    code = models.CharField(max_length=CERTIFICATE_CODE_LENGTH, unique=True, default=new_certificate_code)
    issued_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"certificate of {self.registration_id}"


class PublishedStatistics(models.Model):
    """The public statistics as last computed, suppressed: pages read the latest row and never compute.

    A scheduled job (`vpnregistry refresh-statistics`) adds a row; at a million registrations the
    computation takes seconds, which nobody viewing a page should wait for. The last few rows are
    kept, older ones removed.
    """

    generated_at = models.DateTimeField()
    seconds = models.FloatField(help_text=_("How long computing the figures took."))
    data = models.JSONField()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "published statistics"

    def __str__(self) -> str:
        return f"statistics of {self.generated_at:%Y-%m-%d %H:%M}"


class PublicationDue(models.Model):
    """A change that the published allowlist does not carry yet: the durable wish to publish.

    Written in the same transaction as the change (an approval, a suspension, an expiry, ...), so the
    wish commits with it or not at all; the publisher deletes the rows it has covered. Whatever runs
    next (a worker, the scheduler, `vpnregistry publish`) finds what is still due: nothing depends
    on a callback surviving a crash. An empty table means the allowlist has not changed since the
    latest snapshot, save for validity windows that began or ended since (see allowlist/publication.py).
    """

    at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    # The application whose approval asked, so that it can show the serial that first carried it.
    application_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "allowlist_publicationdue"  # made by the allowlist app before this one existed
        ordering = ["id"]

    def __str__(self) -> str:
        return f"publication due since {self.at:%Y-%m-%d %H:%M:%S}: {self.reason}"
