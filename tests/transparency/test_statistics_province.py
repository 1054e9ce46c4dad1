"""Statistics by province: from the district each resource is used in, suppressed like the rest."""

from __future__ import annotations

from django.core.cache import cache

from tests.factories import OrganisationFactory, UserFactory
from tests.workflow import approved
from vpnregistry.accounts.models import District
from vpnregistry.registrations.models import Registration
from vpnregistry.transparency.statistics import compute_statistics


def test_registrations_are_counted_by_province(world):
    cache.clear()
    lahore = District.objects.get(code="pb-lahore")
    for i in range(5):
        org = OrganisationFactory(category=world.company)
        user = UserFactory(username=f"p{i}", role="applicant", organisation=org)
        approved(world, f"14.1.{104 + i // 2}.{(i % 2) * 128}/25", user=user)
    Registration.objects.update(district=lahore)
    approved(world, "14.192.130.0/24")  # one more, location not recorded
    table = next(t for t in compute_statistics()["tables"] if t["id"] == "by_province")
    punjab = table["rows"].index("Punjab")
    assert table["cells"][punjab][0] == 5 and table["cells"][punjab][1] == 5 * 128
    unknown = table["rows"].index("Not recorded")
    assert table["cells"][unknown][0] is None  # one organisation: withheld
    assert table["column_totals"] is None and table["grand_total"] is None
