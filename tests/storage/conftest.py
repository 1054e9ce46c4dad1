"""An S3-compatible object store for the tests: moto's server on a loopback port, started here.

`object_store` points every storage of the registry at a new, empty bucket on it (each test its
own), as `VPNREGISTRY_S3_BUCKET` would; Django drops its cached storages when STORAGES changes.
Without moto the tests are skipped, or fail when VPNREGISTRY_REQUIRE_TOOLS=1 (as CI sets it).
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass

import pytest

from vpnregistry import storage

REGION = "us-east-1"
CREDENTIALS = {"access_key": "testing", "secret_key": "testing"}
OBJECT_STORAGE = "vpnregistry.objectstore.ObjectStorage"


def folder_storages() -> dict:
    """STORAGES as by default: every kind in its folder (the settings the tests point elsewhere)."""
    from django.conf import settings

    return {k: v for k, v in settings.STORAGES.items() if k not in storage.KINDS} | {
        kind: {"BACKEND": "vpnregistry.storage.FolderStorage", "OPTIONS": {"setting": setting}}
        for kind, setting in storage.FOLDER_SETTINGS.items()
    }


def _require_moto():
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        message = f"moto[server] is not installed ({exc}): pip install -e '.[dev]'"
        if os.environ.get("VPNREGISTRY_REQUIRE_TOOLS") == "1":
            pytest.fail(message + " and VPNREGISTRY_REQUIRE_TOOLS=1 demands it")
        pytest.skip(message)
    return ThreadedMotoServer


@pytest.fixture(scope="session")
def s3_endpoint():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = _require_moto()(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class ObjectStore:
    endpoint: str
    bucket: str
    client: object

    def listed(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def storages(self, bucket: str | None = None) -> dict:
        """STORAGES with every kind in `bucket` (this store's own by default), under its prefix."""
        options = {
            "bucket_name": bucket or self.bucket,
            "endpoint_url": self.endpoint,
            "region_name": REGION,
            "addressing_style": "path",
            "default_acl": None,
            "querystring_auth": True,
            "signature_version": "s3v4",
            "file_overwrite": True,
            "max_memory_size": 1 << 20,
            **CREDENTIALS,
        }
        from django.conf import settings

        return {
            **{k: v for k, v in settings.STORAGES.items() if k not in storage.KINDS},
            **{
                kind: {"BACKEND": OBJECT_STORAGE, "OPTIONS": {**options, "location": kind}}
                for kind in storage.KINDS
            },
        }

    def new_bucket(self) -> str:
        name = f"vpnregistry-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=name)
        return name


@pytest.fixture
def object_store(s3_endpoint, settings) -> ObjectStore:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["access_key"],
        aws_secret_access_key=CREDENTIALS["secret_key"],
    )
    store = ObjectStore(endpoint=s3_endpoint, bucket="", client=client)
    store.bucket = store.new_bucket()
    settings.STORAGES = store.storages()
    settings.S3_REDIRECT_SECONDS = 0
    assert not storage.is_local(storage.get(storage.ALLOWLIST))
    return store
