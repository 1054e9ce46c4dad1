"""The figures of what is registered: active registrations by category and by province, and what was
registered each month; each table from a handful of GROUP BY queries."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, F, IntegerField, Value
from django.db.models.functions import Cast, StrIndex, Substr, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_noop

from vpnregistry.accounts.models import Province
from vpnregistry.registrations.models import Registration
from vpnregistry.transparency.statistics.suppression import Table, publish


def _prefix_length():
    return Cast(Substr("value", StrIndex("value", Value("/")) + 1), IntegerField())


def _size(kind: str, prefix_length: int | None, n: int) -> int:
    """IPv4 counts addresses (a /24 is 256); IPv6 counts prefixes; mobile numbers count themselves."""
    if kind == "ipv4":
        return n * 2 ** (32 - int(prefix_length))
    return n


CATEGORY_MEASURES = [
    ("organisations", gettext_noop("Organisations")),
    ("ipv4", gettext_noop("IPv4 addresses")),
    ("ipv6", gettext_noop("IPv6 prefixes")),
    ("msisdn", gettext_noop("Mobile numbers")),
]


# A category or province as the tables name it: (pk, name, name in Urdu or "").
Named = tuple[int, str, str]


def _by_category(categories: list[Named]) -> dict:
    active = Registration.objects.filter(state=Registration.State.ACTIVE)
    index = {pk: i for i, (pk, *_names) in enumerate(categories)}
    width = len(CATEGORY_MEASURES)
    values = [[0] * width for _ in categories]
    who = [[0] * width for _ in categories]
    for row in active.values(cat=F("organisation__category")).annotate(
        orgs=Count("organisation", distinct=True)
    ):
        i = index[row["cat"]]
        values[i][0] = who[i][0] = row["orgs"]
    for row in active.values("kind", cat=F("organisation__category")).annotate(
        n=Count("id"), orgs=Count("organisation", distinct=True)
    ):
        j = 1 + ["ipv4", "ipv6", "msisdn"].index(row["kind"])
        who[index[row["cat"]]][j] = row["orgs"]
        if row["kind"] != "ipv4":
            values[index[row["cat"]]][j] = row["n"]
    for row in (
        active.filter(kind="ipv4")
        .values(cat=F("organisation__category"), plen=_prefix_length())
        .annotate(n=Count("id"))
    ):
        values[index[row["cat"]]][1] += _size("ipv4", row["plen"], row["n"])
    table = Table.of(values, rows=False, columns=True, grand=False)
    # An organisation has one category, so contributors add up down each column.
    table.contributors = Table.of(who, rows=False, columns=True, grand=False)
    return publish(
        id="by_category",
        title=gettext_noop("Active registrations by category"),
        unit=gettext_noop(
            "organisations; IPv4 addresses (a /24 counts 256); IPv6 prefixes (not addresses); numbers"
        ),
        rows=[name for _pk, name, _ur in categories],
        rows_ur=[ur for _pk, _name, ur in categories],
        columns=[label for _key, label in CATEGORY_MEASURES],
        table=table,
        note=gettext_noop("Registrations active now. An organisation is counted once, in its category."),
    )


def _by_province() -> dict:
    """Active registrations by where they are used (their district's province)."""
    provinces = list(Province.objects.order_by("name").values_list("pk", "name", "name_ur"))
    index = {pk: i for i, (pk, *_names) in enumerate(provinces)}
    unknown = len(provinces)  # registrations whose location was not recorded
    active = Registration.objects.filter(state=Registration.State.ACTIVE)
    width = len(CATEGORY_MEASURES)
    values = [[0] * width for _ in range(unknown + 1)]
    who = [[0] * width for _ in range(unknown + 1)]
    for row in active.values(prov=F("district__province")).annotate(
        orgs=Count("organisation", distinct=True)
    ):
        i = index.get(row["prov"], unknown)
        values[i][0] = who[i][0] = row["orgs"]
    for row in active.values("kind", prov=F("district__province")).annotate(
        n=Count("id"), orgs=Count("organisation", distinct=True)
    ):
        i, j = index.get(row["prov"], unknown), 1 + ["ipv4", "ipv6", "msisdn"].index(row["kind"])
        who[i][j] = row["orgs"]
        if row["kind"] != "ipv4":
            values[i][j] = row["n"]
    for row in (
        active.filter(kind="ipv4")
        .values(prov=F("district__province"), plen=_prefix_length())
        .annotate(n=Count("id"))
    ):
        values[index.get(row["prov"], unknown)][1] += _size("ipv4", row["plen"], row["n"])
    # No totals: an organisation may hold registrations in several provinces, and the national
    # totals are in the table by category.
    table = Table.of(values, rows=False, columns=False, grand=False)
    table.contributors = Table.of(who, rows=False, columns=False, grand=False)
    return publish(
        id="by_province",
        title=gettext_noop("Active registrations by province"),
        unit=gettext_noop(
            "organisations; IPv4 addresses (a /24 counts 256); IPv6 prefixes (not addresses); numbers"
        ),
        rows=[name for _pk, name, _ur in provinces] + [gettext_noop("Not recorded")],
        rows_ur=[ur for _pk, _name, ur in provinces] + [""],
        columns=[label for _key, label in CATEGORY_MEASURES],
        table=table,
        note=gettext_noop(
            "Registrations active now, by the province of the district where each resource is used. "
            "An organisation with resources in several provinces is counted in each."
        ),
    )


def _by_month(categories: list[Named], kind: str) -> dict:
    base = Registration.objects.filter(kind=kind)
    made = base.annotate(month=TruncMonth("valid_from"))
    index = {pk: j for j, (pk, *_names) in enumerate(categories)}
    sizes: dict[str, list[int]] = defaultdict(lambda: [0] * len(categories))
    who: dict[str, list[int]] = defaultdict(lambda: [0] * len(categories))
    if kind == "ipv4":
        grouped = made.values("month", cat=F("organisation__category"), plen=_prefix_length())
        for row in grouped.annotate(n=Count("id")):
            sizes[_month(row["month"])][index[row["cat"]]] += _size(kind, row["plen"], row["n"])
    for row in made.values("month", cat=F("organisation__category")).annotate(
        n=Count("id"), orgs=Count("organisation", distinct=True)
    ):
        month = _month(row["month"])
        who[month][index[row["cat"]]] = row["orgs"]
        if kind != "ipv4":
            sizes[month][index[row["cat"]]] += row["n"]
    months = sorted(who)
    table = Table.of([sizes[m] for m in months], width=len(categories))
    contributors = Table.of([who[m] for m in months], width=len(categories))
    # Across months an organisation may recur: who stands behind a column or the whole is counted
    # by the database, not summed.
    per_category = dict(
        base.values_list("organisation__category").annotate(orgs=Count("organisation", distinct=True))
    )
    contributors.column_totals = [per_category.get(pk, 0) for pk, *_names in categories]
    contributors.grand_total = base.aggregate(orgs=Count("organisation", distinct=True))["orgs"]
    table.contributors = contributors
    return publish(
        id=f"{kind}_by_month",
        title=gettext_noop("IPv4 addresses registered by month")
        if kind == "ipv4"
        else gettext_noop("IPv6 prefixes registered by month"),
        unit=gettext_noop("addresses (a /24 counts 256)")
        if kind == "ipv4"
        else gettext_noop("prefixes (IPv6 is counted in prefixes)"),
        rows=months,
        columns=[name for _pk, name, _ur in categories],
        columns_ur=[ur for _pk, _name, ur in categories],
        table=table,
        note=gettext_noop("Every registration made in the month, including those since expired or revoked."),
    )


def _month(value) -> str:
    return (
        timezone.localtime(value).strftime("%Y-%m") if timezone.is_aware(value) else value.strftime("%Y-%m")
    )
