"""factory-boy factories for the domain; the address space comes from the shared reference data."""

from __future__ import annotations

import ipaddress

import factory
from rest_framework.authtoken.models import Token

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
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n} (Pvt) Ltd")
    category = factory.SubFactory(CategoryFactory)


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
        Token.objects.get_or_create(user=obj)
