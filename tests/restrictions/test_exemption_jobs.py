"""Bulk exemption checks as jobs: `Prefer: respond-async` or a body past the synchronous limit gives
`202` and a job URL; the owner polls it and downloads the same CSV the synchronous form gives."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone

from tests.workflow import approved
from vpnregistry.restrictions import jobs
from vpnregistry.restrictions.models import ExemptionJob

BODY = b"14.1.105.1\n203.0.113.9\nnot-an-address\n2001:dd8:1c::1\n"


def post(client, body=BODY, **headers):
    """The request, and what runs once its transaction commits (the job, without a broker)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.generic(
            "POST", "/api/v1/exemptions/check?at=", body, content_type="text/plain", headers=headers
        )


def synchronous_answer(client) -> bytes:
    response = post(client)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_respond_async_makes_a_job_whose_answer_is_the_synchronous_one(world):
    approved(world, "14.1.105.0/24")
    operator = world.client(world.operator)
    expected = synchronous_answer(operator)
    response = post(operator, Prefer="respond-async")
    assert response.status_code == 202, response.content
    assert response["Preference-Applied"] == "respond-async"
    job = response.json()
    assert response["Location"] == job["url"] == f"/api/v1/exemptions/jobs/{job['id']}/"
    assert job["state"] == "queued" and job["result_url"] is None
    # Without a broker the job ran once the request's transaction committed.
    polled = operator.get(job["url"]).json()
    assert polled["state"] == "done" and polled["size"] == len(BODY)
    result = operator.get(polled["result_url"])
    assert result.status_code == 200 and result["Content-Type"].startswith("text/csv")
    answer = b"".join(result.streaming_content)
    assert answer == expected and b"14.1.105.1,true," in answer
    assert not jobs.files().exists(jobs.input_name(ExemptionJob.objects.get(pk=job["id"])))  # not kept


def test_a_body_past_the_synchronous_limit_becomes_a_job(world, settings):
    settings.EXEMPTIONS_SYNC_MAX_BYTES = 10
    officer = world.client(world.officer)
    response = post(officer)
    assert response.status_code == 202
    assert officer.get(response["Location"]).json()["state"] == "done"
    settings.EXEMPTIONS_SYNC_MAX_BYTES = len(BODY)
    assert post(world.client(world.officer)).status_code == 200


def test_only_the_owner_sees_a_job_and_its_answer_waits_until_done(world):
    job = jobs.job_create(
        owner=world.operator, source=io.BytesIO(BODY), at=timezone.now(), column=None, start=False
    )
    mine = world.client(world.operator)
    assert mine.get(f"/api/v1/exemptions/jobs/{job.pk}/").json()["state"] == "queued"
    assert mine.get(f"/api/v1/exemptions/jobs/{job.pk}/result").status_code == 409
    for other in (world.other_operator, world.officer, world.auditor):
        assert world.client(other).get(f"/api/v1/exemptions/jobs/{job.pk}/").status_code == 404
    assert world.client(world.applicant).get(f"/api/v1/exemptions/jobs/{job.pk}/").status_code == 403
    jobs.job_run(job.pk)
    jobs.job_run(job.pk)  # run twice (a task redelivered): the same answer, no error
    assert mine.get(f"/api/v1/exemptions/jobs/{job.pk}/result").status_code == 200


def test_a_job_and_its_files_are_deleted_once_expired(world):
    job = jobs.job_create(
        owner=world.operator, source=io.BytesIO(BODY), at=timezone.now(), column=None, start=False
    )
    jobs.job_run(job.pk)
    name = jobs.result_name(job)
    assert jobs.files().exists(name)
    ExemptionJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert world.client(world.operator).get(f"/api/v1/exemptions/jobs/{job.pk}/").status_code == 404
    call_command("sweep", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not jobs.files().exists(name) and not ExemptionJob.objects.exists()


@pytest.mark.parametrize("prefer", ["respond-async", "wait=10, respond-async", "handling=lenient"])
def test_prefer_is_read_as_rfc_7240_says(rf, prefer):
    request = rf.post("/", headers={"Prefer": prefer})
    assert jobs.wants_async(request, 1) is ("respond-async" in prefer)
