"""The object-store backend of the named storages (vpnregistry/storage.py): django-storages' S3
storage, one key prefix (`location`) per kind of file, with a streamed read and signed URLs.

Imported only when `VPNREGISTRY_S3_BUCKET` configures it, so that a registry on folders never loads
boto3.
"""

from __future__ import annotations

from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class ObjectStorage(S3Storage):
    """An S3-compatible object store; private objects, names kept as given (a save replaces)."""

    def make_durable(self, folder: str = "") -> None:
        """Nothing to do: an object is stored durably once its upload has returned."""

    def stream(self, name: str):
        """The object's body as a stream read from the store (not first copied whole), and its size."""
        key = self._normalize_name(clean_name(name))
        try:
            answer = self.bucket.Object(key).get()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise FileNotFoundError(name) from None
            raise
        return answer["Body"], answer["ContentLength"]

    def signed_url(
        self, name: str, *, seconds: int, content_type: str | None = None, disposition: str | None = None
    ) -> str:
        """A URL that fetches the object for `seconds`, served with these Content-Type and
        Content-Disposition."""
        parameters = {}
        if content_type:
            parameters["ResponseContentType"] = content_type
        if disposition:
            parameters["ResponseContentDisposition"] = disposition
        return self.url(name, parameters=parameters, expire=seconds)
