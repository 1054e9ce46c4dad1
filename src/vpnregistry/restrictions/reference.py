"""The services an order can restrict, as shipped in `data/services.csv` (code, kind, name, name_ur)."""

from __future__ import annotations

import csv
import io
from importlib import resources

from vpnregistry.bilingual import fill_urdu_names


def services() -> list[dict[str, str]]:
    """The rows of `data/services.csv`."""
    text = (
        resources.files("vpnregistry.restrictions")
        .joinpath("data", "services.csv")
        .read_text(encoding="utf-8")
    )
    return list(csv.DictReader(io.StringIO(text)))


def seed_urdu_names(apps) -> None:
    """Give the shipped services whose Urdu name is blank the one in the data file.

    `apps` is a migration's app registry or `django.apps.apps`; a name the regulator wrote stays.
    """
    fill_urdu_names(apps.get_model("restrictions", "Service"), {r["code"]: r["name_ur"] for r in services()})
