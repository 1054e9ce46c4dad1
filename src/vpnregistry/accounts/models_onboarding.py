"""An organisation's documents and members, and operators' changes to their own address space.

Imported by `accounts.models`, so these are models of the accounts app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vpnregistry.bilingual import BilingualName, urdu_name_field
from vpnregistry.db import PrefixRow
from vpnregistry.roles import Role


class DocumentType(BilingualName, models.Model):
    """A kind of document an applicant may be asked for (data the regulator edits)."""

    code = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    name_ur = urdu_name_field(200)
    needs_expiry = models.BooleanField(
        default=False, help_text=_("An upload of this type must say until when it is valid.")
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.local_name


class DocumentRequirement(BilingualName, models.Model):
    """One document a category needs: any one of `document_types` satisfies it ("either of")."""

    category = models.ForeignKey(
        "accounts.Category", on_delete=models.CASCADE, related_name="document_requirements"
    )
    name = models.CharField(max_length=200, help_text=_("What the applicant is asked for, in words."))
    name_ur = urdu_name_field(200)
    document_types = models.ManyToManyField(DocumentType, related_name="requirements")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["category", "position", "id"]

    def __str__(self) -> str:
        return f"{self.category}: {self.local_name}"


class Document(models.Model):
    """A file an organisation holds on record; its later applications reuse it until it expires.

    The file lives under settings.DOCUMENTS_DIR (outside every static folder) and is served only by
    views that check who asks. When purged, the file goes and the row stays, with deleted_at.
    """

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="documents"
    )
    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, related_name="documents")
    file = models.CharField(max_length=64, help_text=_("The stored file's name under the documents folder."))
    name = models.CharField(max_length=200, help_text=_("The name it was uploaded with."))
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    expires_on = models.DateField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        indexes = [
            # The documents still held, per organisation: the submission check and the purge's candidates.
            models.Index(
                fields=["organisation", "uploaded_at"],
                condition=Q(deleted_at__isnull=True),
                name="doc_live_org_uploaded",
            ),
            models.Index(
                fields=["uploaded_at"], condition=Q(deleted_at__isnull=True), name="doc_live_uploaded"
            ),
            # Deleted rows whose file is still to be removed (normally none).
            models.Index(
                fields=["id"], condition=Q(deleted_at__isnull=False) & ~Q(file=""), name="doc_deleted_file"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_type} ({self.name})"

    def is_valid_on(self, day) -> bool:
        return self.deleted_at is None and (self.expires_on is None or self.expires_on >= day)


class Invitation(models.Model):
    """An organisation admin's invitation to a person, by email, to become a member."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "-id"], name="invitation_org_id")]

    def __str__(self) -> str:
        return f"{self.email} ({self.organisation})"


class AddressSpaceChangeQuerySet(models.QuerySet):
    def visible_to(self, user) -> AddressSpaceChangeQuerySet:
        """An operator's own changes; every change for officers and auditors; none for anyone else."""
        role = getattr(user, "role", None)
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if role == Role.OPERATOR:
            return self.filter(operator_id=user.operator_id)
        if role in {Role.OFFICER, Role.AUDITOR}:
            return self
        return self.none()


class AddressSpaceChange(PrefixRow):
    """An operator's proposal to add a prefix to, or remove one from, its own space; an officer decides."""

    class Action(models.TextChoices):
        ADD = "add", _("Add")
        REMOVE = "remove", _("Remove")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    operator = models.ForeignKey("accounts.Operator", on_delete=models.PROTECT, related_name="space_changes")
    action = models.CharField(max_length=10, choices=Action.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    note = models.TextField(blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    objects = AddressSpaceChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "id"], name="spacechange_state_id"),
            models.Index(fields=["operator", "-id"], name="spacechange_operator_id"),
            models.Index(fields=["family", "first"], name="spacechange_family_first"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.prefix} ({self.operator})"

    @property
    def is_numbering(self) -> bool:
        """A change of a mobile operator's numbering (a block such as +92300), not of address space."""
        return self.prefix.startswith("+")


class NumberBlock(models.Model):
    """A block of the country's mobile numbering an operator holds: every E.164 number it begins.

    Numbers move between operators (number portability), so a block says which operator a number was
    issued to; the applicant may name another operator for a ported number.
    """

    operator = models.ForeignKey("accounts.Operator", on_delete=models.PROTECT, related_name="number_blocks")
    prefix = models.CharField(max_length=16, unique=True)

    class Meta:
        ordering = ["prefix"]

    def __str__(self) -> str:
        return f"{self.prefix} ({self.operator})"
