"""Who is who: organisations and their categories, the verifying agencies, the operators and their space."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vpnregistry.accounts.names import name_skeleton, normalise_name
from vpnregistry.bilingual import BilingualName, list_separator, urdu_name_field
from vpnregistry.db import PrefixRow
from vpnregistry.fieldcrypt import BlindIndexField, EncryptedTextField
from vpnregistry.identifiers import (
    IDENTIFIER_FIELDS,
    clean_identifiers,
    validate_cnic,
    validate_ntn,
    validate_reference,
)
from vpnregistry.roles import Role


class Agency(BilingualName, models.Model):
    """A body that verifies applicants of the categories routed to it."""

    code = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    name_ur = urdu_name_field(200)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.local_name


class Category(BilingualName, models.Model):
    """An applicant category; its routing to an agency and its prefix limits are data, not code."""

    code = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    name_ur = urdu_name_field(200)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="categories")
    # The shortest prefix length accepted: a smaller number is a broader prefix.
    min_len_v4 = models.PositiveSmallIntegerField(default=24)
    min_len_v6 = models.PositiveSmallIntegerField(default=48)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(min_len_v4__lte=32), name="category_min_len_v4_range"),
            models.CheckConstraint(condition=Q(min_len_v6__lte=128), name="category_min_len_v6_range"),
        ]

    def __str__(self) -> str:
        return self.local_name


class Operator(BilingualName, models.Model):
    """An ISP or mobile operator that assigns addresses or numbers to subscribers."""

    class Kind(models.TextChoices):
        FIXED = "fixed", _("Fixed-line ISP")
        MOBILE = "mobile", _("Mobile operator")

    code = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    name_ur = urdu_name_field(200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FIXED)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.local_name


class AddressSpace(PrefixRow):
    """One CIDR of an operator's address space."""

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="address_space")

    class Meta:
        ordering = ["family", "first"]
        indexes = [models.Index(fields=["family", "first"], name="addrspace_family_first")]
        constraints = [
            models.UniqueConstraint(fields=["family", "first", "last"], name="addrspace_unique_prefix")
        ]

    def __str__(self) -> str:
        return self.prefix


class Province(BilingualName, models.Model):
    """A province or territory; restriction events and statistics are scoped by it."""

    code = models.CharField(max_length=4, unique=True)
    name = models.CharField(max_length=100)
    name_ur = urdu_name_field(100)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.local_name


class District(BilingualName, models.Model):
    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100)
    name_ur = urdu_name_field(100)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="districts")

    class Meta:
        ordering = ["province__name", "name"]

    def __str__(self) -> str:
        # "Lahore, Punjab"; in Urdu "لاہور، پنجاب", with the Arabic-script comma.
        return f"{self.local_name}{list_separator()}{self.province}"


class Organisation(models.Model):
    """The applicant entity."""

    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="organisations")
    # Identifiers, encrypted at rest (identifiers.py gives their formats, fieldcrypt.py the
    # keys). NTN and CNIC carry a keyed blind index so that a row can be found by its value.
    ntn = EncryptedTextField("NTN", blank=True, validators=[validate_ntn])
    secp_number = EncryptedTextField("SECP number", blank=True, validators=[validate_reference])
    pseb_number = EncryptedTextField("PSEB number", blank=True, validators=[validate_reference])
    cnic = EncryptedTextField("CNIC of the responsible person", blank=True, validators=[validate_cnic])
    ntn_index = BlindIndexField(source="ntn")
    cnic_index = BlindIndexField(source="cnic", db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # What the name looks like (accounts/names.py): organisations with one skeleton have look-alike or
    # duplicate names, which their reviewers are shown (`names_alike`), never whoever signs up.
    name_skeleton = models.CharField(max_length=200, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            # One organisation per NTN (a blank NTN has no index: NULLs never collide).
            models.UniqueConstraint(fields=["ntn_index"], name="organisation_unique_ntn")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name = normalise_name(self.name)
        self.name_skeleton = name_skeleton(self.name)[:200]
        # The canonical form, whoever saves: equal values must give equal blind indexes.
        for field, value in clean_identifiers({f: getattr(self, f) for f in IDENTIFIER_FIELDS}).items():
            setattr(self, field, value)
        super().save(*args, **kwargs)


class User(AbstractUser):
    """A person or machine account with exactly one role and the body it acts for."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.APPLICANT)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="reviewers"
    )
    operator = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    # An applicant who manages the organisation's members (the one who signed it up, or one they named).
    is_org_admin = models.BooleanField(default=False)
    # When the email address was proved by the sign-up link; an account signed up by itself is
    # inactive until then, and a link works only once.
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # The language the person reads the registry in (accounts/language.py): set by the portal's
    # language switch and at sign-up, restored at each login, and used for everything made for them
    # away from a request of theirs (emails and notifications, by whichever process makes them).
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="user_role_links",
                condition=(
                    Q(
                        role="applicant",
                        organisation__isnull=False,
                        agency__isnull=True,
                        operator__isnull=True,
                    )
                    | Q(role="agency", agency__isnull=False, organisation__isnull=True, operator__isnull=True)
                    | Q(
                        role="operator",
                        operator__isnull=False,
                        organisation__isnull=True,
                        agency__isnull=True,
                    )
                    | Q(
                        role__in=["officer", "auditor"],
                        organisation__isnull=True,
                        agency__isnull=True,
                        operator__isnull=True,
                    )
                ),
            )
        ]

    @property
    def body(self) -> Organisation | Agency | Operator | None:
        return self.organisation or self.agency or self.operator


# Documents, members' invitations and address-space changes live in a module of their own.
from vpnregistry.accounts.models_onboarding import (  # noqa: E402, F401
    AddressSpaceChange,
    Document,
    DocumentRequirement,
    DocumentType,
    Invitation,
    NumberBlock,
)
from vpnregistry.accounts.models_tokens import ApiToken  # noqa: E402, F401
