"""Spreadsheet formulas: refused where people type them, neutralised in every CSV the registry writes.

`csvcells` says which exports carry text people typed (the subscriber ID, officers' names for
categories and provinces, an operator's own lines echoed back); each is checked here with a formula
already stored (typed before the input rule) or named by an officer.
"""

from __future__ import annotations

import csv
import io

import pytest

from tests.workflow import draft
from vpnregistry.accounts.models import Category
from vpnregistry.allowlist.formats import Allowlist, render
from vpnregistry.applications import bulk
from vpnregistry.applications.models import Resource
from vpnregistry.csvcells import cell, formula_reason
from vpnregistry.transparency.statistics import refresh_statistics


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+cmd", "'+cmd"),
        ("-x", "'-x"),
        ("\tx", "'\tx"),
        ("-1+1", "'-1+1"),
        # Numbers, E.164 numbers, addresses and codes are left as written: machines read these files.
        ("+923001234567", "+923001234567"),
        ("-12", "-12"),
        ("3.5", "3.5"),
        ("14.1.104.0/24", "14.1.104.0/24"),
        ("2001:dd8:1c::/48", "2001:dd8:1c::/48"),
        ("SUB=1", "SUB=1"),
        ("", ""),
        (None, ""),
        (7, "7"),
    ],
)
def test_cell_neutralises_only_what_a_spreadsheet_would_run(text, shown):
    assert cell(text) == shown


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("=A1", True),
        ("@A1", True),
        ("+A1", True),
        ("-A1", True),
        ("+", True),
        ("+\u00b2", True),  # a superscript two is a digit to str.isdigit, not to a spreadsheet
        ("+92300", False),
        ("-1", False),
        ("ACC-1", False),
        ("", False),
    ],
)
def test_formula_reason(text, refused):
    assert (formula_reason(text) is not None) is refused


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_the_resources_csv_neutralises_a_stored_formula(world):
    application = draft(world, "14.1.104.0/24", "14.1.105.0/24")
    Resource.objects.filter(application=application, value="14.1.105.0/24").update(subscriber_id="=1+1")
    rows = _rows(bulk.resources_as_csv(application.resources.order_by("value")))
    assert rows[1][:2] == ["14.1.104.0/24", "SUB-1"]
    assert rows[2][:2] == ["14.1.105.0/24", "'=1+1"]


def test_the_statistics_csv_neutralises_a_label_an_officer_typed(client, world):
    Category.objects.filter(pk=world.bank.pk).update(name="=HYPERLINK(1)")
    refresh_statistics()
    rows = _rows(client.get("/statistics.csv").content.decode())
    labels = {cell for row in rows[1:] for cell in row[1:3]}
    assert "'=HYPERLINK(1)" in labels
    assert not [label for label in labels if label[:1] in "=+-@"]


def test_the_exemption_answers_neutralise_a_line_echoed_back(world):
    response = world.client(world.operator).post(
        "/api/v1/exemptions/check", data="14.1.105.1\n=1+1\n@x\n", content_type="text/plain"
    )
    assert response.status_code == 200
    rows = _rows(b"".join(response.streaming_content).decode())
    assert rows[1][0] == "14.1.105.1"
    assert [row[:2] for row in rows[2:]] == [["'=1+1", "error"], ["'@x", "error"]]


def test_the_msisdn_csv_keeps_numbers_as_written():
    allowlist = Allowlist(
        session="s",
        serial=1,
        generated_at="2026-01-01T00:00:00Z",
        ipv4=[],
        ipv6=[],
        msisdn={"jazz": ("+923001234567",)},
    )
    assert render("msisdn.csv", allowlist, operator="jazz") == "msisdn,operator\n+923001234567,jazz\n"
