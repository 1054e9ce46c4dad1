"""Every figure computed together by the scheduled job, stored, cached, and shown in the reader's
language; a page view never computes them."""

from __future__ import annotations

import contextlib
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop, ngettext
from redis import RedisError

from vpnregistry.accounts.models import Category
from vpnregistry.applications.models import Review
from vpnregistry.bilingual import is_urdu
from vpnregistry.registrations.models import PublishedStatistics
from vpnregistry.transparency.statistics.holdings import _by_category, _by_month, _by_province
from vpnregistry.transparency.statistics.reviews import _complaints, _medians, _rejection_reasons
from vpnregistry.transparency.statistics.suppression import THRESHOLD

CACHE_KEY = "vpnregistry:statistics:v2"
# A process re-reads the stored figures at most this often: they change once a refresh.
CACHE_SECONDS = 60
KEEP = 5  # stored computations kept; older ones are removed


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
    minutes = settings.STATISTICS_REFRESH_SECONDS // 60
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
