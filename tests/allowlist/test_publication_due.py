"""The durable wish to publish (PublicationDue): written with each change, consumed by the publisher.

On SQLite and PostgreSQL alike, in one process: these tests run the publisher themselves (the
request's own on-commit run never happens inside a test's transaction unless captured), which is
exactly the state a server killed between a change's commit and its publication leaves behind.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from tests.workflow import approved, to_decision
from vpnregistry.allowlist import publication
from vpnregistry.allowlist import services as allowlist_services
from vpnregistry.allowlist.models import Snapshot
from vpnregistry.allowlist.publication import backlog, is_due, publish_pending, sweep
from vpnregistry.applications import services
from vpnregistry.netblocks import aggregate
from vpnregistry.registrations.models import PublicationDue, Registration
from vpnregistry.registrations.selectors import active_at_q
from vpnregistry.registrations.services import registration_change_state
from vpnregistry.worker import tasks


def approve_without_publishing(world, *values, user=None):
    """An approval whose transaction committed but whose publication never ran (a server killed)."""
    application = to_decision(world, *values, user=user)
    services.application_decide(actor=world.officer, application=application, decision="approve", reason="ok")
    application.refresh_from_db()
    return application


def published_ipv4(snapshot=None) -> list[str]:
    snapshot = snapshot or Snapshot.objects.latest()
    return json.loads(snapshot.content)["ipv4"]


def active_ipv4(at=None) -> list[str]:
    """What the allowlist must hold: the active registrations' IPv4 prefixes, aggregated."""
    values = Registration.objects.filter(active_at_q(at or timezone.now()), family=4).values_list(
        "value", flat=True
    )
    return [str(p) for p in aggregate(values)]


class BuildCounter:
    """Counts the allowlist's builds; optionally lands another change while the first one builds."""

    def __init__(self, monkeypatch, during=None):
        self.calls = 0
        self.during = during
        real = allowlist_services.build_allowlist

        def counted(**kwargs):
            self.calls += 1
            if self.during and self.calls == 1:
                self.during()
            return real(**kwargs)

        monkeypatch.setattr(allowlist_services, "build_allowlist", counted)


def test_an_approval_records_the_wish_in_its_own_transaction(world):
    before = Snapshot.objects.count()
    application = approve_without_publishing(world, "14.1.105.0/24")
    (due,) = PublicationDue.objects.all()
    assert due.application_id == application.pk and application.tracking_number in due.reason
    assert Snapshot.objects.count() == before and application.published_serial is None
    api = world.client(world.officer).get(f"/api/v1/applications/{application.pk}/").json()
    assert api["publication"] == "pending" and api["published_serial"] is None


def test_a_change_rolled_back_records_nothing(world):
    clash = to_decision(world, "14.1.105.0/25", user=world.other_applicant)
    application = approved(world, "14.1.105.0/24")
    registration = Registration.objects.get(resource__application=application)
    PublicationDue.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        registration_change_state(
            actor=world.officer, registration=registration, step="suspend", reason="check"
        )
        assert PublicationDue.objects.count() == 1  # inside: written with the change
        raise RuntimeError("the request fails after the change")
    assert PublicationDue.objects.count() == 0
    # A refused approval (an overlap registered meanwhile) writes no wish either.
    with pytest.raises(Exception, match="overlaps"):
        services.application_decide(actor=world.officer, application=clash, decision="approve", reason="ok")
    assert PublicationDue.objects.count() == 0


def test_every_registration_change_records_the_wish(world):
    approved(world, "14.1.105.0/24")
    reg = Registration.objects.get(value="14.1.105.0/24")
    for actor, step in [
        (world.officer, "suspend"),
        (world.officer, "reinstate"),
        (world.operator, "report-unassigned"),
        (world.officer, "revoke"),
    ]:
        PublicationDue.objects.all().delete()
        registration_change_state(actor=actor, registration=reg, step=step, reason="r")
        assert PublicationDue.objects.filter(reason__startswith=step).count() == 1, step
    approved(world, "14.1.106.0/24")
    mine = Registration.objects.get(value="14.1.106.0/24")
    PublicationDue.objects.all().delete()
    registration_change_state(actor=world.applicant, registration=mine, step="surrender")
    assert PublicationDue.objects.filter(reason__startswith="surrender").count() == 1


def test_publishing_consumes_the_wish_and_notes_the_serial_on_the_application(world):
    application = approve_without_publishing(world, "14.1.105.0/24")
    assert is_due()
    outcome = publish_pending()
    assert outcome.snapshot is not None and outcome.consumed == 1
    assert PublicationDue.objects.count() == 0
    application.refresh_from_db()
    assert application.published_serial == outcome.snapshot.serial
    assert published_ipv4() == active_ipv4() == ["14.1.105.0/24"]
    api = world.client(world.applicant).get(f"/api/v1/applications/{application.pk}/").json()
    assert api["publication"] == "published" and api["published_serial"] == outcome.snapshot.serial
    page = world.client(world.applicant)
    page.force_login(world.applicant)
    assert (
        f"published in serial {outcome.snapshot.serial}"
        in page.get(f"/applications/{application.pk}/").content.decode()
    )
    # Nothing due now: known without building the allowlist.
    assert not is_due()


