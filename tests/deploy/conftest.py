"""The object store of tests/storage (moto's server on loopback, a bucket per test), here too."""

from tests.storage.conftest import object_store, s3_endpoint  # noqa: F401
