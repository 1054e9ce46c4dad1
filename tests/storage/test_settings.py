"""Which storages the environment configures: folders by default (`make run` needs no object store),
the object store with VPNREGISTRY_S3_BUCKET, each kind under its own key prefix."""

from __future__ import annotations

import os
import runpy

import vpnregistry.settings

KINDS = ("allowlist", "documents", "evidence", "jobs")


def configured(monkeypatch, **env) -> dict:
    """The settings module's names as it computes them from this environment."""
    for name in list(os.environ):
        if name.startswith("VPNREGISTRY_S3_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(vpnregistry.settings.__file__)


def test_folders_by_default(monkeypatch):
    found = configured(monkeypatch)
    for kind in KINDS:
        assert found["STORAGES"][kind]["BACKEND"] == "vpnregistry.storage.FolderStorage"
    assert found["STORAGES"]["evidence"]["OPTIONS"] == {"setting": "EVIDENCE_DIR"}
    assert found["S3_REDIRECT_SECONDS"] == 0


def test_the_object_store_with_a_bucket(monkeypatch):
    found = configured(
        monkeypatch,
        VPNREGISTRY_S3_BUCKET="registry-files",
        VPNREGISTRY_S3_ENDPOINT_URL="https://objects.internal:9000",
        VPNREGISTRY_S3_ACCESS_KEY="key",
        VPNREGISTRY_S3_SECRET_KEY="secret",
        VPNREGISTRY_S3_REGION="me-central-1",
        VPNREGISTRY_S3_PREFIX="/vpnregistry/",
        VPNREGISTRY_S3_REDIRECT_SECONDS="300",
    )
    assert found["S3_REDIRECT_SECONDS"] == 300
    for kind in KINDS:
        spec = found["STORAGES"][kind]
        assert spec["BACKEND"] == "vpnregistry.objectstore.ObjectStorage"
        options = spec["OPTIONS"]
        assert options["location"] == f"vpnregistry/{kind}"
        assert (options["bucket_name"], options["endpoint_url"], options["region_name"]) == (
            "registry-files",
            "https://objects.internal:9000",
            "me-central-1",
        )
        assert (options["access_key"], options["secret_key"]) == ("key", "secret")
        assert options["default_acl"] is None and options["addressing_style"] == "path"
        assert options["file_overwrite"] and options["signature_version"] == "s3v4"
    assert found["STORAGES"]["staticfiles"]["BACKEND"].startswith("django.contrib.staticfiles")
