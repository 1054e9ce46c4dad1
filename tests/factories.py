"""factory-boy factories for the domain; the address space comes from the shared reference data."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from datetime import timedelta

import factory
from django.utils import timezone

from vpnregistry.accounts.models import AddressSpace, Agency, Category, Operator, Organisation, Role, User

PASSWORD = "correct-horse-battery-staple"


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"agency{n}")
    name = factory.LazyAttribute(lambda o: f"Agency {o.code}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"category{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("_", " ").title())
    agency = factory.SubFactory(AgencyFactory)


class OperatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Operator
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"operator{n}")
    name = factory.LazyAttribute(lambda o: f"Operator {o.code}")
    kind = Operator.Kind.FIXED

    @factory.post_generation
    def space(obj, create, extracted, **kwargs):
        for prefix in extracted or []:
            row = AddressSpace(operator=obj)
            row.set_network(ipaddress.ip_network(prefix))
            row.save()


class OrganisationFactory(factory.django.DjangoModelFactory):
    """An organisation with the documents its category needs on file (`documents=False`: none)."""

    class Meta:
        model = Organisation
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Organisation {n} (Pvt) Ltd")
    category = factory.SubFactory(CategoryFactory)

    @factory.post_generation
    def documents(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            put_documents_on_file(obj)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    role = Role.APPLICANT
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def token(obj, create, extracted, **kwargs):
        obj.save()
        from vpnregistry.accounts.authentication import issue_token

        issue_token(obj, key=api_key(obj))
        # As if used a moment ago: a test's first request writes no time of last use (conftest).
        obj.api_token.last_used_at = timezone.now()
        obj.api_token.save(update_fields=["last_used_at"])


def api_key(user) -> str:
    """The API token a test user was given: only its digest is stored, so tests derive it again."""
    return "vr_" + hashlib.sha256(f"test token of {user.username}".encode()).hexdigest()[:40]


def put_documents_on_file(organisation, *, user=None, valid_days: int = 365) -> list:
    """Every document the organisation's category needs, on file and valid (one of each requirement)."""
    from django.core.files.base import ContentFile

    from vpnregistry.accounts.documents import files
    from vpnregistry.accounts.models import Document, DocumentRequirement
    from vpnregistry.accounts.sample_files import minimal_pdf

    documents = []
    for requirement in DocumentRequirement.objects.filter(category=organisation.category).prefetch_related(
        "document_types"
    ):
        kind = requirement.document_types.order_by("id").first()
        content = minimal_pdf(f"{kind.name} of {organisation.name}")
        name = files().save(secrets.token_hex(16), ContentFile(content))
        documents.append(
            Document.objects.create(
                organisation=organisation,
                document_type=kind,
                file=name,
                name=f"{kind.code}.pdf",
                sha256=hashlib.sha256(content).hexdigest(),
                content_type="application/pdf",
                size=len(content),
                uploaded_by=user,
                expires_on=timezone.localdate() + timedelta(days=valid_days) if kind.needs_expiry else None,
            )
        )
    return documents
