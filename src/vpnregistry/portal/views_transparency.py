"""Transparency pages: the audit log for auditors, signed checkpoints and statistics for everyone."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vpnregistry.accounts.models import Role
from vpnregistry.audit import selectors
from vpnregistry.audit.models import Checkpoint
from vpnregistry.csvcells import cell
from vpnregistry.db import whole_number
from vpnregistry.portal.history import tell
from vpnregistry.signing import keys
from vpnregistry.transparency.statistics import localised
from vpnregistry.transparency.statistics import statistics as compute

LOG_READERS = {Role.AUDITOR, Role.OFFICER}


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    return whole_number(value)


@require_GET
@login_required
def audit_log(request):
    """The audit log, newest first, filtered; for auditors (identifiers masked) and officers."""
    if request.user.role not in LOG_READERS:
        raise Http404("the audit log is for auditors and officers")
    get = request.GET
    filters = selectors.LogFilter(
        action=get.get("action", "").strip(),
        object_type=get.get("object_type", "").strip(),
        object_id=get.get("object_id", "").strip(),
        actor=get.get("actor", "").strip(),
        since=_date(get.get("since")),
        until=_date(get.get("until")),
    )
    page = selectors.log_page(filters=filters, before=_int(get.get("before")))
    masked = request.user.role == Role.AUDITOR
    told = tell(page.events)
    rows = [
        {
            "event": e,
            "told": t,
            "reason": selectors.mask_text(e.reason) if masked else e.reason,
            "data": json.dumps(
                selectors.mask(e.data) if masked else e.data, ensure_ascii=False, sort_keys=True
            )
            if e.data
            else "",
        }
        for e, t in zip(page.events, told, strict=True)
    ]
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "rows": rows,
        "next_before": page.next_before,
        "filters": filters,
        "query": query.urlencode(),
        "checkpoint": selectors.latest_checkpoint(),
        "run": selectors.latest_verify_run(),
        "masked": masked,
    }
    return render(request, "portal/audit_log.html", context)


@require_GET
def checkpoint_list(request):
    page = selectors.checkpoint_page(before=_int(request.GET.get("before")))
    return render(
        request,
        "portal/audit_checkpoints.html",
        {"page": page, "key": keys.current_key().public},
    )


def _checkpoint(which: str) -> Checkpoint:
    if which == "latest":
        checkpoint = selectors.latest_checkpoint()
        if checkpoint is None:
            raise Http404("no checkpoint has been signed yet")
        return checkpoint
    return get_object_or_404(Checkpoint, pk=int(which))


@require_GET
def checkpoint_file(request, which: str):
    checkpoint = _checkpoint(which)
    response = HttpResponse(checkpoint.body.encode(), content_type="application/json")
    response["Cache-Control"] = "no-cache" if which == "latest" else "public, max-age=31536000, immutable"
    return response


@require_GET
def checkpoint_signature(request, which: str):
    checkpoint = _checkpoint(which)
    response = HttpResponse(checkpoint.signature.encode(), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-cache" if which == "latest" else "public, max-age=31536000, immutable"
    return response


@require_GET
def public_key(request):
    """The registry's public key, so that anyone can check the checkpoints with minisign."""
    return HttpResponse(keys.current_key().public.to_file(), content_type="text/plain; charset=utf-8")


# ---------------------------------------------------------------------------------------------
# Statistics

CHART_WIDTH = 320
BAR_SPACE = 200  # the longest bar; the rest of the width holds its figure
ROW_HEIGHT = 40


