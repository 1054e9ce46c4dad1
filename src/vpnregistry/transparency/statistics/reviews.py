"""The figures of how applications were reviewed (median days per step, rejection reasons) and of the
complaints per restriction event; each table from a handful of GROUP BY queries."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Exists, F, Func, IntegerField, Max, OuterRef, Q
from django.db.models.functions import Length, Substr
from django.utils.translation import gettext_noop

from vpnregistry.applications.models import Attestation, Resource, Review
from vpnregistry.audit.selectors import mask_text
from vpnregistry.restrictions.models import Complaint, RestrictionEvent
from vpnregistry.transparency.statistics.holdings import Named
from vpnregistry.transparency.statistics.suppression import PRIMARY, THRESHOLD, Table, publish


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
    """Complaints per restriction event."""
    counts = dict(Complaint.objects.values_list("event").annotate(n=Count("pk")).order_by())
    events = list(RestrictionEvent.objects.filter(pk__in=list(counts)).order_by("pk"))
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
