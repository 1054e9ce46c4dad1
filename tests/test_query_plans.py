"""Every hot query seeks an index on PostgreSQL, as the planner chooses at scale; none scans a table.

A test's tables hold a handful of rows, where a scan is as cheap as anything. These tests fill the
registrations (20,000 of them, over many organisations and three operators), their periods and the
audit log, give PostgreSQL statistics (ANALYZE), and then ask for the plan of each hot query with the
planner left alone: what it picks here is what it picks with a million rows of the same shape
(`make scale` measures the times). SQLite has its own planner and is measured by the load test.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import OrganisationFactory, UserFactory
from vpnregistry.accounts.models import Role
from vpnregistry.applications.models import Application, Resource
from vpnregistry.audit.models import AuditEvent
from vpnregistry.audit.selectors import LogFilter
from vpnregistry.db import ancestor_firsts, network_keys, overlapping_q
from vpnregistry.registrations.models import ActivePeriod, Registration
from vpnregistry.registrations.selectors import REGISTRATION_RELATED, conflicting_registration
from vpnregistry.restrictions import exemptions

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="query plans are checked on PostgreSQL (the PostgreSQL pass)"
)

ROWS = 20_000
SMALL = 30  # the first organisation's registrations: a small holder among large ones, as most are
BIG_TABLES = ("registrations_registration", "registrations_activeperiod", "audit_auditevent")


def _explain(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    return _explain(sql, params)


def _no_scan(plan: str) -> None:
    for table in BIG_TABLES:
        assert not re.search(rf"Seq Scan on {table}\b", plan), plan


@pytest.fixture
def registry(world):
    """20,000 active registrations of 20 organisations (one holding 30) in two operators' space."""
    now = timezone.now() - timedelta(days=1)
    until = now + timedelta(days=365)
    orgs = [OrganisationFactory(category=world.company, documents=False) for _ in range(20)]
    members = [UserFactory(role=Role.APPLICANT, organisation=o) for o in orgs]
    apps = Application.objects.bulk_create(
        Application(organisation=o, category=world.company, created_by=m, state="approved")
        for o, m in zip(orgs, members, strict=True)
    )
    base = int(ipaddress.ip_address("14.192.128.0"))  # the margalla operator's /19
    resources = []
    for i in range(ROWS):
        # Host addresses spread over the /19 and a synthetic range beyond it: the shape, not the space,
        # is what the planner sees.
        net = ipaddress.ip_network(f"{ipaddress.ip_address(base + 2 * i)}/32")
        family, first, last = network_keys(net)
        holder = apps[0 if i < SMALL else 1 + i % (len(apps) - 1)]
        operator = world.margalla if i % 3 else world.indus
        resources.append(
            Resource(
                application=holder, kind="ipv4", value=str(net), family=family, first=first, last=last,
                operator=operator, subscriber_id="S", state="confirmed",
            )
        )  # fmt: skip
    resources = Resource.objects.bulk_create(resources, batch_size=5000)
    registered = Registration.objects.bulk_create(
        (
            Registration(
                resource=r, organisation_id=r.application.organisation_id, operator_id=r.operator_id,
                kind="ipv4", value=r.value, family=4, first=r.first, last=r.last, valid_from=now,
                valid_until=until,
            )
            for r in resources
        ),
        batch_size=5000,
    )  # fmt: skip
    ActivePeriod.objects.bulk_create(
        (ActivePeriod(registration=r, start=now, end=until) for r in registered), batch_size=5000
    )
    AuditEvent.objects.bulk_create(
        (
            AuditEvent(
                seq=i + 1, at=now + timedelta(seconds=i), actor_label="officer" if i % 2 else "system",
                action=("registration.create", "application.decide", "resource.attest")[i % 3],
                object_type="registration", object_id=str(i), prev_hash=f"{i:064x}", hash=f"{i + 1:064x}",
            )
            for i in range(ROWS)
        ),
        batch_size=5000,
    )  # fmt: skip
    with connection.cursor() as cursor:
        for table in (*BIG_TABLES, "applications_resource", "applications_application"):
            cursor.execute(f"ANALYZE {table}")
    return {"orgs": orgs, "members": members, "registered": registered}


