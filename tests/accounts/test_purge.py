"""Documents are deleted a set time after the organisation's last registration ends; logged, idempotent."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import OrganisationFactory, UserFactory
from tests.workflow import approved, draft
from vpnregistry.accounts.models import Document
from vpnregistry.applications.documents import purge_candidates, purge_documents
from vpnregistry.applications.models import Application
from vpnregistry.audit.models import AuditEvent
from vpnregistry.audit.services import verify_chain
from vpnregistry.registrations.models import Registration

DAYS = 365


def age(organisation, days: int) -> None:
    """Move everything the organisation did `days` into the past (uploads, applications, registrations)."""
    then = timezone.now() - timedelta(days=days)
    Document.objects.filter(organisation=organisation).update(uploaded_at=then)
    Application.objects.filter(organisation=organisation).update(
        created_at=then, decided_at=then, submitted_at=then
    )


def end_registrations(organisation, days_ago: int, state="expired") -> None:
    ended = timezone.now() - timedelta(days=days_ago)
    Registration.objects.filter(organisation=organisation).update(
        state=state, valid_from=ended - timedelta(days=365), valid_until=ended, state_changed_at=ended
    )


def live_files(organisation) -> list[Path]:
    return [
        Path(settings.DOCUMENTS_DIR) / d.file
        for d in Document.objects.filter(organisation=organisation, deleted_at__isnull=True)
    ]


@pytest.fixture
def lapsed(world):
    """The world's company: one registration that expired 400 days ago, nothing since."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        approved(world, "14.1.105.0/24")
    end_registrations(world.org, 400)
    age(world.org, 800)
    return world.org


def test_documents_of_a_lapsed_organisation_are_deleted_logged_and_kept_as_rows(
    world, lapsed, django_capture_on_commit_callbacks
):
    files = live_files(lapsed)
    assert files and all(f.exists() for f in files)
    kept = [OrganisationFactory(category=world.company)]  # uploaded just now: kept
    with django_capture_on_commit_callbacks(execute=True):
        # The files go once the deletion is committed.
        assert purge_documents() == len(files)
    assert not any(f.exists() for f in files)
    rows = Document.objects.filter(organisation=lapsed)
    assert rows.count() == len(files), list(rows.values("deleted_at", "file"))
    assert all(d.deleted_at and d.file == "" for d in rows), list(rows.values("deleted_at", "file"))
    events = AuditEvent.objects.filter(action="document.purge")
    assert sorted(int(e.object_id) for e in events) == sorted(d.pk for d in rows)
    assert all(
        e.data["retention_days"] == DAYS and e.actor_id is None and e.actor_label == "system" for e in events
    )
    assert verify_chain().ok
    assert all(f.exists() for f in live_files(kept[0]))
    assert Document.objects.filter(organisation=world.other_org, deleted_at__isnull=True).exists()
    # Idempotent: the second run finds nothing.
    assert purge_documents() == 0
    assert AuditEvent.objects.filter(action="document.purge").count() == len(files)


@pytest.mark.parametrize(
    "keep",
    ["active", "suspended", "ended_recently", "revoked_recently", "open_application", "recent_upload"],
)
def test_documents_are_kept_while_anything_still_stands(world, lapsed, keep):
    if keep in {"active", "suspended"}:
        Registration.objects.filter(organisation=lapsed).update(
            state=keep, valid_until=timezone.now() - timedelta(days=400)
        )
    elif keep == "ended_recently":
        end_registrations(lapsed, 300)
    elif keep == "revoked_recently":
        end_registrations(lapsed, 10, state="revoked")
    elif keep == "open_application":
        application = draft(world, "14.1.106.0/24")
        Application.objects.filter(pk=application.pk).update(created_at=timezone.now() - timedelta(days=900))
    elif keep == "recent_upload":
        Document.objects.filter(organisation=lapsed).update(uploaded_at=timezone.now())
    assert not purge_candidates().filter(pk=lapsed.pk).exists()
    assert purge_documents() == 0
    assert all(f.exists() for f in live_files(lapsed))


def test_the_retention_period_is_a_setting(world, lapsed, settings):
    settings.DOCUMENT_RETENTION_DAYS = 500
    assert purge_documents() == 0
    settings.DOCUMENT_RETENTION_DAYS = 30
    assert purge_documents() > 0


def test_an_organisation_that_never_applied_keeps_its_documents_for_the_period_after_upload(world):
    quiet = OrganisationFactory(category=world.company)
    UserFactory(organisation=quiet)
    assert not purge_candidates().filter(pk=quiet.pk).exists()
    age(quiet, 400)
    assert purge_candidates().filter(pk=quiet.pk).exists()


def test_a_file_left_by_an_interrupted_run_is_removed_by_the_next(world, lapsed):
    document = Document.objects.filter(organisation=lapsed).first()
    path = Path(settings.DOCUMENTS_DIR) / document.file
    Document.objects.filter(pk=document.pk).update(deleted_at=timezone.now())  # as if the run stopped here
    purge_documents()
    assert not path.exists()
    assert Document.objects.get(pk=document.pk).file == ""


def test_the_candidate_query_does_not_grow_with_the_organisations(world, lapsed):
    """One query finds the candidates, however many organisations there are."""
    with CaptureQueriesContext(connection) as few:
        list(purge_candidates())
    for _ in range(20):
        OrganisationFactory(category=world.company)
    with CaptureQueriesContext(connection) as many:
        list(purge_candidates())
    assert len(few) == len(many) == 1


def test_the_command_for_cron(world, lapsed):
    out = io.StringIO()
    call_command("purge-documents", stdout=out)
    assert out.getvalue().startswith("deleted ") and "retention 365 days" in out.getvalue()
    out = io.StringIO()
    call_command("purge-documents", stdout=out)
    assert out.getvalue().startswith("deleted 0 documents")
