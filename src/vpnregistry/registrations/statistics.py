"""Public statistics: aggregate queries, and suppression so that no published figure identifies anyone."""

from __future__ import annotations

import contextlib
import importlib
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Exists, F, Func, IntegerField, Max, OuterRef, Q, Value
from django.db.models.functions import Cast, Length, StrIndex, Substr, TruncMonth
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop, ngettext
from redis import RedisError

from vpnregistry.accounts.models import Category, Province
from vpnregistry.applications.models import Attestation, Resource, Review
from vpnregistry.bilingual import is_urdu
from vpnregistry.registrations.models import PublishedStatistics, Registration

THRESHOLD = 5
PRIMARY = "<5"  # fewer than THRESHOLD counted (for addresses: held by fewer than THRESHOLD organisations)
SECONDARY = "x"  # withheld so that a "<5" cannot be worked out from the totals
CACHE_KEY = "vpnregistry:statistics:v2"
# A process re-reads the stored figures at most this often: they change once a refresh.
CACHE_SECONDS = 60
KEEP = 5  # stored computations kept; older ones are removed

# ---------------------------------------------------------------------------------------------
# Suppression: a pure function on a table of counts with its margins.

Key = tuple  # ("cell", i, j) | ("row", i) | ("col", j) | ("grand",)


@dataclass
class Table:
    """Rows x columns of non-negative numbers, with whichever totals are published.

    `contributors` (same shape, margins included) counts who stands behind each figure, where that
    is not the figure itself: for addresses, the organisations holding them. Primary suppression
    applies to contributor counts of 1 to THRESHOLD - 1.
    """

    cells: list[list[int]]
    row_totals: list[int] | None = None
    column_totals: list[int] | None = None
    grand_total: int | None = None
    contributors: Table | None = None
    width: int = 0  # the number of columns, for a table without rows

    @classmethod
    def of(
        cls,
        cells: list[list[int]],
        *,
        rows: bool = True,
        columns: bool = True,
        grand: bool = True,
        width: int | None = None,
    ) -> Table:
        """A table whose published totals are the sums of its cells."""
        width = len(cells[0]) if cells else (width or 0)
        return cls(
            width=width,
            cells=[list(r) for r in cells],
            row_totals=[sum(r) for r in cells] if rows else None,
            column_totals=[sum(r[j] for r in cells) for j in range(width)] if columns else None,
            grand_total=sum(map(sum, cells)) if grand else None,
        )

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.cells), len(self.cells[0]) if self.cells else self.width

    def value(self, key: Key) -> int:
        kind = key[0]
        if kind == "cell":
            return self.cells[key[1]][key[2]]
        if kind == "row":
            return self.row_totals[key[1]]
        if kind == "col":
            return self.column_totals[key[1]]
        return self.grand_total

    def positions(self) -> list[Key]:
        n, m = self.shape
        found: list[Key] = [("cell", i, j) for i in range(n) for j in range(m)]
        if self.row_totals is not None:
            found += [("row", i) for i in range(n)]
        if self.column_totals is not None:
            found += [("col", j) for j in range(m)]
        if self.grand_total is not None:
            found.append(("grand",))
        return found

    def groups(self) -> list[list[Key]]:
        """Every set of figures tied by one sum: a published total and the figures it adds up."""
        n, m = self.shape
        groups: list[list[Key]] = []
        if self.row_totals is not None:
            groups += [[("cell", i, j) for j in range(m)] + [("row", i)] for i in range(n)]
        if self.column_totals is not None:
            groups += [[("cell", i, j) for i in range(n)] + [("col", j)] for j in range(m)]
        if self.grand_total is not None:
            groups.append([("cell", i, j) for i in range(n) for j in range(m)] + [("grand",)])
            if self.row_totals is not None:
                groups.append([("row", i) for i in range(n)] + [("grand",)])
            if self.column_totals is not None:
                groups.append([("col", j) for j in range(m)] + [("grand",)])
        return groups


@dataclass
class Suppressed:
    """Which figures of a table are withheld, and why: PRIMARY or SECONDARY."""

    table: Table
    flags: dict[Key, str] = field(default_factory=dict)

    def published(self, key: Key) -> int | None:
        return None if key in self.flags else self.table.value(key)

    def flag(self, key: Key) -> str:
        return self.flags.get(key, "")


