"""Reading a legacy register's rows: every field of every row checked, each reason a row is bad kept."""

from __future__ import annotations

import csv
import re
from datetime import datetime

from vpnregistry.accounts.models import Category, District, Operator
from vpnregistry.accounts.names import BIDI_CONTROLS, bidi_controls, normalise_name
from vpnregistry.applications.legacy.rows import COLUMNS, OPTIONAL, Row
from vpnregistry.csvcells import formula_reason
from vpnregistry.db import Network
from vpnregistry.netblocks import ParseError, check_prefix
from vpnregistry.timeutil import parse_time


def _parse(reader: csv.DictReader, problems: dict[int, list[str]]) -> list[Row]:
    """The rows whose every field is good; the others' reasons go into `problems`."""
    categories = {c.code: c for c in Category.objects.all()}
    operators = {o.code: o for o in Operator.objects.all()}
    districts = {d.code: d for d in District.objects.all()}
    times: dict[str, datetime | str] = {}  # each distinct text parsed once: a register repeats its dates
    names: dict[str, tuple[str, str]] = {}  # each organisation's name checked once, and held once
    rows: list[Row] = []
    for raw in reader:
        line = reader.line_num
        get = {k: (raw.get(k) or "").strip() for k in COLUMNS + OPTIONAL}
        category = categories.get(get["category"])
        operator = operators.get(get["operator"])
        district = districts.get(get["district"]) if get["district"] else None
        if get["organisation"] not in names:
            names[get["organisation"]] = _organisation_name(get["organisation"])
        holder, why = names[get["organisation"]]
        reasons = [f"organisation: {why}"] if why else []
        _check_codes(get, category, operator, district, reasons)
        net = _prefix(get["value"], category, reasons)
        window = _window(get, times, reasons)
        if reasons:
            problems[line] = reasons
            continue
        rows.append(
            Row(
                line=line,
                organisation=holder,
                category=category,
                value=str(net),
                family=net.version,
                first=int(net.network_address),
                last=int(net.broadcast_address),
                prefixlen=net.prefixlen,
                operator=operator,
                subscriber_id=get["subscriber_id"],
                district=district,
                valid_from=window["valid_from"],
                valid_until=window["valid_until"],
            )
        )
    return rows


def _check_codes(
    get: dict[str, str],
    category: Category | None,
    operator: Operator | None,
    district: District | None,
    reasons: list[str],
) -> None:
    """Add to `reasons` why the row's codes (those found are given) and its subscriber id are bad."""
    if category is None:
        reasons.append(f"category: {get['category']!r} is not a category code")
    if operator is None:
        reasons.append(f"operator: {get['operator']!r} is not an operator code")
    if get["district"] and district is None:
        reasons.append(f"district: {get['district']!r} is not a district code")
    if not get["subscriber_id"]:
        reasons.append("subscriber_id: empty")
    elif why := formula_reason(get["subscriber_id"]):
        reasons.append(f"subscriber_id: {why}, which a spreadsheet runs as a formula")


def _prefix(text: str, category: Category | None, reasons: list[str]) -> Network | None:
    """The row's prefix, no longer than its category allows; None, with the reason added, when bad."""
    net = None
    try:
        limits = (category.min_len_v4, category.min_len_v6) if category else (0, 0)
        net = check_prefix(text, min_len_v4=limits[0], min_len_v6=limits[1])
    except ParseError as exc:
        reasons.append(f"value: {exc}")
    return net


def _window(get: dict[str, str], times: dict[str, datetime | str], reasons: list[str]) -> dict[str, datetime]:
    """The row's valid_from and valid_until that parse, by name; the reasons of those that do not, and
    of a window that ends before it starts, added. `times` holds each text parsed (or why it is not)."""
    window = {}
    for name in ("valid_from", "valid_until"):
        text = get[name]
        if text not in times:
            try:
                times[text] = parse_time(text)
            except ValueError as exc:
                times[text] = str(exc)
        if isinstance(times[text], str):
            reasons.append(f"{name}: {times[text]}")
        else:
            window[name] = times[text]
    if len(window) == 2 and window["valid_until"] <= window["valid_from"]:
        reasons.append("valid_until: must come after valid_from")
    return window


_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # Unicode's Cc and Cs


def _organisation_name(text: str) -> tuple[str, str]:
    """The name as `Organisation.save` stores it, and why it is refused ("" when it is not), as
    sign-up refuses it."""
    name = normalise_name(text)
    if not name:
        return name, "empty"
    if len(name) > 200:
        return name, "longer than 200 characters"
    if not BIDI_CONTROLS.isdisjoint(name):
        return name, f"holds text-direction control characters ({', '.join(bidi_controls(name))})"
    if _CONTROLS.search(name):
        return name, "holds control characters"
    return name, ""
