"""The public statistics on a small world: right figures, suppressed, the same in HTML, JSON and CSV."""

from __future__ import annotations

import copy
import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import build_world, built_once, copy_private_dirs
from tests.factories import OrganisationFactory, UserFactory
from tests.workflow import approved, draft
from vpnregistry.accounts.models import Role
from vpnregistry.applications import services
from vpnregistry.applications.models import Application, Attestation, Review
from vpnregistry.registrations.models import PublishedStatistics
from vpnregistry.transparency.statistics import (
    KEEP,
    OTHER_REASONS,
    PRIMARY,
    SECONDARY,
    THRESHOLD,
    compute_statistics,
    median,
    refresh_statistics,
    statistics,
)


def company_applicant(world, n: int):
    org = OrganisationFactory(category=world.company, name=f"Company {n}")
    return UserFactory(username=f"company-{n}", role=Role.APPLICANT, organisation=org)


def build_small_world():
    """Six companies with a /24 each, one freelancer with one address; reviews that took 1..6 days."""
    world = build_world()
    for n in range(6):
        application = approved(world, f"14.192.{128 + n}.0/24", user=company_applicant(world, n))
        days = timedelta(days=n + 1)
        submitted = application.submitted_at - days
        Application.objects.filter(pk=application.pk).update(submitted_at=submitted)
    approved(world, "14.1.105.7/32", user=world.freelancer_applicant)
    return world


@pytest.fixture(scope="class")
def _small_world_once(django_db_setup, django_db_blocker, tmp_path_factory):
    # Seven approvals and publications, made once for the class rather than for each test.
    root = tmp_path_factory.mktemp("small-world")
    for world in built_once(django_db_blocker, root, build_small_world):
        yield world, root


@pytest.fixture
def small_world(_small_world_once, db, settings):
    """The small world of this module, each test's changes to it rolled back (rows and files)."""
    world, root = _small_world_once
    copy_private_dirs(root, settings)
    return copy.deepcopy(world)


def reject(world, reason: str) -> None:
    application = draft(world, "14.1.106.0/24")
    services.application_submit(actor=world.applicant, application=application)
    services.application_verify(actor=world.agency, application=application, decision="reject", reason=reason)


def table(data, table_id):
    return next(t for t in data["tables"] if t["id"] == table_id)


def cell(t, row, column):
    i, j = t["rows"].index(row), t["columns"].index(column)
    return t["cells"][i][j], t["flags"][i][j]