def test_nothing_pending_is_known_without_building(world, monkeypatch):
    approved(world, "14.1.105.0/24")
    assert PublicationDue.objects.count() == 0
    counter = BuildCounter(monkeypatch)
    assert publish_pending().due is False
    out = _command("publish")
    assert "nothing was due" in out
    report = sweep()
    assert report.published_serial is None
    assert counter.calls == 0
    # --force still builds and publishes.
    assert "Published serial" in _command("publish", "--force")
    assert counter.calls == 1


def test_changes_during_a_publication_cause_exactly_one_more(world, monkeypatch):
    approve_without_publishing(world, "14.1.105.0/24")
    late = to_decision(world, "14.1.106.0/24")

    def another_change_commits():
        # Lands after the publisher read what was pending: its wish is not the publisher's to consume.
        services.application_decide(actor=world.officer, application=late, decision="approve", reason="ok")

    counter = BuildCounter(monkeypatch, during=another_change_commits)
    first = publish_pending()
    assert first.consumed == 1 and first.snapshot is not None
    assert PublicationDue.objects.count() == 1  # the late change's wish stays
    second = publish_pending()
    assert second.due and second.consumed == 1
    third = publish_pending()
    assert third.due is False
    assert counter.calls == 2  # exactly one more build, then none
    assert published_ipv4() == active_ipv4() == ["14.1.105.0/24", "14.1.106.0/24"]
    late.refresh_from_db()
    assert late.published_serial == Snapshot.objects.latest().serial


def test_a_validity_that_ended_is_due_without_any_wish(world):
    approved(world, "14.1.105.0/24")
    reg = Registration.objects.get(value="14.1.105.0/24")
    later = reg.valid_until + timedelta(seconds=1)
    assert not is_due() and is_due(at=later)
    report = sweep(now=later)
    assert report.expired == [reg.reference] and report.published_serial is not None
    assert published_ipv4() == [] and PublicationDue.objects.count() == 0


def test_healthz_reports_the_backlog_and_stays_200(world, client):
    body = client.get("/healthz").json()
    assert body["publication"] == {"pending": 0, "oldest_at": None, "oldest_age_seconds": None}
    approve_without_publishing(world, "14.1.105.0/24")
    PublicationDue.objects.update(at=timezone.now() - timedelta(minutes=5))
    response = client.get("/healthz")
    assert response.status_code == 200
    waiting = response.json()["publication"]
    assert waiting["pending"] == 1 and waiting["oldest_age_seconds"] >= 300
    assert backlog().pending == 1


@pytest.mark.parametrize("runner", ["publish-command", "task", "sweep"])
def test_a_server_killed_between_commit_and_publication_is_caught_up(world, runner):
    """The approval and a revocation committed with their wishes; no publication ran for either."""
    approved(world, "14.1.104.0/24")
    gone = Registration.objects.get(value="14.1.104.0/24")
    registration_change_state(actor=world.officer, registration=gone, step="revoke", reason="fraud")
    approve_without_publishing(world, "14.1.105.0/24")
    assert published_ipv4() == ["14.1.104.0/24"]  # still the revoked one, not the new one
    assert backlog().pending == 2
    if runner == "publish-command":
        _command("publish")
    elif runner == "task":
        tasks.publish.apply().get()
    else:
        tasks.sweep.apply().get()
    assert published_ipv4() == active_ipv4() == ["14.1.105.0/24"]
    assert backlog().pending == 0


def test_the_approval_publishes_once_committed_without_a_broker(world):
    application = to_decision(world, "14.1.105.0/24")
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.application_decide(
            actor=world.officer, application=application, decision="approve", reason="ok"
        )
    application.refresh_from_db()
    assert application.published_serial == Snapshot.objects.latest().serial
    assert backlog().pending == 0


def test_the_minimum_interval_defers_without_dropping(world, settings):
    approved(world, "14.1.105.0/24")
    settings.ALLOWLIST_MIN_INTERVAL_SECONDS = 3600
    approve_without_publishing(world, "14.1.106.0/24")
    outcome = publish_pending(respect_interval=True)
    assert outcome.wait > 3500 and outcome.snapshot is None
    assert backlog().pending == 1  # kept for the run the task schedules
    assert publish_pending().snapshot is not None  # cron's `vpnregistry publish` does not wait
    assert backlog().pending == 0


def test_a_killed_writers_temporary_files_are_swept(world, settings):
    approved(world, "14.1.105.0/24")
    session = Snapshot.objects.latest().session
    stale = settings.ALLOWLIST_DIR / session / ".3.txt.tmp-999999"
    stale.write_bytes(b"half")
    assert publication.sweep_temporary_files() == [stale]
    assert not stale.exists()
    stale.write_bytes(b"half")
    approve_without_publishing(world, "14.1.106.0/24")
    publish_pending()
    assert not stale.exists()


def _command(*args) -> str:
    import io

    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()
