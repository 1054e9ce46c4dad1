"""The registry on an S3-compatible object store (moto's server): every stored file lands in the
bucket under its kind's prefix, and every download answers as it does from the folders: the same
bytes, ETag and headers, a 304 for a copy the client holds, a signed redirect when asked for, and
nobody's file to anyone not entitled to it."""

from __future__ import annotations

import hashlib
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.factories import OperatorFactory, UserFactory, api_key
from tests.storage import scenario
from tests.storage.conftest import folder_storages
from vpnregistry import storage
from vpnregistry.accounts.models import Operator, Role
from vpnregistry.allowlist.services import file_name, publish_snapshot
from vpnregistry.storage import FOLDER_SETTINGS

# A server of its own (in a thread) and some seconds: once per `make test`, in the PostgreSQL pass.
pytestmark = [pytest.mark.multiprocess, pytest.mark.django_db]


def test_every_kind_of_file_lands_in_the_bucket_and_downloads_as_from_the_folders(
    object_store, world, settings
):
    made = scenario.make(world)
    snapshot = made.snapshot
    keys = object_store.listed()
    for name in snapshot.files:
        for end in ("", ".minisig"):
            assert f"allowlist/{file_name(snapshot, name + end)}" in keys
    assert f"documents/{made.document.file}" in keys
    assert f"evidence/{made.complaint.evidence_file}" in keys
    assert f"jobs/{made.job.pk}.csv" in keys and f"jobs/{made.job.pk}.in" not in keys  # body not kept
    # What the bucket holds is what was published, and what the index says.
    txt = object_store.read(f"allowlist/{file_name(snapshot, 'txt')}")
    assert hashlib.sha256(txt).hexdigest() == snapshot.files["txt"]["sha256"]
    assert object_store.read(f"documents/{made.document.file}") == made.document_bytes
    assert object_store.read(f"evidence/{made.complaint.evidence_file}") == scenario.EVIDENCE

    from_the_store = scenario.downloads(world, made)
    assert all(a["status"] == 200 for a in from_the_store.values()), from_the_store
    assert from_the_store["document"]["body"] == made.document_bytes
    assert from_the_store["evidence"]["body"] == scenario.EVIDENCE
    assert from_the_store["allowlist txt"]["ETag"] == f'"{snapshot.files["txt"]["sha256"]}"'

    # The same objects in folders (the default storage): every answer the same, header by header.
    for key in keys:
        kind, name = key.split("/", 1)
        path = Path(getattr(settings, FOLDER_SETTINGS[kind])) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(object_store.read(key))
    settings.STORAGES = folder_storages()
    assert storage.is_local(storage.get(storage.ALLOWLIST))
    assert scenario.downloads(world, made) == from_the_store