class TestOnTheSmallWorld:
    """The tests of the small world, built once for the class (its data rolled back after its last
    test, before the module's other tests make a world of their own)."""

    def test_registered_addresses_and_organisations_by_category(self, small_world):
        t = table(compute_statistics(), "by_category")
        assert t["columns"] == ["Organisations", "IPv4 addresses", "IPv6 prefixes", "Mobile numbers"]
        # A lone freelancer is under 5; the companies are then withheld too, or the total would give it away.
        assert cell(t, "Freelancer", "Organisations") == (None, PRIMARY)
        assert cell(t, "Freelancer", "IPv4 addresses") == (None, PRIMARY)
        assert cell(t, "Company", "Organisations") == (None, SECONDARY)
        assert cell(t, "Company", "IPv4 addresses") == (None, SECONDARY)
        assert cell(t, "Bank", "Organisations") == (0, "")
        assert t["column_totals"][:2] == [7, 6 * 256 + 1]

    def test_a_category_of_five_or_more_is_published(self, small_world):
        OrganisationFactory(category=small_world.freelancer)  # no registrations: not counted
        data = compute_statistics()
        # Without the freelancer (surrendered, say), the companies stand alone.
        from vpnregistry.registrations.models import Registration

        Registration.objects.filter(organisation=small_world.freelancer_org).update(state="surrendered")
        t = table(compute_statistics(), "by_category")
        assert cell(t, "Company", "Organisations") == (6, "")
        assert cell(t, "Company", "IPv4 addresses") == (1536, "")
        assert cell(t, "Freelancer", "IPv4 addresses") == (0, "")
        assert table(data, "by_category")["column_totals"][0] == 7

    def test_addresses_by_month(self, small_world):
        t = table(compute_statistics(), "ipv4_by_month")
        assert len(t["rows"]) == 1 and t["columns"] == ["Bank", "Company", "Freelancer"]
        month = t["rows"][0]
        assert cell(t, month, "Company") == (None, SECONDARY)
        assert cell(t, month, "Freelancer") == (None, PRIMARY)
        assert t["row_totals"] == [1537] and t["grand_total"] == 1537
        v6 = table(compute_statistics(), "ipv6_by_month")
        assert v6["rows"] == [] and v6["grand_total"] == 0

    def test_median_days_per_step(self, small_world):
        t = table(compute_statistics(), "median_days")
        for step in t["rows"]:
            value, flag = cell(t, step, "Company")
            assert flag == "" and value == pytest.approx(3.5, abs=0.1)
            assert cell(t, step, "Freelancer") == (None, PRIMARY)
            assert cell(t, step, "Bank") == (None, "")
        # The freelancer's one application joins the others in "All categories": 7 applications.
        value, flag = cell(t, t["rows"][0], "All categories")
        assert flag == "" and value == pytest.approx(3.0, abs=0.1)

    def test_invariant_no_statistic_reveals_a_count_under_five(self, small_world):
        """Directly or by subtracting published figures from any published total."""
        for _ in range(5):
            reject(small_world, "Wrong subscriber ID")
        reject(small_world, "Rare")
        data = compute_statistics()
        for t in data["tables"]:
            cells, n, m = t["cells"], len(t["rows"]), len(t["columns"])
            if t["id"] == "median_days":
                continue  # medians, withheld by group size (tested above); no totals to subtract from
            figures = [v for row in cells for v in row]
            figures += [v for v in (t["row_totals"] or []) + (t["column_totals"] or [])]
            if t["unit"] in {"rejections", "complaints"} or t["id"] == "by_category":
                counts = figures if t["id"] != "by_category" else [row[0] for row in cells]
                assert not [v for v in counts if v is not None and 0 < v < THRESHOLD], t["id"]
            groups = []
            if t["row_totals"] is not None:
                groups += [(t["row_totals"][i], cells[i]) for i in range(n)]
            if t["column_totals"] is not None:
                groups += [(t["column_totals"][j], [cells[i][j] for i in range(n)]) for j in range(m)]
            if t["has_grand_total"]:
                groups.append((t["grand_total"], [v for row in cells for v in row]))
                if t["row_totals"] is not None:
                    groups.append((t["grand_total"], t["row_totals"]))
                if t["column_totals"] is not None:
                    groups.append((t["grand_total"], t["column_totals"]))
            for total, members in groups:
                if total is not None:
                    assert [v for v in members if v is None] != [None], (t["id"], total, members)

    def test_json_csv_and_page_show_the_same_figures(self, client, small_world):
        refresh_statistics()
        page = client.get("/statistics/")
        assert page.status_code == 200
        data = client.get("/statistics.json").json()
        assert page.context["data"] == data
        rows = list(csv.DictReader(io.StringIO(client.get("/statistics.csv").content.decode())))
        from_csv = {(r["table"], r["row"], r["column"]): (r["value"], r["flag"]) for r in rows}
        html = page.content.decode()
        for t in data["tables"]:
            for i, row in enumerate(t["rows"]):
                for j, column in enumerate(t["columns"]):
                    value, flag = t["cells"][i][j], t["flags"][i][j]
                    assert from_csv[(t["id"], row, column)] == ("" if value is None else str(value), flag)
            if t["column_totals"] is not None:
                for j, column in enumerate(t["columns"]):
                    value = t["column_totals"][j]
                    assert from_csv[(t["id"], "Total", column)][0] == ("" if value is None else str(value))
        assert '<td class="n"><bdi dir="ltr">1,537</bdi></td>' in html  # the IPv4 total of the month table
        assert html.count("&lt;5") >= 4 and '<td class="n"><bdi dir="ltr">x</bdi></td>' in html

    def test_pages_need_no_login_and_charts_are_inline_svg(self, client, small_world):
        refresh_statistics()
        html = client.get("/statistics/").content.decode()
        assert html.count("<svg") == 3 and 'role="img"' in html and "<title" in html
        assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/portal/portal.js" defer>']
        assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in html

    def test_statistics_are_computed_by_a_fixed_number_of_queries(self, small_world):
        with CaptureQueriesContext(connection) as first:
            compute_statistics()
        # More rows, the same number of queries: the figures come from GROUP BY, not a walk over rows.
        for n in range(6, 9):
            approved(small_world, f"14.192.{128 + n}.0/24", user=company_applicant(small_world, n))
        with CaptureQueriesContext(connection) as bigger:
            compute_statistics()
        assert len(bigger.captured_queries) == len(first.captured_queries)

    def test_a_page_view_never_computes_the_figures(self, client, small_world):
        """Pages read what the scheduled job stored: one query, or none while cached; the page says when."""
        page = client.get("/statistics/")
        assert page.status_code == 200 and page.context["data"]["tables"] == []
        assert "have not been computed yet" in page.content.decode()
        assert client.get("/statistics.json").json()["generated_at"] is None
        stored = refresh_statistics()
        with CaptureQueriesContext(connection) as viewed:
            data = client.get("/statistics.json").json()
        assert len(viewed.captured_queries) <= 1
        assert data == stored.data and data["tables"]
        with CaptureQueriesContext(connection) as again:
            statistics()
        assert len(again.captured_queries) == 0
        # The next refresh is what the pages show, and only the last few computations are kept.
        approved(small_world, "14.192.140.0/24", user=company_applicant(small_world, 9))
        for _ in range(KEEP + 2):
            latest = refresh_statistics()
        assert statistics() == latest.data
        assert PublishedStatistics.objects.count() == KEEP
        assert "computed at" in client.get("/statistics/").content.decode()

    def test_refresh_command(self, small_world, capsys):
        from django.core.management import call_command

        call_command("refresh-statistics")
        assert "computed in" in capsys.readouterr().out
        assert statistics()["tables"]


