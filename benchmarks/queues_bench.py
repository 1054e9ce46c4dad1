"""Queue pages, the turnaround report and escalation against a million applications of history.

A throwaway registry (SQLite under a temporary folder) gets a million decided applications
(quick: 50,000), each with one resource, plus 3,000 waiting ones spread over the agency, operator
and decision steps, and 300,000 completed step durations (quick: 15,000). Then each query the
queues make is timed (median of several runs) and its plan printed: each must walk an index of
waiting work, so its time does not grow with the history. Run: `python -m benchmarks.queues_bench`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

WAITING = 3000


def _setup(home: Path) -> None:
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(
        VPNREGISTRY_VAR=str(home), VPNREGISTRY_DEBUG="1", DJANGO_SETTINGS_MODULE="vpnregistry.settings"
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _populate(history: int, durations: int) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from vpnregistry.accounts.models import Agency, Category, Operator, Organisation, Role, User
    from vpnregistry.applications.models import Application, Resource, StepDuration

    now = timezone.now()
    agencies = [Agency.objects.create(code=f"agency{i}", name=f"Agency {i}") for i in range(3)]
    categories = [
        Category.objects.create(code=f"cat{i}", name=f"Cat {i}", agency=agencies[i]) for i in range(3)
    ]
    operators = [Operator.objects.create(code=f"op{i}", name=f"Operator {i}") for i in range(4)]
    orgs = [Organisation.objects.create(name=f"Org {i}", category=categories[i % 3]) for i in range(30)]
    user = User.objects.create(username="bench", role=Role.APPLICANT, organisation=orgs[0])
    staff = {
        "agency": User.objects.create(username="rev", role=Role.AGENCY, agency=agencies[0]),
        "operator": User.objects.create(username="opstaff", role=Role.OPERATOR, operator=operators[3]),
        "officer": User.objects.create(username="off", role=Role.OFFICER),
    }
    batch = 5000
    waiting_states = ["submitted", "in_review", "awaiting_decision"]
    total = history + WAITING
    started = time.perf_counter()
    for start in range(0, total, batch):
        with transaction.atomic():
            rows = []
            for n in range(start, min(start + batch, total)):
                waiting = n >= history
                at = now - timedelta(days=(total - n) * 730 / total, minutes=n % 60)
                org = orgs[n % 30]
                cat = categories[n % 3]
                state = waiting_states[n % 3] if waiting else ("approved" if n % 5 else "rejected")
                rows.append(
                    Application(
                        organisation=org,
                        category=cat,
                        agency_id=cat.agency_id,
                        state=state,
                        tracking_number=f"VR-B-{n:07d}",
                        created_by=user,
                        submitted_at=at,
                        state_changed_at=at + timedelta(hours=1) if state == "awaiting_decision" else at,
                        verified_at=at if state in {"approved", "awaiting_decision"} else None,
                    )
                )
            Application.objects.bulk_create(rows)
            Resource.objects.bulk_create(
                [
                    Resource(
                        application=a,
                        kind="ipv4",
                        value=f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}/32",
                        operator=operators[i % 4],
                        subscriber_id="S",
                        state="pending" if a.state in {"submitted", "in_review", "rejected"} else "confirmed",
                    )
                    for i, a in ((a.pk, a) for a in rows)
                ]
            )
    apps = list(Application.objects.filter(state="approved").values_list("pk", flat=True)[:durations])
    steps = ["agency", "operator", "decision"]
    for start in range(0, durations, batch):
        StepDuration.objects.bulk_create(
            [
                StepDuration(
                    step=steps[n % 3],
                    application_id=apps[n % len(apps)],
                    party="bench",
                    entered_at=now - timedelta(days=n % 365, hours=5),
                    ended_at=now - timedelta(days=n % 365),
                    seconds=(n * 7919) % (10 * 86400),
                )
                for n in range(start, min(start + batch, durations))
            ]
        )
    print(
        f"loaded {history:,} decided + {WAITING:,} waiting applications, {durations:,} durations "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return staff


def _time(fn, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def _plan(qs) -> str:
    from django.db import connection

    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "; ".join(str(r[-1]) for r in cursor.fetchall() if "applications_application" in str(r[-1]))


def _measure(staff: dict, label: str) -> None:
    from django.utils import timezone

    from vpnregistry.applications import queues

    now = timezone.now()
    page = queues.queue_page(staff["agency"])
    for _ in range(9):  # the tenth page, by cursor
        page = queues.queue_page(staff["agency"], after=page.next_cursor)
    cursor = page.next_cursor
    cases = [
        (
            "agency queue, first page",
            lambda: queues.queue_page(staff["agency"]),
            queues.queue_for(staff["agency"]),
        ),
        (
            "agency queue, 11th page",
            lambda: queues.queue_page(staff["agency"], after=cursor),
            queues.queue_for(staff["agency"]),
        ),
        (
            "agency queue, overdue only",
            lambda: queues.queue_page(staff["agency"], queues.Filters(overdue=True)),
            queues.queue_for(staff["agency"], queues.Filters(overdue=True)),
        ),
        (
            "operator queue, first page",
            lambda: queues.queue_page(staff["operator"]),
            queues.queue_for(staff["operator"]),
        ),
        (
            "officer queue, first page",
            lambda: queues.queue_page(staff["officer"]),
            queues.queue_for(staff["officer"]),
        ),
        ("turnaround, one year", lambda: queues.turnaround(now - timedelta(days=365), now), None),
    ]
    print(f"\n{label}")
    print("| query | median ms | plan on applications |\n|---|---|---|")
    for name, fn, qs in cases:
        ms = _time(fn)
        plan = _plan(qs[:26]) if qs is not None else "StepDuration (step, ended_at, seconds) index"
        print(f"| {name} | {ms:.1f} | {plan} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="50,000 applications instead of a million")
    args = parser.parse_args(argv)
    history, durations = (50_000, 15_000) if args.quick else (1_000_000, 300_000)
    with tempfile.TemporaryDirectory() as tmp:
        _setup(Path(tmp))
        staff = _populate(history, durations)
        _measure(staff, "SQLite, no ANALYZE (as deployed)")
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        _measure(staff, "SQLite after ANALYZE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