def _a_single_exemption_check_seeks_the_prefix_index(registry):
    net = ipaddress.ip_network("14.192.130.8/32")
    family, _first, last = network_keys(net)
    firsts = ancestor_firsts(net)
    at = connection.ops.adapt_datetimefield_value(timezone.now())
    plan = _explain(exemptions._registration_sql(len(firsts)), [family, *firsts, last, at, at])
    _no_scan(plan)
    assert "reg_family_first" in plan, plan


def _overlap_checks_seek_the_prefix_indexes(registry, world):
    """The approval's and the application form's check: does another organisation hold any of it?"""
    for value in ("14.192.130.8/32", "14.192.128.0/19", "14.192.130.0/24"):
        net = ipaddress.ip_network(value)
        qs = (
            Registration.objects.filter(overlapping_q(net), state=Registration.State.ACTIVE)
            .exclude(organisation=world.org)
            .only("id", "value")[:1]
        )
        _no_scan(_plan(qs))
    assert conflicting_registration(net=ipaddress.ip_network("14.192.130.8/32"), organisation=world.org)


def _registration_lists_walk_an_index(registry, world):
    """The API's and the portal's pages, newest first by id (keyset): each an ordered index walk."""
    member = registry["members"][0]
    # An operator holding a third of the rows finds a page soonest walking the whole table's ids
    # backwards; a small holder reads its few rows by its own index and sorts them. Either way an
    # index, never a scan.
    for user, indexes in (
        (world.officer, {"pkey"}),
        (world.auditor, {"pkey"}),
        (world.operator, {"reg_operator_id", "pkey"}),
        (member, {"reg_org_id", "organisation_id"}),
    ):
        qs = Registration.objects.visible_to(user).select_related(*REGISTRATION_RELATED, "district")
        for page in (qs.order_by("-id")[:51], qs.filter(id__lt=ROWS).order_by("-id")[:51]):
            plan = _plan(page)
            _no_scan(plan)
            assert any(index in plan for index in indexes), plan
        _no_scan(_plan(qs.filter(state="active").order_by("-id")[:51]))


def _the_attestation_queue_walks_an_index(registry, world):
    from vpnregistry.applications.models import Application as A

    pending = (
        Resource.objects.filter(
            operator_id=world.operator.operator_id,
            state=Resource.State.PENDING,
            application__state__in=[A.State.SUBMITTED, A.State.IN_REVIEW],
        )
        .select_related("application", "district__province")
        .order_by("-id")[:101]
    )
    plan = _plan(pending)
    assert not re.search(r"Seq Scan on applications_resource\b", plan), plan


def _audit_log_pages_walk_an_index(registry):
    cases = [
        LogFilter(),
        LogFilter(action="registration.create"),
        LogFilter(actor="officer"),
        LogFilter(object_type="registration", object_id="17"),
    ]
    for filters in cases:
        qs = filters.apply(AuditEvent.objects.all()).order_by("-seq")[:51]
        _no_scan(_plan(qs))
        _no_scan(_plan(filters.apply(AuditEvent.objects.filter(seq__lt=ROWS // 2)).order_by("-seq")[:51]))


def test_hot_queries_seek_their_indexes(registry, world):
    """One table of 20,000 rows, built once, for every hot query's plan."""
    _a_single_exemption_check_seeks_the_prefix_index(registry)
    _overlap_checks_seek_the_prefix_indexes(registry, world)
    _registration_lists_walk_an_index(registry, world)
    _the_attestation_queue_walks_an_index(registry, world)
    _audit_log_pages_walk_an_index(registry)