def suppress(table: Table, *, threshold: int = THRESHOLD) -> Suppressed:
    """Withhold every figure under the threshold, then enough others that none can be worked out.

    Primary: a figure whose count (or contributor count) is 1 to threshold - 1. Secondary: while
    some group (a published total and the figures it sums) has exactly one withheld member, that
    member is the total minus the others, so withhold the group's smallest other member too:
    non-zero cells first, then non-zero totals, then zeros. Repeat until nothing changes.
    """
    who = table.contributors or table
    flags: dict[Key, str] = {}
    for key in table.positions():
        if 0 < who.value(key) < threshold:
            flags[key] = PRIMARY
    groups = table.groups()
    changed = True
    while changed:
        changed = False
        for group in groups:
            hidden = [k for k in group if k in flags]
            if len(hidden) != 1:
                continue
            candidates = [k for k in group if k not in flags]
            if not candidates:
                continue
            pick = min(
                candidates,
                key=lambda k: (table.value(k) == 0, k[0] != "cell", table.value(k), group.index(k)),
            )
            flags[pick] = SECONDARY
            changed = True
    return Suppressed(table, flags)


def recoverable(result: Suppressed) -> list[Key]:
    """Withheld figures that one published total minus its published members gives away exactly."""
    found = []
    for group in result.table.groups():
        hidden = [k for k in group if k in result.flags]
        if len(hidden) == 1:
            found.append(hidden[0])
    return found


# ---------------------------------------------------------------------------------------------
# Publishing a table: the shape the page, the JSON and the CSV all read.


def publish(
    *,
    id: str,
    title: str,
    unit: str,
    rows: list[str],
    columns: list[str],
    table: Table,
    note: str = "",
    rows_ur: list[str] | None = None,
    columns_ur: list[str] | None = None,
) -> dict:
    """The table as stored: `rows_ur`/`columns_ur` hold the Urdu of labels that are reference names
    (categories, provinces), "" for the others; `in_language` picks the reader's at each view."""
    result = suppress(table)
    n, m = table.shape
    out = {
        "id": id,
        "title": title,
        "unit": unit,
        "note": note,
        "rows": rows,
        "columns": columns,
        "rows_ur": rows_ur or [""] * len(rows),
        "columns_ur": columns_ur or [""] * len(columns),
        "cells": [[result.published(("cell", i, j)) for j in range(m)] for i in range(n)],
        "flags": [[result.flag(("cell", i, j)) for j in range(m)] for i in range(n)],
        "row_totals": None,
        "row_total_flags": None,
        "column_totals": None,
        "column_total_flags": None,
        "grand_total": None,
        "grand_total_flag": "",
        "has_grand_total": table.grand_total is not None,
    }
    if table.row_totals is not None:
        out["row_totals"] = [result.published(("row", i)) for i in range(n)]
        out["row_total_flags"] = [result.flag(("row", i)) for i in range(n)]
    if table.column_totals is not None:
        out["column_totals"] = [result.published(("col", j)) for j in range(m)]
        out["column_total_flags"] = [result.flag(("col", j)) for j in range(m)]
    if table.grand_total is not None:
        out["grand_total"] = result.published(("grand",))
        out["grand_total_flag"] = result.flag(("grand",))
    return out


# ---------------------------------------------------------------------------------------------
# The figures, each from a handful of GROUP BY queries.


class TenthsOfDays(Func):
    """Whole tenths of a day from `start` to `end`, computed in the database."""

    output_field = IntegerField()

    def __init__(self, end, start):
        super().__init__(end, start)

    def as_sql(self, compiler, connection, **extra):
        end_sql, end_params = compiler.compile(self.source_expressions[0])
        start_sql, start_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            sql = f"ROUND(EXTRACT(EPOCH FROM ({end_sql} - {start_sql})) / 8640.0)"
        else:
            sql = f"ROUND((julianday({end_sql}) - julianday({start_sql})) * 10)"
        return sql, (*end_params, *start_params)


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


STEPS = [
    ("agency", gettext_noop("Submission to agency verification")),
    ("attestations", gettext_noop("Submission to the last operator attestation")),
    ("decision", gettext_noop("Submission to the regulator's decision")),
]


def _histograms() -> dict[str, dict[int, dict[int, int]]]:
    """Per step, per category: how many applications took each number of tenths of a day."""
    found: dict[str, dict[int, dict[int, int]]] = {step: defaultdict(dict) for step, _label in STEPS}
    for step, stage in (("agency", Review.Stage.AGENCY), ("decision", Review.Stage.DECISION)):
        rows = (
            Review.objects.filter(stage=stage, application__submitted_at__isnull=False)
            .annotate(tenths=TenthsOfDays(F("at"), F("application__submitted_at")))
            .values("tenths", cat=F("application__category"))
            .annotate(n=Count("id"))
        )
        for row in rows:
            found[step][row["cat"]][int(row["tenths"])] = row["n"]
    same_application = Attestation.objects.filter(resource__application=OuterRef("resource__application"))
    last = (
        Attestation.objects.filter(resource__application__submitted_at__isnull=False)
        .exclude(
            Exists(
                same_application.filter(
                    Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), id__gt=OuterRef("id"))
                )
            )
        )
        .exclude(
            Exists(
                Resource.objects.filter(
                    application=OuterRef("resource__application"), state=Resource.State.PENDING
                )
            )
        )
        .annotate(tenths=TenthsOfDays(F("at"), F("resource__application__submitted_at")))
        .values("tenths", cat=F("resource__application__category"))
        .annotate(n=Count("id"))
    )
    for row in last:
        found["attestations"][row["cat"]][int(row["tenths"])] = row["n"]
    return found