def _chart(title: str, labels: list[str], values: list, flags: list[str]) -> dict:
    """Horizontal bars as data for an inline SVG: label above each bar, figure after it."""
    known = [v for v in values if v is not None]
    top = max(known, default=0) or 1
    bars = []
    for i, (label, value, flag) in enumerate(zip(labels, values, flags, strict=True)):
        y = i * ROW_HEIGHT
        width = 0 if value is None else max(1, round(BAR_SPACE * value / top)) if value else 0
        bars.append(
            {
                "label": label,
                "text": flag if value is None and flag else ("—" if value is None else _figure(value)),
                "label_y": y + 14,
                "bar_y": y + 20,
                "width": width,
                "text_x": width + 6,
                "text_y": y + 32,
            }
        )
    return {"title": title, "bars": bars, "width": CHART_WIDTH, "height": max(ROW_HEIGHT * len(bars), 20)}


def _figure(value) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _charts(data: dict) -> dict[str, dict]:
    tables = {t["id"]: t for t in data["tables"]}
    charts = {}
    if (t := tables.get("by_category")) is not None:
        charts["by_category"] = _chart(
            _("IPv4 addresses by category"),
            t["rows"],
            [row[1] for row in t["cells"]],
            [row[1] for row in t["flags"]],
        )
    if (t := tables.get("ipv4_by_month")) is not None and t["rows"]:
        charts["ipv4_by_month"] = _chart(
            _("IPv4 addresses registered by month"), t["rows"], t["row_totals"], t["row_total_flags"]
        )
    if (t := tables.get("median_days")) is not None:
        charts["median_days"] = _chart(
            _("Median days per step, all categories"),
            t["rows"],
            [row[-1] for row in t["cells"]],
            [row[-1] for row in t["flags"]],
        )
    return charts


@require_GET
def statistics_page(request):
    data = localised(compute())
    charts = _charts(data)
    tables = [
        {
            **t,
            "chart": charts.get(t["id"]),
            "body": _rows(t),
            "column_totals_shown": [
                _shown(v, f)
                for v, f in zip(t["column_totals"] or [], t["column_total_flags"] or [], strict=True)
            ],
            "grand_total_shown": _shown(t["grand_total"], t["grand_total_flag"]),
        }
        for t in data["tables"]
    ]
    return render(request, "portal/statistics.html", {"data": data, "tables": tables})


def _rows(table: dict) -> list[dict]:
    """The table's body for the template: each cell as the text it shows."""
    out = []
    for i, label in enumerate(table["rows"]):
        cells = [_shown(v, f) for v, f in zip(table["cells"][i], table["flags"][i], strict=True)]
        total = None
        if table["row_totals"] is not None:
            total = _shown(table["row_totals"][i], table["row_total_flags"][i])
        out.append({"label": label, "cells": cells, "total": total})
    return out


def _shown(value, flag: str) -> str:
    if value is None:
        return flag or "—"
    return _figure(value)


@require_GET
def statistics_json(request):
    return JsonResponse(compute(), json_dumps_params={"ensure_ascii": False, "indent": 1})


@require_GET
def statistics_csv(request):
    """One line per figure: table, row, column, value (empty when withheld) and its flag.

    The row and column labels are names officers typed (categories, provinces, operators): written
    through `csvcells.cell`, so that none runs as a spreadsheet formula. Its words are the reader's
    language; the table ids, which programs match on, are not translated."""
    data = localised(compute())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["table", "row", "column", "value", "flag"])
    total = _("Total")
    for t in data["tables"]:
        for i, row in enumerate(map(cell, t["rows"])):
            for j, column in enumerate(map(cell, t["columns"])):
                writer.writerow([t["id"], row, column, _csv(t["cells"][i][j]), t["flags"][i][j]])
            if t["row_totals"] is not None:
                writer.writerow([t["id"], row, total, _csv(t["row_totals"][i]), t["row_total_flags"][i]])
        if t["column_totals"] is not None:
            for j, column in enumerate(map(cell, t["columns"])):
                writer.writerow(
                    [t["id"], total, column, _csv(t["column_totals"][j]), t["column_total_flags"][j]]
                )
        if t["has_grand_total"]:
            writer.writerow([t["id"], total, total, _csv(t["grand_total"]), t["grand_total_flag"]])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="statistics.csv"'
    return response


def _csv(value) -> str:
    return "" if value is None else str(value)
