"""The queue, turnaround and notification pages, and the same through /api/v1/."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from tests.factories import put_documents_on_file
from tests.workflow import draft, to_decision
from vpnregistry.applications import services
from vpnregistry.applications.models import Application, StepTarget
from vpnregistry.notifications.models import Notification
from vpnregistry.notifications.services import notify_users


def submitted(world, value, days_ago=0, user=None):
    application = draft(world, value, user=user)
    services.application_submit(actor=user or world.applicant, application=application)
    Application.objects.filter(pk=application.pk).update(
        submitted_at=timezone.now() - timedelta(days=days_ago)
    )
    application.refresh_from_db()
    return application


# --- the queue page ----------------------------------------------------------------------------


def test_each_role_sees_its_own_queue_at_one_url(login, world):
    world.other_org.category = world.bank
    world.other_org.save()
    put_documents_on_file(world.other_org)  # a bank's documents differ from a company's
    ours = submitted(world, "14.1.105.0/24")
    theirs = submitted(world, "14.192.130.0/24", user=world.other_applicant)
    awaiting = to_decision(world, "14.1.106.0/24")
    pages = {
        u.username: login(u).get("/queue/").content.decode()
        for u in [world.agency, world.licensing_reviewer, world.operator, world.other_operator, world.officer]
    }
    expected = {
        "reviewer": ours,
        "licensing": theirs,
        "indus-staff": ours,
        "margalla-staff": theirs,
        "officer": awaiting,
    }
    for username, application in expected.items():
        shown = {a for a in (ours, theirs, awaiting) if a.tracking_number in pages[username]}
        assert shown == {application}, username
    assert 'href="/queue/"' in pages["officer"]


def test_overdue_work_is_flagged_and_filtered(login, world):
    StepTarget.objects.filter(step="agency").update(days=3)
    late = submitted(world, "14.1.105.0/24", days_ago=5)
    fresh = submitted(world, "14.1.106.0/24")
    client = login(world.agency)
    page = client.get("/queue/").content.decode()
    rows = re.findall(r"<tr( class=\"overdue\")?>\s*<td><a href=\"/applications/(\d+)/\"", page)
    assert rows == [(' class="overdue"', str(late.pk)), ("", str(fresh.pk))]
    only = client.get("/queue/?overdue=1").content.decode()
    assert late.tracking_number in only and fresh.tracking_number not in only


def test_a_bad_filter_is_named_on_the_page(login, world):
    response = login(world.agency).get("/queue/?district=atlantis")
    assert response.status_code == 200
    assert "District: No district has the code atlantis." in response.content.decode()


def test_the_next_link_keeps_the_filters_and_pages_on(login, world, monkeypatch):
    from vpnregistry.applications import queues

    monkeypatch.setattr(queues.pages, "PAGE_SIZE", 1)  # the page size of the queue page and the API
    first = submitted(world, "14.1.105.0/24", days_ago=2)
    second = submitted(world, "14.1.106.0/24", days_ago=1)
    client = login(world.agency)
    page = client.get("/queue/?category=company").content.decode()
    assert first.tracking_number in page and second.tracking_number not in page
    link = re.search(r'href="\?([^"]+)">Next', page).group(1).replace("&amp;", "&")
    assert "category=company" in link
    page2 = client.get("/queue/?" + link).content.decode()
    assert second.tracking_number in page2 and first.tracking_number not in page2


# --- turnaround --------------------------------------------------------------------------------


def test_turnaround_page_and_officers_set_targets(login, world):
    to_decision(world, "14.1.105.0/24")
    client = login(world.officer)
    page = client.get("/turnaround/").content.decode()
    row = re.search(r'<tr id="step-agency">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'<td class="n">([^<]*)</td>', row)[0] == "1"  # one agency verification completed
    response = client.post("/turnaround/targets/", {"step": "decision", "days": "6"})
    assert response.status_code == 302
    assert StepTarget.objects.get(step="decision").days == 6
    # Auditors read the report but have no form, and cannot post one.
    auditor = login(world.auditor)
    assert "/turnaround/targets/" not in auditor.get("/turnaround/").content.decode()
    assert auditor.post("/turnaround/targets/", {"step": "decision", "days": "9"}).status_code == 403
    assert StepTarget.objects.get(step="decision").days == 6


def test_turnaround_period_is_checked(login, world):
    response = login(world.officer).get("/turnaround/?from=2026-13-01", follow=True)
    assert response.status_code == 200
    assert "Give the period as two dates" in response.content.decode()


# --- notifications -----------------------------------------------------------------------------


def test_notifications_page_lists_own_marks_read_and_counts_in_the_nav(login, world):
    notify_users([world.applicant], subject="Yours to read", body="line one\nline two", link="/applications/")
    notify_users([world.other_applicant], subject="Someone else's", body="")
    client = login(world.applicant)
    page = client.get("/notifications/").content.decode()
    assert "Yours to read" in page and "Someone else" not in page
    assert re.search(r'class="count">1<', page)
    mine = Notification.objects.get(recipient=world.applicant)
    theirs = Notification.objects.get(recipient=world.other_applicant)
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert client.post(f"/notifications/{mine.pk}/read/", {"next": "/notifications/"}).status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None and theirs.read_at is None
    assert 'class="count"' not in client.get("/notifications/").content.decode()


def test_mark_all_read_does_not_follow_an_outside_next(login, world):
    notify_users([world.applicant], subject="a", body="")
    response = login(world.applicant).post("/notifications/read/", {"next": "https://elsewhere.example/"})
    assert response["Location"] == "/notifications/"
    assert not Notification.objects.filter(read_at__isnull=True).exists()


# --- the API -----------------------------------------------------------------------------------


def test_api_queue_pages_with_filters(world):
    apps = [submitted(world, f"14.1.{104 + i}.0/24", days_ago=4 - i) for i in range(3)]
    api = world.client(world.agency)
    first = api.get("/api/v1/queue/", {"category": "company"})
    assert first.status_code == 200
    body = first.json()
    assert [r["id"] for r in body["results"]] == [a.pk for a in apps]
    item = body["results"][0]
    assert item["step"] == "agency" and item["tracking_number"] == apps[0].tracking_number
    assert item["target_days"] == StepTarget.objects.get(step="agency").days
    assert item["pending_resources"] is None and isinstance(item["waited_seconds"], int)
    assert body["next"] is None
    refused = api.get("/api/v1/queue/", {"province": "XX"})
    assert refused.status_code == 400
    assert refused.json() == {"province": ["No province has the code XX."]}
    assert api.get("/api/v1/queue/", {"after": "nonsense"}).status_code == 400
    assert world.client(world.applicant).get("/api/v1/queue/").status_code == 403


def test_api_queue_next_follows_the_cursor(world, monkeypatch):
    from vpnregistry.applications import queues

    monkeypatch.setattr(queues.pages, "PAGE_SIZE", 2)  # the page size of the queue page and the API
    apps = [submitted(world, f"14.1.{104 + i}.0/24", days_ago=4 - i) for i in range(3)]
    api = world.client(world.agency)
    body = api.get("/api/v1/queue/").json()
    assert [r["id"] for r in body["results"]] == [apps[0].pk, apps[1].pk]
    rest = api.get(body["next"]).json()
    assert [r["id"] for r in rest["results"]] == [apps[2].pk] and rest["next"] is None


def test_api_operator_sees_its_pending_count_and_nothing_of_another(world):
    application = submitted(world, "14.1.105.0/24")
    rows = world.client(world.operator).get("/api/v1/queue/").json()["results"]
    assert [(r["id"], r["pending_resources"]) for r in rows] == [(application.pk, 1)]
    assert world.client(world.other_operator).get("/api/v1/queue/").json()["results"] == []


def test_api_notifications_are_the_callers_own(world):
    notify_users([world.applicant], subject="mine", body="")
    notify_users([world.other_applicant], subject="theirs", body="")
    api = world.client(world.applicant)
    rows = api.get("/api/v1/notifications/").json()["results"]
    assert [r["subject"] for r in rows] == ["mine"]
    theirs = Notification.objects.get(recipient=world.other_applicant)
    assert api.get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404
    assert api.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    assert api.post(f"/api/v1/notifications/{rows[0]['id']}/read/").json()["read_at"] is not None
    assert api.get("/api/v1/notifications/", {"unread": "1"}).json()["results"] == []
    notify_users([world.applicant], subject="again", body="")
    assert api.post("/api/v1/notifications/read/").json() == {"marked": 1}
    assert Notification.objects.get(recipient=world.other_applicant).read_at is None