def median(histogram: dict[int, int]) -> float | None:
    """The median of values given as {value: how many}; None when empty."""
    total = sum(histogram.values())
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]
    picked = []
    seen = 0
    for value in sorted(histogram):
        count = histogram[value]
        for position in wanted:
            if seen <= position < seen + count:
                picked.append(value)
        seen += count
    return sum(picked) / len(picked)


def _medians(categories: list[Named]) -> dict:
    found = _histograms()
    cells, flags, sizes = [], [], []
    for step, _label in STEPS:
        row, row_flags = [], []
        merged: dict[int, int] = defaultdict(int)
        for pk, *_names in categories:
            histogram = found[step].get(pk, {})
            for value, n in histogram.items():
                merged[value] += n
            row.append(histogram)
        row.append(merged)
        values = []
        for histogram in row:
            n = sum(histogram.values())
            if 0 < n < THRESHOLD:
                values.append(None)
                row_flags.append(PRIMARY)
            else:
                m = median(histogram)
                values.append(None if m is None else round(m / 10, 1))
                row_flags.append("")
        cells.append(values)
        flags.append(row_flags)
        sizes.append(sum(merged.values()))
    return {
        "id": "median_days",
        "title": gettext_noop("Median days per review step"),
        "unit": gettext_noop("days, to the nearest tenth"),
        "note": gettext_noop(
            "Measured from submission, since agency verification and operator attestations run side by "
            "side. A median of fewer than 5 applications is withheld (<5); an empty group is blank."
        ),
        "rows": [label for _step, label in STEPS],
        "columns": [name for _pk, name, _ur in categories] + [gettext_noop("All categories")],
        "rows_ur": [""] * len(STEPS),
        "columns_ur": [ur for _pk, _name, ur in categories] + [""],
        "cells": cells,
        "flags": flags,
        "row_totals": None,
        "row_total_flags": None,
        "column_totals": None,
        "column_total_flags": None,
        "grand_total": None,
        "grand_total_flag": "",
        "has_grand_total": False,
    }


OTHER_REASONS = gettext_noop("Other reasons (each given fewer than 5 times)")


def _rejection_reasons() -> list[dict]:
    from vpnregistry.audit.selectors import mask_text

    tables = []
    grouped = (
        Review.objects.filter(decision=Review.Decision.REJECT)
        .values("stage", head=Substr("reason", 1, 60))
        .annotate(n=Count("id"), longest=Max(Length("reason")))
        .order_by("stage", "-n", "head")
    )
    by_stage: dict[str, list[dict]] = defaultdict(list)
    for row in grouped:
        by_stage[row["stage"]].append(row)
    for stage, label in Review.Stage.choices:
        rows = by_stage.get(stage, [])
        # A reason given fewer than 5 times is not shown even as text: it could name who it was about.
        shown = [r for r in rows if r["n"] >= THRESHOLD]
        other = sum(r["n"] for r in rows if r["n"] < THRESHOLD)
        labels = [mask_text(r["head"]) + ("…" if r["longest"] > 60 else "") for r in shown]
        counts = [[r["n"]] for r in shown]
        if other:
            labels.append(OTHER_REASONS)
            counts.append([other])
        tables.append(
            publish(
                id=f"rejections_{stage}",
                title=f"Rejection reasons: {label}",
                unit=gettext_noop("rejections"),
                rows=labels,
                columns=[gettext_noop("Rejections")],
                table=Table.of(counts, rows=False, columns=True, grand=False, width=1),
                note=gettext_noop("Reasons are free text for now: grouped by their first 60 characters."),
            )
        )
    return tables


def _complaints() -> tuple[dict | None, str]:
    """Complaints per restriction event, once the restrictions app has complaints."""
    try:
        models = importlib.import_module("vpnregistry.restrictions.models")
    except ImportError:
        models = None
    complaint = getattr(models, "Complaint", None)
    note = gettext_noop(
        "Complaints per restriction event are not recorded yet; this table appears once they are."
    )
    if complaint is None:
        return None, note
    link = next(
        (
            f
            for f in complaint._meta.get_fields()
            if f.many_to_one and f.related_model is not None and f.related_model.__name__.endswith("Event")
        ),
        None,
    )
    if link is None:
        return None, note
    counts = dict(complaint.objects.values_list(link.name).annotate(n=Count("pk")).order_by())
    events = list(link.related_model.objects.filter(pk__in=list(counts)).order_by("pk"))
    table = Table.of([[counts[e.pk]] for e in events], rows=False, columns=True, grand=False, width=1)
    return (
        publish(
            id="complaints_by_event",
            title=gettext_noop("Complaints per restriction event"),
            unit=gettext_noop("complaints"),
            rows=[str(e) for e in events],
            columns=[gettext_noop("Complaints")],
            table=table,
        ),
        "",
    )