def test_median_of_a_histogram():
    assert median({}) is None
    assert median({5: 1}) == 5
    assert median({1: 1, 2: 1, 10: 2}) == 6
    assert median({1: 3, 9: 1}) == 1


def test_rejection_reasons_grouped_and_suppressed(world):
    for _ in range(6):
        reject(world, "Documents incomplete: the incorporation certificate is missing from the upload")
    for _ in range(5):
        reject(world, "Wrong subscriber ID")
    reject(world, "NTN 1234567-8 belongs to another company")
    reject(world, "Something rare")
    t = table(compute_statistics(), "rejections_agency")
    long_reason = "Documents incomplete: the incorporation certificate is missi…"
    assert t["rows"] == [long_reason, "Wrong subscriber ID", OTHER_REASONS]
    assert cell(t, long_reason, "Rejections") == (6, "")
    assert cell(t, "Wrong subscriber ID", "Rejections") == (None, SECONDARY)
    assert cell(t, OTHER_REASONS, "Rejections") == (None, PRIMARY)
    assert t["column_totals"] == [13]
    # Rare reasons never appear as text.
    assert "1234567" not in str(compute_statistics())


def test_complaints_table_appears_now_that_complaints_are_recorded(world):
    # Complaints exist since issue 6: the table is there (empty here), the "not yet" note is gone.
    data = compute_statistics()
    table = next(t for t in data["tables"] if t["id"] == "complaints_by_event")
    assert table["rows"] == []
    assert not any(note.startswith("Complaints per restriction event") for note in data["notes"])
    assert any(t["id"] == "by_province" for t in data["tables"])


def test_attestations_step_waits_for_every_resource(world):
    application = draft(world, "14.1.105.0/24", "14.192.130.0/24")
    services.application_submit(actor=world.applicant, application=application)
    first = application.resources.get(value="14.1.105.0/24")
    services.resource_attest(actor=world.operator, resource=first, decision="approve")
    assert Attestation.objects.count() == 1 and Review.objects.count() == 0
    from vpnregistry.transparency.statistics.reviews import _histograms

    assert not any(_histograms()["attestations"].values())
