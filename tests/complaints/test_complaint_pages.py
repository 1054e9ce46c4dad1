"""Complaint pages through Django's test client: filing with errors beside fields, the timeline,
each side's actions, evidence downloads and who reaches what."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.auth import login
from tests.events import LAHORE, located
from vpnregistry.restrictions import complaints
from vpnregistry.restrictions.models import Complaint


def local(at) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


def test_applicant_files_a_complaint_with_evidence(client, world, past_event):
    reg = located(world, "14.1.105.0/24", LAHORE)
    login(client, world.applicant)
    form = client.get("/complaints/new/")
    assert form.status_code == 200
    html = form.content.decode()
    assert reg.reference in html and "Polling day" in html and 'enctype="multipart/form-data"' in html
    data = {
        "registration": reg.reference,
        "event": str(past_event.pk),
        "happened_at": local(past_event.starts_at + timedelta(hours=1)),
        "service": "mobile-data",
        "description": "Dropped at ten.",
        "evidence": SimpleUploadedFile("log.txt", b"traceroute: * * *\n"),
    }
    response = client.post("/complaints/new/", data)
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert response["Location"] == f"/complaints/{complaint.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Dropped at ten." in page and "log.txt" in page and "Report" in page
    got = client.get(f"/complaints/{complaint.pk}/evidence/")
    assert got.status_code == 200 and b"".join(got.streaming_content) == b"traceroute: * * *\n"


def test_errors_are_shown_beside_their_fields_and_nothing_is_saved(client, world, past_event):
    reg = located(world, "14.1.105.0/24", LAHORE)
    login(client, world.applicant)
    response = client.post(
        "/complaints/new/",
        {
            "registration": reg.reference,
            "event": str(past_event.pk),
            "happened_at": local(past_event.ends_at + timedelta(hours=1)),
            "service": "",
            "description": "",
            "evidence": SimpleUploadedFile("x.png", b"GIF89a\x00\x00"),
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert 'id="err_happened_at"' in html and "outside the event&#x27;s window" in html
    assert 'id="err_service"' in html and 'id="err_description"' in html and 'id="err_evidence"' in html
    assert not Complaint.objects.exists()


def test_operator_answers_officer_decides_applicant_reopens_in_the_portal(client, world, past_event):
    reg = located(world, "14.1.105.0/24", LAHORE)
    complaint = complaints.complaint_file(
        actor=world.applicant,
        registration=reg.reference,
        event=past_event.pk,
        happened_at=past_event.starts_at + timedelta(hours=1),
        service="mobile-data",
        description="Down.",
    )
    url = f"/complaints/{complaint.pk}/"
    login(client, world.operator)
    assert "Your answer" in client.get(url).content.decode()
    assert client.post(url + "messages/", {"text": "Fixed the filter."}).status_code == 302
    login(client, world.auditor)
    page = client.get(url).content.decode()
    assert "Fixed the filter." in page and "Your comment" not in page and "Decide" not in page
    assert client.post(url + "messages/", {"text": "x"}).status_code == 403  # auditors only read
    login(client, world.officer)
    assert ">Decide<" in client.get(url).content.decode()
    refused = client.post(url + "resolve/", {"decision": "rejected", "reason": ""}, follow=True)
    assert "Reason: A rejection gives its reason." in refused.content.decode()
    client.post(url + "resolve/", {"decision": "rejected", "reason": "Not in use."})
    login(client, world.applicant)
    assert "Reopen (once)" in client.get(url).content.decode()
    client.post(url + "reopen/", {"reason": "It was."})
    complaint.refresh_from_db()
    assert complaint.state == "open" and complaint.reopened
    assert "Reopen (once)" not in client.get(url).content.decode()
    page = client.get(url).content.decode()
    page = page[page.index("Timeline") :]
    positions = [page.index(t) for t in ("Down.", "Fixed the filter.", "Not in use.", "It was.")]
    assert positions == sorted(positions)


def test_lists_and_pages_are_out_of_reach_for_others(client, world, past_event):
    reg = located(world, "14.1.105.0/24", LAHORE)
    complaint = complaints.complaint_file(
        actor=world.applicant,
        registration=reg.reference,
        event=past_event.pk,
        happened_at=past_event.starts_at + timedelta(hours=1),
        service="mobile-data",
        description="Down.",
        evidence=SimpleUploadedFile("a.txt", b"evidence"),
    )
    for user in (world.applicant, world.operator, world.officer, world.auditor):
        login(client, user)
        assert f'href="/complaints/{complaint.pk}/"' in client.get("/complaints/").content.decode()
        assert client.get(f"/complaints/{complaint.pk}/").status_code == 200
    for user in (world.other_applicant, world.other_operator, world.agency):
        login(client, user)
        listing = client.get("/complaints/")
        assert listing.status_code in {200, 404}
        assert f'href="/complaints/{complaint.pk}/"' not in listing.content.decode()
        assert client.get(f"/complaints/{complaint.pk}/").status_code == 404
        assert client.get(f"/complaints/{complaint.pk}/evidence/").status_code == 404
        assert client.post(f"/complaints/{complaint.pk}/messages/", {"text": "x"}).status_code == 404
    login(client, world.operator)
    assert client.get("/complaints/new/").status_code == 404
    client.logout()
    assert client.get(f"/complaints/{complaint.pk}/").status_code == 302  # to the login page


def test_complaint_list_pages_by_keyset(client, world, past_event, monkeypatch):
    reg = located(world, "14.1.105.0/24", LAHORE)
    monkeypatch.setattr(complaints, "PAGE_SIZE", 2)
    made = [
        complaints.complaint_file(
            actor=world.applicant,
            registration=reg.reference,
            event=past_event.pk,
            happened_at=past_event.starts_at + timedelta(hours=1),
            service="mobile-data",
            description=f"Down {i}.",
        )
        for i in range(3)
    ]
    login(client, world.officer)
    first = client.get("/complaints/")
    assert first.context["page"].next_cursor == f"0.{made[1].pk}"
    assert [c.pk for c in first.context["page"].items] == [made[0].pk, made[1].pk]
    second = client.get("/complaints/", {"after": first.context["page"].next_cursor})
    assert [c.pk for c in second.context["page"].items] == [made[2].pk]
    assert second.context["page"].next_cursor is None


def test_nav_links(client, world):
    login(client, world.applicant)
    html = client.get("/").content.decode()
    assert 'href="/statements/"' in html and 'href="/complaints/"' in html
    login(client, world.operator)
    html = client.get("/").content.decode()
    assert 'href="/statements/"' not in html and 'href="/complaints/"' in html