def test_a_copy_the_client_holds_is_a_304_and_every_serial_stays_immutable(object_store, world):
    made = scenario.make(world)
    operator = world.client(world.operator)
    serial, sha = made.snapshot.serial, made.snapshot.files["json"]["sha256"]
    first = operator.get(f"/api/v1/allowlist/{serial}.json")
    assert first.status_code == 200 and first["ETag"] == f'"{sha}"'
    assert first["Cache-Control"] == "private, max-age=31536000, immutable"
    again = operator.get(f"/api/v1/allowlist/{serial}.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again["ETag"] == first["ETag"] and not again.content
    latest = operator.get("/api/v1/allowlist/latest.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert latest.status_code == 304 and latest["Cache-Control"] == "private, no-cache"
    # A later serial leaves this one's bytes as they were.
    publish_snapshot(force=True)
    assert scenario.body(operator.get(f"/api/v1/allowlist/{serial}.json")) == scenario.body(first)


def test_redirect_mode_hands_over_a_signed_url_that_fetches_the_same_bytes(object_store, world, settings):
    made = scenario.make(world)
    operator = world.client(world.operator)
    serial = made.snapshot.serial
    streamed = {
        name: operator.get(f"/api/v1/allowlist/{serial}.{name}") for name in ("txt", "json", "txt.minisig")
    }
    settings.S3_REDIRECT_SECONDS = 60
    for name, through_the_app in streamed.items():
        response = operator.get(f"/api/v1/allowlist/{serial}.{name}")
        assert response.status_code == 302 and response["Cache-Control"] == "private, no-store"
        url = response["Location"]
        assert url.startswith(object_store.endpoint) and "X-Amz-Signature=" in url
        assert "X-Amz-Expires=60" in url
        with urllib.request.urlopen(url, timeout=10) as fetched:  # no token: the URL is the credential
            assert fetched.read() == scenario.body(through_the_app)
            assert fetched.headers["Content-Type"] == through_the_app["Content-Type"]
            assert fetched.headers["Content-Disposition"] == through_the_app["Content-Disposition"]
        # The token and the copy held are still checked by the app before any redirect.
        assert world.client(None).get(f"/api/v1/allowlist/{serial}.{name}").status_code == 401
        held = operator.get(f"/api/v1/allowlist/{serial}.{name}", HTTP_IF_NONE_MATCH=through_the_app["ETag"])
        assert held.status_code == 304
    # Another storage kind is never redirected: documents stream through the app.
    document = world.client(world.applicant).get(f"/api/v1/documents/{made.document.pk}/file/")
    assert document.status_code == 200 and scenario.body(document) == made.document_bytes


@pytest.mark.parametrize("redirect", [0, 60])
def test_each_mobile_operator_gets_only_its_own_numbers(object_store, world, settings, redirect):
    jazz = OperatorFactory(code="jazz", kind=Operator.Kind.MOBILE)
    zong = OperatorFactory(code="zong", kind=Operator.Kind.MOBILE)
    jazz_user = UserFactory(role=Role.OPERATOR, operator=jazz)
    snapshot = publish_snapshot(force=True)
    assert {"msisdn.jazz.csv", "msisdn.zong.csv"} <= set(snapshot.files)
    assert f"allowlist/{file_name(snapshot, 'msisdn.zong.csv')}" in object_store.listed()
    settings.S3_REDIRECT_SECONDS = redirect
    client = world.client(jazz_user)
    own = client.get(f"/api/v1/allowlist/{snapshot.serial}.msisdn.csv")
    assert own.status_code == (302 if redirect else 200)
    if redirect:
        assert "msisdn.jazz.csv" in own["Location"] and "zong" not in own["Location"]
    for refused in ("msisdn.zong.csv", "msisdn.zong.csv.minisig"):
        assert client.get(f"/api/v1/allowlist/{snapshot.serial}.{refused}").status_code == 404
    del zong


def test_a_file_missing_from_the_bucket_is_a_404(object_store, world):
    made = scenario.make(world)
    object_store.client.delete_object(
        Bucket=object_store.bucket, Key=f"allowlist/{file_name(made.snapshot, 'txt')}"
    )
    response = world.client(world.operator).get(f"/api/v1/allowlist/{made.snapshot.serial}.txt")
    assert response.status_code == 404


def test_the_sweep_deletes_an_expired_jobs_files_from_the_bucket(object_store, world):
    from datetime import timedelta

    from django.utils import timezone

    from vpnregistry.restrictions.models import ExemptionJob

    made = scenario.make(world)
    ExemptionJob.objects.filter(pk=made.job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("sweep", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not object_store.listed("jobs/")


@pytest.mark.django_db(transaction=True)
def test_the_sync_client_follows_the_redirect_without_its_token(
    object_store, live_server, world, settings, tmp_path
):
    from tests.workflow import approved
    from vpnregistry.allowlist import client

    settings.S3_REDIRECT_SECONDS = 60
    approved(world, "14.1.105.0/24")
    operator = world.client(world.operator)
    assert operator.get("/api/v1/allowlist/latest.txt").status_code == 302
    key = tmp_path / "key.pub"
    key.write_bytes(operator.get("/api/v1/allowlist/key.pub").content)
    out = tmp_path / "out"
    token = api_key(world.operator)
    argv = [
        "--url",
        live_server.url,
        "--token",
        token,
        "--key",
        str(key),
        "--out",
        str(out),
        "--format",
        "txt",
    ]
    assert client.main(argv) == client.OK
    assert "14.1.105.0/24" in (out / "allowlist.txt").read_text()
    # The token goes to the registry only: a redirect elsewhere drops it, one to the registry keeps it.
    handler = client._TokenStaysHome()
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/allowlist/1.txt", headers={"Authorization": "Token x"}
    )
    elsewhere = handler.redirect_request(
        request, None, 302, "Found", {}, f"{object_store.endpoint}/b/k?sig=1"
    )
    assert not elsewhere.has_header("Authorization")
    home = handler.redirect_request(
        request, None, 302, "Found", {}, f"{live_server.url}/api/v1/allowlist/2.txt"
    )
    assert home.get_header("Authorization") == "Token x"