def compute_statistics() -> dict:
    """Every public figure, suppressed; a few GROUP BY queries, whatever the number of rows."""
    categories = list(Category.objects.order_by("name").values_list("pk", "name", "name_ur"))
    complaints, complaints_note = _complaints()
    tables = [
        _by_category(categories),
        _by_province(),
        _by_month(categories, "ipv4"),
        _by_month(categories, "ipv6"),
        _medians(categories),
        *_rejection_reasons(),
    ]
    if complaints is not None:
        tables.append(complaints)
    notes = [
        gettext_noop(
            "Figures under 5 are withheld (<5, null in JSON), and so is any figure from which one could be "
            "worked out by subtraction from a total (x)."
        ),
    ]
    if complaints_note:
        notes.append(complaints_note)
    return {
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "threshold": THRESHOLD,
        "notes": notes,
        "tables": tables,
    }


def refresh_statistics() -> PublishedStatistics:
    """Compute every figure and store it for the pages: the scheduled job, never a page view."""
    started = time.perf_counter()
    data = compute_statistics()
    with transaction.atomic():
        row = PublishedStatistics.objects.create(
            generated_at=timezone.now(), seconds=time.perf_counter() - started, data=data
        )
        stale = PublishedStatistics.objects.filter(id__lt=row.id).order_by("-id").values_list("id", flat=True)
        PublishedStatistics.objects.filter(id__in=list(stale[KEEP - 1 :])).delete()
    with contextlib.suppress(RedisError):  # a cache that is down holds nothing to drop
        cache.delete(CACHE_KEY)
    return row


def _not_computed_note() -> str:
    minutes = settings.VPNREGISTRY_STATISTICS_REFRESH_SECONDS // 60
    return ngettext(
        "The statistics have not been computed yet: they are refreshed every %(minutes)d minute.",
        "The statistics have not been computed yet: they are refreshed every %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def not_computed() -> dict:
    with translation.override("en"):  # stored and cached: in the figures' own words, as computed ones
        note = _not_computed_note()
    return {"generated_at": None, "threshold": THRESHOLD, "notes": [note], "tables": []}


def localised(data: dict) -> dict:
    """The figures with their words in the active language, for the page and the CSV.

    The stored figures keep the English words the JSON publishes (stable for the programs that read
    it); each fixed label was marked with `gettext_noop` where it is made and is translated here, as
    it is shown.
    Categories and provinces are stored with their Urdu names beside (`rows_ur`, `columns_ur`, as the
    JSON carries them): an Urdu reader gets those, so the figures cached for everyone freeze no
    language; a name with no Urdu, or figures stored before there were Urdu names, show the English.
    Free-text reasons pass through unchanged unless translated.
    """
    stages = dict(Review.Stage.choices)
    tables = []
    for t in data["tables"]:
        t = {**t, "title": gettext(t["title"]), "unit": gettext(t["unit"])}
        if t.get("note"):
            t["note"] = gettext(t["note"])
        if t["id"].startswith("rejections_"):
            stage = stages.get(t["id"].removeprefix("rejections_"), "")
            t["title"] = gettext("Rejection reasons: %(stage)s") % {"stage": stage}
        t["rows"] = _labels(t["rows"], t.get("rows_ur"))
        t["columns"] = _labels(t["columns"], t.get("columns_ur"))
        tables.append(t)
    notes = [gettext(note) for note in data["notes"]]
    if data["generated_at"] is None:
        notes = [_not_computed_note()]
    return {**data, "notes": notes, "tables": tables}


def _labels(english: list[str], urdu: list[str] | None) -> list[str]:
    """A table's row or column labels as shown: a stored Urdu name to an Urdu reader, else translated."""
    urdu = urdu if urdu and is_urdu() else [""] * len(english)
    return [ur or (gettext(label) if label else label) for label, ur in zip(english, urdu, strict=True)]


def statistics() -> dict:
    """The figures as last refreshed: one indexed read (or none, from the cache); never computed here."""
    try:
        data = cache.get(CACHE_KEY)
    except RedisError:
        return _stored()  # the shared cache is down: the stored figures, kept nowhere
    if data is None:
        data = _stored()
        cache.set(CACHE_KEY, data, CACHE_SECONDS)
    return data


def _stored() -> dict:
    latest = PublishedStatistics.objects.order_by("-id").values_list("data", flat=True).first()
    return latest if latest is not None else not_computed()
